"""The depth study's setting (notebook 06) and its reshaping of the per-sample table."""
import numpy as np
import pandas as pd
import pytest

import xai.studies as studies


def _table():
    rows = [("a", "gradcam@first", "insertion", 0.1), ("a", "gradcam@last", "insertion", 0.4),
            ("b", "gradcam@first", "insertion", 0.2), ("b", "gradcam@last", "insertion", 0.5),
            ("a", "random", "insertion", 0.3), ("b", "random", "insertion", 0.7),
            ("a", "constant", "insertion", 0.0)]
    return pd.DataFrame(rows, columns=["sample", "method", "metric", "value"])


def test_by_depth_splits_labels_and_repeats_baselines():
    out = studies.by_depth(_table())
    assert list(pd.unique(out["depth"])) == ["first", "last"]
    assert set(out["method"]) == {"gradcam", "random", "constant"}
    # each map row once, under its own layer; each baseline row once per layer
    first = out[out["depth"] == "first"].set_index(["sample", "method"])["value"]
    assert first.to_dict() == {("a", "gradcam"): 0.1, ("b", "gradcam"): 0.2,
                               ("a", "random"): 0.3, ("b", "random"): 0.7,
                               ("a", "constant"): 0.0}
    last = out[out["depth"] == "last"].set_index(["sample", "method"])["value"]
    assert last[("b", "gradcam")] == 0.5 and last[("b", "random")] == 0.7
    assert len(out) == 4 + 2 * 3


def test_by_depth_pairs_a_layer_with_the_baseline():
    """summarise on the reshaped table: gradcam@last − random = (0.1 − 0.2) / 2 on a, b."""
    import xai.stats

    s = xai.stats.summarise(studies.by_depth(_table()), {"insertion": True}, by=["depth"],
                            n_boot=200)
    row = s[(s["depth"] == "last") & (s["method"] == "gradcam")].iloc[0]
    assert row["d_random"] == pytest.approx(-0.05) and row["n_random"] == 2
    assert row["mean"] == pytest.approx(0.45) and row["n_constant"] == 1


def test_by_depth_refuses_a_table_without_layers():
    with pytest.raises(ValueError, match="gradcam@first"):
        studies.by_depth(_table()[lambda t: ~t["method"].str.contains("@")])
    with pytest.raises(ValueError, match="empty"):
        studies.by_depth(_table().iloc[:0])


def test_offline_depth_setting_refuses_models_without_offline_weights():
    with pytest.raises(ValueError, match="profile='online'"):
        studies.depth_model("resnet152", "offline")
    with pytest.raises(ValueError, match="mobilenet"):
        studies.depth_model("resnet-9000", "online")


def test_depth_setting_labels_layers_and_options(assets):
    from xai import models

    s = studies.depth_setting("mobilenet", "offline")
    assert studies.BUILDERS["depth"] is studies.depth_setting
    assert s["recipe"] == {"study": "depth", "setting": "mobilenet", "profile": "offline",
                           "smoke": False}
    layers = models.depth_layers("mobilenet")
    assert s["methods"]["gradcam@first"] == ("gradcam", {"layer": "conv_pw_3_relu"})
    assert s["methods"]["layercam@middle"] == ("layercam", {"layer": "conv_pw_11_relu"})
    assert len(s["methods"]) == 5 * 3 and {o["layer"] for _, o in s["methods"].values()} == \
        set(layers.values())
    # notebook 08's photo options: 10 steps, blurred with sigma 10 px, 30 % kept
    assert s["metric_options"]["deletion"] == {"steps": 10, "baseline": "blur", "blur_sigma": 10.0}
    assert s["metric_options"]["drop_increase"]["keep"] == 0.3
    # every map and every metric on the same id-seeded quarter: 241 of the 1000 photos
    assert len(s["data"]) == 1000 and set(s["subsets"].values()) == {studies.DEPTH_FRACTION}
    assert set(s["subsets"]) == {*s["methods"], *s["metrics"]}
    from xai.evaluation.engine import _members
    assert _members(s["data"].ids, s["seed"], studies.DEPTH_FRACTION).sum() == 241


def test_engine_row_is_the_map_of_the_labelled_layer(assets):
    """A row of the setting equals insertion AUC computed here from Grad-CAM at the middle
    layer (and differs from the last layer's), so the label reaches the right layer."""
    import xai
    import xai.metrics
    from xai.evaluation import evaluate

    s = studies.depth_setting("mobilenet", "offline", smoke=True)
    data = s["data"].subset(s["data"].ids[:2])
    middle = {"gradcam@middle": s["methods"]["gradcam@middle"]}
    table = evaluate(**dict(s, data=data, methods=middle, metrics=["insertion"], recipe=None),
                     progress=False)
    got = table[table["method"] == "gradcam@middle"].set_index("sample")["value"]
    x = data.load(np.arange(2))
    top = s["model"].predict(x, verbose=0).argmax(1)
    base = xai.metrics.blurred(x, 10.0)
    want = {layer: xai.metrics.insertion_auc(
        s["model"], x, xai.explain(s["model"], x, method="gradcam", layer=layer, target=top,
                                   progress=False), steps=4, baseline=base, target=top)
        for layer in ("conv_pw_11_relu", "conv_pw_13_relu")}
    np.testing.assert_allclose(got.loc[data.ids].to_numpy(), want["conv_pw_11_relu"], atol=1e-5)
    assert not np.allclose(want["conv_pw_11_relu"], want["conv_pw_13_relu"], atol=1e-3)
