"""NaN, inf and meaningless parameters are refused by every metric, never scored as numbers
(each of these gave a plausible value before)."""
import numpy as np
import pytest

from xai import metrics

from helpers import conv1d_net, gap_net


@pytest.fixture(scope="module")
def signals():
    x = np.random.default_rng(0).normal(size=(3, 20, 1)).astype(np.float32)
    return conv1d_net(), x, np.random.default_rng(1).random((3, 20))


def _with(maps, value):
    bad = maps.copy()
    bad[1, 3] = value
    return bad


def multiply(model, x, maps, **options):
    return metrics.drop_increase(model, x, maps, mode="multiply", **options)


def road(model, x, maps):
    return metrics.road(model, x, maps, fractions=(0.5,))


def mufidelity(model, x, maps, **options):
    return metrics.mufidelity(model, x, maps, n_subsets=4, **options)


FAITHFULNESS = [metrics.deletion_auc, metrics.insertion_auc, metrics.drop_increase, multiply,
                mufidelity]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("metric", FAITHFULNESS + [road])
def test_maps_with_nan_or_inf_are_refused(signals, metric, value):
    model, x, maps = signals
    with pytest.raises(ValueError, match="maps contain 1 NaN/inf values"):
        metric(model, x, _with(maps, value))


@pytest.mark.parametrize("baseline", [np.nan, np.inf, np.full((20, 1), np.nan)])
@pytest.mark.parametrize("metric", FAITHFULNESS)
def test_a_nan_or_inf_baseline_is_refused(signals, metric, baseline):
    model, x, maps = signals
    with pytest.raises(ValueError, match="baseline contain .* NaN/inf values"):
        metric(model, x, maps, baseline=baseline)


@pytest.mark.parametrize("sigma", [np.nan, -1.0, 0.0])
def test_a_blur_that_does_not_blur_is_refused(signals, sigma):
    """A NaN or negative std used to return x itself as the "blurred" baseline."""
    model, x, maps = signals
    with pytest.raises(ValueError, match="blur_sigma"):
        metrics.deletion_auc(model, x, maps, baseline="blur", blur_sigma=sigma)


def test_road_fractions_must_be_numbers_in_the_open_interval(signals):
    model, x, maps = signals
    for fractions in ((np.nan,), (0.5, np.nan), (1.0,)):
        with pytest.raises(ValueError, match="fractions"):
            metrics.road(model, x, maps, fractions=fractions)


def test_map_similarities_refuse_mismatched_or_nonfinite_maps(rng):
    a = rng.random((3, 8, 8))
    with pytest.raises(ValueError, match="differ"):
        metrics.map_ssim(a, a[:2])  # zip used to compare the first two pairs only
    with pytest.raises(ValueError, match="differ"):
        metrics.spearman(a, a[:2])
    with pytest.raises(ValueError, match="maps_b contain 1 NaN/inf"):
        metrics.map_ssim(a, _with(a.reshape(3, -1), np.nan).reshape(3, 8, 8))


def nan_method(m, xb, target=None):
    out = np.ones(xb.shape[:-1], np.float32)
    out[:, 0] = np.nan
    return out


def test_a_method_returning_nan_is_named_not_scored(rng):
    """max-sensitivity used to read NaN as 0 (the best score), the sanity check as a perfect
    correlation of 1."""
    x = rng.normal(size=(2, 12, 12, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="maps of method 'nan_method' contain 24 NaN/inf"):
        metrics.max_sensitivity(gap_net(), x, nan_method, n_perturbations=2)
    with pytest.raises(ValueError, match="maps of method 'nan_method' contain 24 NaN/inf"):
        metrics.sanity_check(gap_net(), x, nan_method, layers=["head"])
