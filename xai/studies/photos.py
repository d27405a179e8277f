"""The 1000 ImageNet photos and their classifier, shared by the photo studies (Part 1, Part 2,
depth, class-specific maps, notebook 08's photos): :func:`photo_model` and
:func:`imagenet_source`."""
from __future__ import annotations

from .paths import assets_dir


def photo_model(profile: str):
    """The photos' classifier: MobileNet α = 0.25 offline, VGG16 online."""
    from .. import models
    return models.load("mobilenet", alpha=0.25) if profile == "offline" else models.load("vgg16")


def imagenet_source(zm, smoke: bool):
    """The 1000 ImageNet photos (one per class; ``smoke``: every 125th) as a Source, centre
    224 crop preprocessed for ``zm``, ids = file stems, labels = Keras class indices."""
    from .. import data
    from ..evaluation import Source

    folder = assets_dir() / "imagenet_samples"
    table = data.imagenet_labels(folder)
    if smoke:
        table = table.iloc[::125]
    rows = table.index.to_numpy()
    return Source(table["file"].str.rsplit(".", n=1).str[0].tolist(),
                  table["class_index"].to_numpy(),
                  lambda idx: zm.preprocess(data.load_imagenet_samples(folder, rows[idx],
                                                                       zm.input_size[0])),
                  description="ImageNet photos, one per class")

