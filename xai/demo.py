"""A local browser demo (``xai demo``, ``make demo``): pick or upload an image, a model, a method,
a class and a layer, and see the map.

Standard library only (``http.server``) and one self-contained page (``demo.html``: no fonts,
scripts or styles from anywhere else, no telemetry), so it runs with no internet and adds no
dependency. Models are loaded once, on first use; explanations run one at a time in a worker
thread, and the page polls their progress. Errors come back as one readable line of JSON.

This module is the work (models, sample images, checked requests, jobs); ``xai.demo_server`` is
the HTTP server.
"""
from __future__ import annotations

import base64
import binascii
import os
import queue
import secrets
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
ASSETS = Path(os.environ.get("XAI_ASSETS", HERE.parent.parent / "shared" / "assets"))
XRAY_CLASSES = ("NORMAL", "PNEUMONIA")


@dataclass
class DemoModel:
    label: str
    load: Callable          # () -> xai.models.ZooModel
    classes: Callable       # () -> list of class names
    domain: str             # "photos" or "xray"
    hint: str = ""          # how to give it another model


def _xray_model():
    import xai.models
    path = Path(os.environ.get("XAI_XRAY_MODEL",
                               ASSETS / "xray_models" / "pneumonia_cnn_am1codes.h5"))
    if not path.is_file():
        raise FileNotFoundError(f"the chest X-ray model is not at {path}; set XAI_XRAY_MODEL "
                                "to a binary (sigmoid) Keras X-ray classifier that takes RGB "
                                "values scaled to [0, 1]")
    return xai.models.load(path, preprocess=lambda images: np.asarray(images, np.float32) / 255)


def _imagenet_names():
    import xai.imagenet
    return xai.imagenet.imagenet_class_names()


def _zoo(name, **options):
    import xai.models
    return lambda: xai.models.load(name, **options)


MODELS = {
    "mobilenet": DemoModel("MobileNet α 0.25 (ImageNet, offline cache)",
                           _zoo("mobilenet", alpha=0.25), _imagenet_names, "photos"),
    **{name: DemoModel(f"{label} (ImageNet; weights downloaded or cached)", _zoo(name),
                       _imagenet_names, "photos")
       for name, label in (("vgg16", "VGG16"), ("resnet50", "ResNet50"),
                           ("inceptionv3", "InceptionV3"), ("xception", "Xception"),
                           ("densenet121", "DenseNet121"))},
    "xray": DemoModel("Pneumonia CNN (chest X-ray, 150×150, sigmoid)", _xray_model,
                      lambda: list(XRAY_CLASSES), "xray",
                      "set XAI_XRAY_MODEL to a binary Keras X-ray classifier (one sigmoid unit, "
                      "or two outputs: NORMAL, PNEUMONIA) whose input is RGB / 255"),
}


def samples() -> dict:
    """{domain: {name: path or loader}} of the bundled images."""
    from skimage import data
    photos = {name: getattr(data, name) for name in ("chelsea", "coffee", "astronaut")}
    for path in sorted((ASSETS / "images").glob("*.*")):
        photos[path.stem] = path
    xray = {f"{p.parent.name.lower()}_{p.stem}": p
            for p in sorted((ASSETS / "chest_xray").glob("[NP]*/*.jpeg"))}
    return {"photos": photos, "xray": xray}


# ------------------------------------------------------------------------------- the work
@dataclass
class Job:
    request: dict | None = None  # the checked request, dropped once it has run
    progress: float = 0.0
    done: bool = False
    error: str | None = None
    result: dict | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None  # time.monotonic() when done


class Busy(Exception):
    """Too many explanations are waiting (HTTP 503)."""


class Demo:
    """The state behind the server: loaded models, the sample images, the jobs.

    One worker thread runs the explanations, one at a time (TensorFlow, 2 cores). At most
    ``max_waiting`` jobs wait or run, more are refused; a finished job is forgotten after
    ``keep_seconds``, or when ``max_finished`` newer ones have finished.
    """

    max_waiting = 8
    max_finished = 32
    keep_seconds = 600.0

    def __init__(self):
        self.models, self.jobs = {}, {}
        self.samples = samples()
        self.loading = threading.Lock()  # one model load at a time
        self.jobs_lock = threading.Lock()
        self.queue = queue.SimpleQueue()
        threading.Thread(target=self._work, daemon=True, name="xai-demo-worker").start()

    def model(self, key):
        key = _model_key(key)
        with self.loading:
            if key not in self.models:
                self.models[key] = MODELS[key].load()
        return self.models[key]

    def options(self) -> dict:
        import xai
        import xai.viz
        methods = [{"name": n, "label": m.label, "returns": m.returns, "layer": m.layer}
                   for n, m in xai.METHODS.items()]  # the page asks for a layer for "one"
        return {"methods": methods, "colorbar": xai.viz.colormap_stops(),  # the maps' colours
                "models": [{"key": k, "label": m.label, "domain": m.domain}
                           for k, m in MODELS.items()],
                "samples": {d: list(s) for d, s in self.samples.items()}}

    def layers(self, key) -> dict:
        import xai.layers
        zm = self.model(key)
        default = zm.default_layer or xai.layers.resolve_layer(zm.model)[-1].name
        return {"layers": xai.layers.spatial_layer_names(zm.model), "default": default}

    def classes(self, key) -> list:
        return MODELS[_model_key(key)].classes()

    def sample(self, domain, name):
        """The path or loader of a bundled image."""
        if not isinstance(domain, str) or domain not in self.samples:
            raise ValueError(f"unknown domain {shown_value(domain)}; choose one of "
                             f"{', '.join(self.samples)}")
        names = self.samples[domain]
        if not isinstance(name, str) or name not in names:
            raise ValueError(f"no sample image {shown_value(name)} in {domain}; choose one of "
                             f"{_some(list(names)) or 'none (no sample images found)'}")
        return names[name]

    def image(self, domain, name) -> np.ndarray:
        import xai.data
        source = self.sample(domain, name)
        return xai.data.load_image(source) if isinstance(source, Path) else source()

    def check(self, request) -> dict:
        """The request, checked before it waits: a JSON object naming a known model and method,
        a class of that model, a layer, and an uploaded image or a sample image."""
        import xai
        if not isinstance(request, dict):
            raise ValueError('the request must be a JSON object such as {"model": "mobilenet", '
                             f'"method": "gradcam", "sample": "chelsea"}}, not {_kind(request)}')
        key = _model_key(request.get("model", "mobilenet"))
        method = request.get("method", "gradcam")
        if not isinstance(method, str) or method not in xai.METHODS:
            raise ValueError(f"unknown method {shown_value(method)}; choose one of "
                             f"{', '.join(xai.METHODS)}")
        layer = request.get("layer")
        if layer is not None and not isinstance(layer, str):
            raise ValueError(f"layer must be a layer name or null, not {_kind(layer)}")
        checked = {"model": key, "method": method, "layer": layer or None,
                   "target": _target(request.get("target"), self.classes(key))}
        if request.get("image") not in (None, ""):
            checked["image"] = _upload(request["image"])
        else:
            checked["source"] = self.sample(request.get("domain", "photos"),
                                            request.get("sample", "chelsea"))
        return checked

    def submit(self, request) -> str:
        """Check a request and queue it; its job id (unguessable)."""
        checked = self.check(request)
        with self.jobs_lock:
            self._prune()
            waiting = sum(not job.done for job in self.jobs.values())
            if waiting >= self.max_waiting:
                raise Busy(f"the demo is busy: {waiting} explanations are waiting; try again "
                           "when one has finished")
            job_id = secrets.token_urlsafe(16)
            self.jobs[job_id] = job = Job(checked)
        self.queue.put(job)
        return job_id

    def job(self, job_id: str) -> Job | None:
        with self.jobs_lock:
            self._prune()
            return self.jobs.get(job_id)

    def _prune(self):
        """Forget finished jobs older than keep_seconds, and all but the newest max_finished."""
        now = time.monotonic()
        finished = sorted((job.finished, key) for key, job in self.jobs.items() if job.done)
        excess = len(finished) - self.max_finished
        for i, (when, key) in enumerate(finished):
            if i < excess or now - when > self.keep_seconds:
                del self.jobs[key]

    def close(self):
        """Stop the worker thread once the queued jobs have run."""
        self.queue.put(None)

    def _work(self):
        while (job := self.queue.get()) is not None:
            try:
                job.started = time.perf_counter()
                job.result = self._explain(job.request, job)
            except Exception as exc:  # shown in the page as one line, never as a traceback
                if not isinstance(exc, (ValueError, TypeError, OSError)):
                    traceback.print_exc()
                job.error = one_line(exc)
            job.request = None
            job.finished = time.monotonic()  # before done: _prune sorts done jobs by it
            job.done = True

    def _explain(self, request: dict, job: Job) -> dict:
        import xai
        import xai.data
        import xai.viz
        key, method, target = request["model"], request["method"], request["target"]
        if "image" in request:
            image = xai.data.decode_image(request["image"])
        else:
            source = request["source"]
            image = xai.data.load_image(source) if isinstance(source, Path) else source()
        zm = self.model(key)
        x_img = xai.viz.resize([image], zm.input_size, "area")
        x = zm.preprocess(x_img)
        names = self.classes(key)
        probs = xai.scores.class_scores(zm.model, x, "probability")[0]
        if len(probs) != len(names):
            raise ValueError(f"the {key} model gives {len(probs)} class scores, but the demo "
                             f"knows {len(names)} classes ({_some(names)}); "
                             + (MODELS[key].hint or f"give it a model with {len(names)}"))
        options = {"progress": lambda done, total: setattr(job, "progress", done / total)}
        if xai.METHODS[method].layer == "one":
            options["layer"] = request["layer"] or zm.default_layer
        if "seed" in xai.METHODS[method].options():
            options["seed"] = 0
        if key == "xray":  # its sigmoid saturates (p ≈ 0.99): explain the logit
            options["score"] = "logit"
        result = xai.explain(zm.model, x, method=method, target=target, **options)[0]
        explained = int(target if target is not None else np.argmax(probs))
        shown = xai.METHODS[method].display_map(result[None])[0]
        top = np.argsort(-probs)[:5]
        colormap = xai.viz.overlay(np.zeros_like(x_img[0]), shown, alpha=1.0)
        return {"input": png_data_url(x_img[0]), "map": png_data_url(colormap),
                "overlay": png_data_url(xai.viz.overlay(x_img[0], shown)),
                "top5": [[names[i], float(probs[i])] for i in top],
                "explained": names[explained], "method": method,
                "seconds": round(time.perf_counter() - job.started, 2)}


def shown_value(value, width=40) -> str:
    """A user's value in an error message, shortened."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _kind(value) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false",
             int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _some(names, n=5) -> str:
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


def one_line(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]


def _model_key(key) -> str:
    if not isinstance(key, str) or key not in MODELS:
        raise ValueError(f"unknown model {shown_value(key)}; choose one of {', '.join(MODELS)}")
    return key


def _target(value, names) -> int | None:
    """A class index from a class name, an index (a number or its digits), or None (top-1)."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "top-1")):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"target must be a class name or index, not {_kind(value)}")
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        if int(text) >= len(names):
            raise ValueError(f"class {int(text)} is outside 0..{len(names) - 1}")
        return int(text)
    wanted = text.lower().replace(" ", "_")
    for i, name in enumerate(names):
        if name.lower() == wanted:
            return i
    raise ValueError(f"unknown class {shown_value(value)}: give a class name ({_some(names)}) "
                     f"or an index in 0..{len(names) - 1}")


def _upload(image) -> bytes:
    """The bytes of an uploaded image (a base64 data URL), its size checked from its header."""
    import xai.data
    if not isinstance(image, str):
        raise ValueError("image must be a data URL (data:image/png;base64,...), not "
                         f"{_kind(image)}")
    try:
        data = base64.b64decode(image.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("image is not a base64 data URL (data:image/png;base64,...)") from None
    try:
        xai.data.check_image_size(data, "the uploaded image")
    except xai.data.ImageTooLargeError:
        raise
    except ValueError:
        raise ValueError("the uploaded file is not an image this demo can read "
                         "(PNG, JPEG, TIFF, BMP or WebP)") from None
    return data


def png_data_url(rgb) -> str:
    import cv2
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(np.asarray(rgb)[..., ::-1]))
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()
