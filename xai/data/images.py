"""Image files and photos as uint8 RGB arrays: read (one, a folder, or bytes), centre-crop, and
scikit-image's bundled sample photos."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._decode import as_hw, decode, resize
from ._files import IMAGE_EXTENSIONS, image_files

__all__ = ["centre_crop", "load_image", "decode_image", "load_images", "sample_images"]


def centre_crop(image, size=None) -> np.ndarray:
    """The largest centred square of an image (H, W, ...), as a view: resizing it to a square
    network input keeps the photo's aspect ratio, as ImageNet evaluation does (resize the short
    side, crop the centre; Simonyan & Zisserman 2015, sec. 3.2), instead of squashing it.
    An odd surplus leaves the extra row or column at the bottom or right.

    ``size`` (int or (H, W), optional): crop a centred window of this size instead (it must
    fit in the image), e.g. the central 224 x 224 of a photo whose short side is 256.
    """
    image = np.asarray(image)
    if image.ndim < 2 or min(image.shape[:2]) < 1:
        raise ValueError("centre_crop takes an image (H, W) or (H, W, C), got shape "
                         f"{image.shape}")
    h, w = image.shape[:2]
    ch, cw = (min(h, w),) * 2 if size is None else as_hw(size)
    if not (0 < ch <= h and 0 < cw <= w):
        raise ValueError(f"centre_crop: a {ch} x {cw} window does not fit in the {h} x {w} "
                         "image; resize the image first or crop a smaller window")
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[top:top + ch, left:left + cw]


def load_image(path, size=None) -> np.ndarray:
    """Read an image file as uint8 RGB.

    Parameters
    ----------
    path : str or Path
        Image file (JPEG, PNG, TIFF, BMP, WebP). Grayscale is expanded to 3 channels, an alpha
        channel is dropped, 16-bit images are scaled to 8 bits.
    size : int or (H, W), optional
        Resize to this size with ``cv2.INTER_AREA``.

    Returns
    -------
    np.ndarray
        uint8 (H, W, 3).
    """
    import cv2

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    img = decode(np.fromfile(path, np.uint8), str(path))
    return resize(img, as_hw(size), cv2.INTER_AREA)


def decode_image(data: bytes, size=None) -> np.ndarray:
    """The bytes of an image file (e.g. an upload) as uint8 RGB (H, W, 3); see
    :func:`load_image`."""
    import cv2

    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValueError("decode_image takes the non-empty bytes of an image file")
    return resize(decode(bytes(data), "the data"), as_hw(size), cv2.INTER_AREA)


def load_images(paths_or_folder, size=None):
    """Read several images into one uint8 batch.

    Parameters
    ----------
    paths_or_folder : str, Path or sequence of them
        A folder (its image files, sorted by name, not recursive) or a list of image files.
    size : int or (H, W), optional
        Resize every image to this size (``cv2.INTER_AREA``). Required when the images differ
        in size.

    Returns
    -------
    images : np.ndarray
        uint8 (N, H, W, 3).
    names : list of str
        The file names (without folder).
    """
    if isinstance(paths_or_folder, (str, os.PathLike)):
        p = Path(paths_or_folder).expanduser()
        if p.is_dir():
            paths = image_files(p)
            if not paths:
                raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in folder {p}")
        else:
            paths = [p]
    else:
        paths = [Path(q).expanduser() for q in paths_or_folder]
        if not paths:
            raise ValueError("load_images got an empty list of paths")
    imgs = [load_image(p, size) for p in paths]
    shapes = {im.shape for im in imgs}
    if len(shapes) > 1:
        raise ValueError(
            f"images have different sizes {sorted(shapes)}; pass size=(H, W) to resize them"
        )
    return np.stack(imgs), [p.name for p in paths]


_SAMPLE_IMAGES = ("chelsea", "coffee", "astronaut", "rocket")


def sample_images(size=None) -> dict:
    """scikit-image's bundled photos (no download): chelsea (cat), coffee, astronaut, rocket.

    Parameters
    ----------
    size : int or (H, W), optional
        Resize every image (``cv2.INTER_AREA``).

    Returns
    -------
    dict
        name -> uint8 (H, W, 3).
    """
    import cv2
    import skimage.data

    hw = as_hw(size)
    return {
        name: resize(np.ascontiguousarray(getattr(skimage.data, name)()[..., :3]), hw,
                     cv2.INTER_AREA)
        for name in _SAMPLE_IMAGES
    }
