"""Evaluation at dataset scale: methods × metrics over a data source, one row per sample ×
method × metric, written in resumable shards with a manifest.

    src = xai.evaluation.from_arrays(x, labels)
    table = xai.evaluation.evaluate(model, src, ["gradcam", "rise"], ["deletion", "insertion"],
                                    out="runs/photos")
    summary = xai.stats.summarise(table, xai.evaluation.higher_is_better(table))

* :mod:`.sources` -- arrays, image files with labels, a ``tf.data.Dataset`` or any iterable of
  samples; each shard is loaded in a background thread while the previous one is computed.
* :mod:`.engine` -- :func:`evaluate`: shards ``out/shard-00000.csv.gz`` (columns ``sample``,
  ``label``, ``target``, ``method``, ``metric``, ``value``), each written whole (temporary file,
  then rename), so a run killed midway loses at most the shard in progress and a re-run skips
  the finished ones (recomputing any that fails its checksum); ``out/manifest.json`` holds
  the settings, versions and each shard's checksum. Seeds come from (seed, sample id), never
  from a sample's position, so the table does not depend on the order, the shard size of a
  re-run or the number of workers.
* :mod:`.methods` -- the methods of a run (registered names with options, or callables), their
  display maps, the random and constant baselines, and :func:`passes_table`.
* :mod:`.shards` -- the manifest and the shard files, and :func:`load_table` to read a run back.
* :mod:`.metrics` -- the metrics the engine knows by name, each a short call of
  :mod:`xai.metrics` returning per-sample values.
"""
from .engine import evaluate, sample_seed
from .methods import BASELINES, passes_table
from .metrics import METRICS, higher_is_better
from .shards import load_table
from .sources import Source, from_arrays, from_dataset, from_files, from_iterable

__all__ = ["evaluate", "load_table", "passes_table", "sample_seed", "BASELINES", "METRICS",
           "higher_is_better", "Source", "from_arrays", "from_files", "from_dataset",
           "from_iterable"]
