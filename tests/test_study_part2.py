"""Notebook 02 at scale: each Part 2 map the engine scores is the combination computed
independently from xai.explain and NumPy, IG and the CAMs are computed once per batch and
shared, and the setting is registered for the spot check."""
import numpy as np
import pytest

import xai
from xai import studies, study_part2

from helpers import gap_net


class Zoo:
    """The parts of a ZooModel that part2_methods reads: inputs in [-1, 1]."""
    default_layer = "conv_b"

    def __init__(self, model):
        self.model = model

    @staticmethod
    def preprocess(images):
        return np.asarray(images, np.float32) / 127.5 - 1.0


@pytest.fixture(scope="module")
def setup():
    model = gap_net(seed=1, size=12, classes=4)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (5, 12, 12, 3)).astype(np.float32)
    target = model.predict(x, verbose=0).argmax(axis=1)
    return model, x, target


def test_maps_are_the_combinations_of_independent_ig_and_cams(setup):
    model, x, target = setup
    methods = study_part2.part2_methods(Zoo(model), smoke=True)
    assert set(methods) == {"ig", "ig_x_image", "gradcam", "direct:gradcam",
                            "product:gradcam"}
    black = -np.ones_like(x)  # preprocess(0) for inputs in [-1, 1]
    ig = xai.explain(model, x, method="integrated_gradients", target=target, baseline=black,
                     steps=8, progress=False)
    cam = xai.explain(model, x, method="gradcam", layer="conv_b", target=target)
    image = (x + 1) / 2  # the photo in [0, 1]
    expected = {"ig": ig, "ig_x_image": ig * image, "gradcam": cam,
                "direct:gradcam": np.abs(cam * ig.sum(-1)),
                "product:gradcam": np.abs(cam * (ig * image).sum(-1))}
    for label, want in expected.items():
        np.testing.assert_allclose(methods[label](model, x, target=target), want, rtol=1e-4,
                                   atol=1e-6, err_msg=label)


def test_ig_and_cams_are_computed_once_per_batch(setup, monkeypatch):
    model, x, target = setup
    calls = []
    real = xai.explain

    def counting(*args, **kwargs):
        calls.append(kwargs["method"])
        return real(*args, **kwargs)

    monkeypatch.setattr(xai, "explain", counting)
    methods = study_part2.part2_methods(Zoo(model), smoke=True)
    for f in methods.values():
        f(model, x, target=target)
    assert sorted(calls) == ["gradcam", "integrated_gradients"]
    methods["ig"](model, x[:2], target=target[:2])  # another batch: computed again
    assert calls.count("integrated_gradients") == 2


def test_method_descriptions_are_stable_and_say_what_they_compute(setup):
    model = setup[0]
    a = study_part2.part2_methods(Zoo(model))
    b = study_part2.part2_methods(Zoo(model))
    assert [repr(m) for m in a.values()] == [repr(m) for m in b.values()]
    assert "direct" in repr(a["direct:gradcam++"]) and "ig_steps=32" in repr(a["ig"])
    assert len(a) == 2 + 3 * len(study_part2.PART2_CAMS)


def test_part2_setting_is_registered_and_refuses_other_settings():
    assert studies.BUILDERS["part2"] is study_part2.part2_setting
    with pytest.raises(ValueError, match="photos"):
        study_part2.part2_setting("xrays")


def test_by_cam_pairs_each_combination_with_its_own_cam():
    import pandas as pd

    methods = ["ig", "ig_x_image", "gradcam", "direct:gradcam", "product:gradcam",
               "gradcam++", "direct:gradcam++", "product:gradcam++", "random", "constant"]
    table = pd.DataFrame([(s, 0, 0, m, "deletion", float(i + 10 * k))
                          for k, s in enumerate("ab") for i, m in enumerate(methods)],
                         columns=["sample", "label", "target", "method", "metric", "value"])
    out = study_part2.by_cam(table)
    assert list(pd.unique(out["cam"])) == ["gradcam", "gradcam++"]
    g = out[out["cam"] == "gradcam++"].set_index(["sample", "method"])["value"]
    assert g["a", "cam"] == 5 and g["a", "direct"] == 6 and g["b", "product"] == 17
    assert g["b", "ig"] == 10 and g["a", "random"] == 8
    assert sorted(out.groupby("cam")["method"].nunique()) == [7, 7]
    with pytest.raises(ValueError, match="direct"):
        study_part2.by_cam(table[~table["method"].str.startswith("direct")])
