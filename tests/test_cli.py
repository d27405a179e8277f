"""The command line (xai/cli.py): files written per image, the same map as the library, one clear
line and exit code 2 for bad input, and nothing left in the output folder when it fails."""
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from skimage import data

import xai
from xai import cli, models

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


def test_python_dash_m_xai_runs_the_command_line():
    done = subprocess.run([sys.executable, "-m", "xai", "methods"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.split()[0] == "gradcam"
