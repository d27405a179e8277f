#!/usr/bin/env python
"""Benchmark xai against tf-keras-vis and xplique, and against hardware floors.

Run inside bench/.venv (built by bench/setup.sh); writes bench/results.md.

    python bench/run.py            # full run (~30 min on 2 CPU cores)
    python bench/run.py --quick    # sanity run: MobileNet batch 1, 2 timed runs, few masks

What is timed
-------------
Every contender is called once untimed (the "first call": tracing, probe building, model
rebuilding), once more untimed when that is cheap, then timed ``--runs`` times; the contenders of
one table row are timed round-robin (rotating the order every round) so that load from other
processes on the machine hits them alike. The table gives medians in milliseconds. Heavy rows
(one call > ``HEAVY_S`` seconds) get ``--heavy-runs`` timed runs instead; fast rows (all calls
< ``FAST_S``) get at least ``FAST_RUNS``, as a median of a few 10 ms calls is mostly noise.

Floors are plain ``tf.function`` calls of a linear-head copy of the model (training=False):
``fwd`` a forward pass of the batch; ``grad×k`` k input-gradient evaluations d(logit)/dx per
sample, batched in chunks of the same batch_size the explainer uses (k = 64 is the Integrated
Gradients floor). Each row's floor is timed round-robin with the contenders of that row; floors
marked "est." run 8 chunks and are scaled to the full number of chunks (RISE, Score-CAM).

Peak memory of xai's Integrated Gradients is measured in fresh subprocesses (``ru_maxrss``).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import inspect
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEAVY_S = 4.0          # a call slower than this gets --heavy-runs timed runs
VERY_HEAVY_S = 20.0    # a call slower than this gets 2 timed runs
CHEAP_S = 1.0          # a call faster than this gets a second warm-up call
FAST_S = 0.25          # a row whose slowest call is faster than this gets FAST_RUNS timed runs
FAST_RUNS = 25
LAYERS = {"VGG16": "block5_conv3", "MobileNet": "conv_pw_13_relu"}


# ----------------------------------------------------------------------------- environment
def keras_home_source() -> Path:
    for env in ("XAI_BENCH_KERAS_HOME", "KERAS_HOME"):
        if os.environ.get(env) and (Path(os.environ[env]) / "models").is_dir():
            return Path(os.environ[env])
    return ROOT.parent / "shared" / "assets" / "keras_home"


def setup_keras_home() -> str | None:
    """Copy the shipped Keras cache (MobileNet weights) to a temp dir; set KERAS_HOME before
    keras is imported. Returns the temp dir, or None when the assets are missing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    src = keras_home_source()
    if not (src / "models").is_dir():
        return None
    tmp = tempfile.mkdtemp(prefix="xai-bench-keras-")
    shutil.copytree(src, tmp, dirs_exist_ok=True)
    os.environ["KERAS_HOME"] = tmp
    return tmp


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ----------------------------------------------------------------------------- models
def build_model(name: str):
    import keras
    if name == "VGG16":
        return keras.applications.VGG16(weights=None)  # weights do not change the timing
    if name == "MobileNet":
        return keras.applications.MobileNet(alpha=0.25, weights="imagenet")
    raise ValueError(name)


def linear_copy(model):
    """A clone whose last layer's softmax is replaced by the identity (for peers and floors:
    tf-keras-vis' ReplaceToLinear does the same; xplique expects a linear output)."""
    import keras
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.layers[-1].activation = keras.activations.linear
    return clone


def make_inputs(name: str, batch: int, seed: int = 0):
    import numpy as np
    import keras
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 255, (batch, 224, 224, 3)).astype("float32")
    if name == "VGG16":
        return keras.applications.vgg16.preprocess_input(img)
    return keras.applications.mobilenet.preprocess_input(img)


# ----------------------------------------------------------------------------- timing
def _quiet(fn):
    """Run fn with stdout/stderr captured (tf-keras-vis' Score-CAM prints predict() bars)."""
    def run():
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return fn()
    return run


def _call(fn) -> float:
    t0 = time.perf_counter()
    out = fn()
    if hasattr(out, "numpy"):
        out.numpy()
    return time.perf_counter() - t0


def time_row(contenders: dict, runs: int, heavy_runs: int, log) -> dict:
    """contenders: name -> zero-arg callable. Returns name -> dict(first, median, runs, error)."""
    res, live = {}, {}
    for name, fn in contenders.items():
        if fn is None:
            continue
        try:
            first = _call(fn)
        except Exception as e:  # a peer that cannot run this row: record why, keep going
            msg = f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
            res[name] = {"error": msg}
            log(f"    {name}: FAILED {msg}")
            continue
        if first < CHEAP_S:
            _call(fn)
        res[name] = {"first": first}
        live[name] = fn
    if not live:
        return res
    slowest = max(res[n]["first"] for n in live)
    n_runs = runs if slowest < HEAVY_S else min(runs, heavy_runs)
    if slowest < FAST_S:  # a median of 5 calls of ~10 ms is mostly scheduler noise
        n_runs = max(n_runs, FAST_RUNS)
    if slowest >= VERY_HEAVY_S:
        n_runs = min(n_runs, 2)
    times = {n: [] for n in live}
    names = list(live)
    for r in range(n_runs):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            times[n].append(_call(live[n]))
    for n in live:
        res[n].update(median=statistics.median(times[n]), runs=n_runs, all=times[n])
    log("    " + ", ".join(f"{n} {res[n]['median'] * 1e3:.0f} ms" for n in live))
    return res


# ----------------------------------------------------------------------------- floors
class Floors:
    """Forward / input-gradient floors on the linear-head copy, tf.function-compiled."""

    def __init__(self, lin):
        import tensorflow as tf
        self.tf = tf
        self.fwd = tf.function(lambda x: lin(x, training=False))

        @tf.function
        def grad(x, t):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(x)
                z = lin(x, training=False)
                s = tf.gather(z, t, batch_dims=1)
            return tape.gradient(s, x)
        self.grad = grad

    def forward(self, x):
        x = self.tf.constant(x)
        return lambda: self.fwd(x)

    def gradients(self, x, targets, k: int, chunk: int):
        """k gradient evaluations per sample, i.e. len(x)*k images in chunks of `chunk`
        (inputs precomputed: points on the straight path from 0 to x). Returns (fn, 1)."""
        import numpy as np
        tf = self.tf
        idx = np.repeat(np.arange(len(x)), k)
        alphas = np.tile(np.linspace(0, 1, k, dtype="float32"), len(x))
        xs = tf.constant(x[idx] * alphas[:, None, None, None])
        ts = tf.constant(np.asarray(targets)[idx], tf.int32)
        n = len(idx)

        def run():
            g = None
            for s in range(0, n, chunk):
                g = self.grad(xs[s:s + chunk], ts[s:s + chunk])
            return g
        return run, 1.0

    def forwards(self, x, k: int, chunk: int, max_chunks: int | None = None):
        """k forward passes per sample (len(x)*k images) in chunks of `chunk`. With max_chunks,
        only that many full chunks run and the returned scale extrapolates to all of them."""
        import numpy as np
        tf = self.tf
        n = len(x) * k
        c = min(chunk, n)
        full, rest = divmod(n, c)
        xc = tf.constant(np.resize(x, (c,) + x.shape[1:]))
        xr = tf.constant(np.resize(x, (rest,) + x.shape[1:])) if rest else None
        if max_chunks is not None and full + bool(rest) > max_chunks:
            r = max_chunks
            return (lambda: [self.fwd(xc) for _ in range(r)][-1]), (full + rest / c) / r

        def run():
            out = [self.fwd(xc) for _ in range(full)]
            return self.fwd(xr) if rest else out[-1]
        return run, 1.0


# ----------------------------------------------------------------------------- contenders
def xai_call(xai, model, x, method, layer, targets, **opts):
    """An xai.explain closure; option names adapted to the method's signature."""
    fn = xai.METHODS[method]
    params = fn.options()
    kw = {}
    for k, v in opts.items():
        if k == "masks":
            k = next((p for p in ("n_masks", "masks", "n_samples", "n") if p in params), k)
        if k in params:
            kw[k] = v
    if "progress" in params:
        kw["progress"] = False
    if fn.layer != "one":
        layer = None
    return lambda: xai.explain(model, x, method=method, layer=layer, target=list(targets), **kw)


def peers_for(method, lin, soft, x, targets, layer, cfg):
    """(tf-keras-vis callable or None, xplique callable or None, note) for one method."""
    import numpy as np
    onehot = np.eye(int(lin.output.shape[-1]), dtype="float32")[targets]
    B = len(x)
    tkv = xpl = None
    note = ""
    try:
        from tf_keras_vis.utils.scores import CategoricalScore
        score = CategoricalScore(list(targets))
    except Exception as e:  # pragma: no cover - recorded in the notes
        score = None
        note = f"tf-keras-vis unavailable: {e}"
    try:
        import xplique.attributions as XA
    except Exception as e:  # pragma: no cover
        XA = None
        note = f"xplique unavailable: {e}"
    sigma = float(cfg["spread"] * (x.max() - x.min()))

    if method in ("gradcam", "gradcam++", "layercam") and score is not None:
        if method == "gradcam":
            from tf_keras_vis.gradcam import Gradcam as C
        elif method == "gradcam++":
            from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus as C
        else:
            from tf_keras_vis.layercam import Layercam as C
        v = C(lin, clone=False)
        tkv = lambda: v(score, x, penultimate_layer=layer)  # noqa: E731
    if method in ("gradcam", "gradcam++") and XA is not None:
        E = XA.GradCAM if method == "gradcam" else XA.GradCAMPP
        e = E(lin, batch_size=B, conv_layer=layer)
        xpl = lambda: e.explain(x, onehot)  # noqa: E731
    if method == "smooth_gradcam++":
        # no peer implements Smooth Grad-CAM++: a user's equivalent with each library —
        # Grad-CAM++ on the same n noisy copies (tf-keras-vis: one call per noise draw, xplique:
        # one explain() over the n·B stack), then the mean.
        rng = np.random.default_rng(0)
        noisy = (x[None] + rng.standard_normal((cfg["n"],) + x.shape).astype("float32")
                 * sigma).astype("float32")
        if score is not None and (cfg["tkv_loop"] or lin.count_params() < 10_000_000):
            from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
            v = GradcamPlusPlus(lin, clone=False)
            tkv = lambda: np.mean([v(score, xn, penultimate_layer=layer)  # noqa: E731
                                   for xn in noisy], 0)
        if XA is not None:
            e = XA.GradCAMPP(lin, batch_size=cfg["cam_bs"], conv_layer=layer)
            flat, oh = noisy.reshape((-1,) + x.shape[1:]), np.tile(onehot, (cfg["n"], 1))
            xpl = lambda: np.asarray(e.explain(flat, oh)).reshape(  # noqa: E731
                (cfg["n"], B) + x.shape[1:3]).mean(0)
    if method == "scorecam" and score is not None:
        from tf_keras_vis.scorecam import Scorecam
        v = Scorecam(lin, clone=False)
        tkv = _quiet(lambda: v(score, x, penultimate_layer=layer, batch_size=cfg["mask_bs"]))
    if method == "saliency":
        if score is not None:
            from tf_keras_vis.saliency import Saliency
            v = Saliency(lin, clone=False)
            tkv = lambda: v(score, x, keepdims=True)  # noqa: E731
        if XA is not None:
            e = XA.Saliency(lin, batch_size=B, reducer=None) \
                if "reducer" in inspect.signature(XA.Saliency).parameters \
                else XA.Saliency(lin, batch_size=B)
            xpl = lambda: e.explain(x, onehot)  # noqa: E731
    if method == "smoothgrad":
        if score is not None:
            from tf_keras_vis.saliency import Saliency
            v = Saliency(lin, clone=False)
            tkv = lambda: v(score, x, smooth_samples=cfg["n"],  # noqa: E731
                            smooth_noise=cfg["spread"], keepdims=True)
        if XA is not None:
            e = XA.SmoothGrad(lin, batch_size=cfg["grad_bs"], nb_samples=cfg["n"], noise=sigma,
                              reducer=None)
            xpl = lambda: e.explain(x, onehot)  # noqa: E731
    if method == "integrated_gradients" and XA is not None:
        e = XA.IntegratedGradients(lin, batch_size=cfg["ig_bs"], steps=cfg["steps"],
                                   baseline_value=0.0, reducer=None)
        xpl = lambda: e.explain(x, onehot)  # noqa: E731
    if method == "rise" and XA is not None:
        # RISE weights masks by the class probability (the paper, and xai's default): softmax model
        e = XA.Rise(soft, batch_size=cfg["mask_bs"], nb_samples=cfg["masks"], grid_size=7,
                    preservation_probability=0.5)
        xpl = _quiet(lambda: e.explain(x, onehot))
    return tkv, xpl, note


# ----------------------------------------------------------------------------- memory probe
def memprobe(spec: str) -> None:
    """Child process: `model:batch:steps:batch_size` (steps 0 = baseline, no IG). Prints JSON."""
    kh = setup_keras_home()
    if kh is not None:
        import atexit
        atexit.register(shutil.rmtree, kh, True)
    name, batch, steps, bs = spec.split(":")
    batch, steps, bs = int(batch), int(steps), int(bs)
    import numpy as np
    import tensorflow as tf
    model = build_model(name)
    x = make_inputs(name, batch)
    t = np.argmax(model(x, training=False).numpy(), 1)
    if steps:
        import xai
        xai_call(xai, model, x, "integrated_gradients", None, t, steps=steps, batch_size=bs)()
    else:
        tf.function(lambda v: model(v, training=False))(tf.constant(x)).numpy()
    print(json.dumps({"spec": spec, "peak_rss_mib": peak_rss_kib() / 1024}))


def peak_rss_kib() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it is not inherited from the
    parent across fork/exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


FIXED_MMAP = {"MALLOC_MMAP_THRESHOLD_": str(1 << 20)}  # glibc: no dynamic mmap threshold


def measure_memory(model_name, batch, steps_list, bs, log, extra_env=None):
    out = {}
    for steps in [0] + list(steps_list):
        spec = f"{model_name}:{batch}:{steps}:{bs}"
        p = subprocess.run([sys.executable, __file__, "--memprobe", spec], capture_output=True,
                           text=True, env=dict(os.environ, **(extra_env or {})))
        try:
            out[steps] = json.loads(p.stdout.strip().splitlines()[-1])["peak_rss_mib"]
        except Exception:
            out[steps] = None
            log(f"    memprobe {spec} failed: {p.stderr.strip().splitlines()[-1:]}")
        log(f"    memprobe {spec}: {out[steps]} MiB")
    return out


# ----------------------------------------------------------------------------- plan
METHOD_LABEL = {
    "gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "xgradcam": "XGrad-CAM",
    "layercam": "Layer-CAM", "eigencam": "Eigen-CAM", "smooth_gradcam++": "Smooth Grad-CAM++",
    "scorecam": "Score-CAM", "saliency": "Saliency", "smoothgrad": "SmoothGrad",
    "integrated_gradients": "Integrated Gradients", "rise": "RISE",
}
TARGETS = {  # method -> (max xai/floor, must beat peers)
    "gradcam": (1.2, True), "gradcam++": (1.2, True), "integrated_gradients": (1.1, False),
}


def plan(quick: bool, heavy: bool):
    cams = ["gradcam", "gradcam++", "xgradcam", "layercam", "eigencam"]
    if quick:
        return [("MobileNet", 1, cams + ["smooth_gradcam++", "scorecam", "saliency",
                                         "smoothgrad", "integrated_gradients", "rise"])]
    full = cams + ["smooth_gradcam++", "scorecam", "saliency", "smoothgrad",
                   "integrated_gradients", "rise"]
    vgg1 = cams + ["smooth_gradcam++", "saliency", "integrated_gradients"]
    vgg16 = ["gradcam", "gradcam++"]
    mob16 = [m for m in full if m not in ("rise", "scorecam")]
    if heavy:
        vgg1 += ["smoothgrad", "scorecam", "rise"]
        vgg16 += ["xgradcam", "layercam", "integrated_gradients"]
        mob16 += ["scorecam", "rise"]
    return [("MobileNet", 1, full), ("MobileNet", 16, mob16), ("VGG16", 1, vgg1),
            ("VGG16", 16, vgg16)]


def floor_for(method, floors, x, targets, cfg, channels):
    """(label, callable, scale) of the floor a method is measured against."""
    if method in ("gradcam", "gradcam++", "xgradcam", "layercam", "eigencam"):
        return ("fwd", floors.forward(x), 1.0)
    if method == "smooth_gradcam++":
        return (f"fwd×{cfg['n']}",) + floors.forwards(x, cfg["n"], cfg["cam_bs"])
    if method == "saliency":
        return ("grad×1",) + floors.gradients(x, targets, 1, cfg["grad_bs"])
    if method == "smoothgrad":
        return (f"grad×{cfg['n']}",) + floors.gradients(x, targets, cfg["n"], cfg["grad_bs"])
    if method == "integrated_gradients":
        return (f"grad×{cfg['steps']}",) + floors.gradients(x, targets, cfg["steps"],
                                                            cfg["ig_bs"])
    k = channels if method == "scorecam" else cfg["masks"]
    fn, scale = floors.forwards(x, k, cfg["mask_bs"], max_chunks=8)
    return (f"fwd×{k}" + (" (est.)" if scale != 1 else ""), fn, scale)


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fast sanity run (MobileNet, batch 1)")
    ap.add_argument("--heavy", action="store_true",
                    help="also VGG16 Score-CAM/RISE and more VGG16 batch-16 rows (hours)")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per row (default 5)")
    ap.add_argument("--heavy-runs", type=int, default=None,
                    help="timed runs for rows slower than 4 s a call (default 3)")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument("--memprobe", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memprobe:
        return memprobe(args.memprobe)

    t_start = time.time()
    kh = setup_keras_home()
    if kh is not None:
        import atexit
        atexit.register(shutil.rmtree, kh, True)
    import numpy as np
    import tensorflow as tf
    import keras
    keras.utils.disable_interactive_logging()
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__}
    for mod, label in (("tf_keras_vis", "tf-keras-vis"), ("xplique", "xplique")):
        try:
            versions[label] = __import__(mod).__version__
        except Exception as e:
            versions[label] = f"unavailable ({type(e).__name__}: {e})"
    import xai
    versions["xai"] = getattr(xai, "__version__", "?")
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "xai"],
                               capture_output=True, text=True).stdout.strip()
        versions["xai"] += f" (git {sha}{'+dirty' if dirty else ''})"
    except OSError:
        pass

    runs = args.runs or (2 if args.quick else 5)
    heavy_runs = args.heavy_runs or (1 if args.quick else 3)
    cfg = dict(n=25, spread=0.15, steps=64, masks=500 if args.quick else 4000, cam_bs=32,
               grad_bs=32, ig_bs=64, mask_bs=64, tkv_loop=args.heavy)

    def log(msg):
        print(f"[{time.time() - t_start:7.1f}s] {msg}", flush=True)

    log(f"versions: {versions}")
    tables, notes = [], []
    models = {}
    for model_name, batch, methods in plan(args.quick, args.heavy):
        if model_name == "MobileNet" and kh is None:
            notes.append(f"MobileNet skipped: no weights at {keras_home_source()}/models "
                         "(set XAI_BENCH_KERAS_HOME).")
            continue
        if model_name not in models:
            for other in list(models):  # keep one model pair in memory at a time
                del models[other]
            keras.backend.clear_session()
            m = build_model(model_name)
            models[model_name] = (m, linear_copy(m))
        model, lin = models[model_name]
        layer = LAYERS[model_name]
        x = make_inputs(model_name, batch)
        targets = np.argmax(lin(x, training=False).numpy(), 1).astype(int)
        floors = Floors(lin)
        log(f"{model_name} batch {batch}: floors")
        fl = {}
        fl = {}
        rows = []
        channels = int(model.get_layer(layer).output.shape[-1])
        for method in methods:
            log(f"{model_name} batch {batch}: {method}")
            fkey, ffn, fscale = floor_for(method, floors, x, targets, cfg, channels)
            opts = dict(batch_size=cfg["cam_bs"])
            if method in ("smooth_gradcam++", "smoothgrad"):
                opts = dict(n=cfg["n"], spread=cfg["spread"], seed=0,
                            batch_size=cfg["cam_bs" if method == "smooth_gradcam++" else "grad_bs"])
            elif method == "integrated_gradients":
                opts = dict(steps=cfg["steps"], rule="riemann_trapezoid", batch_size=cfg["ig_bs"])
            elif method in ("scorecam", "rise"):
                opts = dict(batch_size=cfg["mask_bs"], seed=0)
                if method == "rise":
                    opts["masks"] = cfg["masks"]
            elif method == "saliency":
                opts = dict(batch_size=cfg["grad_bs"])
            tkv, xpl, note = peers_for(method, lin, model, x, targets, layer, cfg)
            if note and note not in notes:
                notes.append(note)
            contenders = {"xai": xai_call(xai, model, x, method, layer, targets, **opts),
                          "tf-keras-vis": tkv, "xplique": xpl, "floor": ffn}
            res = time_row(contenders, runs, heavy_runs, log)
            fres = res.pop("floor", {})
            fval = fres["median"] * fscale if "median" in fres else None
            rows.append((method, res, fkey, fval))
            fl.setdefault(fkey, fval)
            del contenders, tkv, xpl, ffn
        tables.append((model_name, batch, fl, rows))

    mem = None
    if kh is not None:
        log("memory: xai IG peak RSS vs steps (fresh subprocesses)")
        steps_list = (64, 512) if args.quick else (64, 512, 2048)
        mem = ("MobileNet", 1, cfg["ig_bs"],
               measure_memory("MobileNet", 1, steps_list, cfg["ig_bs"], log),
               measure_memory("MobileNet", 1, steps_list, cfg["ig_bs"], log, FIXED_MMAP))

    write_results(args, versions, cfg, tables, notes, mem, time.time() - t_start, runs,
                  heavy_runs)
    log(f"wrote {args.out}")


# ----------------------------------------------------------------------------- report
def _ms(v):
    if v is None:
        return "—"
    return f"{v * 1e3:,.0f}" if v >= 0.1 else f"{v * 1e3:.1f}"


def _ratio(a, b):
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def write_results(args, versions, cfg, tables, notes, mem, elapsed, runs, heavy_runs):
    lines = ["# Benchmark: xai vs tf-keras-vis vs xplique", ""]
    lines.append(f"Generated by `bench/run.py{' --quick' if args.quick else ''}"
                 f"{' --heavy' if args.heavy else ''}` on "
                 f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
                 f"{cpu_name()}, {os.cpu_count()} logical CPUs, no GPU; "
                 f"Python {platform.python_version()}, "
                 + ", ".join(f"{k} {v}" for k, v in versions.items())
                 + f". Whole run: {elapsed / 60:.1f} min.")
    lines += ["", "Times are medians in ms of "
              f"{runs} timed runs ({max(runs, FAST_RUNS)} for rows faster than {FAST_S * 1e3:.0f} ms "
              f"a call, {heavy_runs} for rows slower than {HEAVY_S:.0f} s, 2 for "
              f"rows slower than {VERY_HEAVY_S:.0f} s), "
              "after one untimed first call (+1 warm-up for calls under 1 s); contenders of a row "
              "timed round-robin. `xai 1st` is xai's first call (tracing and probe building "
              "included). Ratios < 1 mean xai is faster. The machine is shared with other "
              "jobs: absolute times are noisy, ratios within a row less so.", ""]
    for model_name, batch, fl, rows in tables:
        lines.append(f"## {model_name} (layer `{LAYERS[model_name]}`), batch {batch}")
        lines.append("")
        if fl.get("fwd") is not None:
            lines.append(f"Floors: forward pass of the batch {_ms(fl.get('fwd'))} ms"
                         + (f", one input gradient {_ms(fl['grad×1'])} ms"
                            if fl.get("grad×1") is not None else "") + ".")
            lines.append("")
        lines.append("| method | xai ms | xai 1st ms | tf-keras-vis ms | xplique ms | "
                     "xai/tf-keras-vis | xai/xplique | floor | floor ms | xai/floor | target |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
        for method, res, fkey, fval in rows:
            xr = res.get("xai", {})
            xm = xr.get("median")
            cells = []
            for peer in ("tf-keras-vis", "xplique"):
                pr = res.get(peer)
                cells.append("n/a" if pr is None else
                             ("error" if "error" in pr else _ms(pr["median"])))
            ratios = [_ratio(xm, res.get(p, {}).get("median")) for p in ("tf-keras-vis", "xplique")]
            target = ""
            if method in TARGETS and xm is not None:
                lim, beat = TARGETS[method]
                ok = fval is not None and xm / fval <= lim
                peer_ok = all(xm < res[p]["median"] for p in ("tf-keras-vis", "xplique")
                              if p in res and "median" in res[p])
                target = f"≤{lim}× floor: {'✅' if ok else '❌'}"
                if beat:
                    target += f"; beats peers: {'✅' if peer_ok else '❌'}"
            xcell = _ms(xm) if xm is not None else ("error" if "error" in xr else "—")
            lines.append(f"| {METHOD_LABEL[method]} | {xcell} | {_ms(xr.get('first'))} | "
                         f"{cells[0]} | {cells[1]} | {ratios[0]} | {ratios[1]} | {fkey} | "
                         f"{_ms(fval)} | {_ratio(xm, fval)} | {target} |")
        errs = [(m, p, r["error"]) for m, res, _, _ in rows for p, r in res.items()
                if "error" in r]
        if errs:
            lines.append("")
            lines += [f"- {METHOD_LABEL[m]} / {p} failed: `{e}`" for m, p, e in errs]
        lines.append("")
    if mem:
        name, batch, bs, m, fixed = mem
        lines += [f"## Peak memory of xai Integrated Gradients ({name}, batch {batch}, "
                  f"batch_size={bs})", "",
                  "Peak RSS (VmHWM) of a fresh process that builds the model and runs one "
                  "IG call; baseline = same process with a forward pass instead of IG. Measured "
                  "twice: with glibc's defaults, and with `MALLOC_MMAP_THRESHOLD_=1048576`, "
                  "which stops glibc from raising its mmap threshold after large frees — with "
                  "the default, freed chunk buffers may stay in the heap, so the peak can creep "
                  "up with the number of chunks although nothing is kept.", "",
                  "| steps | peak RSS MiB (glibc default) | over baseline | "
                  "peak RSS MiB (fixed mmap threshold) | over baseline |",
                  "|---:|---:|---:|---:|---:|"]

        def cells(d, steps):
            v, base = d.get(steps), d.get(0)
            over = "—" if steps == 0 or v is None or base is None else f"{v - base:,.0f}"
            return f"{'—' if v is None else f'{v:,.0f}'} | {over}"
        for steps in m:
            label = "baseline" if steps == 0 else str(steps)
            lines.append(f"| {label} | {cells(m, steps)} | {cells(fixed, steps)} |")

        def growth(d):
            vals = [v for st, v in d.items() if st and v is not None]
            if len(vals) < 2 or d.get(0) is None:
                return None
            return vals[-1] - vals[0], vals[-1] - vals[0] < 0.1 * max(vals[0] - d[0], 1) + 50
        first, last = list(m)[1], list(m)[-1]
        g_def, g_fix = growth(m), growth(fixed)
        if g_def and g_fix:
            lines += ["", f"Growth from {first} to {last} steps: {g_def[0]:+,.0f} MiB with "
                      f"glibc's defaults, {g_fix[0]:+,.0f} MiB with a fixed mmap threshold "
                      f"({'flat ✅' if g_fix[1] else 'grows ❌'}: xai's working set "
                      f"{'does not grow' if g_fix[1] else 'grows'} with steps)."]
        lines.append("")
    lines += ["## Settings and notes", "",
              "- Models: `keras.applications.VGG16(weights=None)` (random weights: same cost) and "
              "`MobileNet(alpha=0.25, weights='imagenet')`; inputs are seeded random images "
              "through each model's `preprocess_input`; every contender explains the same "
              "explicit per-sample targets (the linear head's top-1), so no contender pays a "
              "top-1 pass.",
              "- Logit vs probability: xai gets the original softmax model with its default "
              "`score` (logit for gradient methods, probability for RISE); peers and floors get a "
              "linear-head copy (clone + weights, last activation → identity, as tf-keras-vis' "
              "`ReplaceToLinear`), except xplique RISE, which gets the softmax model.",
              "- Maps: xai and tf-keras-vis upsample to the input size and normalise to [0, 1]; "
              "xplique upsamples (bicubic, `tf.map_fn`) but does not normalise. Attribution "
              "methods return the input's shape (xplique `reducer=None`, tf-keras-vis "
              "`keepdims=True`).",
              f"- Grad-CAM family: xai `batch_size={cfg['cam_bs']}`; xplique `batch_size`=batch; "
              "tf-keras-vis has no batching option (one pass, eager, rebuilds a `keras.Model` "
              "per call). XGrad-CAM and Eigen-CAM: no peer implements them. Layer-CAM: "
              "tf-keras-vis only.",
              f"- Smooth Grad-CAM++ (n={cfg['n']}, σ = {cfg['spread']}·(max−min)): no peer has "
              "it. Closest equivalent compared: Grad-CAM++ on the same n noisy copies averaged — "
              "tf-keras-vis `GradcamPlusPlus` called once per noise draw (a Python loop, what a "
              f"user would write), xplique `GradCAMPP` over the n·B stack (batch_size="
              f"{cfg['cam_bs']}); noise generation is outside their timing, inside xai's.",
              f"- SmoothGrad (n={cfg['n']}): tf-keras-vis `Saliency(smooth_samples=n, "
              f"smooth_noise={cfg['spread']})`, xplique `SmoothGrad(nb_samples=n, noise=σ, "
              f"batch_size={cfg['grad_bs']})`, xai `batch_size={cfg['grad_bs']}`.",
              f"- Integrated Gradients: {cfg['steps']} steps, zero baseline, xai "
              f"`rule='riemann_trapezoid', batch_size={cfg['ig_bs']}`, xplique "
              f"`IntegratedGradients(steps={cfg['steps']}, batch_size={cfg['ig_bs']})` "
              "(trapezoid too). tf-keras-vis has no IG. Floor `grad×64`: 64·B input gradients "
              f"in chunks of {cfg['ig_bs']}, one tf.function per chunk, inputs precomputed.",
              f"- Score-CAM: all channels (VGG16 512, MobileNet 256), masked passes in batches of "
              f"{cfg['mask_bs']}; tf-keras-vis `Scorecam(max_N=None, batch_size="
              f"{cfg['mask_bs']})`; xplique has no Score-CAM.",
              f"- RISE: {cfg['masks']} masks, 7×7 grid, p = 0.5, batches of {cfg['mask_bs']}; "
              "xplique `Rise(nb_samples, grid_size=7, preservation_probability=0.5)`; "
              "tf-keras-vis has no RISE.",
              "- Each row's floor is timed in the same round-robin as the contenders. Floors "
              "marked est. time 8 chunks of the forward pass and scale to the full count.",
              "- Skipped to keep `make bench` near 30 min on 2 cores: VGG16 Score-CAM and RISE "
              "(512 / 4000 VGG16 forward passes per image: minutes per call), RISE and Score-CAM at "
              "batch 16 (tf-keras-vis Score-CAM takes minutes per call there), VGG16 SmoothGrad, "
              "the tf-keras-vis Smooth Grad-CAM++ loop on VGG16 (~50 s a call), and VGG16 "
              "batch-16 rows other than Grad-CAM / Grad-CAM++ (`--heavy` runs them)."]
    lines += [f"- {n}" for n in notes]
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
