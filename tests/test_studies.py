"""xai.studies' Part 1 statistics on a synthetic per-sample table whose verdicts are known by
construction, and part1_setting's argument checks (no model is loaded)."""
import numpy as np
import pandas as pd
import pytest

from xai import studies


def part1_table(n=40, seed=0):
    """Per photo: the CAM keeps the class, the random region never does, the centred box as the
    CAM; the CAM's drop is below the random region's and above the centred box's."""
    rng = np.random.default_rng(seed)
    rows = []
    for method in ("gradcam", "gradcam++", "random"):
        drop = rng.uniform(0.0, 0.2, n)
        values = {"masked_area": rng.uniform(0.4, 0.6, n), "masked_kept": np.ones(n),
                  "masked_kept_random": np.zeros(n), "masked_kept_centre": np.ones(n),
                  "masked_drop": drop, "masked_drop_random": drop + rng.uniform(0.2, 0.4, n),
                  "masked_drop_centre": drop - rng.uniform(0.1, 0.2, n)}
        rows += [{"sample": f"p{i:03d}", "label": i, "target": i, "setting": "mobilenet",
                  "method": method, "metric": k, "value": v[i]}
                 for k, v in values.items() for i in range(n)]
    return pd.DataFrame(rows)


def test_part1_summary_verdicts_follow_each_measure_direction():
    table = part1_table()
    s = studies.part1_summary(table, n_boot=300)
    assert list(zip(s["method"], s["measure"])) == [("gradcam", "kept"), ("gradcam", "drop"),
                                                    ("gradcam++", "kept"), ("gradcam++", "drop")]
    assert (s["setting"] == "mobilenet").all() and (s["n"] == 40).all()
    kept, drop = s.iloc[0], s.iloc[1]
    assert kept["cam"] == 1.0 and kept["random"] == 0.0 and kept["centre"] == 1.0
    assert kept["d_random"] == 1.0 and kept["vs_random"] == "better"
    assert kept["vs_centre"] == "within noise" and kept["p_centre"] == 1.0
    assert drop["vs_random"] == "better" and drop["vs_centre"] == "worse"  # lower drop: better
    area = table.query("method == 'gradcam' and metric == 'masked_area'")["value"]
    assert kept["area"] == pytest.approx(area.mean()) == drop["area"]
    assert kept["area_lo"] < kept["area"] < kept["area_hi"]
    assert s["p_random_holm"].max() < 1e-6  # 40 pairs, all one way, Holm over 8 tests


def test_format_part1_cells():
    s = studies.part1_summary(part1_table(), n_boot=300)
    f = studies.format_part1(s)
    assert list(f.columns) == ["setting", "method", "measure", "n", "area kept", "CAM",
                               "random region", "centred box", "CAM − random", "CAM − centre"]
    first = f.iloc[0]
    assert first["measure"] == "class kept ↑" and first["CAM"] == "1.000 [1.000, 1.000]"
    assert first["CAM − random"] == "1.000 [1.000, 1.000] p < 0.001, better"
    assert first["CAM − centre"].endswith("p = 1.000, within noise")
    assert f.iloc[1]["measure"] == "probability drop ↓"
    assert f.iloc[1]["CAM − centre"].endswith(", worse")


def test_part1_setting_checks_its_arguments():
    with pytest.raises(ValueError, match="offline profile has only 'mobilenet'"):
        studies.part1_setting("vgg16", "offline")
    with pytest.raises(ValueError, match="profile must be one of"):
        studies.part1_setting("mobilenet", "cloud")
    assert studies.BUILDERS["part1"] is studies.part1_setting
    assert len(studies.PART1_PAIRS) == 4


def test_part1_setting_offline_smoke(assets):
    s = studies.part1_setting("mobilenet", "offline", smoke=True)
    assert s["metrics"] == ["masked_reclassification"]
    options = s["metric_options"]["masked_reclassification"]
    assert options == {"threshold": 0.35, "baseline": [-1.0, -1.0, -1.0]}  # black, MobileNet
    assert list(s["methods"]) == list(studies.PART1_METHODS)
    assert {o["layer"] for _, o in s["methods"].values()} == {"conv_pw_13_relu"}
    assert s["methods"]["smooth_gradcam++"][1] == {"layer": "conv_pw_13_relu", "n": 25,
                                                    "seed": 0}
    assert len(s["data"].ids) == 8 and s["data"].ids[0] == "n01440764_tench"
    assert s["recipe"] == {"study": "part1", "setting": "mobilenet", "profile": "offline",
                           "smoke": True}
