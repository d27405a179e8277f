"""The front door. Every method is registered once (:func:`register`); the same checks run
whether it is called as ``xai.explain(model, x, method=...)`` or as its exported function."""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable

import keras
import numpy as np

from . import layers, scores
from ._batching import check_batch_size


@dataclass(frozen=True)
class Method:
    """A registered method: everything the CLI, the demo, the widgets, the bench, the notebooks
    and :func:`xai.metrics.passes` need to know about it.

    ``label``: its name for people ("Grad-CAM"); ``returns``: "map" ((N, H, W) / (N, T), ≥ 0)
    or "attribution" (signed, x's shape); ``layer``: "one" (``layer=``), "many" (``layers=``)
    or None (explains the input directly); ``count``: ``count(model, options) -> (forward,
    backward[, exact])``, the model passes per sample for the method's options (defaults
    filled in); ``pins_top1``: a None target costs one more forward pass, to pin each clean
    sample's top-1 for all its noisy, interpolated or masked copies (:func:`scores.pin_top1`);
    ``bound``: keyword arguments the name fixes (the CAM rules share one function).
    """
    name: str
    function: Callable
    returns: str
    layer: str | None
    label: str
    count: Callable
    pins_top1: bool = False
    bound: dict = field(default_factory=dict)

    def __call__(self, model, x, **kwargs):
        return self.function(model, x, **self.bound, **kwargs)

    def defaults(self) -> dict:
        """Each keyword argument with a default, and the default (``layer=None``, ``n=25``, …)."""
        params = inspect.signature(self.function.__wrapped__).parameters
        return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}

    def options(self) -> list[str]:
        """The method's own keyword options (besides layer, target and score)."""
        return [k for k in inspect.signature(self.function.__wrapped__).parameters
                if k not in ("model", "x", "method", "layer", "target", "score")]

    def passes(self, model, target=None, **options) -> dict:
        """Forward and backward passes of ``model`` per explained sample (see
        :func:`xai.metrics.passes`): ``{"forward", "backward", "exact"}``."""
        unknown = sorted(set(options) - set(self.options()) - {"layer"})
        if unknown:
            raise TypeError(f"method {self.name!r} has no option(s) {unknown}; it accepts: "
                            f"{', '.join(self.options())}")
        counted = self.count(model, {**self.defaults(), **self.bound, **options})
        forward, backward, exact = (*counted, True)[:3]
        top1 = int(target is None and self.pins_top1)
        return {"forward": int(forward) + top1, "backward": int(backward), "exact": bool(exact)}

    def display_map(self, result, percentile: float = 99.0):
        """The result as one map per sample in [0, 1] for an overlay (:func:`xai.viz.display_map`
        with this method's ``returns``)."""
        from .viz import display_map

        return display_map(result, self.returns, percentile)


#: every registered method by name, in registration order
REGISTRY: dict[str, Method] = {}


def register(*names: str, returns: str, label, count: Callable, layer: str | None = None,
             pins_top1: bool = False):
    """Register a method under one or several names (several: the name is passed as
    ``method=``, and ``label`` is a dict name → label). The decorated function is returned
    checked: x against the model, score, batch_size, then the method's own checks."""
    if returns not in ("map", "attribution") or layer not in ("one", "many", None):
        raise ValueError(f"register({names}): returns must be 'map' or 'attribution' and "
                         f"layer 'one', 'many' or None; got {returns!r}, {layer!r}")
    labels = label if isinstance(label, dict) else {names[0]: label}
    if set(labels) != set(names):
        raise ValueError(f"register({names}): give one label per name, got {sorted(labels)}")

    def decorate(fn):
        checked = _checked(fn, names[0], maps=returns == "map" or layer is not None)
        for name in names:
            REGISTRY[name] = Method(name, checked, returns, layer, labels[name], count,
                                    pins_top1, {"method": name} if len(names) > 1 else {})
        return checked
    return decorate


def _checked(fn, name: str, maps: bool):
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def checked(model, x, *args, **kwargs):
        try:
            arguments = signature.bind(model, x, *args, **kwargs).arguments
        except TypeError as exc:
            raise TypeError(f"{fn.__name__}(): {exc}; it accepts: "
                            f"{', '.join(signature.parameters)}") from None
        arguments["x"] = check_input(model, x)
        check_model(model, arguments.get("method", name), maps)
        if "score" in arguments:
            scores.check_score(arguments["score"])
        if "batch_size" in arguments:
            check_batch_size(arguments["batch_size"])
        return fn(**arguments)
    return checked


def map_methods() -> tuple[str, ...]:
    """Names of the methods that return one map per sample (the others return x's shape)."""
    return tuple(name for name, m in REGISTRY.items() if m.returns == "map")


def check_model(model, method: str, maps: bool) -> None:
    """The model is a classifier that ``method`` can explain: its output is (N, classes), and,
    for a method that makes or uses maps (``maps``), its layers are channels-last."""
    out = layers.output_shape(model)
    if out is not None and len(out) != 2:
        raise ValueError(f"Model '{model.name}' outputs shape {out}; xai explains classifiers "
                         "whose output is (N, classes), one score per class. End the model in "
                         "its class scores, e.g. keras.Model(model.input, "
                         "keras.layers.Flatten()(model.output)).")
    first = [p[-1].name for p in layers.walk(model)
             if getattr(p[-1], "data_format", None) == "channels_first"]
    if maps and first:
        raise ValueError(
            f"Model '{model.name}' has channels-first layers ({', '.join(first[:3])}); method "
            f"{method!r} lays maps over the input's positions and needs a channels-last model, "
            "inputs (N, H, W, C). Rebuild the model with data_format='channels_last' "
            "(convolution kernels keep their shape: copy them with set_weights) and give "
            "np.moveaxis(x, 1, -1), or explain the input directly with method='saliency' or "
            "'integrated_gradients', which work in any layout.")


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
    method : one of ``xai.METHODS`` (the registered methods).
    layer : name, index, Layer or None (the last spatial map before pooling), for CAM methods.
    target : None (each sample's top-1), a class index or ImageNet class name, or one per sample.
        A single output unit is read as a binary classifier's logit y: class 1 is y, class 0
        is −y, and the top-1 is 1 where y > 0. For a regression output (no sigmoid) pass
        ``target=1`` to explain y itself: ``target=None`` explains −y wherever y < 0.
    score : "logit" (pre-softmax; the default, except RISE and SISE: "probability", as in their
        papers) or "probability".
    **options : the method's own options (batch_size, seed, steps, n, normalize, upsample, ...).

    Returns
    -------
    np.ndarray float32: (N, H, W) / (N, T) maps in [0, 1] for CAM methods and RISE, signed
    attributions of x's shape for gradient methods; ``(attr, delta)`` for IG with
    ``return_delta=True``.
    """
    if method not in REGISTRY:
        raise ValueError(f"Unknown method {method!r}. Choose one of: {', '.join(REGISTRY)}.")
    entry = REGISTRY[method]
    unknown = sorted(set(options) - set(entry.options()))
    if unknown:
        raise TypeError(f"method {method!r} has no option(s) {unknown}; it accepts: "
                        f"{', '.join(entry.options())}")
    if layer is not None and entry.layer == "many":
        raise ValueError(f"method {method!r} fuses several layers: pass layers=[...] (names), "
                         "not layer=.")
    if layer is not None and entry.layer is None:
        raise ValueError(f"method {method!r} explains the input directly and takes no layer; "
                         "drop layer= or use a CAM method.")
    kwargs = dict(options, target=target)
    if entry.layer == "one":
        kwargs["layer"] = layer
    if score is not None:
        kwargs["score"] = score
    return entry(model, x, **kwargs)
