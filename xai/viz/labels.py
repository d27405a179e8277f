"""Words and colours for figures: a metric's column name as readers say it
(:func:`metric_label`) and a readable text colour over a coloured cell (:func:`text_colour`)."""
from __future__ import annotations

import numpy as np

#: metric column names (as the engine and the studies write them) → how figures show them
METRIC_LABELS = {
    "deletion": "Deletion AUC", "deletion_auc": "Deletion AUC",
    "insertion": "Insertion AUC", "insertion_auc": "Insertion AUC",
    "drop": "Average Drop", "increase": "Increase in Confidence", "gain": "Average Gain",
    "mufidelity": "µ-Fidelity", "max_sensitivity": "Max-Sensitivity",
    "pointing_game": "Pointing game", "energy_share": "Energy share in box",
    "top2_iou": "IoU, top-1 vs runner-up map",
    "top2_peak_distance": "Peak distance, top-1 vs runner-up",
    "top2_rank_correlation": "Rank correlation, top-1 vs runner-up map",
    "counterfactual_empty": "Empty counterfactual map",
    "counterfactual_iou": "IoU, counterfactual vs runner-up map",
    "spearman": "Spearman", "spearman_abs": "Spearman of |map|", "ssim": "SSIM",
}
_ACRONYMS = {"auc": "AUC", "iou": "IoU", "ssim": "SSIM", "roc": "ROC", "cam": "CAM"}


def metric_label(name: str) -> str:
    """The label figures show for the metric column ``name``: :data:`METRIC_LABELS`, else the
    name with spaces for underscores, a capital first letter and acronyms in capitals
    ("deletion_auc" → "Deletion AUC", "top3_iou" → "Top3 IoU")."""
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    words = [_ACRONYMS.get(w.lower(), w) for w in str(name).split("_") if w]
    if not words:
        raise ValueError(f"metric name {name!r} has no words to show")
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])


def _luminance(rgb) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours in [0, 1] (..., 3 or 4; alpha ignored):
    0.2126 R + 0.7152 G + 0.0722 B of the linearised channels."""
    c = np.asarray(rgb, dtype=np.float64)[..., :3]
    if c.size == 0 or c.min() < 0 or c.max() > 1:
        raise ValueError("colours must be RGB(A) values in [0, 1] (matplotlib's cmap(x) gives "
                         "them)")
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def text_colour(background) -> str:
    """"black" or "white", whichever contrasts more with ``background`` (an RGB(A) colour in
    [0, 1]) by the WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05)."""
    lum = float(_luminance(background))
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"
