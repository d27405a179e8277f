"""The command line (xai/cli.py): files written per image, the same map as the library, one clear
line and exit code 2 for bad input, and nothing left in the output folder when it fails."""
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from image_bombs import png_declaring
from skimage import data

import xai
from xai import _startup, cli, models

MOBILENET = ["--option", "alpha=0.25"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory, assets):
    folder = tmp_path_factory.mktemp("photos")
    cv2.imwrite(str(folder / "chelsea.png"), data.chelsea()[..., ::-1])
    cv2.imwrite(str(folder / "coffee.jpg"), data.coffee()[..., ::-1])
    return [folder / "chelsea.png", folder / "coffee.jpg"]


def test_explain_writes_the_librarys_map_and_overlay_per_image(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["explain", *map(str, photos), *MOBILENET, "--target", "tabby",
                     "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "chelsea_gradcam.npy", "chelsea_gradcam.png", "coffee_gradcam.npy", "coffee_gradcam.png"]
    zm = models.load("mobilenet", alpha=0.25)
    images = [xai.data.load_image(p) for p in photos]
    x = zm.preprocess(xai.viz.resize(images, zm.input_size, "area"))
    expected = xai.explain(zm.model, x, target=281, layer=zm.default_layer)
    np.testing.assert_allclose(np.load(out / "chelsea_gradcam.npy"), expected[0], atol=1e-5)
    overlay = cv2.imread(str(out / "coffee_gradcam.png"))[..., ::-1]
    assert overlay.shape == (224, 224, 3)
    printed = capsys.readouterr().out
    # the top-1 of the cat photo is one of ImageNet's five domestic cats (281-285)
    assert re.search(r"chelsea.png: \w+ \(28[1-5]\) 0\.\d{3}, ", printed), printed
    assert "wrote 4 files" in printed


def test_attribution_methods_save_the_signed_attribution(photos, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["explain", str(photos[0]), *MOBILENET, "--method", "saliency",
                     "--out", str(out), "--quiet"]) == 0
    raw = np.load(out / "chelsea_saliency.npy")
    assert raw.shape == (224, 224, 3) and raw.min() < 0 < raw.max()


@pytest.mark.parametrize("args,message", [
    (["explain", "missing.jpg"], "no such image file: missing.jpg"),
    (["explain", "{photo}", "--method", "gradcamm"], "unknown method 'gradcamm'; choose one of"),
    (["explain", "{photo}", "--target", "tabbby"], "Unknown ImageNet class 'tabbby'; did you "
                                                   "mean 'tabby'"),
    (["explain", "{photo}", "--target", "1000"], r"target 1000 is outside \[0, 1000\)"),
    (["explain", "{photo}", "--layer", "conv9"], "No layer named 'conv9'"),
    (["explain", "{photo}", "--method", "rise", "--layer", "conv1"], "takes no --layer"),
    (["explain", "{photo}", "--model", "missing.keras"], "saved model not found"),
    (["explain", "{photo}", "--model", "alexnet"], "alexnet"),
    (["explain", "{photo}", "--option", "alpha"], "--option takes KEY=VALUE"),
])
def test_bad_input_one_line_exit_2_nothing_written(photos, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    args = [a.replace("{photo}", str(photos[0])) for a in args]
    options = [] if "--option" in args else MOBILENET
    assert cli.main([*args, *options, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("xai: error: ")
    assert re.search(message, err), err
    assert not out.exists()


def test_unreadable_image_is_named(tmp_path, capsys):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    assert cli.main(["explain", str(bad), *MOBILENET, "--out", str(tmp_path / "o")]) == 2
    assert f"cannot read {bad}" in capsys.readouterr().err


def test_methods_and_layers_listings(assets, capsys):
    assert cli.main(["methods"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(xai.METHODS)
    assert cli.main(["layers", "mobilenet", *MOBILENET]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "conv_pw_13_relu  (default)" in lines and "conv1" in lines


def test_python_dash_m_xai_runs_the_command_line_without_tensorflow_noise():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "xai", "methods"], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0 and done.stdout.split()[0] == "gradcam"
    assert done.stderr == ""  # TensorFlow 2.21 printed 8 lines of C++ start-up logs here


@pytest.mark.parametrize("argv,orig_argv,expected", [
    (["/venv/bin/xai", "explain"], ["/venv/bin/python", "/venv/bin/xai", "explain"], True),
    (["-m"], ["python", "-m", "xai", "demo"], True),
    (["-m"], ["python", "-m", "pytest", "tests"], False),
    (["/venv/bin/jupyter-lab"], ["python", "/venv/bin/jupyter-lab"], False),
    (["-c"], ["python", "-c", "import xai"], False),
])
def test_only_the_command_line_quiets_tensorflow(monkeypatch, argv, orig_argv, expected):
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    assert _startup.command_line() is expected


def test_tensorflow_start_up_lines_below_the_level_are_dropped():
    notice = (b"WARNING: All log messages before absl::InitializeLog() is called are written "
              b"to STDERR\n")
    info = (b"I0000 00:00:1796100506.993279   17070 port.cc:153] oneDNN custom operations "
            b"are on.\n"
            b"I0000 00:00:1796100507.170817   17070 cpu_feature_guard.cc:227] This TensorFlow "
            b"binary is optimized to use available CPU instructions.\n"
            b"To enable the following instructions: AVX2 FMA, rebuild TensorFlow.\n")
    error = b"E0000 00:00:1796100507.2 17070 cuda_dnn.cc:8310] Unable to register cuDNN\n"
    other = b"a line that is not a log line\n"
    assert _startup.filter_log(other + notice + info + error, 3) == other
    assert _startup.filter_log(other + notice + info + error, 2) == other + error
    # a line after a kept log line is kept; after a dropped one, it continues it
    assert _startup.filter_log(error + other + info + other, 1) == error + other
    assert _startup.filter_log(notice + info, 0) == notice + info


# ------------------------------------------------------------------ checks before any work
def _never(*args, **kwargs):
    raise AssertionError("the command did work it should have refused to start")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from helpers import gap_net
    path = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    gap_net(size=32, classes=3).save(path)
    return path


@pytest.fixture
def small_photo(tmp_path):
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), data.chelsea()[::10, ::10, ::-1])
    return path


def test_out_with_dot_dot_leaves_no_empty_folder(small_photo, tiny_model, tmp_path,
                                                 monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["explain", small_photo.name, "--model", str(tiny_model),
                     "--out", "a/../b", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "photo.png"]  # no a/
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "photo_gradcam.npy", "photo_gradcam.png"]
    assert "wrote 2 files to a/../b" in capsys.readouterr().out


def test_an_out_that_is_a_file_is_refused_before_any_work(small_photo, tmp_path, monkeypatch,
                                                          capsys):
    monkeypatch.setattr(models, "load", _never)
    (tmp_path / "taken").write_text("")
    assert cli.main(["explain", str(small_photo), "--out", str(tmp_path / "taken")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["under_a_file", "unwritable"])
def test_an_out_that_cannot_be_written_is_refused_before_any_work(small_photo, tmp_path,
                                                                   monkeypatch, capsys, where):
    monkeypatch.setattr(models, "load", _never)
    monkeypatch.setattr(xai.data, "load_image", _never)
    (tmp_path / "taken").write_text("")
    if where == "unwritable":  # root may write anywhere on disk, but not in /proc
        if not os.path.isdir("/proc/self"):
            pytest.skip("needs Linux's /proc")
        out, message = "/proc/xai-test-out/maps", "cannot write to --out /proc/xai-test-out/maps"
    else:
        out, message = str(tmp_path / "taken" / "sub"), f"{tmp_path / 'taken'} is a file"
    assert cli.main(["explain", str(small_photo), "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "choose another --out" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "taken"]


@pytest.mark.parametrize("name,content", [("text.keras", b"not a model"),
                                          ("text.h5", b"not a model either"),
                                          ("empty.h5", b"")])
def test_a_model_file_that_is_no_model_is_named(small_photo, tmp_path, capsys, name, content):
    (tmp_path / name).write_bytes(content)
    assert cli.main(["explain", str(small_photo), "--model", str(tmp_path / name),
                     "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"xai: error: {tmp_path / name} is not a saved Keras model"), err
    assert not (tmp_path / "out").exists()


def test_an_image_beyond_opencvs_size_limits_is_refused(tmp_path, monkeypatch, capsys):
    """2,000,000 x 1 pixels passes the pixel limit but not OpenCV's 2^20 per side."""
    import struct
    monkeypatch.setattr(models, "load", _never)
    monkeypatch.setenv("XAI_MAX_PIXELS", "10000000000")
    wide = bytearray(cv2.imencode(".bmp", np.zeros((1, 1, 3), np.uint8))[1].tobytes())
    wide[18:26] = struct.pack("<ii", 2_000_000, 1)  # BITMAPINFOHEADER width, height
    (tmp_path / "wide.bmp").write_bytes(bytes(wide))
    (tmp_path / "wide.png").write_bytes(png_declaring(2_000_000, 1))
    for path in (tmp_path / "wide.bmp", tmp_path / "wide.png"):
        assert cli.main(["explain", str(path), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith(f"xai: error: cannot read {path}: ")
        assert "2000000 x 1" in err and "OpenCV reads at most 1,048,576 x 1,048,576" in err


def test_duplicate_image_names_are_refused_before_any_work(small_photo, tmp_path, monkeypatch,
                                                           capsys):
    monkeypatch.setattr(models, "load", _never)
    monkeypatch.setattr(xai.data, "load_image", _never)
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "photo.jpg"
    twin.write_bytes(small_photo.read_bytes())
    out = tmp_path / "out"
    assert cli.main(["explain", str(small_photo), str(twin), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"xai: error: {small_photo} and {twin} would write the same output files "
                   "(photo_*); give the images distinct names")
    assert not out.exists()


def test_a_decompression_bomb_is_refused_before_the_model_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(models, "load", _never)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(8000, 8000))
    assert cli.main(["explain", str(bomb), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"xai: error: cannot read {bomb}: ")
    assert "8000 x 8000 = 64,000,000 pixels" in err and "XAI_MAX_PIXELS" in err


def test_attribution_overlays_use_the_colour_range(small_photo, tiny_model, tmp_path):
    """Guided backprop and guided Grad-CAM of the tiny model peak near 1e-3: their overlays are
    drawn from xai.viz.display_map (stretched per image), so they differ from each other and
    from the image under the colormap's zero colour."""
    out = tmp_path / "out"
    for method in ("guided_backprop", "guided_gradcam"):
        assert cli.main(["explain", str(small_photo), "--model", str(tiny_model), "--method",
                         method, "--out", str(out), "--quiet"]) == 0
    overlays = [cv2.imread(str(out / f"photo_{m}.png"))[..., ::-1]
                for m in ("guided_backprop", "guided_gradcam")]
    raw = np.load(out / "photo_guided_backprop.npy")
    assert np.abs(raw).sum(-1).max() < 0.01  # small indeed
    assert not np.array_equal(*overlays)
    image = xai.viz.resize([xai.data.load_image(small_photo)], (32, 32), "area")[0]
    for overlay, m in zip(overlays, ("guided_backprop", "guided_gradcam")):
        expected = xai.viz.display_map(np.load(out / f"photo_{m}.npy")[None], "attribution")
        np.testing.assert_array_equal(overlay, xai.viz.overlay(image, expected[0]))


# ------------------------------------------------------------------ input scaling
@pytest.fixture(scope="module")
def scale_sensitive_model(tmp_path_factory):
    """Class 0 when the pixel mean is above ~67 (raw 0-255 values), class 1 on [0, 1] inputs:
    logits ±(Σ_c mean_c - 200) after a 1 x 1 convolution that sums the channels."""
    import keras
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(1, 1, kernel_initializer="ones", name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(conv)
    head = keras.layers.Dense(2, name="head")
    outputs = keras.layers.Softmax()(head(pooled))
    head.set_weights([np.array([[1.0, -1.0]], np.float32), np.array([-200.0, 200.0], np.float32)])
    path = tmp_path_factory.mktemp("scale") / "scale.h5"
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.mark.parametrize("scale,top1", [(None, 0), ("1/255", 1), ("0.00392", 1)])
def test_scale_states_a_saved_models_input_scaling(scale_sensitive_model, tmp_path, capsys,
                                                   scale, top1):
    image = np.full((8, 8, 3), 128, np.uint8)
    cv2.imwrite(str(tmp_path / "grey.png"), image)
    out = tmp_path / "out"
    assert cli.main(["explain", str(tmp_path / "grey.png"), "--model", str(scale_sensitive_model),
                     "--method", "saliency", "--out", str(out), "--quiet",
                     *(["--scale", scale] if scale else [])]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'grey.png'}: {top1} ({top1}) 1.000")
    factor = {None: 1.0, "1/255": 1 / 255, "0.00392": 0.00392}[scale]
    model = models.load(scale_sensitive_model).model
    expected = xai.explain(model, image[None].astype(np.float32) * factor, method="saliency")
    np.testing.assert_allclose(np.load(out / "grey_saliency.npy"), expected[0], rtol=1e-5)


def test_preprocess_names_a_zoo_familys_preprocessing(scale_sensitive_model, tmp_path):
    image = np.full((8, 8, 3), 128, np.uint8)
    cv2.imwrite(str(tmp_path / "grey.png"), image)
    assert cli.main(["explain", str(tmp_path / "grey.png"), "--model", str(scale_sensitive_model),
                     "--method", "saliency", "--preprocess", "mobilenet", "--out",
                     str(tmp_path / "out"), "--quiet"]) == 0
    model = models.load(scale_sensitive_model).model
    x = image[None].astype(np.float32) / 127.5 - 1.0  # MobileNet: [-1, 1]
    np.testing.assert_allclose(np.load(tmp_path / "out" / "grey_saliency.npy"),
                               xai.explain(model, x, method="saliency")[0], rtol=1e-5)


@pytest.mark.parametrize("args,message", [
    (["--scale", "1/255"], "--scale is for a saved --model"),
    (["--model", "{model}", "--scale", "0"], "give a positive factor such as 1/255"),
    (["--model", "{model}", "--scale", "1/0"], "give a positive factor such as 1/255"),
    (["--model", "{model}", "--scale", "abc"], "give a positive factor such as 1/255"),
    (["--model", "{model}", "--scale", "vgg16"], "for 'vgg16' use --preprocess"),
    (["--model", "{model}", "--preprocess", "alexnet"], "choose one of vgg16"),
    (["--model", "{model}", "--scale", "1", "--preprocess", "vgg16"], "not both"),
])
def test_bad_input_scaling_is_refused_before_any_work(small_photo, scale_sensitive_model,
                                                      tmp_path, monkeypatch, capsys, args,
                                                      message):
    monkeypatch.setattr(models, "load", _never)
    args = [a.replace("{model}", str(scale_sensitive_model)) for a in args]
    assert cli.main(["explain", str(small_photo), *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_the_xray_model_with_its_scale(assets, tmp_path, capsys):
    """The bundled X-ray CNN expects /255: raw pixels call the NORMAL sample PNEUMONIA."""
    model = assets / "xray_models" / "pneumonia_cnn_am1codes.h5"
    normal = next((assets / "chest_xray" / "NORMAL").glob("*.jpeg"), None)
    if not model.is_file() or normal is None:
        pytest.skip("the X-ray model or sample is not in the assets")
    for scale, top1 in ((None, 1), ("1/255", 0)):
        assert cli.main(["explain", str(normal), "--model", str(model), "--out",
                         str(tmp_path / "out"), "--quiet",
                         *(["--scale", scale] if scale else [])]) == 0
        assert capsys.readouterr().out.startswith(f"{normal}: {top1} ({top1}) ")
