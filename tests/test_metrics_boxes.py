"""The hand-drawn boxes of data/boxes.json, their loader, and the pointing game on real photos."""
import json

import cv2
import keras
import numpy as np
import pytest

import xai
from xai import metrics


def test_boxes_lie_inside_their_images_whose_sizes_are_right(assets):
    boxes = xai.data.load_boxes()
    photos = xai.data.sample_images()
    assert set(photos) <= set(boxes)
    for name, entry in boxes.items():
        if name in photos:
            h, w = photos[name].shape[:2]
        else:
            folder, file = entry["source"].split("/")[-2:]  # images/ or imagenet_samples/
            h, w = cv2.imread(str(assets / folder / file)).shape[:2]
        assert (entry["width"], entry["height"]) == (w, h), name
        assert entry["objects"], name
        for obj in entry["objects"]:
            x0, y0, x1, y1 = obj["box"]
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (name, obj)
            assert obj["classes"] and all(isinstance(c, str) for c in obj["classes"])


def test_imagenet_names_are_real_classes(assets):
    index = json.loads((assets / "keras_home" / "models" / "imagenet_class_index.json")
                       .read_text())
    names = {v[1] for v in index.values()}
    for entry in xai.data.load_boxes().values():
        for obj in entry["objects"]:
            assert set(obj["classes"]) <= names, obj["classes"]


def test_object_mask_scales_boxes_with_the_image():
    entry = {"width": 10, "height": 20, "objects": [
        {"label": "a", "classes": ["tabby"], "box": [2, 4, 6, 10]},
        {"label": "b", "classes": ["boxer"], "box": [0, 0, 2, 2]}]}
    # resized to (H, W) = (10, 5): x scales by 0.5, y by 0.5 -> [1, 2, 3, 5]
    expected = np.zeros((10, 5), bool)
    expected[2:5, 1:3] = True
    np.testing.assert_array_equal(metrics.object_mask(entry, (10, 5), "tabby"), expected)
    expected[0:1, 0:1] = True
    np.testing.assert_array_equal(metrics.object_mask(entry, (10, 5)), expected)
    with pytest.raises(ValueError, match="boxer"):
        metrics.object_mask(entry, (10, 5), "lynx")


def test_load_boxes_rejects_a_box_outside_its_image(tmp_path):
    bad = {"images": {"x": {"width": 10, "height": 10, "objects": [
        {"label": "a", "classes": ["tabby"], "box": [2, 4, 16, 10]}]}}}
    (tmp_path / "b.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="inside"):
        xai.data.load_boxes(tmp_path / "b.json")
    with pytest.raises(FileNotFoundError, match="path="):
        xai.data.load_boxes(tmp_path / "missing.json")


def _photo(assets, name):
    if name in ("chelsea", "coffee", "astronaut", "rocket"):
        img = xai.data.sample_images(224)[name]
    else:
        img = xai.data.load_image(assets / "images" / f"{name}.png", 224)
    return keras.applications.mobilenet.preprocess_input(img[None].astype(np.float32))


def test_gradcam_points_at_the_cat_and_at_each_class_of_cat_dog(mobilenet, assets):
    boxes = xai.data.load_boxes()
    x = _photo(assets, "chelsea")
    cam = xai.explain(mobilenet, x, "gradcam")
    assert metrics.pointing_game(cam, metrics.object_mask(boxes["chelsea"], (224, 224)))[0]
    # class-specific maps on the dog-and-cat photo: each class's map peaks on its own animal
    x = _photo(assets, "cat_dog")
    for target in ("tabby", "bull_mastiff"):
        cam = xai.explain(mobilenet, x, "gradcam", target=target)
        region = metrics.object_mask(boxes["cat_dog"], (224, 224), target)
        assert metrics.pointing_game(cam, region)[0], target
        assert metrics.energy_share(cam, region)[0] > region.mean() + 0.1, target
