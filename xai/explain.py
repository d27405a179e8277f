"""The front door: ``xai.explain(model, x, method=...)`` validates, then dispatches."""
from __future__ import annotations

import inspect
from functools import lru_cache, partial

import keras
import numpy as np

from . import cam, gradients, layers, perturbation, scores, sise

METHODS = {
    "gradcam": partial(cam.weighted_cam, method="gradcam"),
    "gradcam++": partial(cam.weighted_cam, method="gradcam++"),
    "smooth_gradcam++": cam.smooth_gradcampp,
    "xgradcam": partial(cam.weighted_cam, method="xgradcam"),
    "layercam": partial(cam.weighted_cam, method="layercam"),
    "eigencam": partial(cam.weighted_cam, method="eigencam"),
    "scorecam": cam.scorecam,
    "saliency": gradients.saliency,
    "smoothgrad": gradients.smoothgrad,
    "integrated_gradients": gradients.integrated_gradients,
    "guided_backprop": gradients.guided_backprop,
    "guided_gradcam": gradients.guided_gradcam,
    "rise": perturbation.rise,
    "sise": sise.sise,
}
#: methods that return one map per sample (N, H, W) / (N, T); the others return x's shape.
MAP_METHODS = ("gradcam", "gradcam++", "smooth_gradcam++", "xgradcam", "layercam", "eigencam",
               "scorecam", "rise", "sise")


@lru_cache(maxsize=None)
def _parameters(fn) -> dict:
    return {k: v for k, v in inspect.signature(fn).parameters.items()
            if k not in ("model", "x", "method")}


def check_input(model, x) -> np.ndarray:
    """x as float32 NumPy, checked against the model's input: rank, channels, size, finiteness."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    try:
        x = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise TypeError("x must be a numeric array or tensor (N, H, W, C) or (N, T, C)") from None
    expected = layers.input_shape(model)
    if x.ndim == len(expected) - 1 and all(e in (None, s) for e, s in zip(expected[1:], x.shape)):
        raise ValueError(f"x has shape {x.shape}, a single sample; the model expects a batch "
                         f"{expected}. Add a batch axis: x[None].")
    if x.ndim != len(expected):
        raise ValueError(f"x has shape {x.shape} (rank {x.ndim}); the model expects "
                         f"{expected} (rank {len(expected)}): give a batch of "
                         f"{'images (N, H, W, C)' if len(expected) == 4 else 'signals (N, T, C)'}.")
    if expected[-1] is not None and x.shape[-1] != expected[-1]:
        raise ValueError(f"x has {x.shape[-1]} channels (shape {x.shape}); the model expects "
                         f"{expected[-1]} (input {expected}). Convert the data, e.g. grayscale "
                         "to RGB with np.repeat(x, 3, axis=-1), or channels-last layout.")
    if any(e is not None and e != s for e, s in zip(expected[1:-1], x.shape[1:-1])):
        raise ValueError(f"x has spatial size {x.shape[1:-1]}; the model expects "
                         f"{expected[1:-1]}. Resize the inputs first (xai.models.load(...) "
                         "gives each architecture's input_size and preprocess).")
    if x.shape[0] == 0:
        raise ValueError("x is an empty batch.")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"x contains {int(bad.sum())} NaN or inf value(s); clean the input "
                         "(e.g. np.nan_to_num) before explaining it.")
    return x


def explain(model, x, method="gradcam", layer=None, target=None, score=None, **options):
    """Explain ``model``'s predictions on the batch ``x``.

    Parameters
    ----------
    model : keras.Model, any single-input classifier (Sequential, functional, nested, old .h5).
    x : array (N, H, W, C) or (N, T, C), already in the model's input space.
    method : one of ``xai.METHODS``.
    layer : name, index, Layer or None (the last spatial map before pooling), for CAM methods.
    target : None (each sample's top-1), a class index or ImageNet class name, or one per sample.
    score : "logit" (pre-softmax; the default, except RISE and SISE: "probability", as in their
        papers) or "probability".
    **options : the method's own options (batch_size, seed, steps, n, normalize, upsample, ...).

    Returns
    -------
    np.ndarray float32: (N, H, W) / (N, T) maps in [0, 1] for CAM methods and RISE, signed
    attributions of x's shape for gradient methods; ``(attr, delta)`` for IG with
    ``return_delta=True``.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}. Choose one of: {', '.join(METHODS)}.")
    fn = METHODS[method]
    accepted = _parameters(fn)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"method {method!r} has no option(s) {unknown}; it accepts: "
                        f"{', '.join(k for k in accepted if k not in ('layer', 'target', 'score'))}")
    if layer is not None and "layers" in accepted:
        raise ValueError(f"method {method!r} fuses several layers: pass layers=[...] (names), "
                         "not layer=.")
    if layer is not None and "layer" not in accepted:
        raise ValueError(f"method {method!r} explains the input directly and takes no layer; "
                         "drop layer= or use a CAM method.")
    x = check_input(model, x)
    kwargs = dict(options, target=target)
    if "layer" in accepted:
        kwargs["layer"] = layer
    if score is not None:
        kwargs["score"] = scores.check_score(score)
    return fn(model, x, **kwargs)
