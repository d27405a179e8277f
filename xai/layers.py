"""Layer lookup: which layer of a model is explained, and the model's shape.

Walks a model's layers (descending into nested models) to find a spatial feature map by name,
index or object, or automatically (the last spatial map before global pooling / flatten), and
tells the model's input shape and the path to the layer that makes its output. Resolved paths
are cached per model and layer. The probe model that every method runs on the chosen layer is
built in :mod:`xai.probe`.
"""
from __future__ import annotations

import numbers
import weakref

import keras

_LOCAL_POOLING = ("MaxPooling", "AveragePooling", "Dropout", "ZeroPadding", "Cropping")
_CACHE: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()


def output_shape(layer) -> tuple | None:
    """Symbolic output shape of a layer (or nested model) in its model's graph, or None."""
    for get in (lambda: layer.output, lambda: layer.outputs[0]):
        try:
            return tuple(get().shape)
        except (AttributeError, ValueError, IndexError, TypeError):
            continue
    return None


def is_spatial(layer, rank: int | None = None) -> bool:
    """The layer outputs a feature map (N, *positions, channels), of rank ``rank`` if given (the
    model input's: a map of another rank, e.g. tokens from a Reshape, has positions that do not
    lie on the input's)."""
    shape = output_shape(layer)
    return shape is not None and len(shape) >= 3 and rank in (None, len(shape))


def input_rank(model) -> int | None:
    """Rank of the model's input, e.g. 4 for images (N, H, W, C); None if it cannot be told."""
    try:
        return len(input_shape(model))
    except ValueError:
        return None


def walk(model, prefix: tuple = ()):
    """Yield ``path`` tuples (outer → inner) for every layer, descending into nested models."""
    for layer in model.layers:
        path = prefix + (layer,)
        yield path
        if isinstance(layer, keras.Model):
            yield from walk(layer, path)


def spatial_layer_names(model) -> list[str]:
    rank = input_rank(model)
    return [path[-1].name for path in walk(model) if is_spatial(path[-1], rank)
            and not isinstance(path[-1], keras.layers.InputLayer)]


def _no_layer_error(model, what: str) -> ValueError:
    names = spatial_layer_names(model)
    if not names:
        return ValueError(
            f"{what}: model '{model.name}' has no spatial (convolutional) layer, so CAM methods "
            "cannot be used. Use a gradient method instead, e.g. method='saliency' or "
            "method='integrated_gradients'.")
    return ValueError(f"{what}. Choose one of the spatial layers of '{model.name}': "
                      + ", ".join(repr(n) for n in names))


def resolve_layer(model, layer=None) -> tuple:
    """Return the path (outer → inner layers) to the layer to explain.

    ``layer`` is a name (searched in nested models too), an index into ``model.layers``, a Layer,
    or None: the last spatial feature map before global pooling / flatten (trailing local pooling
    and dropout are skipped, e.g. VGG16 → block5_conv3). Cached per model and layer.
    """
    if isinstance(layer, bool):  # before the cache: True == 1 as a key
        raise TypeError(f"layer must be a name, an index, a keras Layer or None, not a bool "
                        f"({layer!r})")
    if isinstance(layer, numbers.Integral):
        layer = int(layer)  # NumPy integers too, as for target
    key = ("path", layer if layer is None or isinstance(layer, (str, int)) else id(layer))
    cache = _CACHE.setdefault(model, {})
    if key not in cache:
        cache[key] = _find_layer(model, layer)
    return cache[key]


def _find_layer(model, layer) -> tuple:
    inputs = [p[-1] for p in walk(model) if isinstance(p[-1], keras.layers.InputLayer)]
    asked = (model.layers[layer] if isinstance(layer, int)
             and -len(model.layers) <= layer < len(model.layers) else layer)
    if any(asked is i or asked == i.name for i in inputs):
        raise _no_layer_error(model, f"Layer {layer!r} is the model's input, not a feature map "
                                     "computed by the network")
    paths = [p for p in walk(model) if not isinstance(p[-1], keras.layers.InputLayer)]
    if layer is None:
        return _auto_layer(model, paths)
    if isinstance(layer, str):
        found = [p for p in paths if p[-1].name == layer]
        if not found:
            raise _no_layer_error(model, f"No layer named {layer!r}")
    elif isinstance(layer, int):
        if not -len(model.layers) <= layer < len(model.layers):
            raise _no_layer_error(model, f"Layer index {layer} is out of range for "
                                         f"{len(model.layers)} layers")
        found = [(model.layers[layer],)]
    elif isinstance(layer, keras.layers.Layer):
        found = [p for p in paths if p[-1] is layer]
        if not found:
            raise _no_layer_error(model, f"Layer {layer.name!r} is not part of this model")
    else:
        raise TypeError(f"layer must be a name, an index, a keras Layer or None, got {layer!r}")
    path = found[0]
    shape = output_shape(path[-1])
    if not is_spatial(path[-1]):
        raise _no_layer_error(model, f"Layer {path[-1].name!r} has output shape {shape}, not a "
                                     "spatial feature map")
    if not is_spatial(path[-1], input_rank(model)):
        raise _no_layer_error(model, f"Layer {path[-1].name!r} has output shape {shape}, whose "
                                     f"positions are not those of the input "
                                     f"{input_shape(model)} (another rank, e.g. tokens from a "
                                     "Reshape): its map cannot be laid over the input")
    return path


def _auto_layer(model, paths) -> tuple:
    """Last spatial map (spatial size > 1, the input's rank) before the first global pooling /
    flatten, skipping trailing local pooling and dropout."""
    spatial, rank = [], input_rank(model)
    for p in paths:
        kind = p[-1].__class__.__name__
        if spatial and (kind.startswith("Global") or kind == "Flatten"):
            break
        shape = output_shape(p[-1])
        if (is_spatial(p[-1], rank) and not isinstance(p[-1], keras.Model)
                and any(d is None or d > 1 for d in shape[1:-1])):
            spatial.append(p)
    while spatial and spatial[-1][-1].__class__.__name__.startswith(_LOCAL_POOLING):
        spatial.pop()
    if not spatial:
        raise _no_layer_error(model, "No layer found automatically")
    return spatial[-1]


# ---------------------------------------------------------------- the model's input and output
def input_shape(model) -> tuple:
    try:
        return tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        pass
    if not isinstance(model, keras.Sequential):  # a functional model always has inputs
        raise ValueError(
            f"Model '{model.name}' is a subclassed keras.Model: its call() is Python code, not a "
            "graph of layers that xai can re-run to reach a feature map or the logits. Build the "
            "same network with the functional API or keras.Sequential (the weights can be "
            "copied with set_weights).")
    raise ValueError(f"Model '{model.name}' has no defined input; build it first, e.g. "
                     "model.build((None, H, W, C)) or call it once on a batch.")


def _last_layer(model):
    """The layer whose call makes the model's output (None if it cannot be told)."""
    if isinstance(model, keras.Sequential):
        return model.layers[-1]
    history = getattr(model.outputs[0], "_keras_history", None)  # the op that made the output
    op = getattr(history, "operation", None)
    if isinstance(op, keras.layers.Layer):
        return op
    last = model.layers[-1]
    return last if last.output is model.outputs[0] else None


def final_layer_path(model) -> tuple | None:
    """Path (outer → inner) to the layer that makes the model's output, descending into a nested
    model that is itself the last layer (e.g. ``Sequential([Input, Rescaling, classifier])``)."""
    last = _last_layer(model)
    if isinstance(last, keras.Model):
        inner = final_layer_path(last)
        return (last,) + inner if inner else None
    return (last,) if last is not None else None


def clear_paths(model=None) -> None:
    """Forget cached layer paths (all, or one model's); :func:`xai.probe.clear_cache` calls it."""
    if model is None:
        _CACHE.clear()
    else:
        _CACHE.pop(model, None)
