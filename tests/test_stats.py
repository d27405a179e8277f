"""xai.stats against independent references: the normal approximation, scipy, exact sign
enumerations done here by hand, a hand-worked Holm example, and synthetic long tables whose
verdicts are known by construction."""
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from xai import stats

HIB = {"insertion": True, "deletion": False}


def long_table(n=200, seed=0, setting="photos", effect=0.2, noise=0.01):
    """random ~ U(0, 1) per sample; constant = 0.5; 'good' = random ± effect (+ small noise);
    'same' = random exactly; 'bad' = the wrong way round. Insertion ↑, deletion ↓."""
    rng = np.random.default_rng(seed)
    rows = []
    for metric, sign in (("insertion", 1.0), ("deletion", -1.0)):
        rand = rng.uniform(0, 1, n)
        methods = {"good": rand + sign * effect + rng.normal(0, noise, n),
                   "same": rand.copy(),
                   "bad": rand - sign * effect + rng.normal(0, noise, n),
                   "random": rand, "constant": np.full(n, 0.5)}
        for method, values in methods.items():
            rows += [{"sample": f"s{i:03d}", "label": -1, "target": 0, "setting": setting,
                      "method": method, "metric": metric, "value": v}
                     for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def cell(summary, method, metric, setting=None):
    rows = summary[(summary["method"] == method) & (summary["metric"] == metric)]
    if setting is not None:
        rows = rows[rows["setting"] == setting]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------------------------
# bootstrap_mean
# --------------------------------------------------------------------------------------------


def test_bootstrap_mean_against_the_normal_approximation():
    v = np.random.default_rng(3).normal(1.0, 2.0, 4000)
    mean, lo, hi = stats.bootstrap_mean(v, 0.95, n_boot=2000, seed=1)
    half = 1.96 * v.std(ddof=1) / np.sqrt(len(v))
    assert mean == pytest.approx(v.mean(), abs=1e-12)
    assert lo == pytest.approx(v.mean() - half, abs=0.1 * half)
    assert hi == pytest.approx(v.mean() + half, abs=0.1 * half)
    # a 90 % interval is narrower, by about 1.645 / 1.96
    _, lo90, hi90 = stats.bootstrap_mean(v, 0.90, n_boot=2000, seed=1)
    assert (hi90 - lo90) / (hi - lo) == pytest.approx(1.645 / 1.96, rel=0.1)


def test_bootstrap_resamples_depend_only_on_n_and_seed():
    a = np.random.default_rng(0).normal(size=5000)  # 5000 x 2000 is drawn in 3 row blocks
    _, lo, hi = stats.bootstrap_mean(a, n_boot=2000, seed=4)
    # the same indices for another method on the same samples: a shift moves the interval by
    # exactly the shift
    _, lo2, hi2 = stats.bootstrap_mean(a + 5.0, n_boot=2000, seed=4)
    assert (lo2 - lo, hi2 - hi) == pytest.approx((5.0, 5.0), abs=1e-9)
    # the block-wise draw is the one-shot draw of the existing xai.metrics.bootstrap_interval
    from xai.metrics import bootstrap_interval
    assert (lo, hi) == bootstrap_interval(a, 0.95, n_boot=2000, seed=4)
    assert stats.bootstrap_mean(a, n_boot=2000, seed=5)[1] != lo


def test_bootstrap_mean_edge_cases_and_errors():
    assert stats.bootstrap_mean([0.3]) == (0.3, 0.3, 0.3)
    assert stats.bootstrap_mean(np.full(9, 2.5)) == (2.5, 2.5, 2.5)
    for bad in ([1.0, np.nan], [np.inf, 1.0], [], [[1.0, 2.0]]):
        with pytest.raises(ValueError):
            stats.bootstrap_mean(bad)
    for kw in ({"ci": 95}, {"ci": 1.0}, {"n_boot": 0}, {"n_boot": 2.5}):
        with pytest.raises(ValueError):
            stats.bootstrap_mean([1.0, 2.0], **kw)


# --------------------------------------------------------------------------------------------
# paired_difference
# --------------------------------------------------------------------------------------------


def test_wilcoxon_p_is_scipy_with_pratt_zeros():
    rng = np.random.default_rng(2)
    a = np.round(rng.normal(0.3, 1.0, 60), 1)  # rounding makes ties and zero differences
    b = np.round(rng.normal(0.0, 1.0, 60), 1)
    b[:5] = a[:5]
    r = stats.paired_difference(a, b, seed=3)
    d = a - b
    assert r["p"] == pytest.approx(sps.wilcoxon(d, zero_method="pratt").pvalue, rel=1e-12)
    assert r["n"] == 60 and r["mean"] == pytest.approx(d.mean())
    assert (r["lo"], r["hi"]) == stats.bootstrap_mean(d, seed=3)[1:]  # pairs resampled


def test_wilcoxon_p_against_an_exact_enumeration_of_signed_ranks():
    d = np.array([0.9, -0.2, 1.5, 0.4, -0.7, 2.1])  # distinct, non-zero: ranks 1..6
    ranks = sps.rankdata(np.abs(d))
    t_obs = ranks[d > 0].sum()
    t_all = np.array([sum(r for r, s in zip(ranks, signs) if s > 0)
                      for signs in itertools.product((1, -1), repeat=6)])
    exact = min(1.0, 2 * min(np.mean(t_all <= t_obs), np.mean(t_all >= t_obs)))
    assert stats.paired_difference(d, np.zeros(6))["p"] == pytest.approx(exact, rel=1e-12)


def test_permutation_p_against_an_exact_enumeration():
    # all 6 differences positive: only all-plus and all-minus reach |sum| = 21 -> 2 / 64
    d = np.arange(1.0, 7.0)
    assert stats.paired_difference(d, np.zeros(6), test="permutation")["p"] == 2 / 64
    d = np.array([0.9, -0.2, 1.5, 0.4, -0.7, 2.1])
    count = sum(abs(np.dot(signs, d)) >= abs(d.sum()) - 1e-12
                for signs in itertools.product((1, -1), repeat=6))
    a, b = d + 3.0, np.full(6, 3.0)
    assert stats.paired_difference(a, b, test="permutation")["p"] == pytest.approx(count / 64)
    # by hand: with S the |d| flipped against the observed sum 4.0 (of |d| total 5.8), the
    # flipped sum is 5.8 - 2 S, at least 4.0 in size when S <= 0.9 or S >= 4.9: S in {}, {.2},
    # {.4}, {.7}, {.9}, {.2, .4}, {.2, .7} (two of them tie at exactly 4.0) and their 7
    # complements -> 14 of 64
    assert count == 14


def test_permutation_p_monte_carlo_beyond_15_pairs():
    rng = np.random.default_rng(0)
    d = rng.normal(0.1, 1.0, 40)
    p = stats.paired_difference(d, np.zeros(40), test="permutation", n_perm=999, seed=2)["p"]
    assert p == stats.paired_difference(d, np.zeros(40), test="permutation", n_perm=999,
                                        seed=2)["p"]
    assert p * 1000 == pytest.approx(round(p * 1000))  # (count + 1) / (B + 1)
    assert p == pytest.approx(sps.ttest_1samp(d, 0).pvalue, abs=0.06)
    # every flip of an all-positive sample is smaller: the smallest p, 1 / (B + 1)
    strong = stats.paired_difference(np.abs(d) + 1, np.zeros(40), test="permutation",
                                     n_perm=999)
    assert strong["p"] == 1 / 1000


@pytest.mark.parametrize("test", ["wilcoxon", "permutation"])
def test_all_zero_differences(test):
    a = np.array([0.2, 0.5, 0.9, 0.1])
    r = stats.paired_difference(a, a.copy(), test=test)
    assert r == {"n": 4, "mean": 0.0, "lo": 0.0, "hi": 0.0, "p": 1.0}


def test_paired_difference_errors():
    with pytest.raises(ValueError, match="same length"):
        stats.paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        stats.paired_difference([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="non-empty"):
        stats.paired_difference([], [])
    with pytest.raises(ValueError, match="test must be"):
        stats.paired_difference([1.0], [2.0], test="ttest")


# --------------------------------------------------------------------------------------------
# holm
# --------------------------------------------------------------------------------------------


def test_holm_hand_example():
    # m = 4 (the NaN is not counted): sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 gives
    # 0.02, 0.03, 0.06, 0.04; the running maximum turns the last into 0.06
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    np.testing.assert_allclose(stats.holm(p), [0.03, 0.06, 0.06, 0.02, np.nan])
    np.testing.assert_allclose(stats.holm([0.5, 0.6, 0.01]), [1.0, 1.0, 0.03])  # capped at 1
    assert stats.holm([]).shape == (0,)
    assert np.isnan(stats.holm([np.nan, np.nan])).all()
    with pytest.raises(ValueError):
        stats.holm([0.5, 1.2])


# --------------------------------------------------------------------------------------------
# summarise
# --------------------------------------------------------------------------------------------


def test_summarise_verdicts_on_synthetic_data():
    s = stats.summarise(long_table(), HIB, n_boot=500)
    for metric in HIB:  # 'good' is better on both, whichever way the metric points
        good, bad, same = (cell(s, m, metric) for m in ("good", "bad", "same"))
        assert good["vs_random"] == "better" and bad["vs_random"] == "worse"
        assert same["vs_random"] == "within noise" and same["p_random"] == 1.0
        assert same["d_random"] == 0.0 and good["n_random"] == 200
        assert abs(good["d_random"]) == pytest.approx(0.2, abs=0.01)
    assert cell(s, "good", "insertion")["d_random_lo"] > 0.19
    assert cell(s, "good", "deletion")["d_random_hi"] < -0.19
    # a baseline is not tested against itself
    rand = cell(s, "random", "insertion")
    assert np.isnan(rand["p_random"]) and np.isnan(rand["p_random_holm"])
    assert rand["vs_random"] == "not tested" and rand["n_random"] == 0
    assert not np.isnan(rand["p_constant_holm"])
    assert cell(s, "good", "insertion")["n"] == 200


def test_summarise_pairs_on_sample_ids_not_row_order():
    table = long_table()
    s = stats.summarise(table, HIB, n_boot=300, seed=1)
    shuffled = table.sample(frac=1.0, random_state=7).reset_index(drop=True)
    s2 = stats.summarise(shuffled, HIB, n_boot=300, seed=1)
    keys = ["setting", "method", "metric"]
    pd.testing.assert_frame_equal(s.set_index(keys).sort_index(),
                                  s2.set_index(keys).sort_index())
    # paired on row order the difference would carry U(0, 1) noise, not 0.01
    good = cell(s2, "good", "insertion")
    assert good["d_random_hi"] - good["d_random_lo"] < 0.01


def test_summarise_subset_cells_get_the_smaller_n():
    table = long_table(n=100)
    costly = (table["method"] == "good") & (table["metric"] == "deletion")
    keep = ~costly | table["sample"].isin([f"s{i:03d}" for i in range(30)])
    table = table[keep]
    # the random baseline on another, overlapping subset of the insertion samples
    rand_ins = (table["method"] == "random") & (table["metric"] == "insertion")
    table = table[~rand_ins | table["sample"].isin([f"s{i:03d}" for i in range(50, 100)])]
    table.loc[table.index[0], "value"] = np.nan  # good/insertion/s000: not computed
    s = stats.summarise(table, HIB, n_boot=200)
    good_del = cell(s, "good", "deletion")
    assert good_del["n"] == 30 and good_del["n_random"] == 30 and good_del["n_constant"] == 30
    good_ins = cell(s, "good", "insertion")
    assert good_ins["n"] == 99 and good_ins["n_random"] == 50 and good_ins["n_constant"] == 99
    assert cell(s, "random", "insertion")["n"] == 50


def test_holm_runs_over_every_test_of_a_group():
    rng = np.random.default_rng(11)
    n = 100
    rand = rng.uniform(0, 1, n)
    methods = {"random": rand, "weak": rand + 0.03 + rng.normal(0, 0.1, n)}
    methods |= {f"null{i:02d}": rand + rng.normal(0, 0.1, n) for i in range(49)}
    rows = [{"sample": f"s{i}", "method": m, "metric": "insertion", "value": v}
            for m, values in methods.items() for i, v in enumerate(values)]
    table = pd.DataFrame(rows)
    alone = stats.summarise(table[table["method"].isin(["random", "weak"])], HIB, by=(),
                            baselines=("random",), n_boot=500)
    assert cell(alone, "weak", "insertion")["vs_random"] == "better"  # one test: significant
    s = stats.summarise(table, HIB, by=(), baselines=("random",), n_boot=500)
    weak = cell(s, "weak", "insertion")
    assert 0.001 < weak["p_random"] < 0.05 and weak["d_random_lo"] > 0
    assert weak["p_random_holm"] >= 0.05 and weak["vs_random"] == "within noise"
    np.testing.assert_allclose(s["p_random_holm"], stats.holm(s["p_random"]))
    assert s["p_random"].notna().sum() == 50


def test_holm_is_per_by_group_across_methods_metrics_and_baselines():
    table = pd.concat([long_table(seed=0, setting="photos"),
                       long_table(n=50, seed=1, setting="xray")])
    s = stats.summarise(table, HIB, n_boot=200)
    assert list(pd.unique(s["setting"])) == ["photos", "xray"]
    for _, g in s.groupby("setting"):
        raw = np.concatenate([g["p_random"], g["p_constant"]])
        adjusted = np.concatenate([g["p_random_holm"], g["p_constant_holm"]])
        np.testing.assert_allclose(adjusted, stats.holm(raw))
        assert np.isfinite(raw).sum() == 2 * (5 * 2) - 2 * 2  # 5 methods x 2 metrics x 2


def test_summarise_columns_order_and_determinism():
    table = long_table(n=40)
    table["method"] = table["method"].replace({"good": "zeta", "bad": "alpha"})
    s = stats.summarise(table, {"insertion": True, "deletion": False}, n_boot=100)
    base = ["d_{}", "d_{}_lo", "d_{}_hi", "n_{}", "p_{}", "p_{}_holm", "vs_{}"]
    assert list(s.columns) == (["setting", "method", "metric", "higher_is_better", "n", "mean",
                                "lo", "hi"] + [c.format("random") for c in base]
                               + [c.format("constant") for c in base])
    assert list(pd.unique(s["method"])) == ["zeta", "same", "alpha", "random", "constant"]
    assert list(s["metric"][:2]) == ["insertion", "deletion"]
    pd.testing.assert_frame_equal(s, stats.summarise(table, HIB, by="setting", n_boot=100))
    assert not s.equals(stats.summarise(table, HIB, n_boot=100, seed=1))


def test_summarise_with_the_permutation_test():
    s = stats.summarise(long_table(n=60), HIB, n_boot=200, test="permutation", n_perm=999)
    assert cell(s, "good", "insertion")["vs_random"] == "better"
    assert cell(s, "good", "insertion")["p_random"] == 1 / 1000
    assert cell(s, "same", "deletion")["vs_random"] == "within noise"
    with pytest.warns(UserWarning, match="raise n_perm"):
        stats.summarise(long_table(n=60), HIB, n_boot=50, test="permutation", n_perm=99)


def test_summarise_errors():
    table = long_table(n=10)
    with pytest.raises(ValueError, match="deletion"):
        stats.summarise(table, {"insertion": True})
    with pytest.raises(ValueError, match="setting"):
        stats.summarise(table.drop(columns="setting"), HIB)
    with pytest.raises(ValueError, match="twice"):
        stats.summarise(pd.concat([table, table.iloc[:1]]), HIB)
    bad = table.copy()
    bad.loc[3, "value"] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        stats.summarise(bad, HIB)


# --------------------------------------------------------------------------------------------
# format_summary, LEGEND, rank_table
# --------------------------------------------------------------------------------------------


def test_format_summary_cells_markers_and_headers():
    s = stats.summarise(long_table(n=80), HIB, n_boot=200)
    f = stats.format_summary(s, digits=3)
    assert list(f.columns) == ["setting", "method", "insertion ↑", "deletion ↓"]
    assert list(f["method"]) == ["good", "same", "bad", "random", "constant"]
    good = cell(s, "good", "insertion")
    text = f"{good['mean']:.3f} [{good['lo']:.3f}, {good['hi']:.3f}]"
    row = f.set_index("method")
    assert row.loc["good", "insertion ↑"].startswith(text + " ▲r")
    assert "▲r" in row.loc["good", "deletion ↓"] and "▼r" in row.loc["bad", "deletion ↓"]
    assert "▲" not in row.loc["same", "insertion ↑"]
    assert "▼r" not in row.loc["same", "deletion ↓"]
    assert "r" not in row.loc["random", "insertion ↑"].split("]")[1]
    for word in ("bootstrap", "Wilcoxon", "Holm", "▲r", "▼c", "within noise"):
        assert word in stats.LEGEND


def test_findings_count_the_verdicts_and_name_the_best_by_its_direction():
    s = stats.summarise(long_table(), HIB, n_boot=500)
    f = stats.findings(s).set_index(["setting", "metric"])
    for metric in HIB:  # good / same / bad: one better, one within noise, one worse
        row = f.loc[("photos", metric)]
        assert row["methods"] == 3 and row["best"] == "good"
        assert row["better / noise / worse than random"] == "1 / 1 / 1"
        good = cell(s, "good", metric)
        assert row["best mean [95 % CI]"] == \
            f"{good['mean']:.3f} [{good['lo']:.3f}, {good['hi']:.3f}]"
        assert row["constant"] == "0.500"
    assert list(stats.findings(s, metrics=["deletion"])["metric"]) == ["deletion"]


def test_rank_table_margin_calls_differences_below_it_ties():
    """A constant paired difference d has the interval [d, d] (every resample's mean is d):
    separated when d > margin, tied when d <= margin."""
    base = np.linspace(0.1, 0.9, 50)
    rows = [(str(i), m, "insertion", v + shift) for i, v in enumerate(base)
            for m, shift in (("a", 1e-4), ("b", 0.0), ("c", 2e-3))]
    table = pd.DataFrame(rows, columns=["sample", "method", "metric", "value"])
    ranks = {margin: stats.rank_table(table, HIB, by=(), n_boot=200, margin=margin)
             .set_index("method")["rank"].to_dict() for margin in (0.0, 5e-4, 3e-3)}
    assert ranks[0.0] == {"c": 1, "a": 2, "b": 3}
    assert ranks[5e-4] == {"c": 1, "a": 2, "b": 2}  # a − b = 1e-4 ≤ 5e-4: tied
    assert ranks[3e-3] == {"c": 1, "a": 1, "b": 1}  # every difference ≤ 2e-3 < 3e-3
    with pytest.raises(ValueError, match="margin"):
        stats.rank_table(table, HIB, by=(), margin=-1e-3)


def test_rank_table_orders_best_first_with_paired_ties():
    table = long_table(n=100)
    r = stats.rank_table(table, HIB, n_boot=300)
    assert list(r.columns) == ["setting", "metric", "rank", "method", "n", "mean", "tied"]
    ins = r[r["metric"] == "insertion"].set_index("method")
    assert list(ins.index)[0] == "good" and list(ins.index)[-1] == "bad"
    assert list(ins["rank"]) == sorted(ins["rank"])
    assert ins.loc["good", "rank"] == 1 and not ins.loc["good", "tied"]
    # identical values: the paired interval is [0, 0], so neither is above the other
    assert ins.loc["same", "rank"] == ins.loc["random", "rank"] and ins.loc["same", "tied"]
    assert ins.loc["bad", "rank"] == 5 and not ins.loc["bad", "tied"]
    dele = r[r["metric"] == "deletion"]  # lower is better: 'good' has the lowest values
    assert dele["method"].iloc[0] == "good" and dele["mean"].iloc[0] < dele["mean"].iloc[1]
    # the ranks follow the paired interval of the difference, not the marginal intervals
    swapped = table.copy()
    good = swapped["method"] == "good"
    swapped.loc[good, "value"] = swapped.loc[good, "value"] - 0.19  # 0.01 above random
    ins = stats.rank_table(swapped, HIB, n_boot=300).query("metric == 'insertion'")
    ranks = ins.set_index("method")["rank"]
    assert ranks["good"] < ranks["random"]  # paired noise 0.01: separated


def _pairs_table():
    """Group a: m and two controls on 5 samples, differences m − c1 = (.1, .2, .3, −.4, .5)
    and m − c2 = (.1, .2, .3, .4, .5); group b: c1 equal to m, no c2."""
    m = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    cols = {("a", "m"): m, ("a", "c1"): m - [0.1, 0.2, 0.3, -0.4, 0.5],
            ("a", "c2"): m - [0.1, 0.2, 0.3, 0.4, 0.5],
            ("b", "m"): np.array([0.0, 1.0, 0.0, 1.0, 1.0]),
            ("b", "c1"): np.array([0.0, 1.0, 0.0, 1.0, 1.0])}
    return pd.DataFrame([{"method": g, "sample": f"s{i}", "metric": k, "value": v}
                         for (g, k), values in cols.items() for i, v in enumerate(values)])


def test_paired_rows_hand_example():
    r = stats.paired_rows(_pairs_table(), [("m", "c1"), ("m", "c2")], n_boot=500, alpha=0.2)
    assert list(r.columns) == ["method", "metric", "control", "n", "mean", "lo", "hi",
                               "mean_control", "lo_control", "hi_control", "d", "d_lo", "d_hi",
                               "p", "p_holm", "difference"]
    assert list(zip(r["method"], r["control"])) == [("a", "c1"), ("a", "c2"), ("b", "c1"),
                                                    ("b", "c2")]
    a1, a2, b1, b2 = (r.iloc[i] for i in range(4))
    assert a1["n"] == a2["n"] == b1["n"] == 5 and b2["n"] == 0
    assert a1["mean"] == pytest.approx(0.7) and a1["mean_control"] == pytest.approx(0.56)
    assert a1["d"] == pytest.approx(0.14) and a2["d"] == pytest.approx(0.3)
    assert a2["mean_control"] == pytest.approx(0.4)
    # exact signed-rank p, by hand: ranks 1..5; W- = 4 for c1 (P(W- <= 4) = 7/32), 0 for c2
    assert a1["p"] == pytest.approx(14 / 32) and a2["p"] == pytest.approx(2 / 32)
    # identical columns: d = 0 exactly, interval [0, 0], p = 1
    assert (b1["d"], b1["d_lo"], b1["d_hi"], b1["p"]) == (0.0, 0.0, 0.0, 1.0)
    # Holm over the 3 tests of the whole table: 3 × 2/32, 2 × 14/32, then 1
    assert a2["p_holm"] == pytest.approx(6 / 32) and a1["p_holm"] == pytest.approx(28 / 32)
    assert b1["p_holm"] == 1.0 and np.isnan(b2["p_holm"]) and np.isnan(b2["d"])
    assert list(r["difference"]) == ["within noise", "higher", "within noise", "not tested"]
    # all differences ≥ 0.1: so is every resampled mean
    assert a2["d_lo"] >= 0.1 - 1e-12 and a2["d_hi"] <= 0.5 + 1e-12
    d = (_pairs_table().query("method == 'a'").pivot(index="sample", columns="metric",
                                                     values="value"))
    assert (a1["d"], a1["d_lo"], a1["d_hi"]) == pytest.approx(
        stats.bootstrap_mean((d["m"] - d["c1"]).to_numpy(), n_boot=500))


def test_paired_rows_pairs_on_samples_not_row_order_and_errors():
    table = _pairs_table()
    shuffled = table.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(stats.paired_rows(table, [("m", "c2")], n_boot=200),
                                  stats.paired_rows(shuffled, [("m", "c2")], n_boot=200))
    with pytest.raises(ValueError, match="no metric"):
        stats.paired_rows(table, [("m", "c3")])
    with pytest.raises(ValueError, match="pairs"):
        stats.paired_rows(table, [])
    with pytest.raises(ValueError, match="two values"):
        stats.paired_rows(table, [("m", "c1")], by=())
