"""The steps notebooks 01 and 08 call (xai.studies.part1, xai.studies.evaluation): Part 1's photos
and figure panels, 08's sample counts, ranks and rank figure, checked against what they must give
by construction."""
import numpy as np
import pandas as pd
from PIL import Image

from xai.studies import evaluation, part1


def test_part1_photos_reads_image_files_only(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("b.png", "a.jpg", "c.JPEG"):
        Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    photos = part1.part1_photos(tmp_path)
    assert list(photos) == ["a", "b", "c"]
    assert all(p.shape == (9, 7, 3) and p.dtype == np.uint8 for p in photos.values())
    assert list(part1.part1_photos(tmp_path, smoke=True)) == ["a", "b"]


def test_part1_photos_default_is_the_bundled_photos_and_the_assets_jpgs(tmp_path):
    assert list(part1.part1_photos()) == ["chelsea", "coffee", "astronaut"]
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "voc.jpg")
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "skipped.png")  # jpg only
    assert list(part1.part1_photos(None, tmp_path)) == ["chelsea", "coffee", "astronaut",
                                                          "voc"]


def test_part1_panels_threshold_zero_keeps_every_class(assets):
    """CAMs are >= 0: at threshold 0 the masked photo is the photo, so every class is kept, with
    the probability the input panel shows."""
    photos = part1.part1_photos(smoke=True)
    cams, masked = part1.part1_panels(photos, ["mobilenet"], ["gradcam", "gradcam++"],
                                        threshold=0.0, model_options={"mobilenet": {"alpha": 0.25}})
    assert list(cams) == list(masked) == ["chelsea", "coffee"]
    for name in photos:
        (row,), (masked_row,) = cams[name], masked[name]
        assert len(row) == 3 and row[0]["data"].shape == (224, 224, 3)
        assert len(masked_row) == 2
        for panel in masked_row:
            np.testing.assert_array_equal(panel["data"], row[0]["data"])
            assert panel["title"] == row[0]["title"] + " (kept)"


def _scores(n=30, seed=0):
    """Deletion (lower is better) and insertion rows in two settings: gradcam clearly best,
    the constant map clearly worst; a flat-map count that is not a score."""
    rng = np.random.default_rng(seed)
    level = {"gradcam": 0.1, "random": 0.5, "constant": 0.9}
    rows = [{"sample": f"s{i}", "label": 0, "target": 0, "setting": setting, "method": m,
             "metric": metric, "value": (v if metric == "deletion" else 1 - v)
             + rng.normal(0, 0.01)}
            for setting in ("one", "two") for m, v in level.items()
            for metric in ("deletion", "insertion") for i in range(n)]
    rows += [{"sample": "s0", "label": 0, "target": 0, "setting": "one", "method": "constant",
              "metric": "flat_map", "value": 1.0}]
    return pd.DataFrame(rows)


def test_evaluation_sizes_counts_samples_per_setting_and_method():
    sizes = evaluation.evaluation_sizes(_scores(n=7).iloc[:-1])
    assert list(sizes.index) == ["one", "two"]
    assert list(sizes.columns) == ["gradcam", "random", "constant"]
    assert (sizes.to_numpy() == 7).all()


def test_evaluation_ranks_and_rank_figure(tmp_path):
    ranks = evaluation.evaluation_ranks(_scores(), tmp_path, seed=0)
    assert (tmp_path / "ranks.csv").is_file()
    assert set(ranks["metric"]) == {"deletion", "insertion"}  # flat_map is a count, not ranked
    best = ranks.set_index(["setting", "metric", "method"])["rank"]
    for setting in ("one", "two"):
        for metric in ("deletion", "insertion"):
            assert best[(setting, metric, "gradcam")] == 1
            assert best[(setting, metric, "constant")] == 3
    fig = evaluation.rank_figure(ranks)
    assert [ax.get_title() for ax in fig.axes] == ["one", "two"]
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "1", "2", "2", "3", "3"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Deletion AUC",
                                                                    "Insertion AUC"]
    # each rank is written in the colour (black or white) that contrasts more with its cell
    image = fig.axes[0].images[0]
    for t in fig.axes[0].texts:
        cell = np.asarray(image.cmap(image.norm(float(t.get_text()))))[:3]
        lum = _luminance(cell)
        expected = "black" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "white"
        assert t.get_color() == expected, (t.get_text(), cell)
    assert {t.get_color() for t in fig.axes[0].texts} == {"black", "white"}


def _luminance(rgb):
    """WCAG 2 relative luminance of an sRGB colour in [0, 1]."""
    c = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


def test_passes_table_shows_exact_as_yes_or_no():
    costs = pd.DataFrame({"method": ["gradcam", "sise"], "forward": [1, 9], "backward": [1, 2],
                          "exact": [True, False]})
    shown = evaluation._yes_no(costs, "exact")
    assert list(shown["exact"]) == ["yes", "no"]
    assert list(costs["exact"]) == [True, False]  # the table itself (and the CSV) keeps booleans
    assert "| yes " in shown.to_markdown(index=False) and "1.000" not in shown.to_markdown()

