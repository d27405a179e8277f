"""RISE against its equation (Petsiuk et al., 2018, eq. 6), computed here with NumPy from the same
seeded masks and the model's own predict()."""
import keras
import numpy as np
import pytest

import xai
from xai._batching import seeded_rng
from xai.perturbation import rise_masks

from helpers import conv1d_net, gap_net


def rise_reference(model, x, target, n_masks, seed, grid=7, p=0.5, centre=False):
    """Σ_i P_c(x ⊙ M_i) M_i / (N p) per sample, with P the model's softmax output; centred:
    Σ_i (P_c(x ⊙ M_i) − mean_j P_c(x ⊙ M_j)) M_i / (N p)."""
    masks = np.asarray(rise_masks(seeded_rng(seed), n_masks, x.shape[1:-1], grid, p)(
        slice(0, n_masks)), np.float64)
    out = []
    for xi, t in zip(x, target):
        probs = model.predict(xi[None] * masks[..., None].astype(np.float32), verbose=0)
        w = probs[:, t].astype(np.float64)
        w = w - w.mean() if centre else w
        out.append(np.tensordot(w, masks, axes=1) / (n_masks * p))
    return np.stack(out)


@pytest.mark.parametrize("net,shape", [(gap_net(seed=20), (3, 12, 12, 3)),
                                       (conv1d_net(seed=21), (3, 20, 1))])
def test_rise_matches_its_equation(net, shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    target = [0, 2, 1]
    got = xai.rise(net, x, target=target, n_masks=50, seed=3, batch_size=16, normalize=False)
    np.testing.assert_allclose(got, rise_reference(net, x, target, 50, 3), rtol=1e-4,
                               atol=1e-6)


def test_rise_masks_are_smooth_binary_grids_kept_with_probability_p():
    render = rise_masks(seeded_rng(0), 400, (28, 28), grid=7, p=0.3)
    masks = np.asarray(render(slice(0, 400)))
    assert masks.shape == (400, 28, 28) and masks.min() >= 0 and masks.max() <= 1
    assert abs(masks.mean() - 0.3) < 0.03  # bilinear upsampling keeps the mean of the cells
    assert np.abs(np.diff(masks, axis=1)).max() < 0.26  # smooth: one cell spans 4+ pixels
    # drawn once: rendering in pieces gives the same masks
    np.testing.assert_array_equal(np.concatenate([render(slice(0, 150)),
                                                  render(slice(150, 400))]), masks)


def test_rise_default_score_is_the_probability_and_logit_differs():
    net = gap_net(seed=22)
    x = np.random.default_rng(1).normal(size=(2, 12, 12, 3)).astype(np.float32)
    top = net.predict(x, verbose=0).argmax(1)
    np.testing.assert_allclose(xai.rise(net, x, n_masks=40, seed=1, normalize=False),
                               rise_reference(net, x, top, 40, 1), rtol=1e-4, atol=1e-6)
    logit = xai.rise(net, x, n_masks=40, seed=1, score="logit")
    assert not np.allclose(logit, xai.rise(net, x, n_masks=40, seed=1))


def test_rise_on_a_wrapped_classifier_scores_the_inner_softmax_once():
    inner = gap_net(seed=23)
    wrapped = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Rescaling(1.0), inner])
    x = np.random.default_rng(2).normal(size=(2, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(xai.rise(wrapped, x, n_masks=30, seed=4),
                               xai.rise(inner, x, n_masks=30, seed=4), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("net,shape", [(gap_net(seed=24), (3, 12, 12, 3)),
                                       (conv1d_net(seed=25), (3, 20, 1))])
def test_centred_rise_matches_the_mean_subtracted_sum(net, shape):
    x = np.random.default_rng(5).normal(size=shape).astype(np.float32)
    target = [1, 0, 2]
    got = xai.rise(net, x, target=target, n_masks=50, seed=6, batch_size=16, normalize=False,
                   centre=True)
    want = rise_reference(net, x, target, 50, 6, centre=True)
    assert want.min() < 0 < want.max()  # signed: masks above and below the mean score
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_centred_rise_does_not_draw_the_masks_when_the_score_ignores_the_input():
    """A head with zero weights scores every input alike: eq. 6 then draws the masks' own
    density Σ_i M_i — the same picture for every input — while the centred map is zero."""
    net = gap_net(seed=26)
    net.get_layer("head").kernel.assign(np.zeros((5, 4), np.float32))
    x = np.random.default_rng(7).normal(size=(2, 12, 12, 3)).astype(np.float32)
    density = np.asarray(rise_masks(seeded_rng(8), 40, (12, 12), 7, 0.5)(slice(0, 40))).sum(0)
    density = (density - density.min()) / np.ptp(density)
    plain = xai.rise(net, x, n_masks=40, seed=8)
    np.testing.assert_allclose(plain, np.stack([density, density]), atol=1e-4)
    assert np.ptp(density) > 0 and not np.allclose(density, density.mean(), atol=0.1)
    centred = xai.rise(net, x, n_masks=40, seed=8, centre=True)
    np.testing.assert_array_equal(centred, np.zeros_like(centred))
    assert not np.isnan(xai.rise(net, x, n_masks=40, seed=8, centre=True, normalize=False)).any()
