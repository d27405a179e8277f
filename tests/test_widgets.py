"""xai.widgets.map_explorer: the controls drive xai.explain with the chosen method and class."""
import numpy as np
import pytest

import xai

from helpers import gap_net

pytest.importorskip("ipywidgets")
from xai import widgets  # noqa: E402


def test_controls_call_explain_with_the_chosen_method_and_class(monkeypatch):
    net = gap_net()
    x = np.random.default_rng(0).normal(size=(1, 12, 12, 3)).astype(np.float32)
    image = np.zeros((12, 12, 3), np.uint8)
    calls = []
    real = xai.explain

    def spy(model, x, method, target, layer, progress):
        calls.append((method, target, layer))
        return real(model, x, method=method, target=target, layer=layer, progress=progress)

    monkeypatch.setattr(xai, "explain", spy)
    box = widgets.map_explorer(net, x, image, layer="conv_a", target=2,
                               methods=["gradcam", "layercam"])
    method, cls = box.children[0].children
    assert list(method.options) == ["gradcam", "layercam"]
    method.value = "layercam"
    cls.value = "3"
    cls.value = ""  # empty: the top-1
    assert calls == [("gradcam", 2, "conv_a"), ("layercam", 2, "conv_a"),
                     ("layercam", 3, "conv_a"), ("layercam", None, "conv_a")]
    with pytest.raises(ValueError, match=r"\(1, H, W, C\)"):
        widgets.map_explorer(net, np.concatenate([x, x]), image)


def test_attribution_methods_are_shown_as_display_maps(monkeypatch):
    """An attribution (x's shape) is drawn as xai.viz.display_map draws it, stretched to [0, 1];
    the CAM layer is passed only to the methods that take one."""
    import matplotlib
    matplotlib.use("Agg")
    net = gap_net()
    x = np.random.default_rng(0).normal(size=(1, 12, 12, 3)).astype(np.float32)
    shown = []
    real = xai.viz.overlay
    monkeypatch.setattr(xai.viz, "overlay", lambda image, m: shown.append(m) or real(image, m))
    box = widgets.map_explorer(net, x, np.zeros((12, 12, 3), np.uint8), layer="conv_a",
                               methods=["gradcam", "guided_backprop"])
    box.children[0].children[0].value = "guided_backprop"
    expected = xai.viz.display_map(xai.explain(net, x, method="guided_backprop"), "attribution")
    assert len(shown) == 2
    np.testing.assert_allclose(shown[1], expected[0], rtol=1e-5)
    assert shown[1].max() == 1.0
