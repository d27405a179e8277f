"""Notebook 07 at scale: the class_separation and counterfactual metrics of the engine against
independent NumPy computations on a tiny model, their class-agnostic (constant) and chance
(random) references, the spot check of rows that are NaN (an empty counterfactual map has no
region), and the subsets of xai.study_class.with_subsets."""
import numpy as np
import pandas as pd
import pytest

import xai
from xai import studies, study_class
from xai.evaluation import evaluate, from_arrays

from helpers import gap_net

N, SIZE, FRACTION = 16, 12, 0.2


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (N, SIZE, SIZE, 3)).astype(np.float32)
    return x, rng.integers(0, 5, N), [f"p{i:02d}" for i in range(N)]


@pytest.fixture(scope="module")
def model(data):
    """A GAP net whose class 0 has only positive weights (its Grad-CAM counterfactual map is
    empty: -Σ w_k A_k ≤ 0 everywhere), its bias set so about half the samples pick it."""
    import keras

    net = gap_net(seed=3, size=SIZE, classes=5)
    w, b = net.get_layer("head").get_weights()
    w[:, 0] = np.abs(w[:, 0])
    features = keras.Model(net.inputs, net.get_layer("gap").output).predict(data[0], verbose=0)
    logits = features @ w + b
    b[0] += np.median(logits[:, 1:].max(axis=1) - logits[:, 0])
    net.get_layer("head").set_weights([w, b])
    return net


def np_top_iou(a, b, fraction):
    """IoU of the positive points among the k = round(fraction · P) largest of each map."""
    k = int(round(fraction * a.size))
    ta = {i for i in np.argsort(-a.ravel(), kind="stable")[:k] if a.ravel()[i] > 0}
    tb = {i for i in np.argsort(-b.ravel(), kind="stable")[:k] if b.ravel()[i] > 0}
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


def np_peak_distance(a, b):
    pa = np.array(np.unravel_index(np.argmax(a), a.shape))
    pb = np.array(np.unravel_index(np.argmax(b), b.shape))
    return np.linalg.norm(pa - pb) / np.linalg.norm(np.array(a.shape) - 1)


def np_spearman(a, b):
    """Pearson correlation of the average ranks (ties share their mean rank)."""
    def ranks(v):
        v = v.ravel()
        order = np.argsort(v, kind="stable")
        r = np.empty(v.size)
        r[order] = np.arange(1, v.size + 1)
        for value in np.unique(v):  # average the ranks of tied values
            r[v == value] = r[v == value].mean()
        return r
    return np.corrcoef(ranks(a), ranks(b))[0, 1]


def table_of(model, data, methods, metrics, **kwargs):
    x, labels, ids = data
    options = {m: {"fraction": FRACTION} for m in metrics}
    return evaluate(model, from_arrays(x, labels, ids), methods, metrics, metric_options=options,
                    progress=False, **kwargs)


def cell(table, method, metric, ids):
    t = table[(table["method"] == method) & (table["metric"] == metric)].set_index("sample")
    return t.loc[list(ids), "value"].to_numpy()


def runner_up(model, x):
    p = model.predict(x, verbose=0)
    order = np.argsort(-p, axis=1)
    return order[:, 0], order[:, 1], p[np.arange(len(p)), order[:, 1]]


def test_class_separation_is_the_top1_and_runner_up_maps_overlap(model, data):
    x, _, ids = data
    table = table_of(model, data, ["gradcam++"], ["class_separation"])
    top1, second, p2 = runner_up(model, x)
    a = xai.explain(model, x, method="gradcam++", target=top1)
    b = xai.explain(model, x, method="gradcam++", target=second)
    np.testing.assert_array_equal(cell(table, "gradcam++", "runner_up", ids), second)
    np.testing.assert_allclose(cell(table, "gradcam++", "runner_up_probability", ids), p2,
                               rtol=1e-4)
    np.testing.assert_allclose(cell(table, "gradcam++", "top2_iou", ids),
                               [np_top_iou(a[i], b[i], FRACTION) for i in range(N)], atol=1e-6)
    np.testing.assert_allclose(cell(table, "gradcam++", "top2_peak_distance", ids),
                               [np_peak_distance(a[i], b[i]) for i in range(N)], atol=1e-5)
    rho = cell(table, "gradcam++", "top2_rank_correlation", ids)
    np.testing.assert_allclose(rho, [np_spearman(a[i], b[i]) for i in range(N)], atol=1e-6)
    assert rho.min() < 0.99, "the fixture's two classes give different maps"


def test_counterfactual_counts_empty_maps_and_leaves_their_iou_out(model, data):
    x, _, ids = data
    table = table_of(model, data, ["gradcam"], ["counterfactual"])
    top1, second, _ = runner_up(model, x)
    against = xai.explain(model, x, method="gradcam", target=top1, counterfactual=True)
    other = xai.explain(model, x, method="gradcam", target=second)
    empty = against.reshape(N, -1).max(axis=1) == 0
    assert empty.any() and not empty.all(), "the fixture gives empty and non-empty maps"
    np.testing.assert_array_equal(cell(table, "gradcam", "counterfactual_empty", ids), empty)
    iou = cell(table, "gradcam", "counterfactual_iou", ids)
    assert np.isnan(iou[empty]).all()
    np.testing.assert_allclose(iou[~empty], [np_top_iou(against[i], other[i], FRACTION)
                                             for i in np.flatnonzero(~empty)], atol=1e-6)


def test_constant_is_class_agnostic_and_random_overlaps_by_chance(model):
    """Two independent top-20 % regions of P points overlap by about k²/P of k = 0.2 P each:
    IoU ≈ 0.04 / (0.4 − 0.04) = 1/9; the class-agnostic map is the same for every class."""
    n = 300
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (n, SIZE, SIZE, 3)).astype(np.float32)
    data = (x, np.zeros(n, int), [f"r{i:03d}" for i in range(n)])
    table = table_of(model, data, [], ["class_separation", "counterfactual"])
    ids = data[2]
    assert (cell(table, "constant", "top2_iou", ids) == 1).all()
    assert (cell(table, "constant", "top2_peak_distance", ids) == 0).all()
    assert (cell(table, "constant", "counterfactual_iou", ids) == 1).all()
    assert (cell(table, "constant", "top2_rank_correlation", ids) == 1).all()
    rho = cell(table, "random", "top2_rank_correlation", ids)  # two independent smooth maps
    assert abs(rho.mean()) < 0.05 and rho.std() > 0.05, (rho.mean(), rho.std())
    for metric in ("top2_iou", "counterfactual_iou"):
        iou = cell(table, "random", metric, ids)
        assert (iou < 1).all(), "the other class's random map is an independent draw"
        assert abs(iou.mean() - 1 / 9) < 0.02, (metric, iou.mean())
    assert (cell(table, "random", "counterfactual_empty", ids) == 0).all()
    # the top-1 random map is the engine's random baseline (purpose 0), not a new draw
    assert not np.allclose(cell(table, "random", "top2_iou", ids),
                           cell(table, "random", "counterfactual_iou", ids))


@pytest.mark.parametrize("method", ["eigencam", "scorecam"])
def test_a_method_without_counterfactual_maps_is_refused_clearly(model, data, method):
    with pytest.raises((TypeError, ValueError), match="counterfactual"):
        table_of(model, data, [method], ["counterfactual"])


def test_spot_check_reproduces_nan_rows(model, data, tmp_path, monkeypatch):
    """Rows an empty counterfactual map leaves NaN are reproduced, not flagged; a forged
    number is still caught."""
    x, labels, ids = data

    def tiny(name, profile, smoke):
        return {"model": model, "data": from_arrays(x, labels, ids),
                "methods": {"gradcam": "gradcam"}, "metrics": ["counterfactual"],
                "metric_options": {}, "subsets": {},
                "exclude": [], "seed": 0, "recipe": {"study": "tiny", "setting": name,
                                                     "profile": profile, "smoke": smoke}}

    monkeypatch.setitem(studies.BUILDERS, "tiny", tiny)
    table = evaluate(**tiny("a", "offline", True), out=tmp_path, progress=False)
    assert table["value"].isna().any(), "the tiny model must give an empty counterfactual map"
    checked = studies.spot_check(tmp_path, n_rows=10**6)
    assert len(checked) == len(table) and checked["ok"].all()


def test_with_subsets_splits_by_runner_up_probability_and_kind():
    rows = []
    # sample: (top-1, runner-up, its probability); animals are ImageNet classes 0-397
    for s, (t, r, p) in {"a": (5, 7, 0.3), "b": (5, 500, 0.05), "c": (600, 10, 0.2),
                         "d": (600, 700, 0.01)}.items():
        for method in ("gradcam", "random"):
            rows += [(s, t, t, method, "runner_up", r), (s, t, t, method,
                                                         "runner_up_probability", p),
                     (s, t, t, method, "top2_iou", 0.5)]
    table = pd.DataFrame(rows, columns=["sample", "label", "target", "method", "metric",
                                        "value"])
    out = study_class.with_subsets(table)
    photos = out.groupby("photos", sort=False)["sample"].unique().map(sorted).to_dict()
    assert photos == {"all": ["a", "b", "c", "d"], "runner-up p ≥ 0.1": ["a", "c"],
                      "animal vs other": ["b", "c"]}
    assert set(out["metric"]) == {"top2_iou"}
    with pytest.raises(ValueError, match="runner_up"):
        study_class.with_subsets(table[table["metric"] == "top2_iou"])


def test_class_setting_is_registered_and_refuses_other_settings():
    assert studies.BUILDERS["class_specific"] is study_class.class_setting
    with pytest.raises(ValueError, match="photos"):
        study_class.class_setting("cats")
