"""The model zoo: ImageNet classifiers from ``keras.applications`` and saved models from disk.

Each architecture is described once, in ``_ZOO``: its builder, its ``preprocess_input``, its
input size, its default CAM layer and the weights file Keras caches for it. :func:`load` returns
a :class:`ZooModel` bundling the model with a non-mutating ``preprocess`` and a ``decode`` that
turns ImageNet probabilities into ``(class_index, class_name, prob)`` triples.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import keras
import numpy as np

from .imagenet import imagenet_class_id, imagenet_class_names, is_fetch_error, keras_cache_dir

__all__ = ["ARCHITECTURES", "WeightsUnavailableError", "ZooModel", "default_layer", "depth_layers",
           "imagenet_class_id", "imagenet_class_names", "load"]



class WeightsUnavailableError(RuntimeError):
    """ImageNet weights are neither in the Keras cache nor downloadable (e.g. offline)."""


class _Arch(NamedTuple):
    builder: Callable          # keras.applications constructor
    preprocess_input: Callable  # keras.applications.<module>.preprocess_input
    input_size: tuple           # default (H, W)
    default_layer: str          # last spatial feature map, the usual CAM layer
    weights_stem: str           # Keras cache name: <stem>_weights_tf_dim_ordering_tf_kernels.h5
    depth: tuple                # (first, middle) layers of DEPTHS; "last" is default_layer


_A = keras.applications
_ZOO = {
    "vgg16": _Arch(_A.VGG16, _A.vgg16.preprocess_input, (224, 224), "block5_conv3", "vgg16",
                   ("block3_conv3", "block4_conv3")),
    "inceptionv3": _Arch(_A.InceptionV3, _A.inception_v3.preprocess_input, (299, 299),
                         "mixed10", "inception_v3", ("mixed2", "mixed7")),
    "xception": _Arch(_A.Xception, _A.xception.preprocess_input, (299, 299),
                      "block14_sepconv2_act", "xception",
                      ("block3_sepconv1_act", "block13_sepconv1_act")),
    "resnet50": _Arch(_A.ResNet50, _A.resnet50.preprocess_input, (224, 224),
                      "conv5_block3_out", "resnet50", ("conv2_block3_out", "conv4_block6_out")),
    "resnet152": _Arch(_A.ResNet152, _A.resnet.preprocess_input, (224, 224),
                       "conv5_block3_out", "resnet152", ("conv2_block3_out", "conv4_block36_out")),
    "densenet121": _Arch(_A.DenseNet121, _A.densenet.preprocess_input, (224, 224), "relu",
                         "densenet121", ("pool2_relu", "pool4_relu")),
    "mobilenet": _Arch(_A.MobileNet, _A.mobilenet.preprocess_input, (224, 224),
                       "conv_pw_13_relu", "mobilenet", ("conv_pw_3_relu", "conv_pw_11_relu")),
}
del _A

#: Names accepted by :func:`load` (besides a path to a saved model).
ARCHITECTURES = tuple(_ZOO)


@dataclass(frozen=True)
class ZooModel:
    """A classifier with everything needed to explain it.

    Attributes
    ----------
    name : str
        Architecture name, or the file stem for a model loaded from a path.
    model : keras.Model
        The Keras model.
    preprocess : callable
        ``preprocess(images) -> float32 array``: RGB images (N, H, W, 3), uint8 or float in
        [0, 255], to model input. Never modifies its argument.
    decode : callable or None
        ``decode(probs, top=5)``: (N, 1000) probabilities to a per-sample list of
        ``(class_index, class_name, prob)``, best first. None if the model is not an ImageNet
        classifier.
    input_size : tuple of int
        Spatial input size, (H, W) for images, (T,) for 1-D signals.
    default_layer : str or None
        Default CAM layer; None lets the explainer pick the last spatial map.
    """

    name: str
    model: keras.Model
    preprocess: Callable
    decode: Callable | None
    input_size: tuple
    default_layer: str | None


def canonical_name(name):
    key = str(name).lower().replace("_", "").replace("-", "")
    if key not in _ZOO or isinstance(name, os.PathLike):
        raise ValueError(f"Unknown architecture {name!r}; choose one of "
                         f"{', '.join(ARCHITECTURES)} or give the path of a saved .keras/.h5 "
                         "model.")
    return key


def default_layer(name):
    """Name of the default CAM layer of architecture `name` (``"vgg16"`` -> ``"block5_conv3"``)."""
    return _ZOO[canonical_name(name)].default_layer


def depth_layers(name):
    """``{"first": ..., "middle": ..., "last": ...}``: three CAM layers of architecture `name`
    for comparing maps across depth (notebook 06).

    * first: the end of the first stage after the stem, at 1/4 of the input size (56 × 56 on
      224 inputs; Inception's stem already reaches 1/8, its first stage ends at ``mixed2``,
      35 × 35; Xception's residual sums have no stable names, so its stage at 1/4 is read at
      ``block3_sepconv1_act``);
    * middle: the end of the stage at 1/16 (14 × 14; Inception ``mixed7`` 17 × 17; Xception's
      middle flow, ``block13_sepconv1_act``; VGG16, which has no 1/16 stage before its last
      conv block, ``block4_conv3`` at 1/8);
    * last: the default CAM layer, the last spatial map (:func:`default_layer`).
    """
    arch = _ZOO[canonical_name(name)]
    return dict(zip(("first", "middle", "last"), (*arch.depth, arch.default_layer)))


def _make_preprocess(preprocess_input):
    def preprocess(images):
        # Copy first: keras' preprocess_input modifies float NumPy arrays in place.
        x = np.array(images, dtype=np.float32, copy=True)
        return np.asarray(preprocess_input(x), dtype=np.float32)
    preprocess.__doc__ = (f"RGB images in [0, 255] -> model input, via "
                          f"{preprocess_input.__module__}.")
    return preprocess


def _as_float32(images):
    """Identity preprocessing: a float32 copy of `images`."""
    return np.array(images, dtype=np.float32, copy=True)


def preprocess_for(spec) -> Callable:
    """A saved model's ``preprocess`` (:func:`load`'s ``preprocess=``) from a short description.

    Parameters
    ----------
    spec : number, str
        A scale factor: RGB values 0-255 times it, as a number or a string ``"1/255"``,
        ``"0.00392"``, ``"1"``; or a zoo architecture (``"vgg16"``, ``"mobilenet"``, ...):
        that family's ``keras.applications`` ``preprocess_input``.
    """
    if isinstance(spec, str) and spec.strip().lower().replace("_", "").replace("-", "") in _ZOO:
        return _make_preprocess(_ZOO[canonical_name(spec.strip())].preprocess_input)
    factor = _scale_factor(spec)

    def preprocess(images):
        return np.array(images, dtype=np.float32, copy=True) * np.float32(factor)
    preprocess.__doc__ = f"RGB images in [0, 255] -> model input: times {factor:g}."
    return preprocess


def _scale_factor(spec) -> float:
    """A positive finite number from a number or "a/b" / "a" text."""
    try:
        if isinstance(spec, bool):
            raise TypeError
        if isinstance(spec, str):
            top, sep, bottom = spec.strip().partition("/")
            factor = float(top) / float(bottom) if sep else float(top)
        else:
            factor = float(spec)
    except (ValueError, TypeError, ZeroDivisionError):
        factor = float("nan")
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"input scaling {spec!r} is neither a positive scale factor (1/255, "
                         f"0.00392, 1) nor a zoo family ({', '.join(ARCHITECTURES)})")
    return factor


def _decode(probs, top=5):
    """(N, 1000) probabilities -> per sample, the `top` ``(class_index, class_name, prob)``."""
    p = np.asarray(keras.ops.convert_to_numpy(probs), dtype=np.float32)
    if p.ndim != 2 or p.shape[1] != 1000:
        raise ValueError(f"decode expects probabilities of shape (N, 1000), got {p.shape}")
    names = imagenet_class_names()
    order = np.argsort(-p, axis=1, kind="stable")[:, :top]
    return [[(int(i), names[i], float(row[i])) for i in idx] for row, idx in zip(p, order)]


def _weights_file(key, kwargs):
    """File name Keras caches the ImageNet weights under, for these builder arguments."""
    top = kwargs.get("include_top", True)
    if key == "mobilenet":
        alpha = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0"}.get(float(kwargs.get("alpha", 1.0)), "2_5")
        rows = (kwargs.get("input_shape") or (224,))[0]
        return f"mobilenet_{alpha}_{rows}_tf{'' if top else '_no_top'}.h5"
    suffix = "" if top else "_notop"
    return f"{_ZOO[key].weights_stem}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"


def _load_architecture(key, weights, kwargs):
    arch = _ZOO[key]
    if key == "mobilenet":
        kwargs.setdefault("alpha", 1.0)
    if weights not in ("imagenet", None):
        weights = os.fspath(weights)
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"weights file not found: {weights!r}")
    try:
        model = arch.builder(weights=weights, **kwargs)
    except Exception as exc:
        if weights != "imagenet" or not is_fetch_error(exc):
            raise
        fname = _weights_file(key, kwargs)
        raise WeightsUnavailableError(
            f"ImageNet weights for {key!r} are not in the Keras cache (or fail its checksum) and "
            f"could not be downloaded ({exc}). Keras looks for the file {fname!r} in "
            f"$KERAS_HOME/models/ (here {keras_cache_dir()}; KERAS_HOME is read when keras is "
            f"first imported). Put the file there, or pass it directly: "
            f"xai.models.load({key!r}, weights='/path/to/{fname}'); weights=None gives an "
            "untrained model.") from exc
    size = tuple(model.input_shape[1:3])
    return ZooModel(name=key, model=model, preprocess=_make_preprocess(arch.preprocess_input),
                    decode=_decode if kwargs.get("include_top", True) else None,
                    input_size=arch.input_size if None in size else size,
                    default_layer=arch.default_layer)


def _check_model_file(path):
    """A saved model is a .keras zip or an HDF5 file; anything else gets a ValueError (Keras
    says "File not found" of a .keras file that is not a zip, h5py an OSError)."""
    import zipfile

    import h5py
    if os.path.isdir(path) or zipfile.is_zipfile(path) or h5py.is_hdf5(path):
        return
    raise ValueError(f"{os.fspath(path)} is not a saved Keras model (neither a .keras zip nor "
                     "an HDF5 .h5 file); give a file written by model.save(), or a zoo name")


def _load_path(path, weights, preprocess=None, **kwargs):
    _check_model_file(path)
    model = keras.models.load_model(path, compile=False, **kwargs)
    if weights not in ("imagenet", None):
        model.load_weights(os.fspath(weights))
    out = model.outputs[0].shape if getattr(model, "outputs", None) else model.output_shape
    return ZooModel(name=Path(path).stem, model=model, preprocess=preprocess or _as_float32,
                    decode=_decode if out[-1] == 1000 else None,
                    input_size=tuple(model.inputs[0].shape[1:-1]), default_layer=None)


def load(name, weights="imagenet", **kwargs):
    """Load a zoo architecture or a saved model.

    Parameters
    ----------
    name : str or path
        One of :data:`ARCHITECTURES` (case, ``_`` and ``-`` ignored: ``"inception_v3"`` works), or
        the path of a saved ``.keras``/``.h5`` model (loaded with ``compile=False``).
    weights : {"imagenet", None} or path
        ``"imagenet"`` (Keras cache ``$KERAS_HOME/models/``, downloaded when online), None for
        random initialisation, or a weights file. For a saved model, only a path has an effect.
    **kwargs
        Passed to the ``keras.applications`` builder (e.g. ``alpha=0.25`` for MobileNet,
        ``include_top``, ``input_shape``) or to ``keras.models.load_model``. A saved model
        also takes ``preprocess=`` (default: cast to float32).

    Returns
    -------
    ZooModel

    Raises
    ------
    WeightsUnavailableError
        ImageNet weights are neither cached nor downloadable; the message names the file.
    ValueError
        Unknown architecture name.
    """
    if isinstance(name, os.PathLike) or str(name).lower().endswith((".keras", ".h5")) or (
            os.path.exists(name)
            and str(name).lower().replace("_", "").replace("-", "") not in _ZOO):
        if not os.path.exists(name):
            raise FileNotFoundError(f"saved model not found: {os.fspath(name)!r}")
        return _load_path(name, weights, **kwargs)
    return _load_architecture(canonical_name(name), weights, dict(kwargs))
