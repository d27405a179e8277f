"""The probe model that every method runs, and its compiled functions.

A *probe* is a Keras model built once per (model, layer) and cached: it maps ``x`` to ``[A, z]``
where ``A`` is the chosen layer's activation and ``z`` the class scores *before* a final
softmax/sigmoid. Methods watch x on the gradient tape, so ∂z/∂A is recorded even when the
user's weights are frozen (non-trainable variables are not watched). The user's model is never
modified: we re-run its graph with the same layers (shared weights), swap the last layer for a
linear version of itself, and run Dense layers through :class:`_Dense` (same variables, a
faster input gradient on CPUs). Which layer is explained is :mod:`xai.layers`'s concern.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Callable

import keras
import tensorflow as tf

from . import layers
from ._probe_layers import _Dense, _fast_dense, _guided_gate, _is_relu

_CACHE: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


# ---------------------------------------------------------------- rebuilding the forward pass
def rebuild(model, call_fn: Callable):
    """Re-run ``model``'s graph symbolically, calling ``call_fn(layer, *args, **kw)`` in place of
    each layer; returns (inputs, output). Works for Functional and Sequential models, including
    Sequential models loaded from old .h5 files that have no symbolic ``output``."""
    if isinstance(model, keras.Sequential):
        inp = keras.Input(batch_shape=layers.input_shape(model), dtype=model.inputs[0].dtype)
        h = inp
        for layer in model.layers:
            h = call_fn(layer, h)
        return inp, h
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"Model '{model.name}' has {len(model.inputs)} inputs and "
                         f"{len(model.outputs)} outputs; xai explains single-input, "
                         "single-output classifiers.")
    clone = keras.models.clone_model(model, clone_function=lambda layer: layer,
                                     call_function=call_fn)
    return clone.inputs[0], clone.outputs[0]


def _forward_model(model, path: tuple | None, head: tuple | None = None, guided: bool = False):
    """Model ``x → [A, z]`` for the layer at the end of ``path`` (``x → z`` when path is None).
    ``head`` = (path to the final layer, replacement callable) swaps the model's final layer,
    also when it sits inside a nested model (a classifier wrapped in a Sequential).
    ``guided``: every ReLU's output passes through :class:`_GuidedGate` (guided backprop).
    A layer called at several places gets one wrapper, called as often (names stay unique)."""
    captured, wrappers = {}, {}

    def wrapper(kind, layer):
        if (kind, id(layer)) not in wrappers:
            wrappers[kind, id(layer)] = kind(layer)
        return wrappers[kind, id(layer)]

    def call_fn(layer, *args, **kwargs):
        in_path = bool(path) and layer is path[0]
        in_head = head is not None and layer is head[0][0]
        if in_head and len(head[0]) == 1:
            return head[1](args[0])
        nested = isinstance(layer, keras.Model) and (guided or in_head or in_path)
        if nested and not (in_path and len(path) == 1):  # rebuild the nested model too
            inner = _forward_model(layer, path[1:] if in_path else None,
                                   (head[0][1:], head[1]) if in_head else None, guided)
            if not in_path:
                return inner(args[0])
            captured["A"], out = inner(args[0])
            return out
        if plain_dense(layer) and not kwargs and len(args) == 1:
            out = wrapper(_fast_dense, layer)(args[0])
        else:
            out = layer(*args, **kwargs)
        if in_path:  # float32 A, and the rest of the network runs on it (∂S/∂A exists)
            out = captured["A"] = _float32(out)
        if guided and _is_relu(layer):
            out = wrapper(_guided_gate, layer)(out)
        return out

    inp, out = rebuild(model, call_fn)
    return keras.Model(inp, [captured["A"], out] if path else out)


def _probe_model(model, path: tuple | None, head: tuple | None, guided: bool):
    """:func:`_forward_model` with float32 outputs whatever the dtype policy (mixed precision),
    and a single-unit output z turned into two classes [−z, z] (the binary convention).
    Returns (model, whether the output was a single unit)."""
    inner = _forward_model(model, path, head, guided)
    outs = [_float32(t) for t in inner.outputs]
    binary = outs[-1].shape[-1] == 1
    if binary:
        outs[-1] = keras.ops.concatenate([keras.ops.negative(outs[-1]), outs[-1]], axis=-1)
    return keras.Model(inner.inputs, outs if path else outs[0]), binary


def _float32(t):
    return t if t.dtype == "float32" else keras.ops.cast(t, "float32")


# ---------------------------------------------------------------- Dense layers and the linear head
def plain_dense(layer) -> bool:
    """A float Dense layer (no quantisation, no LoRA) that :class:`_Dense` can stand in for."""
    return (isinstance(layer, keras.layers.Dense)
            and getattr(layer, "quantization_mode", None) is None
            and not getattr(layer, "lora_enabled", False))


#: final activations that xai strips to reach the logits (log-softmax is a softmax: the same z)
_HEADS = {"softmax": "softmax", "log_softmax": "softmax", "sigmoid": "sigmoid"}
#: layers that keep a probability a probability-derived number (no logits behind them)
_SHAPE_ONLY = ("Reshape", "Flatten", "Permute", "Cropping", "Identity", "Dropout",
               "SpatialDropout", "GaussianDropout", "GaussianNoise", "AlphaDropout",
               "ActivityRegularization", "MaxPooling", "AveragePooling", "GlobalMaxPooling",
               "GlobalAveragePooling")


def _activation_name(layer) -> str | None:
    """The kind, "softmax" or "sigmoid", if ``layer`` ends in one (a Softmax layer, an
    activation, a Lambda of tf.nn/keras.ops softmax, log_softmax or sigmoid), else None."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    act = getattr(layer, "function" if isinstance(layer, keras.layers.Lambda) else "activation",
                  None)
    name = getattr(act, "__name__", None) if act is not None else None
    return _HEADS.get(name.removesuffix("_v2")) if isinstance(name, str) else None


def _softmax_inside(model, final: tuple) -> tuple[str | None, tuple]:
    """A softmax/sigmoid followed by shape-only layers up to the output (a 1×1 conv softmax →
    global pooling, a softmax → Reshape): its kind and the layer names from it to the output.
    (None, ()) when there is none or it cannot be told."""
    owner = final[-2] if len(final) > 1 else model
    chain = [final[-1]]
    while chain[-1].__class__.__name__.startswith(_SHAPE_ONLY):
        chain.append(_inbound_layer(owner, chain[-1]))
        if chain[-1] is None:
            return None, ()
    act = _activation_name(chain[-1])
    return (act, tuple(layer.name for layer in reversed(chain))) if act else (None, ())


def _inbound_layer(model, layer):
    """The layer whose output ``layer`` is called on in ``model`` (None if it cannot be told)."""
    if isinstance(model, keras.Sequential):
        i = model.layers.index(layer)
        return model.layers[i - 1] if i > 0 else None
    try:
        op = layer.input._keras_history.operation
    except (AttributeError, ValueError):
        return None
    return op if isinstance(op, keras.layers.Layer) and not isinstance(
        op, keras.layers.InputLayer) else None


def _linear_version(layer, input_shape):
    """A layer computing ``layer``'s pre-activation on ``layer``'s own variables (no copy, so
    the probe follows ``fit`` and ``set_weights``)."""
    if isinstance(layer, (keras.layers.Softmax, keras.layers.Activation, keras.layers.Lambda)):
        return lambda h: h
    if plain_dense(layer):
        return _Dense(layer, linear=True, name=layer.name + "_logits", dtype=layer.dtype_policy)
    return _shared_rebuild(layer, input_shape, activation="linear", name=layer.name + "_logits")


def _shared_rebuild(layer, input_shape, **changes):
    """``layer`` rebuilt from its config with ``changes`` (an EinsumDense, a LoRA or quantised
    Dense, a Conv…), on ``layer``'s variables: each weight its build adds is the original's
    weight of the same name."""
    own = {}
    for v in layer.weights:
        own.setdefault(v.name, []).append(v)

    def add_weight(*args, name=None, **kwargs):
        if len(own.get(name, ())) != 1:
            raise KeyError(name)
        return own[name][0]

    rebuilt = layer.__class__.from_config(dict(layer.get_config(), **changes))
    rebuilt.add_weight = add_weight
    try:
        rebuilt.build(input_shape)
        shared = {id(v) for v in rebuilt.weights} == {id(v) for v in layer.weights}
    except KeyError:
        shared = False
    del rebuilt.add_weight
    if not shared:
        raise ValueError(
            f"xai explains logits by running the model's last layer {layer.name!r} "
            f"({layer.__class__.__name__}) without its final activation, on the layer's own "
            "weights, and cannot rebuild this layer that way. "
            f"Move the activation to its own layer, e.g. {layer.__class__.__name__}(..., "
            "activation=None) followed by keras.layers.Activation('softmax'); the weights "
            "stay the same.")
    return rebuilt


def logit_head(model) -> tuple | None:
    """(path to the model's final layer, a linear version of it on the same weights) when the
    model ends in a softmax/sigmoid: the swap :func:`build_probe` makes so that z are logits
    (:mod:`xai.tail` makes it too); None when there is no such final activation."""
    final = layers.final_layer_path(model)
    if not final or _activation_name(final[-1]) is None:
        return None
    return final, _linear_version(final[-1], tuple(_input_shape_of(final[-1])))


@dataclass(frozen=True)
class Probe:
    """Cached forward pass: ``model(x)`` → [A, z] (or → z without a layer), float32.

    ``final_activation`` is "softmax", "sigmoid" or None: what turns z into the model's output.
    ``binary``: the model has a single output unit; z is then [−logit, logit] (class 0, class 1).
    ``inside``: the layer names from a softmax/sigmoid to the output when it is not the last
    layer; z is then the model's output itself (a probability, no logits behind it).
    """
    model: keras.Model
    path: tuple | None
    final_activation: str | None
    binary: bool
    functions: dict
    inside: tuple = ()

    @property
    def num_classes(self) -> int:
        return int(self.model.outputs[-1].shape[-1])

    @property
    def layer_name(self) -> str | None:
        return self.path[-1].name if self.path else None


def _input_shape_of(layer) -> tuple:
    return tuple(layer.input.shape)


def build_probe(model, path: tuple | None, guided: bool = False) -> Probe:
    """The probe for ``path`` (None: scores only), cached per model and layer. ``guided``: with
    guided ReLUs (guided backpropagation). The probe runs the model's own layers and variables,
    so it follows ``fit`` and ``set_weights``."""
    cache = _CACHE.setdefault(model, {})
    key = (tuple(id(layer) for layer in path) if path else None, guided)
    if key in cache:
        return cache[key]
    head, inside = logit_head(model), ()
    act = _activation_name(head[0][-1]) if head else None
    final = layers.final_layer_path(model)
    if head is None and final:
        act, inside = _softmax_inside(model, final)
    probe_model, binary = _probe_model(model, path, head, guided)
    probe = Probe(probe_model, path, act, binary, {}, inside)
    cache[key] = probe
    return probe


def trace_count(model) -> int:
    """How many times xai has traced (compiled) a graph for ``model`` so far: repeated calls with
    the same shapes should not add any (a diagnostic; tracing is slow)."""
    return sum(f.tracing_count() for probe in _CACHE.get(model, {}).values()
               if isinstance(probe, Probe) for f in probe.functions.values())


def clear_cache(model=None) -> None:
    """Forget cached probes and layer paths (all, or one model's) — e.g. after changing a
    model's structure."""
    layers.clear_paths(model)
    if model is None:
        _CACHE.clear()
    else:
        _CACHE.pop(model, None)


class _Bound:
    """``impl`` with keyword arguments bound. Unlike a closure or a partial, each instance is
    its own object for TensorFlow: different probes' traces are not counted as retracing of
    one function, and the bound values are not part of the trace signature."""

    def __init__(self, impl: Callable, bound: dict):
        self.impl, self.bound = impl, bound

    def __call__(self, *args):
        return self.impl(*args, **self.bound)


#: a first call whose arguments hold at most this many rows runs eagerly (see _Compiled)
EAGER_ROWS = 4


class _Compiled:
    """``impl(*args, **bound)`` as a ``tf.function``, except a small first call (every argument
    at most ``EAGER_ROWS`` rows) of a forward-only ``impl`` (``eager_first``), which runs
    eagerly. Tracing costs more than one small eager call saves (MobileNet, one image: ~0.9 s
    to trace against ~0.25 s eager), so a one-off forward pass starts fast; batched work (IG
    steps, noisy copies, masks) is compiled from the start, as eager execution would hold far
    more memory (IG on VGG16: +1 GiB peak)."""

    def __init__(self, impl: Callable, bound: dict, eager_first: bool = True):
        self.eager = _Bound(impl, bound)
        self.function = None
        self.eager_first = eager_first

    def __call__(self, *args):
        if self.function is None:
            self.function = tf.function(self.eager, reduce_retracing=True)
            if self.eager_first and max((int(a.shape[0]) for a in args
                                         if len(getattr(a, "shape", ())) > 0),
                                        default=0) <= EAGER_ROWS:
                return self.eager(*args)
        return self.function(*args)

    def tracing_count(self) -> int:
        return self.function.experimental_get_tracing_count() if self.function else 0


def compiled(owner: Probe, key, impl: Callable, **bound):
    """``impl(*args, **bound)`` (see :class:`_Compiled`), built once per owner probe and key."""
    if key not in owner.functions:
        owner.functions[key] = _Compiled(impl, bound)
    return owner.functions[key]


def compiled_gradient(owner: Probe, key, impl: Callable, **bound):
    """:func:`compiled` for an ``impl`` that takes gradients (itself or through a function it
    calls): always a graph, never eager (nor traced twice, once inside and once outside). An
    eager tape back-propagates through every recorded op and TensorFlow's Conv2D gradient always
    computes the kernel's gradient too, which xai never needs; TensorFlow's oneDNN kernel for
    it kills the process on some models (1×1 stride-2 convolutions, e.g. the residual
    shortcuts of mini-Xception). A graph keeps only the gradients asked for."""
    if key not in owner.functions:
        owner.functions[key] = _Compiled(impl, bound, eager_first=False)
    return owner.functions[key]
