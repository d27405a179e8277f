"""Numbers from maps. Most functions take maps (from :func:`xai.explain` or anywhere else) and,
where the metric re-scores inputs, the model; the sanity check, max-sensitivity and cost re-run
a method by name (``xai.explain``), since what they measure is how its maps change.

* :mod:`.faithfulness` -- Average Drop / Increase / Gain (:mod:`.confidence`), deletion /
  insertion AUC (:mod:`.deletion`), and the tables of :func:`faithfulness` (perturb the input
  along the map's ranking, re-score).
* :mod:`.road` -- ROAD (Rong et al. 2022): MoRF / LeRF curves with noisy linear imputation.
* :mod:`.fidelity` -- MuFidelity (Bhatt et al. 2020): correlation between a map's mass on random
  sets of grid cells and the score drop when they are removed.
* :mod:`.localisation` -- pointing game, energy share in a region, overlap and peak distance of
  two maps, regions from the hand-drawn boxes (maps and regions only, no model).
* :mod:`.robustness` -- max-sensitivity (Yeh et al. 2019): the largest relative change of a
  map under small seeded input perturbations.
* :mod:`.sanity` -- cascading model randomisation (Adebayo et al. 2018): Spearman and SSIM of
  the maps of the trained model and of progressively randomised copies.
* :mod:`.reclassification` -- masked re-classification (Chattopadhay et al. 2018) with
  same-area random and centred controls.
* :mod:`.cost` -- wall time and forward / backward passes per sample of a method.
"""
from ._scoring import blur as blurred
from .cost import cost, passes
from .faithfulness import (
    Faithfulness,
    bootstrap_interval,
    combine_faithfulness,
    deletion_auc,
    drop_increase,
    faithfulness,
    insertion_auc,
)
from .fidelity import grid_cells, mufidelity
from .localisation import (
    border_mask,
    box_mask,
    energy_share,
    object_mask,
    peak_distance,
    pointing_game,
    top_iou,
)
from .reclassification import centre_region, masked_reclassification, random_region
from .road import noisy_linear_impute, road
from .robustness import max_sensitivity
from .sanity import (
    map_ssim,
    randomisable_layers,
    sanity_check,
    sanity_curves,
    sanity_verdict,
    spearman,
)

__all__ = ["drop_increase", "deletion_auc", "insertion_auc", "faithfulness",
           "combine_faithfulness", "Faithfulness", "bootstrap_interval", "mufidelity",
           "grid_cells", "pointing_game", "energy_share", "top_iou", "peak_distance",
           "box_mask", "border_mask", "object_mask", "max_sensitivity", "sanity_check",
           "randomisable_layers", "sanity_curves", "sanity_verdict", "spearman", "map_ssim",
           "passes", "cost", "road", "noisy_linear_impute", "masked_reclassification",
           "random_region", "centre_region", "blurred"]
