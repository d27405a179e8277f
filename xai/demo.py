"""A local browser demo (``xai demo``, ``make demo``): pick or upload an image, a model, a method,
a class and a layer, and see the map.

Standard library only (``http.server``) and one self-contained page (``demo.html``: no fonts,
scripts or styles from anywhere else, no telemetry), so it runs with no internet and adds no
dependency. Models are loaded once, on first use; explanations run one at a time in a worker
thread, and the page polls their progress. Errors come back as one readable line.
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlparse

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


def _xray_model():
    import xai.models
    path = Path(os.environ.get("XAI_XRAY_MODEL",
                               ASSETS / "xray_models" / "pneumonia_cnn_am1codes.h5"))
    if not path.is_file():
        raise FileNotFoundError(f"the chest X-ray model is not at {path}; set XAI_XRAY_MODEL "
                                "to a binary (sigmoid) Keras X-ray classifier")
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
                      lambda: list(XRAY_CLASSES), "xray"),
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
    progress: float = 0.0
    done: bool = False
    error: str | None = None
    result: dict | None = None
    started: float = field(default_factory=time.perf_counter)


class Demo:
    """The state behind the server: loaded models, the sample images, the jobs."""

    def __init__(self):
        self.models, self.jobs, self.ids = {}, {}, itertools.count(1)
        self.samples = samples()
        self.lock = threading.Lock()  # one explanation at a time (TensorFlow, 2 cores)

    def model(self, key):
        if key not in MODELS:
            raise ValueError(f"unknown model {key!r}")
        if key not in self.models:
            self.models[key] = MODELS[key].load()
        return self.models[key]

    def options(self) -> dict:
        import xai
        methods = [{"name": n, "returns": m.returns, "layer": m.layer}
                   for n, m in xai.METHODS.items()]  # the page asks for a layer for "one"
        return {"methods": methods,
                "models": [{"key": k, "label": m.label, "domain": m.domain}
                           for k, m in MODELS.items()],
                "samples": {d: list(s) for d, s in self.samples.items()}}

    def layers(self, key) -> dict:
        import xai.layers
        zm = self.model(key)
        default = zm.default_layer or xai.layers.resolve_layer(zm.model)[-1].name
        return {"layers": xai.layers.spatial_layer_names(zm.model), "default": default}

    def classes(self, key) -> list:
        return MODELS[key].classes()

    def image(self, domain, name) -> np.ndarray:
        import xai.data
        source = self.samples.get(domain, {}).get(name)
        if source is None:
            raise ValueError(f"no sample image {name!r}")
        return xai.data.load_image(source) if isinstance(source, Path) else source()

    def submit(self, request: dict) -> int:
        job_id = next(self.ids)
        self.jobs[job_id] = job = Job()
        threading.Thread(target=self._run, args=(job, request), daemon=True).start()
        return job_id

    def _run(self, job: Job, request: dict):
        try:
            with self.lock:
                job.started = time.perf_counter()
                job.result = self._explain(request, job)
        except Exception as exc:  # shown in the page as one line, never as a traceback
            traceback.print_exc()
            job.error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        job.done = True

    def _explain(self, request: dict, job: Job) -> dict:
        import xai
        import xai.viz
        key, method = request.get("model", "mobilenet"), request.get("method", "gradcam")
        if method not in xai.METHODS:
            raise ValueError(f"unknown method {method!r}")
        image = self._request_image(request)
        zm = self.model(key)
        x_img = xai.viz.resize([image], zm.input_size, "area")
        x = zm.preprocess(x_img)
        names = self.classes(key)
        target = _target(request.get("target"), names)
        options = {"progress": lambda done, total: setattr(job, "progress", done / total)}
        if xai.METHODS[method].layer == "one":
            options["layer"] = request.get("layer") or zm.default_layer
        if "seed" in xai.METHODS[method].options():
            options["seed"] = 0
        if key == "xray":  # its sigmoid saturates (p ≈ 0.99): explain the logit
            options["score"] = "logit"
        result = xai.explain(zm.model, x, method=method, target=target, **options)[0]
        probs = xai.scores.class_scores(zm.model, x, "probability")[0]
        explained = int(target if target is not None else np.argmax(probs))
        shown = result if result.ndim == 2 else xai.viz.attribution_to_map(result[None],
                                                                           "abs_sum")[0]
        top = np.argsort(-probs)[:5]
        colormap = xai.viz.overlay(np.zeros_like(x_img[0]), shown, alpha=1.0)
        return {"input": _png(x_img[0]), "map": _png(colormap),
                "overlay": _png(xai.viz.overlay(x_img[0], shown)),
                "top5": [[names[i], float(probs[i])] for i in top],
                "explained": names[explained], "method": method,
                "seconds": round(time.perf_counter() - job.started, 2)}

    def _request_image(self, request) -> np.ndarray:
        import xai.data
        if request.get("image"):
            data = request["image"].split(",", 1)[-1]
            try:
                return xai.data.decode_image(base64.b64decode(data))
            except (ValueError, TypeError):
                raise ValueError("the uploaded file is not an image this demo can read "
                                 "(PNG, JPEG, TIFF, BMP or WebP)") from None
        return self.image(request.get("domain", "photos"), request.get("sample", "chelsea"))


def _target(text, names):
    if text in (None, "", "top-1"):
        return None
    if str(text).isdigit():
        return int(text)
    wanted = str(text).strip().lower().replace(" ", "_")
    for i, name in enumerate(names):
        if name.lower() == wanted:
            return i
    raise ValueError(f"unknown class {text!r}: pick one of the list")


def _png(rgb) -> str:
    import cv2
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(np.asarray(rgb)[..., ::-1]))
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


# ------------------------------------------------------------------------------- the server
def make_handler(demo: Demo):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, status, body, kind="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _guard(self, fn):
            try:
                self._send(200, fn())
            except Exception as exc:
                self._send(400, {"error": (str(exc).strip().splitlines() or ["error"])[0]})

        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = url.path.strip("/").split("/")
            if url.path in ("/", "/index.html"):
                return self._send(200, (HERE / "demo.html").read_bytes(), "text/html; charset=utf-8")
            if parts[:2] == ["api", "options"]:
                return self._guard(demo.options)
            if parts[:2] == ["api", "layers"]:
                return self._guard(lambda: demo.layers(query.get("model", "mobilenet")))
            if parts[:2] == ["api", "classes"]:
                return self._guard(lambda: demo.classes(query.get("model", "mobilenet")))
            if parts[:2] == ["api", "sample"] and len(parts) == 4:
                return self._guard(lambda: {"image": _png(demo.image(parts[2], parts[3]))})
            if parts[:2] == ["api", "job"] and len(parts) == 3 and parts[2].isdigit():
                job = demo.jobs.get(int(parts[2]))
                if job is None:
                    return self._send(404, {"error": "no such job"})
                return self._send(200, {"progress": job.progress, "done": job.done,
                                        "error": job.error, "result": job.result,
                                        "elapsed": round(time.perf_counter() - job.started, 1)})
            self._send(404, {"error": f"no such page: {url.path}"})

        def do_POST(self):
            if urlparse(self.path).path != "/api/explain":
                return self._send(404, {"error": "no such endpoint"})
            length = int(self.headers.get("Content-Length", 0))
            if length > 30 * 2**20:
                return self._send(413, {"error": "the image is larger than 30 MB"})
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                return self._send(400, {"error": "the request is not JSON"})
            self._send(200, {"job": demo.submit(request)})
    return Handler


def serve(port: int = 8000, host: str = "127.0.0.1", open_browser: bool = False) -> None:
    """Serve the demo on http://host:port/ until interrupted."""
    server = ThreadingHTTPServer((host, port), make_handler(Demo()))
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"xai demo on {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        import webbrowser
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
