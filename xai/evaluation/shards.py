"""The on-disk form of a run: the manifest (settings, versions, each shard's checksum), the
gzipped CSV shards (one row per sample × method × row metric), written whole and byte for byte
reproducible, and the reading back of finished shards and of a whole run's table.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from .methods import BASELINES

COLUMNS = ["sample", "label", "target", "method", "metric", "value"]
_FORMAT = 1  # shard and manifest layout version


def run_settings(model, source, specs, metrics, metric_options, subsets, seed, shard_size,
                 target, baselines=BASELINES) -> dict:
    """The run's settings as the manifest keeps them: a resumed run must have the same."""
    ids = "" if source.ids is None else "\n".join(source.ids)
    return {
        "format": _FORMAT,
        "model": {"name": model.name, "parameters": int(model.count_params()),
                  "input_shape": [None if d is None else int(d)
                                  for d in model.inputs[0].shape]},
        "data": {"description": source.description,
                 "samples": None if source.ids is None else len(source.ids),
                 "ids_sha256": hashlib.sha256(ids.encode()).hexdigest()},
        "methods": {s.label: s.describe() for s in specs},
        "baselines": list(baselines),
        "metrics": {m: metric_options.get(m, {}) for m in metrics},
        "subsets": subsets, "seed": int(seed), "shard_size": int(shard_size),
        "target": target if isinstance(target, str) else "given",
    }


def versions() -> dict:
    """The versions of xai and of the libraries that computed the run, for the manifest."""
    import keras
    import tensorflow as tf

    from .. import __version__
    return {"xai": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "numpy": np.__version__}


def to_json(obj) -> str:
    """The manifest's JSON text: indented, keys sorted."""
    return json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file, then rename it: ``path`` is whole or absent."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def shard_bytes(rows: list) -> bytes:
    """CSV (values to 6 significant digits) gzipped with no time stamp: the same rows give the
    same bytes on every run."""
    import pandas as pd

    text = pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False, float_format="%.6g")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
        f.write(text.encode())
    return buf.getvalue()


def open_manifest(out: Path, settings: dict, overwrite: bool) -> dict:
    """The manifest in ``out`` to resume (same settings), or a new one (old shards removed)."""
    path = out / "manifest.json"
    if path.is_file() and not overwrite:
        manifest = json.loads(path.read_text())
        if json.loads(to_json(manifest["settings"])) != json.loads(to_json(settings)):
            changed = sorted(k for k in settings if manifest["settings"].get(k) != settings[k])
            raise ValueError(f"{out} holds an evaluation with other settings ({', '.join(changed)}"
                             "); use another out= folder, or overwrite=True to start again")
        return manifest
    for old in out.glob("shard-*.csv.gz"):
        old.unlink()
    return {"settings": settings, "shards": {}}


def read_shard(data: bytes):
    """A shard's bytes as a table (``sample`` ids stay text)."""
    import pandas as pd
    return pd.read_csv(io.BytesIO(data), compression="gzip", dtype={"sample": str})


def finished_shard(out: Path, index: int, manifest: dict) -> bytes | None:
    """A finished shard's bytes, or None when it is missing, not in the manifest or does not
    match its checksum (edited or damaged: computed again)."""
    name = f"shard-{index:05d}.csv.gz"
    info = manifest["shards"].get(name)
    if info is None or not (out / name).is_file():
        return None
    data = (out / name).read_bytes()
    return data if hashlib.sha256(data).hexdigest() == info["sha256"] else None


def concat_shards(frames):
    """The shards' tables as one (the columns of :data:`COLUMNS` when there is none)."""
    import pandas as pd
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)


def load_table(out, verify=True):
    """The per-sample table of a finished (or partial) run in ``out``, shards in order; with
    ``verify``, each shard's checksum is checked against the manifest (an edited value fails)."""
    out = Path(out)
    manifest = json.loads((out / "manifest.json").read_text())
    frames = []
    for name, info in sorted(manifest["shards"].items()):
        data = (out / name).read_bytes()
        if verify and hashlib.sha256(data).hexdigest() != info["sha256"]:
            raise ValueError(f"{out / name} does not match its checksum in manifest.json: it was "
                             "edited or damaged; re-run the evaluation to regenerate it")
        frames.append(read_shard(data))
    return concat_shards(frames)
