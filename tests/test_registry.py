"""A method's registration is the one place that says what it is: a toy method registered in a
fresh process appears in ``xai methods``, the demo's list, ``passes()``, ``xai.MAP_METHODS``,
the display map and the bench plan, with no other file touched."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xai
from xai.explain import register

ROOT = Path(__file__).resolve().parents[1]

TOY = """
import json, sys
import numpy as np
import xai
from xai.explain import register

@register("toy_centre", returns="map", label="Toy centre", pins_top1=True,
          count=lambda model, o: (o["n"], 0))
def toy_centre(model, x, target=None, score="logit", n=3):
    '''A map that is 1 at the centre and falls off linearly: a toy to test the registry.'''
    h, w = x.shape[1:3]
    yy, xx = np.mgrid[:h, :w]
    d = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2)
    return np.repeat((1 - d / d.max())[None], len(x), 0).astype(np.float32)

from xai import cli
from xai.demo import Demo
from xai.metrics import passes

cli.main(["methods"])
import keras
model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
                          keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4)])
sys.path.insert(0, "bench")
from plan import plan
report = {
    "demo": [m for m in Demo().options()["methods"] if m["name"] == "toy_centre"],
    "passes": passes(model, "toy_centre", n=5),
    "passes_given_target": passes(model, "toy_centre", target=1),
    "map_methods": "toy_centre" in xai.MAP_METHODS,
    "display": xai.METHODS["toy_centre"].display_map(
        xai.explain(model, np.zeros((1, 8, 8, 3)), method="toy_centre"))[0].tolist(),
    "bench": [str(entry) for entry in plan(quick=False, heavy=True) if "toy_centre" in str(entry)],
}
print("REPORT" + json.dumps(report))
"""


@pytest.fixture(scope="module")
def toy_report():
    done = subprocess.run([sys.executable, "-c", TOY], capture_output=True, text=True, cwd=ROOT,
                          env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    listing, _, report = done.stdout.partition("REPORT")
    return listing, json.loads(report)


def test_a_registered_method_is_listed_by_the_command_line_and_the_demo(toy_report):
    listing, report = toy_report
    line = next(row for row in listing.splitlines() if row.startswith("toy_centre"))
    assert "Toy centre" in line and "map" in line
    assert report["demo"] == [{"name": "toy_centre", "label": "Toy centre", "returns": "map",
                               "layer": None}]
    assert report["map_methods"]


def test_a_registered_method_brings_its_own_pass_count(toy_report):
    _, report = toy_report
    # n = 5 forward passes, +1 to pin the top-1 when the target is None
    assert report["passes"] == {"forward": 6, "backward": 0, "exact": True}
    assert report["passes_given_target"] == {"forward": 3, "backward": 0, "exact": True}


def test_a_registered_method_is_displayed_and_benchmarked(toy_report):
    _, report = toy_report
    shown = np.array(report["display"])
    assert shown.shape == (8, 8) and shown.min() >= 0 and shown.max() <= 1
    assert shown[3:5, 3:5].min() > shown[0, 0]  # the centre is where the toy puts it
    assert report["bench"], "the bench plan does not time a newly registered method"


def test_every_method_has_a_label_and_a_pass_count():
    labels = [m.label for m in xai.METHODS.values()]
    assert len(set(labels)) == len(labels) and all(labels)
    assert xai.METHODS["gradcam"].label == "Grad-CAM"


def test_registration_is_checked():
    with pytest.raises(ValueError, match="one label per name"):
        register("a_toy", "b_toy", returns="map", label={"a_toy": "A"},
                 count=lambda model, o: (1, 0))(lambda model, x: x)
    with pytest.raises(ValueError, match="returns must be"):
        register("c_toy", returns="image", label="C", count=lambda model, o: (1, 0))
    assert not {"a_toy", "b_toy", "c_toy"} & set(xai.METHODS)


def test_unknown_options_are_refused_by_passes():
    import keras
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    with pytest.raises(TypeError, match="no option"):
        xai.metrics.passes(model, "smoothgrad", steps=3)


def test_registration_order_is_the_tables_order():
    """Tables and figures list methods in registration order (the committed evaluation tables
    too): CAMs, then gradients, then RISE before SISE, then the newer CAMs, as the methods
    were introduced."""
    assert list(xai.METHODS) == [
        "gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "eigencam",
        "smooth_gradcam++", "scorecam", "saliency", "smoothgrad", "integrated_gradients",
        "guided_backprop", "guided_gradcam", "rise", "sise", "finercam", "opticam", "reciprocam",
        "shapleycam"]
