"""utils.config: run profiles (normalised and validated in one place) and where each profile writes."""

from __future__ import annotations

import pytest

from utils import config


def test_profile_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORKING_TOKENS_PROFILE", raising=False)
    monkeypatch.setenv("CI", "true")
    assert config.get_profile() == "ci"
    monkeypatch.setenv("CI", "")
    assert config.get_profile() == "default"
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", " FULL ")
    assert config.get_profile() == "full"
    assert config.pick(1, 2, 3) == 3
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "fast")
    with pytest.raises(config.ProfileError, match="ci, default, full"):
        config.get_profile()


def test_resolve_profile_normalises_or_rejects() -> None:
    assert config.resolve_profile("CI") == "ci" and config.resolve_profile(" Default") == "default"
    for bad in ("bogus", "", "c i"):
        with pytest.raises(config.ProfileError, match="not a run profile"):
            config.resolve_profile(bad)


def test_only_default_writes_the_committed_figures_and_notebooks() -> None:
    assert config.figures_dir("default") == config.REPO_ROOT / "figures"
    assert config.results_dir("default") == config.DATA_DIR / "results"
    for p in ("ci", "full"):
        assert config.figures_dir(p).is_relative_to(config.BUILD_DIR)
        assert config.notebooks_out_dir(p).is_relative_to(config.BUILD_DIR)
    assert config.results_dir("ci").is_relative_to(config.BUILD_DIR)
    assert config.results_dir("full") == config.precomputed_dir() == config.DATA_DIR / "results" / "full"
