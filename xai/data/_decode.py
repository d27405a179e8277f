"""Bytes of an image file to uint8 RGB with OpenCV, refusing a file whose header declares more
pixels than :data:`xai.data.MAX_PIXELS` (a decompression bomb) before its pixels are allocated;
and the plain OpenCV resize the loaders share."""
from __future__ import annotations

import io
import os
import warnings

import numpy as np

from ._files import IMAGE_EXTENSIONS


def as_hw(size):
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    h, w = size
    return int(h), int(w)


class ImageTooLargeError(ValueError):
    """An image file declares more pixels than :data:`xai.data.MAX_PIXELS`."""


def max_pixels() -> int:
    text = os.environ.get("XAI_MAX_PIXELS", "").strip()
    if not text:
        from . import MAX_PIXELS  # the package's setting, read at each call: it may be changed
        return int(MAX_PIXELS)
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"XAI_MAX_PIXELS must be a whole number of pixels, got {text!r}")
    return int(text)


def check_image_size(data, what: str = "the image") -> tuple[int, int]:
    """(H, W) of an image file's bytes, read from its header only (PIL's lazy ``Image.open``).

    Raises :class:`ImageTooLargeError` when the image declares more than
    :data:`xai.data.MAX_PIXELS` pixels (``$XAI_MAX_PIXELS`` when set; PIL itself refuses more
    than twice ``PIL.Image.MAX_IMAGE_PIXELS``), and ValueError when the header is not an image's.
    """
    from PIL import Image, UnidentifiedImageError

    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
        declared = f"{w} x {h} = {w * h:,} pixels"
    except Image.DecompressionBombError:  # PIL's own bound, 2 x Image.MAX_IMAGE_PIXELS
        w = h = None
        declared = (f"more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels (twice "
                    "PIL.Image.MAX_IMAGE_PIXELS)")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValueError(f"could not decode {what} as an image (supported: "
                         f"{', '.join(IMAGE_EXTENSIONS)})") from None
    if w is None or w * h > limit:
        raise ImageTooLargeError(
            f"{what} declares {declared}, more than the limit of {limit:,} "
            "(xai.data.MAX_PIXELS): resize it first, or raise the limit with the environment "
            "variable XAI_MAX_PIXELS if you trust the file")
    return h, w


def check_opencv_limits(h: int, w: int, what: str):
    """OpenCV refuses images wider or taller than CV_IO_MAX_IMAGE_WIDTH / _HEIGHT (2^20 unless
    set in the environment) or larger than CV_IO_MAX_IMAGE_PIXELS (2^30)."""
    def limit(name, default):
        text = os.environ.get(name, "").strip()
        return int(text) if text.isascii() and text.isdigit() else default
    width = limit("CV_IO_MAX_IMAGE_WIDTH", 1 << 20)
    height = limit("CV_IO_MAX_IMAGE_HEIGHT", 1 << 20)
    pixels = limit("CV_IO_MAX_IMAGE_PIXELS", 1 << 30)
    if w > width or h > height or w * h > pixels:
        raise ImageTooLargeError(
            f"{what} declares {w} x {h} pixels; OpenCV reads at most {width:,} x {height:,} "
            f"and {pixels:,} pixels in all: resize it first")


def decode(buf: bytes | np.ndarray, what: str) -> np.ndarray:
    """Bytes of an image file -> uint8 RGB (H, W, 3), refusing more than MAX_PIXELS pixels."""
    import cv2

    arr = np.frombuffer(buf, np.uint8) if isinstance(buf, (bytes, bytearray)) else buf
    check_opencv_limits(*check_image_size(memoryview(arr), what), what)
    # IMREAD_COLOR: gray -> 3 channels, alpha dropped, 16-bit -> 8-bit, EXIF orientation applied
    try:
        img = cv2.imdecode(arr, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ValueError(f"OpenCV could not decode {what}: {str(exc).strip().splitlines()[-1]}"
                         ) from None
    if img is None:
        raise ValueError(f"could not decode {what} as an image (supported: "
                         f"{', '.join(IMAGE_EXTENSIONS)})")
    return np.ascontiguousarray(img[..., ::-1])  # BGR -> RGB


def resize(img: np.ndarray, hw, interpolation) -> np.ndarray:
    import cv2

    if hw is None or img.shape[:2] == tuple(hw):
        return img
    return cv2.resize(img, (hw[1], hw[0]), interpolation=interpolation)
