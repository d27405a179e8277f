"""Tests for xai.combine: Part 2's IG x CAM combinations, as NumPy formulas."""
import numpy as np
import pytest

from xai import combine


@pytest.fixture
def arrays(rng):
    n, h, w, c = 3, 6, 5, 3
    cam = rng.random((n, h, w)).astype(np.float32)
    ig = rng.normal(size=(n, h, w, c)).astype(np.float32)
    img = rng.random((n, h, w, c)).astype(np.float32)
    return cam, ig, img


def test_direct_is_cam_times_channel_sum(arrays):
    cam, ig, _ = arrays
    out = combine.direct(cam, ig)
    assert out.dtype == np.float32 and out.shape == cam.shape
    np.testing.assert_allclose(out, cam * ig.sum(-1), rtol=1e-6, atol=1e-7)
    assert (out < 0).any()  # signed


def test_direct_pairs_each_sample_with_its_own_cam_and_ig(arrays):
    cam, ig, _ = arrays
    out = combine.direct(cam, ig)
    for i in range(len(cam)):  # no reuse of one CAM / one image's IG across the batch
        np.testing.assert_allclose(out[i], combine.direct(cam[i:i + 1], ig[i:i + 1])[0])
    assert not np.allclose(out[0], cam[0] * ig[1].sum(-1))


def test_indirect_keeps_sign_and_does_not_wrap(arrays):
    _, ig, img = arrays
    big = ig * 1000.0  # values far above 1 and 255: uint8 would wrap around
    out = combine.indirect(big, img)
    np.testing.assert_allclose(out, big * img, rtol=1e-6)
    assert out.dtype == np.float32
    assert out.max() > 255 and out.min() < -255


def test_indirect_scales_a_uint8_image_to_unit_range(arrays, rng):
    _, ig, _ = arrays
    img8 = rng.integers(0, 256, ig.shape, dtype=np.uint8)
    np.testing.assert_allclose(combine.indirect(ig, img8), ig * (img8 / 255.0), rtol=1e-5,
                               atol=1e-7)


def test_indirect_product(arrays):
    cam, ig, img = arrays
    ixi = combine.indirect(ig, img)
    expected = cam * (ig * img).sum(-1)
    np.testing.assert_allclose(combine.indirect_product(ixi, cam), expected, rtol=1e-5, atol=1e-6)
    # an already channel-summed map gives the same
    np.testing.assert_allclose(combine.indirect_product(ixi.sum(-1), cam), expected, rtol=1e-5,
                               atol=1e-6)


def test_indirect_overlay_is_a_float_blend(arrays):
    cam, ig, img = arrays
    ixi = combine.indirect(ig, img)
    s = ixi.sum(-1)
    s = s / np.abs(s).reshape(len(s), -1).max(1)[:, None, None]
    out = combine.indirect_overlay(ixi, cam, alpha=0.3)
    np.testing.assert_allclose(out, 0.7 * s + 0.3 * cam, rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32 and out.min() < 0 and out.max() <= 1.0
    np.testing.assert_allclose(combine.indirect_overlay(ixi, cam, alpha=1.0), cam, atol=1e-7)
    # a zero attribution stays zero (no 0/0)
    zero = combine.indirect_overlay(np.zeros_like(ixi), cam, alpha=0.0)
    assert np.isfinite(zero).all() and not zero.any()
    # percentile scaling saturates the top values at ±1
    clipped = combine.indirect_overlay(ixi, cam, alpha=0.0, percentile=50)
    assert np.isclose(np.abs(clipped).max(), 1.0) and (np.abs(clipped) == 1.0).sum() > 3


@pytest.mark.parametrize("call, match", [
    (lambda cam, ig, img: combine.direct(cam[:2], ig), "same N, H, W"),
    (lambda cam, ig, img: combine.direct(cam[:, :3], ig), "same N, H, W"),
    (lambda cam, ig, img: combine.direct(cam[0], ig), r"\(N, H, W\)"),
    (lambda cam, ig, img: combine.direct(cam, ig[0]), r"\(N, H, W, C\)"),
    (lambda cam, ig, img: combine.direct(cam * 3, ig), r"\[0, 1\]"),
    (lambda cam, ig, img: combine.direct(cam, ig * np.nan), "NaN"),
    (lambda cam, ig, img: combine.indirect(ig, img[:, :, :4]), "same size"),
    (lambda cam, ig, img: combine.indirect_product(ig * img, cam[1:]), "same N, H, W"),
    (lambda cam, ig, img: combine.indirect_overlay(ig * img, cam, alpha=2), "alpha"),
])
def test_shape_and_value_errors(arrays, call, match):
    with pytest.raises(ValueError, match=match):
        call(*arrays)
