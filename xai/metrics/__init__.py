"""Numbers from maps. These functions never compute explanations: they take maps (from
:func:`xai.explain` or anywhere else), and a model where the metric re-scores inputs.

* :mod:`.faithfulness` -- Average Drop / Increase, deletion / insertion AUC, and the tables of
  :func:`faithfulness` (perturb the input along the map's ranking, re-score).
* :mod:`.localisation` -- pointing game, energy share in a region, overlap and peak distance of
  two maps (maps and regions only, no model).
"""
from .faithfulness import (Faithfulness, bootstrap_interval, combine_faithfulness,
                           deletion_auc, drop_increase, faithfulness, insertion_auc)
from .localisation import (border_mask, box_mask, energy_share, peak_distance, pointing_game,
                           top_iou)

__all__ = ["drop_increase", "deletion_auc", "insertion_auc", "faithfulness",
           "combine_faithfulness", "Faithfulness", "bootstrap_interval", "pointing_game", "energy_share", "top_iou",
           "peak_distance", "box_mask", "border_mask"]
