"""XAI_PROFILE, set by the study notebooks before ``import xai``: "offline" points Keras at a
writable copy of the offline Keras cache, before Keras reads KERAS_HOME; the tests' own
KERAS_HOME is respected; a missing cache is named."""
import os
import subprocess
import sys
from pathlib import Path

CODE = ("import os, xai, keras; from pathlib import Path; "
        "print(os.environ.get('KERAS_HOME')); print(os.environ.get('TF_CPP_MIN_LOG_LEVEL')); "
        "from keras.src.backend import config; print(Path(config.keras_home()).resolve())")


def _run(**env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("KERAS_HOME", "XAI_PROFILE", "TF_CPP_MIN_LOG_LEVEL")}
    return subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          env={**base, **env})


def test_offline_profile_copies_the_keras_cache_before_keras_loads(assets):
    done = _run(XAI_PROFILE="offline", XAI_ASSETS=str(assets))
    assert done.returncode == 0, done.stderr[-2000:]
    home, level, keras_home = done.stdout.split()
    assert home != "None" and level == "3"
    assert keras_home == str(os.path.realpath(home))  # Keras itself uses the copy
    original = sorted(p.relative_to(assets / "keras_home")
                      for p in (assets / "keras_home").rglob("*") if p.is_file())
    copied = sorted(p.relative_to(home) for p in Path(home).rglob("*") if p.is_file())
    assert original and set(original) <= set(copied)


def test_without_a_profile_nothing_is_set(tmp_path):
    done = _run(XAI_ASSETS=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[:2] == ["None", "None"]


def test_a_given_keras_home_is_kept(tmp_path, assets):
    done = _run(XAI_PROFILE="offline", XAI_ASSETS=str(assets), KERAS_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == str(tmp_path)


def test_a_missing_offline_cache_is_named(tmp_path):
    done = _run(XAI_PROFILE="offline", XAI_ASSETS=str(tmp_path))
    assert done.returncode != 0
    assert "keras_home" in done.stderr and "XAI_ASSETS" in done.stderr
