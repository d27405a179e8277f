"""xai._batching: chunks cover every item once, one chunk is passed whole, noise is drawn once."""
import numpy as np
import pytest
import tensorflow as tf

from xai._batching import check_batch_size, chunks, noisy_mean, noisy_sum_chunk, per_chunk


@pytest.mark.parametrize("n,size", [(10, 3), (9, 3), (1, 5), (7, 7)])
def test_chunks_cover_range_in_order_without_overlap(n, size):
    parts = list(chunks(n, size, progress=False))
    assert np.concatenate([np.arange(n)[s] for s in parts]).tolist() == list(range(n))
    assert all(s.stop - s.start <= size for s in parts)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "8", None])
def test_batch_size_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        check_batch_size(bad)


def test_per_chunk_passes_a_small_batch_whole_and_concatenates_larger_ones():
    seen = []

    def fn(xb, tb):
        seen.append(len(tb))
        return xb * 2 + tb[:, None]
    x, t = np.arange(12.0).reshape(6, 2), np.arange(6)
    np.testing.assert_array_equal(per_chunk(fn, x, t, 8, progress=False), x * 2 + t[:, None])
    assert seen == [6]
    seen.clear()
    np.testing.assert_array_equal(per_chunk(fn, x, t, 4, progress=False), x * 2 + t[:, None])
    assert seen == [4, 2]


def square_sum(x, noise, sigma, idx, copy, t):
    return noisy_sum_chunk(x, noise, sigma, idx, copy, t, fn=lambda xb, tb: xb ** 2)


def test_noisy_mean_is_the_mean_over_copies_whatever_the_batch_size():
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32))
    targets = np.zeros(3, np.int32)
    ref = noisy_mean(square_sum, x, targets, n=6, spread=0.2, seed=5, batch_size=18,
                     progress=False)
    # independent: x + σ·ε for the same seeded ε, σ = spread · (max − min) per sample
    eps = np.random.default_rng(5).standard_normal((6, 4, 2), np.float32)
    xs = x.numpy()
    sigma = 0.2 * (xs.max((1, 2)) - xs.min((1, 2)))
    expected = ((xs[:, None] + eps[None] * sigma[:, None, None, None]) ** 2).mean(1)
    np.testing.assert_allclose(ref, expected, rtol=1e-5)
    for bs in (1, 4, 7):
        np.testing.assert_allclose(noisy_mean(square_sum, x, targets, 6, 0.2, 5, bs,
                                              progress=False), ref, rtol=1e-6)
    # a sample's result does not depend on the other samples in the batch
    np.testing.assert_allclose(noisy_mean(square_sum, x[1:2], targets[:1], 6, 0.2, 5, 4,
                                          progress=False)[0], ref[1], rtol=1e-6)
    with pytest.raises(ValueError, match="n .* must be a positive integer"):
        noisy_mean(square_sum, x, targets, 0, 0.2, 5, 4)


def test_progress_may_be_a_callback_called_after_each_chunk():
    calls = []
    parts = list(chunks(10, 4, progress=lambda done, total: calls.append((done, total))))
    assert [s.start for s in parts] == [0, 4, 8]
    assert calls == [(1, 3), (2, 3), (3, 3)]
