"""Notebook 02 at scale: each Part 2 map the engine scores is the combination computed
independently from xai.explain and NumPy, IG and the CAMs are computed once per batch and
shared, and the setting is registered for the spot check."""
import numpy as np
import pytest

import xai
from xai import studies, study_part2

from helpers import gap_net


class Zoo:
    """The parts of a ZooModel that part2_methods reads: inputs in [-1, 1]."""
    default_layer = "conv_b"

    def __init__(self, model):
        self.model = model

    @staticmethod
    def preprocess(images):
        return np.asarray(images, np.float32) / 127.5 - 1.0


@pytest.fixture(scope="module")
def setup():
    model = gap_net(seed=1, size=12, classes=4)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (5, 12, 12, 3)).astype(np.float32)
    target = model.predict(x, verbose=0).argmax(axis=1)
    return model, x, target


def test_maps_are_the_combinations_of_independent_ig_and_cams(setup):
    model, x, target = setup
    methods = study_part2.part2_methods(Zoo(model), smoke=True)
    assert set(methods) == {"ig", "ig_x_image", "gradcam", "direct:gradcam",
                            "product:gradcam"}
    black = -np.ones_like(x)  # preprocess(0) for inputs in [-1, 1]
    ig = xai.explain(model, x, method="integrated_gradients", target=target, baseline=black,
                     steps=8, progress=False)
    cam = xai.explain(model, x, method="gradcam", layer="conv_b", target=target)
    image = (x + 1) / 2  # the photo in [0, 1]
    expected = {"ig": ig, "ig_x_image": ig * image, "gradcam": cam,
                "direct:gradcam": np.abs(cam * ig.sum(-1)),
                "product:gradcam": np.abs(cam * (ig * image).sum(-1))}
    for label, want in expected.items():
        np.testing.assert_allclose(methods[label](model, x, target=target), want, rtol=1e-4,
                                   atol=1e-6, err_msg=label)


def test_ig_and_cams_are_computed_once_per_batch(setup, monkeypatch):
    model, x, target = setup
    calls = []
    real = xai.explain

    def counting(*args, **kwargs):
        calls.append(kwargs["method"])
        return real(*args, **kwargs)

    monkeypatch.setattr(xai, "explain", counting)
    methods = study_part2.part2_methods(Zoo(model), smoke=True)
    for f in methods.values():
        f(model, x, target=target)
    assert sorted(calls) == ["gradcam", "integrated_gradients"]
    methods["ig"](model, x[:2], target=target[:2])  # another batch: computed again
    assert calls.count("integrated_gradients") == 2


def test_method_descriptions_are_stable_and_say_what_they_compute(setup):
    model = setup[0]
    a = study_part2.part2_methods(Zoo(model))
    b = study_part2.part2_methods(Zoo(model))
    assert [repr(m) for m in a.values()] == [repr(m) for m in b.values()]
    assert "direct" in repr(a["direct:gradcam++"]) and "ig_steps=32" in repr(a["ig"])
    assert len(a) == 2 + 3 * len(study_part2.PART2_CAMS)


def test_part2_setting_is_registered_and_refuses_other_settings():
    assert studies.BUILDERS["part2"] is study_part2.part2_setting
    with pytest.raises(ValueError, match="photos"):
        study_part2.part2_setting("xrays")


def test_by_cam_pairs_each_combination_with_its_own_cam():
    import pandas as pd

    methods = ["ig", "ig_x_image", "gradcam", "direct:gradcam", "product:gradcam",
               "gradcam++", "direct:gradcam++", "product:gradcam++", "random", "constant"]
    table = pd.DataFrame([(s, 0, 0, m, "deletion", float(i + 10 * k))
                          for k, s in enumerate("ab") for i, m in enumerate(methods)],
                         columns=["sample", "label", "target", "method", "metric", "value"])
    out = study_part2.by_cam(table)
    assert list(pd.unique(out["cam"])) == ["gradcam", "gradcam++"]
    g = out[out["cam"] == "gradcam++"].set_index(["sample", "method"])["value"]
    assert g["a", "cam"] == 5 and g["a", "direct"] == 6 and g["b", "product"] == 17
    assert g["b", "ig"] == 10 and g["a", "random"] == 8
    assert sorted(out.groupby("cam")["method"].nunique()) == [7, 7]
    with pytest.raises(ValueError, match="direct"):
        study_part2.by_cam(table[~table["method"].str.startswith("direct")])


# --- notebook 02's sample-photo functions ------------------------------------------------------

class Decoding(Zoo):
    """A zoo model with an input size and a decoder of class indices: 'class<i>'."""
    input_size = (12, 12)

    @staticmethod
    def decode(probs, top=1):
        return [[(int(i), f"class{i}", float(p[i])) for i in np.argsort(p)[::-1][:top]]
                for p in probs]


def _photos(model, n=3):
    rng = np.random.default_rng(5)
    originals = {f"p{i}": rng.integers(0, 256, (16 + 2 * i, 12, 3), dtype=np.uint8)
                 for i in range(n)}
    return study_part2.photos(Decoding(model), originals), originals


def test_photos_are_centre_squares_preprocessed_and_classified(setup):
    model = setup[0]
    photos, originals = _photos(model)
    assert photos.names == ["p0", "p1", "p2"] and photos.images.shape == (3, 12, 12, 3)
    # the 18 × 12 photo's centre square is its middle 12 rows, already at the input size
    np.testing.assert_array_equal(photos.images[1], originals["p1"][3:15])
    np.testing.assert_allclose(photos.x, photos.images / 127.5 - 1.0, atol=1e-6)
    probs = model.predict(photos.x, verbose=0)
    assert photos.targets == list(probs.argmax(axis=1))
    np.testing.assert_allclose([t[2] for t in photos.top], probs.max(axis=1), rtol=1e-5)


def test_sample_photos_reads_a_folder_in_order_and_smoke_keeps_two(tmp_path):
    import cv2

    for name in ("b", "a", "c"):
        cv2.imwrite(str(tmp_path / f"{name}.png"), np.full((8, 8, 3), ord(name), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    study = studies.Study("part2", tmp_path, tmp_path, tmp_path, tmp_path, tmp_path,
                          "offline", False)
    photos = study_part2.sample_photos(study, str(tmp_path))
    assert list(photos) == ["a", "b", "c"] and photos["c"][0, 0, 0] == ord("c")
    assert list(study_part2.sample_photos(study, str(tmp_path), smoke=True)) == ["a", "b"]


def test_completeness_table_against_the_logits_computed_by_hand(setup, tmp_path):
    import keras

    model = setup[0]
    photos, _ = _photos(model)
    baseline = -np.ones_like(photos.x)
    ig, gap, used = xai.explain(model, photos.x, method="integrated_gradients",
                                target=photos.targets, baseline=baseline, steps=16,
                                return_delta=True, return_steps=True, progress=False)
    table = study_part2.ig_completeness(model, photos, baseline, gap, used)
    # the class logit: the head's Dense before its softmax, from the pooled features
    pooled = keras.Model(model.input, model.get_layer("gap").output)
    w, b = model.get_layer("head").get_weights()
    rows = np.arange(3), photos.targets
    logit_x = (pooled.predict(photos.x, verbose=0) @ w + b)[rows]
    logit_b = (pooled.predict(baseline, verbose=0) @ w + b)[rows]
    np.testing.assert_allclose(table["logit_x"], np.round(logit_x, 2), atol=0.011)
    np.testing.assert_allclose(table["logit_baseline"], np.round(logit_b, 2), atol=0.011)
    change = logit_x - logit_b
    sum_gap = ig.reshape(3, -1).sum(axis=1) - change
    close = np.abs(np.abs(sum_gap) - 0.01 * np.abs(change)) > 1e-4  # not on the edge
    assert (table["gap_within_1_percent"] == (np.abs(sum_gap) <= 0.01 * np.abs(change)))[
        close].all()
    assert list(table["image"]) == photos.names and (table["steps"] == 16).all()
    study_part2.write_completeness(table, tmp_path, "gap_net", 16)
    assert "steps=16" in (tmp_path / "ig_completeness.md").read_text()
    import pandas as pd

    assert list(pd.read_csv(tmp_path / "ig_completeness.csv")["class"]) == list(table["class"])


def test_direct_and_indirect_maps_are_the_products_by_hand(setup):
    model, x, target = setup
    rng = np.random.default_rng(3)
    ig = rng.normal(size=x.shape).astype(np.float32)
    images = rng.integers(0, 256, x.shape).astype(np.uint8)
    cams = {m: rng.uniform(0, 1, x.shape[:3]).astype(np.float32) for m in ("a", "b")}
    direct = study_part2.direct_maps(cams, ig)
    indirect = study_part2.indirect_maps(cams, ig, images, alpha=0.25, percentile=100)
    assert list(direct) == ["a", "b"] and list(indirect["product"]) == ["a", "b"]
    for m, cam in cams.items():
        np.testing.assert_allclose(direct[m], cam * ig.sum(-1), rtol=1e-5, atol=1e-6)
        ixi = (ig * images / 255.0).sum(-1)
        np.testing.assert_allclose(indirect["product"][m], cam * ixi, rtol=1e-5, atol=1e-6)
        s = ixi / np.abs(ixi).reshape(len(x), -1).max(axis=1)[:, None, None]  # percentile 100
        np.testing.assert_allclose(indirect["overlay"][m], 0.75 * s + 0.25 * cam, rtol=1e-4,
                                   atol=1e-5)
    np.testing.assert_allclose(indirect["ig_x_image"], ig * images / 255.0, rtol=1e-6)


def test_noisy_ig_without_noise_is_ig_and_the_noise_is_seeded(setup):
    model, x, target = setup
    black = -np.ones_like(x[:1])
    options = {"steps": 8, "batch_size": 4}
    ig = xai.explain(model, x[:1], method="integrated_gradients", target=target[:1],
                     baseline=black, progress=False, **options)
    quiet = study_part2.noisy_ig_map(model, x[:1], target[:1], black, 2, 0.0, **options)
    np.testing.assert_allclose(quiet, ig.sum(-1), rtol=1e-4, atol=1e-6)
    noisy = [study_part2.noisy_ig_map(model, x[:1], target[:1], black, 2, 0.2, seed=s,
                                      **options) for s in (1, 1, 2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])
    assert not np.allclose(noisy[0], noisy[2]) and not np.allclose(noisy[0], quiet)


def test_lattice_energy_finds_a_32_pixel_grid_and_not_noise():
    size = 224  # the lattice: multiples of 224 / 32 = 7 cycles per image on each axis
    tile = np.random.default_rng(0).normal(size=(32, 32))
    periodic = np.tile(tile, (7, 7))
    share, lattice = study_part2.lattice_energy(periodic)
    assert share == pytest.approx(1.0) and lattice == pytest.approx((32 * 32 - 1) / size ** 2)
    noise = np.random.default_rng(1).normal(size=(size, size))
    share, _ = study_part2.lattice_energy(noise)
    assert abs(share - lattice) < 0.005  # white noise: the lattice's share of the frequencies
    # by hand: the power at the frequencies (7i, 7j), the mean excluded
    power = np.abs(np.fft.fft2(noise - noise.mean())) ** 2
    assert share == pytest.approx(power[::7, ::7].sum() / power.sum())


def test_figures_are_written_for_each_photo(setup, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    model = setup[0]
    photos, _ = _photos(model, n=2)
    rng = np.random.default_rng(4)
    ig = rng.normal(size=photos.x.shape).astype(np.float32)
    cams = {"gradcam": rng.uniform(0, 1, photos.x.shape[:3]).astype(np.float32)}
    ig_map = ig.sum(-1)
    study_part2.direct_figures(photos, cams, ig_map, study_part2.direct_maps(cams, ig), 99,
                               "gap_net", tmp_path)
    study_part2.indirect_figures(photos, cams, study_part2.indirect_maps(
        cams, ig, photos.images, 0.5, 99), 0.5, 99, "gap_net", tmp_path)
    study_part2.noise_figure(photos, ig_map, ig_map, 2, 0.1, 99, "gap_net", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "p0_direct.png", "p0_ig_noise_average.png", "p0_indirect.png", "p1_direct.png",
        "p1_indirect.png"]
