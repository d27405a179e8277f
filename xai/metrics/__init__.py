"""Numbers from maps. These functions never compute explanations: they take maps (from
:func:`xai.explain` or anywhere else), and a model where the metric re-scores inputs.

* :mod:`.faithfulness` -- Average Drop / Increase, deletion / insertion AUC, and the tables of
  :func:`faithfulness` (perturb the input along the map's ranking, re-score).
* :mod:`.localisation` -- pointing game, energy share in a region, overlap and peak distance of
  two maps (maps and regions only, no model).
* :mod:`.fidelity` -- MuFidelity (Bhatt et al. 2020): correlation between a map's mass on random
  sets of grid cells and the score drop when they are removed.
* :mod:`.robustness` -- max-sensitivity (Yeh et al. 2019): the largest relative change of a
  map under small seeded input perturbations.
* :mod:`.cost` -- wall time and forward / backward passes per sample of a method.
* :mod:`.sanity` -- cascading model randomisation (Adebayo et al. 2018): Spearman and SSIM of
  the maps of the trained and of progressively randomised copies of the model.
"""
from .cost import cost, passes
from .faithfulness import (Faithfulness, combine_faithfulness, deletion_auc, drop_increase,
                           faithfulness, insertion_auc)
from .fidelity import grid_cells, mufidelity
from .robustness import max_sensitivity
from .sanity import map_ssim, randomisable_layers, sanity_check, spearman
from .localisation import (border_mask, box_mask, energy_share, peak_distance, pointing_game,
                           top_iou)

__all__ = ["drop_increase", "deletion_auc", "insertion_auc", "faithfulness",
           "combine_faithfulness", "Faithfulness", "pointing_game", "energy_share", "top_iou",
           "peak_distance", "box_mask", "border_mask", "sanity_check", "randomisable_layers",
           "spearman", "map_ssim", "mufidelity", "grid_cells",
           "max_sensitivity", "passes", "cost"]
