"""ImageNet class names (Keras' 1000-class order) and the Keras cache they are read from. Used by
``xai.scores`` (class names as targets) and ``xai.models`` (decoding predictions)."""
from __future__ import annotations

import difflib
import functools
import json
import os
import socket
import urllib.error
from pathlib import Path

import keras

_CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


def keras_cache_dir():
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if not os.access(home, os.W_OK):  # keras.utils.get_file falls back the same way
        home = "/tmp/.keras"
    return Path(home) / "models"


def is_fetch_error(exc):
    """True if `exc`, or an exception it was raised from, is a failed download."""
    while exc is not None:
        if isinstance(exc, (urllib.error.URLError, ConnectionError, socket.timeout)) or (
                str(exc).startswith("URL fetch failure")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@functools.lru_cache(maxsize=1)
def _class_index():
    try:
        path = keras.utils.get_file("imagenet_class_index.json", _CLASS_INDEX_URL,
                                    cache_subdir="models", file_hash=_CLASS_INDEX_MD5)
    except Exception as exc:
        if not is_fetch_error(exc):
            raise
        raise FileNotFoundError(
            "ImageNet class names need the file 'imagenet_class_index.json', which is not in the "
            f"Keras cache ({keras_cache_dir()}) and could not be downloaded ({exc}). Put the "
            "file there (KERAS_HOME is read when keras is first imported), or pass class "
            "indices instead of names (e.g. target=281 for 'tabby').") from exc
    with open(path) as f:
        index = json.load(f)
    return tuple(tuple(index[str(i)]) for i in range(1000))  # (wnid, name)


def imagenet_class_names():
    """The 1000 ImageNet class names in Keras' order (e.g. index 281 is ``"tabby"``)."""
    return [name for _, name in _class_index()]


def _norm(name):
    return " ".join(str(name).lower().replace("_", " ").split())


def imagenet_class_id(name):
    """Index of an ImageNet class from its Keras name or WordNet id.

    Case-insensitive; underscores and spaces are equivalent (``"Egyptian cat"`` -> 285). The two
    names that occur twice in the index (``crane``: 134, 517; ``maillot``: 638, 639) give the first.

    Raises
    ------
    ValueError
        For an unknown name, listing close matches.
    """
    key = _norm(name)
    for i, (wnid, cls) in enumerate(_class_index()):
        if key in (_norm(cls), wnid.lower()):
            return i
    names = [_norm(c) for _, c in _class_index()]
    close = [n for n in names if key and key in n.split()]  # "cat" -> "egyptian cat", ...
    close += [n for n in difflib.get_close_matches(key, names, n=5) if n not in close]
    hint = f"; did you mean {', '.join(repr(c) for c in close[:8])}?" if close else ""
    raise ValueError(f"Unknown ImageNet class {name!r}{hint} (see imagenet_class_names())")


#: ImageNet class indices of the domestic cats (281 tabby … 285 Egyptian cat) and of the dog
#: breeds (151 Chihuahua … 268 Mexican hairless), in Keras' order.
CAT_CLASSES = tuple(range(281, 286))
DOG_CLASSES = tuple(range(151, 269))
