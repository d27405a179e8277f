"""Shared test fixtures.

Keras reads ``KERAS_HOME`` once, at import, so this file points it at a temporary *copy* of
``../shared/assets/keras_home`` (Keras writes ``keras.json`` into its home) before anything
imports keras. Tests that need an offline asset use the ``assets`` fixture, which skips with a
clear reason when the folder is not there.
"""
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parents[1]
ASSETS = Path(os.environ.get("XAI_ASSETS", ROOT.parent / "shared" / "assets"))

_keras_home = Path(tempfile.mkdtemp(prefix="xai-keras-home-"))
if (ASSETS / "keras_home").is_dir():
    shutil.copytree(ASSETS / "keras_home", _keras_home, dirs_exist_ok=True)
os.environ["KERAS_HOME"] = str(_keras_home)

import keras  # noqa: E402  (after KERAS_HOME is set)
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def assets():
    """Path to ../shared/assets; skips the test when it is missing."""
    if not ASSETS.is_dir():
        pytest.skip(f"offline assets not found at {ASSETS} (set XAI_ASSETS to their folder)")
    return ASSETS


@pytest.fixture(scope="session")
def mobilenet(assets):
    """The real ImageNet-trained MobileNet v1 (alpha 0.25) from the offline Keras cache."""
    return keras.applications.MobileNet(alpha=0.25, weights="imagenet")


@pytest.fixture(scope="session")
def mnist1d_seed_model(assets):
    """The original study's MNIST-1D CNN: a Keras 2 Sequential loaded from an old .h5."""
    return keras.models.load_model(assets / "seed_models" / "MNIST1D.h5", compile=False)


@pytest.fixture(scope="session")
def hmt_seed_model(assets):
    """The original study's HMT "VGG-7" (224x224x3 input in [0, 1], 8 classes)."""
    return keras.models.load_model(assets / "seed_models" / "HMT.h5", compile=False)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
