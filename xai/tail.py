"""The *tail* of a model: the rest of the network from a layer's output A to the class scores z.

Recipro-CAM (Byun & Lee, 2022) runs it on masked copies of A. The tail is rebuilt from the
model's own layers (shared weights, so it follows ``fit`` and ``set_weights``): the model's graph
is re-run symbolically, the final softmax/sigmoid swapped for its linear version as in
:mod:`xai.probe` (z are logits), and cut at the layer's output; a nested model on the way to
the layer is cut the same way, into its part before the layer and its part after. Functional,
Sequential and nested models are supported.
"""
from __future__ import annotations

import weakref

import keras

from . import probe as probes

_CACHE: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = weakref.WeakKeyDictionary()


def build_tail(model, path: tuple) -> keras.Model:
    """The model ``A → z`` for the layer at the end of ``path`` (:func:`xai.layers.resolve_layer`),
    z as the probe's (float32, before a final softmax/sigmoid, a single unit made two classes
    [−z, z]). Cached with the probe (:func:`xai.probe.clear_cache` forgets it too). Raises a
    ValueError when the output depends on the input other than through A (a skip connection
    around the layer)."""
    probe = probes.build_probe(model, path)
    if probe.model not in _CACHE:
        _CACHE[probe.model] = _tail_model(model, probe)
    return _CACHE[probe.model]


def _tail_model(model, probe: probes.Probe) -> keras.Model:
    head = probes.logit_head(model) if probe.final_activation and not probe.inside else None
    return _finalised(split(model, probe.path, head)[1], probe.binary)


def _finalised(inner: keras.Model, binary: bool) -> keras.Model:
    """float32 z, and a single unit z made two classes [−z, z] (the probe's convention)."""
    z = inner.outputs[0]
    z = z if z.dtype == "float32" else keras.ops.cast(z, "float32")
    if binary:
        z = keras.ops.concatenate([keras.ops.negative(z), z], axis=-1)
    return keras.Model(inner.inputs, z)


def split(model, path: tuple | None, head: tuple | None):
    """``model`` rebuilt on its own layers and cut at the layer at the end of ``path``: the
    models (``x → A``, ``A → output``), A in float32; (``x → A``, None) when A is the output;
    with ``path`` None, (the rebuilt ``x → output``, None). ``head`` = (path to the final
    layer, replacement) as in :func:`xai.probe.logit_head`. A nested model on the path is split
    the same way and called as its two halves, so that A is a tensor of this model's graph."""
    captured = {}

    def call_fn(layer, *args, **kwargs):
        in_path = bool(path) and layer is path[0]
        in_head = head is not None and layer is head[0][0]
        if in_head and len(head[0]) == 1:
            return head[1](args[0])
        if isinstance(layer, keras.Model) and (in_head or (in_path and len(path) > 1)):
            front, back = split(layer, path[1:] if in_path else None,
                                (head[0][1:], head[1]) if in_head else None)
            out = front(args[0])
            if in_path:
                captured["A"] = out
            return out if back is None else back(out)
        out = layer(*args, **kwargs)
        if in_path:
            out = captured["A"] = out if out.dtype == "float32" else keras.ops.cast(out,
                                                                                    "float32")
        return out

    x, out = probes.rebuild(model, call_fn)
    if not path:
        return keras.Model(x, out), None
    if "A" not in captured:
        raise ValueError(f"layer {path[-1].name!r} is not called on the way from the input to "
                         f"the output of model '{model.name}'; choose a layer of the network "
                         "that computes the output.")
    if out is captured["A"]:  # the layer makes the output (a base model's last layer)
        return keras.Model(x, out), None
    try:
        back = keras.Model(captured["A"], out)
    except ValueError:
        raise ValueError(
            f"The output of model '{model.name}' depends on its input other than through layer "
            f"{path[-1].name!r} (e.g. a skip connection around it), so the rest of the network "
            "cannot be run on that layer's output alone. Choose a layer whose output alone "
            "feeds the rest of the network, e.g. the last convolutional block's output (the "
            "default, layer=None) or the add/concatenate layer that ends a residual block."
        ) from None
    return keras.Model(x, captured["A"]), back
