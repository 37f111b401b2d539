"""The Colab path (issue 22, section 7): the repository address is one setting (pyproject's ``[project.urls]
Repository``); every badge and the setup cell follow it, and ``refresh_openings`` rewrites the notebooks' openings."""

from __future__ import annotations

import copy
import json

import pytest

from utils import notebook as N


def test_a_new_address_rewrites_badge_and_setup_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    path = N.notebook_paths()[0]
    nb = json.loads(path.read_text(encoding="utf-8"))
    monkeypatch.setattr(N, "repo_url", lambda: "https://github.com/someone/elsewhere")
    moved = copy.deepcopy(nb)
    assert N.refresh_opening(moved, path.name)
    first = "".join(moved["cells"][0]["source"])
    assert first.startswith("[![Open In Colab]") and "colab.research.google.com/github/someone/elsewhere/blob/main/notebooks/" in first
    assert 'REPO_URL = "https://github.com/someone/elsewhere"' in "".join(moved["cells"][1]["source"])
    assert N.opening_problems(moved, path.name) == []
    assert not N.refresh_opening(moved, path.name)  # idempotent
    # the rest of the first cell (title, what you'll learn) is kept
    assert first.split("\n")[1:] == "".join(nb["cells"][0]["source"]).split("\n")[1:]


def test_readme_table_badges_follow_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from utils import readme

    monkeypatch.setattr(N, "repo_url", lambda: "https://github.com/someone/elsewhere")
    assert readme.notebook_index_markdown().count("github/someone/elsewhere/blob/main/notebooks/") == len(N.notebook_paths())
