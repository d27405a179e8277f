"""The bench's environment: where the Keras cache with the MobileNet weights comes from, the
private copy of it every bench process works in, and the description of the machine and library
versions that heads each bench report (bench/run.py, bench/cold.py, bench/engine.py)."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def keras_home_source() -> Path:
    for env in ("XAI_BENCH_KERAS_HOME", "KERAS_HOME"):
        if os.environ.get(env) and (Path(os.environ[env]) / "models").is_dir():
            return Path(os.environ[env])
    return ROOT.parent / "shared" / "assets" / "keras_home"


def setup_keras_home() -> str | None:
    """Copy the shipped Keras cache (MobileNet weights) to a temp dir; set KERAS_HOME before
    keras is imported. Returns the temp dir, or None when the assets are missing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    src = keras_home_source()
    if not (src / "models").is_dir():
        return None
    tmp = tempfile.mkdtemp(prefix="xai-bench-keras-")
    shutil.copytree(src, tmp, dirs_exist_ok=True)
    os.environ["KERAS_HOME"] = tmp
    return tmp


def offline_keras_or_exit(script: str) -> None:
    """:func:`setup_keras_home`, or exit with a message naming ``script`` when the offline assets
    are missing; progress bars off (a bench script's output is its table)."""
    if setup_keras_home() is None:
        sys.exit(f"{script} needs the offline assets (../shared/assets/keras_home)")
    os.environ.setdefault("TQDM_DISABLE", "1")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def library_versions(tf, keras) -> dict:
    """Versions of TensorFlow, Keras, the peers and xai (with its git commit; "+dirty" when
    xai/ has uncommitted changes). Imports xai."""
    versions = {"tensorflow": tf.__version__, "keras": keras.__version__}
    for mod, label in (("tf_keras_vis", "tf-keras-vis"), ("xplique", "xplique")):
        try:
            versions[label] = __import__(mod).__version__
        except Exception as e:
            versions[label] = f"unavailable ({type(e).__name__}: {e})"
    import xai
    versions["xai"] = getattr(xai, "__version__", "?")
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "xai"],
                               capture_output=True, text=True).stdout.strip()
        versions["xai"] += f" (git {sha}{'+dirty' if dirty else ''})"
    except OSError:
        pass
    return versions
