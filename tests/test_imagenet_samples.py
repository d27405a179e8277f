"""xai.data's ImageNet photos: the checked label table, the standard centre-crop loader, and the
first check that the data path is right (MobileNet's published-level accuracy on them)."""
import cv2
import numpy as np
import pytest

from xai import data


def _folder(tmp_path, images, rows=None):
    """A folder of PNG photos and a labels.csv (header + rows)."""
    for name, img in images.items():
        cv2.imwrite(str(tmp_path / name), np.ascontiguousarray(img[..., ::-1]))
    if rows is None:
        rows = [f"{name},n0000000{i},{i},class_{i}" for i, name in enumerate(images)]
    (tmp_path / "labels.csv").write_text("\n".join(["file,wnid,class_index,keras_name", *rows]))
    return tmp_path


def _photo(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_labels_of_the_offline_samples_follow_keras_order(assets):
    from xai.imagenet import imagenet_class_names

    table = data.imagenet_labels(assets / "imagenet_samples")
    assert len(table) == 1000 and table["class_index"].dtype == np.int64
    np.testing.assert_array_equal(np.sort(table["class_index"]), np.arange(1000))
    names = imagenet_class_names()
    assert all(names[i] == n for i, n in zip(table["class_index"], table["keras_name"]))


def test_labels_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no labels.csv"):
        data.imagenet_labels(tmp_path)
    imgs = {"a.png": _photo(8, 8), "b.png": _photo(8, 8, 1)}
    _folder(tmp_path, imgs, ["a.png,n1,0,x", "b.png,n2,1000,y"])
    with pytest.raises(ValueError, match=r"integer in 0\.\.999.*'b.png'"):
        data.imagenet_labels(tmp_path)
    _folder(tmp_path, imgs, ["a.png,n1,0,x", "b.png,n2,2.5,y"])
    with pytest.raises(ValueError, match="integer in 0..999"):
        data.imagenet_labels(tmp_path)
    _folder(tmp_path, imgs, ["a.png,n1,0,x", "c.png,n2,1,y"])
    with pytest.raises(FileNotFoundError, match="1 photos .* 'c.png'"):
        data.imagenet_labels(tmp_path)
    (tmp_path / "labels.csv").write_text("file,class_index\na.png,0\n")
    with pytest.raises(ValueError, match="no column wnid, keras_name"):
        data.imagenet_labels(tmp_path)


def test_loader_keeps_the_central_window(tmp_path):
    portrait, wide = _photo(300, 256), _photo(256, 343, 1)
    folder = _folder(tmp_path, {"p.png": portrait, "w.png": wide})
    x = data.load_imagenet_samples(folder)
    assert x.shape == (2, 224, 224, 3) and x.dtype == np.uint8
    # short side already 256 = 224 / 0.875: no resampling, the centre 224 x 224 is cut out
    np.testing.assert_array_equal(x[0], portrait[38:262, 16:240])
    np.testing.assert_array_equal(x[1], wide[16:240, 59:283])
    # indices pick rows in the given order; a slice loads one batch
    np.testing.assert_array_equal(data.load_imagenet_samples(folder, [1, 0]), x[::-1])
    np.testing.assert_array_equal(data.load_imagenet_samples(folder, slice(1, 2)), x[1:])
    np.testing.assert_array_equal(data.load_imagenet_samples(folder, 0), x[:1])
    # a larger short side is shrunk with area interpolation first; fraction 1 keeps the square
    big = data.load_imagenet_samples(folder, [1], size=112, central_fraction=1.0)
    square = wide[:, 43:299]
    np.testing.assert_array_equal(big[0], cv2.resize(square, (112, 112),
                                                     interpolation=cv2.INTER_AREA))
    with pytest.raises(ValueError, match="indices must select rows"):
        data.load_imagenet_samples(folder, [2])
    with pytest.raises(ValueError, match="central_fraction"):
        data.load_imagenet_samples(folder, central_fraction=0)
    with pytest.raises(ValueError, match="window does not fit"):
        data.centre_crop(portrait, 400)


def test_mobilenet_accuracy_on_the_1000_photos(assets, mobilenet):
    """An independent measurement found 580/1000 top-1 and 811/1000 top-5 for MobileNet
    (alpha 0.25) with a centre crop to 224 and Keras' preprocessing: the loader reproduces it
    exactly, 64 photos at a time."""
    import keras

    from xai.scores import class_scores

    folder = assets / "imagenet_samples"
    y = data.imagenet_labels(folder)["class_index"].to_numpy()
    top5 = []
    for start in range(0, len(y), 64):
        x = data.load_imagenet_samples(folder, slice(start, start + 64))
        x = keras.applications.mobilenet.preprocess_input(x.astype(np.float32))
        top5.append(np.argsort(-class_scores(mobilenet, x, batch_size=64), axis=1)[:, :5])
    top5 = np.concatenate(top5)
    assert (top5[:, 0] == y).sum() == 580
    assert (top5 == y[:, None]).any(axis=1).sum() == 811
