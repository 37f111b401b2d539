"""utils.reproduce.readme: README's generated blocks are current and replaceable."""

from __future__ import annotations

import pytest

from utils.config import REPO_ROOT
from utils.reproduce.readme import notebook_index_markdown, replace_block, run_times_markdown


def test_replace_block() -> None:
    text = "a\n<!-- x:start -->\nold\n<!-- x:end -->\nb"
    assert replace_block(text, "x", "new") == "a\n<!-- x:start -->\nnew\n<!-- x:end -->\nb"
    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers", "x", "new")


def _block(name: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    return readme.split(f"<!-- {name}:start -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


def test_readme_notebook_index_is_current() -> None:
    assert _block("notebooks") == notebook_index_markdown(), "README's notebook index is stale: run make reproduce"


def test_readme_run_times_are_current() -> None:
    assert _block("runtimes") == run_times_markdown(), "README's run times are stale: run make reproduce"


def test_a_profile_measured_on_some_notebooks_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import utils.reproduce.readme as rd

    names = [p.name for p in rd.notebook_paths()]
    times = {"ci": {n: 60.0 for n in names}, "default": {}, "full": {names[0]: 120.0}}
    monkeypatch.setattr(rd, "load_run_times", lambda prof: times[prof])
    table = rd.run_times_markdown()
    assert "| default |" not in table.splitlines()[0]  # never measured: no column
    total = table.splitlines()[-1]
    assert f"{len(names):.1f} min | 2.0 min (1 of {len(names)} notebooks) |" in total
    assert f"| {names[1]} | 1.0 min | – |" in table
