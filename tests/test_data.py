"""xai.data: MNIST-1D generated offline, Kather 2016 tiles from folders and zips, image files."""
import random
import zipfile

import numpy as np
import pytest
from image_bombs import jpeg_declaring, png_declaring
from PIL import Image

from xai import data

# ------------------------------------------------------------------------------------ MNIST-1D


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    return data.mnist1d(cache_dir=tmp_path_factory.mktemp("mnist1d"))


def test_mnist1d_canonical_split(mnist):
    assert mnist["x_train"].shape == (4000, 40, 1) and mnist["x_train"].dtype == np.float32
    assert mnist["x_test"].shape == (1000, 40, 1) and mnist["x_test"].dtype == np.float32
    assert mnist["y_train"].shape == (4000,) and mnist["y_test"].shape == (1000,)
    assert np.issubdtype(mnist["y_train"].dtype, np.integer)
    assert mnist["t"].shape == (40,)
    # 500 signals per class before the split: every class present and roughly balanced
    for y, n in ((mnist["y_train"], 4000), (mnist["y_test"], 1000)):
        counts = np.bincount(y, minlength=10)
        assert len(counts) == 10 and counts.sum() == n
        assert counts.min() >= 0.8 * n / 10 and counts.max() <= 1.2 * n / 10
    # make_dataset standardises the whole set to zero mean and unit std
    allx = np.concatenate([mnist["x_train"], mnist["x_test"]])
    assert abs(allx.mean()) < 1e-4 and abs(allx.std() - 1) < 1e-4


def test_mnist1d_matches_package_and_is_deterministic(mnist, tmp_path):
    from mnist1d.data import get_dataset_args, make_dataset

    ref = make_dataset(get_dataset_args())
    np.testing.assert_allclose(mnist["x_train"][..., 0], ref["x"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(mnist["y_test"], ref["y_test"])

    random.seed(123)
    np.random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    random.seed(123)
    np.random.seed(123)
    again = data.mnist1d(cache_dir=None)  # generated afresh
    # loading data does not disturb the caller's global random streams
    assert np.random.rand() == expected_np and random.random() == expected_py
    for k in ("x_train", "y_train", "x_test", "y_test", "t"):
        np.testing.assert_array_equal(again[k], mnist[k])


def test_mnist1d_cache_roundtrip(tmp_path):
    first = data.mnist1d(cache_dir=tmp_path)
    cached = list(tmp_path.glob("*.npz"))
    assert len(cached) == 1
    second = data.mnist1d(cache_dir=tmp_path)  # read from the cache
    for k in first:
        np.testing.assert_array_equal(first[k], second[k])
    # a corrupt cache is regenerated instead of failing
    cached[0].write_bytes(b"not an npz")
    third = data.mnist1d(cache_dir=tmp_path)
    np.testing.assert_array_equal(third["x_test"], first["x_test"])


def test_mnist1d_default_cache_is_repo_data_folder(mnist):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]  # tests/ -> the repository
    d = data.mnist1d()  # default cache_dir="data/" is relative to the repository root
    assert (root / "data" / "mnist1d_canonical.npz").is_file()
    np.testing.assert_array_equal(d["x_test"], mnist["x_test"])


# ------------------------------------------------------------------------------- Kather 2016


@pytest.fixture(scope="module")
def kather_dir(assets):
    return assets / "kather2016"


@pytest.fixture(scope="module")
def kather(kather_dir):
    return data.load_kather(kather_dir)


def test_kather_folder(kather):
    x, y, names = kather
    assert x.shape == (24, 224, 224, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    np.testing.assert_array_equal(y, np.repeat(np.arange(8), 3))
    assert len(names) == 24 and len(set(names)) == 24
    for label, name in zip(y, names):
        assert name.split("/")[0] == data.KATHER_FOLDERS[label]
        assert name.endswith(".tif")
    assert data.KATHER_CLASSES == (
        "tumour", "stroma", "complex", "lympho", "debris", "mucosa", "adipose", "empty")


def test_kather_pixels_are_rgb_and_exact_at_native_size(kather_dir):
    x, y, names = data.load_kather(kather_dir, size=150)
    assert x.shape == (24, 150, 150, 3)
    # an independent reader (Pillow) gives the same pixels, in RGB order
    ref = np.asarray(Image.open(kather_dir / names[0]).convert("RGB"), np.float32) / 255.0
    np.testing.assert_allclose(x[0], ref, atol=1e-6)
    # H&E stains pink-purple: red above green on a tumour tile (a BGR mix-up would swap them)
    assert x[y == 0][..., 0].mean() > x[y == 0][..., 1].mean() + 0.1
    # bilinear up-sampling keeps the mean colour
    big, _, _ = data.load_kather(kather_dir, size=224, max_per_class=1)
    small = x[::3]
    np.testing.assert_allclose(big.mean(axis=(1, 2)), small.mean(axis=(1, 2)), atol=0.01)


def _zip_folders(src, dst, prefix):
    with zipfile.ZipFile(dst, "w") as zf:
        for f in sorted(src.rglob("*.tif")):
            zf.write(f, f"{prefix}{f.relative_to(src).as_posix()}")
    return dst


def test_kather_zip_matches_folder(kather, kather_dir, tmp_path):
    x, y, names = kather
    zpath = _zip_folders(kather_dir, tmp_path / "Kather_texture_2016_image_tiles_5000.zip",
                         "Kather_texture_2016_image_tiles_5000/")
    xz, yz, nz = data.load_kather(zpath)
    np.testing.assert_array_equal(yz, y)
    assert nz == names
    np.testing.assert_array_equal(xz, x)
    # zip without the top-level folder, and at another size
    z2 = _zip_folders(kather_dir, tmp_path / "flat.zip", "")
    x2, y2, _ = data.load_kather(z2, size=64)
    assert x2.shape == (24, 64, 64, 3)
    np.testing.assert_array_equal(y2, y)


def test_kather_unpacked_zip_folder_and_max_per_class(kather, kather_dir, tmp_path):
    import shutil

    root = tmp_path / "unpacked"
    shutil.copytree(kather_dir, root / "Kather_texture_2016_image_tiles_5000")
    x, y, names = data.load_kather(root, max_per_class=1)
    np.testing.assert_array_equal(y, np.arange(8))
    assert names == kather[2][::3]
    np.testing.assert_array_equal(x, kather[0][::3])


def test_kather_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="(?i)zenodo"):
        data.load_kather(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="01_TUMOR"):
        data.load_kather(empty)
    (empty / "other").mkdir()
    (empty / "other" / "a.tif").write_bytes(b"x")
    with pytest.raises(ValueError, match="no Kather 2016 tiles"):
        data.load_kather(empty)
    not_zip = tmp_path / "tiles.zip"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="not a zip"):
        data.load_kather(not_zip)


def test_kather_tfds_missing_is_clear():
    try:
        import tensorflow_datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install tensorflow-datasets"):
            data.load_kather_tfds()
    else:
        pytest.skip("tensorflow_datasets is installed; this checks the error without it")


# ------------------------------------------------------------------------------------ images


def test_load_image_gray_rgba_and_resize(tmp_path):
    rgba = np.zeros((6, 8, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2], rgba[..., 3] = 200, 100, 50, 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    img = data.load_image(tmp_path / "rgba.png")
    assert img.shape == (6, 8, 3) and img.dtype == np.uint8
    assert tuple(img[0, 0]) == (200, 100, 50)  # RGB order, alpha dropped

    gray = (np.arange(48).reshape(6, 8) * 5).astype(np.uint8)
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    g = data.load_image(tmp_path / "gray.png")
    assert g.shape == (6, 8, 3)
    for c in range(3):
        np.testing.assert_array_equal(g[..., c], gray)

    r = data.load_image(tmp_path / "rgba.png", size=(3, 4))
    assert r.shape == (3, 4, 3) and tuple(r[1, 1]) == (200, 100, 50)  # area average of constant
    assert data.load_image(tmp_path / "gray.png", size=5).shape == (5, 5, 3)
    with pytest.raises(FileNotFoundError):
        data.load_image(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="could not decode"):
        data.load_image(tmp_path / "bad.png")


def test_load_images_folder_and_list(assets, tmp_path):
    xray = assets / "chest_xray" / "NORMAL"
    imgs, names = data.load_images(xray, size=(64, 96))
    assert imgs.shape == (len(names), 64, 96, 3) and imgs.dtype == np.uint8
    # grayscale X-ray: the three channels are equal
    np.testing.assert_array_equal(imgs[..., 0], imgs[..., 2])
    files = sorted((assets / "images").glob("*.jpg"))
    imgs2, names2 = data.load_images(files, size=32)
    assert imgs2.shape == (len(files), 32, 32, 3)
    assert names2 == [f.name for f in files]
    with pytest.raises(ValueError, match="size"):
        data.load_images(files)  # different sizes and no size given
    with pytest.raises(ValueError, match="no image files"):
        data.load_images(tmp_path)


def test_sample_images():
    import skimage.data

    imgs = data.sample_images()
    assert list(imgs) == ["chelsea", "coffee", "astronaut", "rocket"]
    for name, img in imgs.items():
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        np.testing.assert_array_equal(img, getattr(skimage.data, name)())
    small = data.sample_images((50, 60))
    assert all(v.shape == (50, 60, 3) for v in small.values())


def test_load_xray_reads_the_kermany_layout(assets, tmp_path):
    folder = assets / "chest_xray" / "kermany_test"
    x, y, names = data.load_xray(folder, size=150, max_per_class=3)
    assert x.shape == (6, 150, 150, 3) and x.dtype == np.float32
    assert y.tolist() == [0, 0, 0, 1, 1, 1]
    assert names[0].startswith("NORMAL/") and names[-1].startswith("PNEUMONIA/")
    # nearest-neighbour at pixel centres, as PIL (Keras' load_img) resizes
    ref = np.asarray(Image.open(folder / names[4]).convert("RGB").resize((150, 150),
                                                                          Image.NEAREST))
    np.testing.assert_allclose(x[4], ref / 255.0, atol=1e-6)
    (tmp_path / "NORMAL").mkdir()
    with pytest.raises(ValueError, match="PNEUMONIA/"):
        data.load_xray(tmp_path)
    with pytest.raises(FileNotFoundError, match="chest_xray/test"):
        data.load_xray(tmp_path / "nowhere")


def test_centre_crop_is_the_largest_centred_square():
    img = np.arange(7 * 4 * 3).reshape(7, 4, 3)  # portrait: 3 surplus rows, 1 above, 2 below
    np.testing.assert_array_equal(data.centre_crop(img), img[1:5])
    wide = np.arange(300 * 451).reshape(300, 451)  # chelsea's size, landscape
    out = data.centre_crop(wide)
    assert out.shape == (300, 300) and out[0, 0] == wide[0, 75] and out[-1, -1] == wide[-1, 374]
    square = np.ones((5, 5, 3))
    assert data.centre_crop(square).shape == (5, 5, 3)
    with pytest.raises(ValueError, match="centre_crop takes an image"):
        data.centre_crop(np.zeros(5))


# ----------------------------------------------------------------------- the pixel budget
def _never_decode(*args, **kwargs):
    raise AssertionError("cv2.imdecode was called on an image over the pixel budget")


@pytest.mark.parametrize("bomb,declared", [
    (png_declaring(30000, 30000), "more than 178,956,970 pixels"),  # over PIL's own bound too
    (png_declaring(8000, 8000), "8000 x 8000 = 64,000,000 pixels"),
    (png_declaring(10000, 10000), "10000 x 10000 = 100,000,000 pixels"),  # PIL would warn
    (jpeg_declaring(60000, 1000), "60000 x 1000 = 60,000,000 pixels"),
], ids=["png-900M", "png-64M", "png-100M", "jpeg-60M"])
def test_a_decompression_bomb_is_refused_from_its_header(bomb, declared, tmp_path, monkeypatch,
                                                         recwarn):
    import tracemalloc

    import cv2
    assert len(bomb) < 1000
    monkeypatch.setattr(cv2, "imdecode", _never_decode)
    (tmp_path / "bomb.png").write_bytes(bomb)
    tracemalloc.start()
    try:
        for read in (lambda: data.decode_image(bomb),
                     lambda: data.load_image(tmp_path / "bomb.png")):
            with pytest.raises(data.ImageTooLargeError) as refused:
                read()
            message = str(refused.value)
            assert declared in message and "limit of 50,000,000 (xai.data.MAX_PIXELS)" in message
            assert "resize it" in message and "XAI_MAX_PIXELS" in message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # nothing of the declared size was allocated
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


def test_the_pixel_budget_can_be_lowered_or_raised(tmp_path, monkeypatch):
    photo = np.zeros((30, 40, 3), np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert data.load_image(tmp_path / "photo.png").shape == (30, 40, 3)
    monkeypatch.setattr(data, "MAX_PIXELS", 1000)
    with pytest.raises(data.ImageTooLargeError, match="40 x 30 = 1,200 pixels.*limit of 1,000"):
        data.load_image(tmp_path / "photo.png")
    monkeypatch.setenv("XAI_MAX_PIXELS", "1200")  # the environment variable wins
    assert data.load_image(tmp_path / "photo.png").shape == (30, 40, 3)
    assert data.check_image_size((tmp_path / "photo.png").read_bytes()) == (30, 40)
    monkeypatch.setenv("XAI_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="XAI_MAX_PIXELS must be a whole number"):
        data.load_image(tmp_path / "photo.png")
