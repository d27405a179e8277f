"""xai.studies.setup: where a study notebook's outputs go and how its path parameters resolve."""
from pathlib import Path

import pytest

import xai.studies


def test_setup_makes_the_study_folder_in_the_output_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XAI_OUTPUT_DIR", str(tmp_path / "results"))
    study = xai.studies.setup("hmt", "../FinalResults", "offline", smoke=True)
    assert study.results == (tmp_path / "results").resolve()
    assert study.out == study.results / "hmt" and study.out.is_dir()
    assert study.root == Path(xai.__file__).resolve().parents[1]
    assert study.notebooks == study.root / "notebooks"
    assert "smoke run" in capsys.readouterr().out


def test_path_parameters_resolve_from_notebooks_home_or_the_assets(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    study = xai.studies.setup("x", profile="online")
    assert study.path("../models/a.keras", "b") == (study.root / "models" / "a.keras").resolve()
    assert study.path("~/data", "b") == (tmp_path / "home" / "data").resolve()
    assert study.path(str(tmp_path / "abs"), "b") == (tmp_path / "abs").resolve()
    assert study.path(None, "seed_models/HMT.h5") == study.assets / "seed_models" / "HMT.h5"


def test_an_unknown_profile_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_OUTPUT_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="online.*offline"):
        xai.studies.setup("x", profile="offine")
    assert not (tmp_path / "x").exists()
