"""Run profiles, output paths, and every notebook's opening (badge + setup cell) against the template."""

import json

import pytest

from utils import config
from utils.notebook import badge_markdown, opening_problems, repo_url, setup_cell_source, notebook_paths


def test_profile_from_env(monkeypatch):
    monkeypatch.delenv("FORKING_TOKENS_PROFILE", raising=False)
    monkeypatch.setenv("CI", "true")
    assert config.get_profile() == "ci"
    monkeypatch.setenv("CI", "")
    assert config.get_profile() == "default"
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "FULL")
    assert config.get_profile() == "full"
    assert config.pick(1, 2, 3) == 3
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "fast")
    with pytest.raises(ValueError, match="ci, default, full"):
        config.get_profile()


def test_ci_profile_never_writes_committed_outputs():
    assert config.figures_dir("ci") != config.REPO_ROOT / "figures"
    assert config.results_dir("ci") != config.DATA_DIR / "results"
    assert config.figures_dir("default") == config.REPO_ROOT / "figures"


def test_badge_and_setup_come_from_pyproject():
    url = repo_url()
    assert url.startswith("https://github.com/")
    assert url in setup_cell_source()
    assert "colab.research.google.com/github/" + url.removeprefix("https://github.com/") in badge_markdown("x.ipynb")


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_opening_matches_template(path):
    nb = json.loads(path.read_text())
    assert opening_problems(nb, path.name) == []


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_committed_executed(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["execution_count"] is not None for c in code), "run `make reproduce` before committing"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
