"""Localisation numbers (xai.metrics.localisation) against hand computations."""
import numpy as np
import pytest

from xai import metrics


def test_box_and_border_masks_by_hand():
    box = metrics.box_mask((4, 5), [(1, 0, 3, 2)])  # columns 1-2, rows 0-1
    expected = np.zeros((4, 5), bool)
    expected[0:2, 1:3] = True
    np.testing.assert_array_equal(box, expected)
    two = metrics.box_mask((4, 5), [(0, 0, 1, 1), (4, 3, 9, 9)])  # clipped to the image
    assert two.sum() == 2 and two[0, 0] and two[3, 4]

    border = metrics.border_mask((10, 20), 0.1)  # 1 row / 2 columns on each side
    assert border[0].all() and border[-1].all() and border[:, :2].all() and border[:, -2:].all()
    assert border.sum() == 10 * 20 - 8 * 16
    assert metrics.border_mask((6,), 2).tolist() == [True, True, False, False, True, True]
    with pytest.raises(ValueError, match="x1 > x0"):
        metrics.box_mask((4, 4), [(3, 0, 1, 2)])


def test_energy_share_is_mass_inside_over_total():
    maps = np.array([[[1, 3], [0, 4]], [[0, 0], [0, 0]]], dtype=np.float32)
    region = np.array([[True, False], [False, True]])
    share = metrics.energy_share(maps, region)
    assert share[0] == pytest.approx(5 / 8)
    assert share[1] == pytest.approx(0.5)  # a zero map counts as uniform: the area fraction
    per_map = np.stack([region, ~region])
    np.testing.assert_allclose(metrics.energy_share(maps, per_map), [5 / 8, 0.5])
    with pytest.raises(ValueError, match="maps >= 0"):
        metrics.energy_share(-maps, region)
    with pytest.raises(ValueError, match="do not match"):
        metrics.energy_share(maps, np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="boolean"):
        metrics.energy_share(maps, region.astype(int))


def test_a_map_on_the_object_beats_a_random_one(rng):
    """A map that peaks inside the box hits and has most mass there; random maps do not."""
    size = (32, 32)
    box = metrics.box_mask(size, [(4, 4, 12, 12)])  # 1/16 of the image
    yy, xx = np.mgrid[:32, :32]
    good = np.exp(-((yy - 8) ** 2 + (xx - 8) ** 2) / 8.0)[None]
    noise = rng.random((200, *size))
    assert metrics.pointing_game(good, box, tolerance=0).all()
    assert metrics.energy_share(good, box)[0] > 0.9
    random_hits = metrics.pointing_game(noise, box, tolerance=0).mean()
    assert abs(random_hits - box.mean()) < 0.06  # hits as often as the box's area fraction
    assert abs(metrics.energy_share(noise, box).mean() - box.mean()) < 0.01


def test_pointing_game_tolerance_is_euclidean_distance_to_the_region():
    maps = np.zeros((1, 20, 20))
    maps[0, 10, 15] = 1.0  # peak at row 10, column 15
    region = metrics.box_mask((20, 20), [(0, 0, 11, 20)])  # columns 0-10: 5 columns away
    assert not metrics.pointing_game(maps, region, tolerance=4.9)[0]
    assert metrics.pointing_game(maps, region, tolerance=5)[0]
    with pytest.raises(ValueError, match="empty"):
        metrics.pointing_game(maps, np.zeros((20, 20), bool))


def test_top_iou_and_peak_distance_by_hand():
    a = np.array([[[4, 3, 0, 0], [0, 0, 0, 0]]], dtype=float)  # top 2 of 8 (0.25): (0,0),(0,1)
    b = np.array([[[0, 3, 4, 0], [0, 0, 0, 0]]], dtype=float)  # top 2: (0,1),(0,2)
    assert metrics.top_iou(a, b, 0.25)[0] == pytest.approx(1 / 3)
    assert metrics.top_iou(a, a, 0.25)[0] == 1.0
    assert metrics.peak_distance(a, b, relative=False)[0] == pytest.approx(2.0)
    assert metrics.peak_distance(a, b)[0] == pytest.approx(2 / np.hypot(1, 3))
    signals = np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 1]], dtype=float)
    assert metrics.peak_distance(signals[:1], signals[1:])[0] == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="same shape"):
        metrics.top_iou(a, signals)


def test_a_flat_map_points_nowhere_even_with_a_box_at_the_corner():
    """A constant or zero map has no peak: the old rule took its first point, (0, 0), and hit
    every region touching the corner."""
    corner = metrics.box_mask((8, 8), [(0, 0, 2, 2)])
    maps = np.stack([np.zeros((8, 8)), np.full((8, 8), 0.7), np.zeros((8, 8))])
    maps[2, 1, 1] = 1.0  # a real peak in the corner box
    hits, flat = metrics.pointing_game(maps, corner, tolerance=0, return_flat=True)
    assert hits.tolist() == [False, False, True] and flat.tolist() == [True, True, False]
    assert hits.mean() == pytest.approx(1 / 3) and int(flat.sum()) == 2
    np.testing.assert_array_equal(metrics.pointing_game(maps, corner, tolerance=30), hits)
    signals = np.zeros((1, 10))
    assert not metrics.pointing_game(signals, np.arange(10) < 3)[0]


def test_tied_maxima_point_at_the_one_closest_to_their_centroid():
    maps = np.zeros((2, 9, 9))
    maps[0, [0, 4, 8], [0, 4, 8]] = 1.0  # three tied maxima on the diagonal: centroid (4, 4)
    maps[1, [2, 2], [1, 7]] = 1.0  # two at the same distance from (2, 4): the first, (2, 1)
    centre = metrics.box_mask((9, 9), [(4, 4, 5, 5)])  # the point (4, 4)
    left = metrics.box_mask((9, 9), [(1, 2, 2, 3)])  # the point (2, 1)
    regions = np.stack([centre, left])
    assert metrics.pointing_game(maps, regions, tolerance=0).tolist() == [True, True]
    corner = metrics.box_mask((9, 9), [(0, 0, 1, 1)])
    assert not metrics.pointing_game(maps[:1], corner, tolerance=0)[0]


def test_a_unique_maximum_is_the_peak_as_before(rng):
    maps = rng.random((50, 12, 12))
    regions = rng.random((50, 12, 12)) < 0.2
    regions[:, 0, 0] = True  # no empty region
    flat = maps.reshape(50, -1).argmax(1)
    rows, cols = np.unravel_index(flat, (12, 12))
    np.testing.assert_array_equal(metrics.pointing_game(maps, regions, tolerance=0),
                                  regions[np.arange(50), rows, cols])
