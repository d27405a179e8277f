"""Datasets and images: MNIST-1D, Kather 2016 colorectal histology ("HMT"), Kermany 2018
paediatric chest X-rays, labelled ImageNet photos, image files.

Loaders return plain NumPy arrays in the space the models expect; they know nothing about
explanation methods. Images are read with OpenCV (``cv2.imdecode``), which handles JPEG, PNG,
TIFF and BMP, grayscale and RGBA, and 16-bit files, and works the same for files on disk and
members of a zip archive. Before decoding, the size an image declares in its header is checked
against :data:`MAX_PIXELS`, so a small file claiming a huge size (a decompression bomb) is refused
without allocating its pixels.

One module per source: :mod:`~xai.data.images` (image files, centre crop, sample photos),
:mod:`~xai.data.boxes` (the sample photos' hand-drawn boxes), :mod:`~xai.data.imagenet_samples`
(a folder of labelled ImageNet photos), :mod:`~xai.data.mnist1d_dataset`,
:mod:`~xai.data.kather` and :mod:`~xai.data.xray`. Every name is also here, as ``xai.data.<name>``.
"""
from __future__ import annotations

from ._decode import ImageTooLargeError, check_image_size
from ._files import IMAGE_EXTENSIONS, REPO_ROOT
from .boxes import load_boxes
from .imagenet_samples import IMAGENET_LABEL_COLUMNS, imagenet_labels, load_imagenet_samples
from .images import centre_crop, decode_image, load_image, load_images, sample_images
from .kather import KATHER_CLASSES, KATHER_FOLDERS, load_kather, load_kather_tfds
from .mnist1d_dataset import mnist1d
from .xray import XRAY_CLASSES, load_xray

__all__ = [
    "REPO_ROOT",
    "KATHER_CLASSES",
    "KATHER_FOLDERS",
    "IMAGE_EXTENSIONS",
    "centre_crop",
    "decode_image",
    "MAX_PIXELS",
    "ImageTooLargeError",
    "check_image_size",
    "mnist1d",
    "load_kather",
    "load_kather_tfds",
    "load_xray",
    "XRAY_CLASSES",
    "load_image",
    "load_images",
    "sample_images",
    "load_boxes",
    "IMAGENET_LABEL_COLUMNS",
    "imagenet_labels",
    "load_imagenet_samples",
]

#: The most pixels (width x height) an image file may declare; ``$XAI_MAX_PIXELS``, when set,
#: takes precedence. 50 million is a 50-megapixel photo, about 150 MB decoded. The decoder reads
#: it here at every call, so ``xai.data.MAX_PIXELS = n`` changes the limit.
MAX_PIXELS = 50_000_000
