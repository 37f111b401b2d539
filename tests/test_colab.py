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
    setup_cell = "".join(moved["cells"][1]["source"])
    assert 'REPO_URL = os.environ.get("FORKING_TOKENS_REPO", "https://github.com/someone/elsewhere")' in setup_cell
    assert N.opening_problems(moved, path.name) == []
    assert not N.refresh_opening(moved, path.name)  # idempotent
    # the rest of the first cell (title, what you'll learn) is kept
    assert first.split("\n")[1:] == "".join(nb["cells"][0]["source"]).split("\n")[1:]


def test_readme_table_badges_follow_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from utils import readme

    monkeypatch.setattr(N, "repo_url", lambda: "https://github.com/someone/elsewhere")
    assert readme.notebook_index_markdown().count("github/someone/elsewhere/blob/main/notebooks/") == len(N.notebook_paths())


# ------------------------------------------------------------------------------------ the setup cell's Colab branch

#: Run first in a kernel: what Colab's kernel has imported when a notebook starts.
FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'


def test_setup_cell_failures_are_one_line(tmp_path) -> None:
    """No git, a clone that fails, an install that fails: each stops the setup cell with one line that names the
    command and git's or pip's own error, not a traceback. (Nothing is installed: the failing install is of a folder
    that is not a Python project, which pip rejects before it changes anything.)"""
    import nbformat
    from nbclient import NotebookClient

    (tmp_path / "opened").mkdir()
    (tmp_path / "no_git").mkdir()
    (tmp_path / "not_a_project" / "utils").mkdir(parents=True)  # a "clone" there already: only the install runs
    cases = {
        "clone fails": f'os.environ["FORKING_TOKENS_REPO"] = "{tmp_path / "nowhere"}"\n'
                       f'os.environ["FORKING_TOKENS_COLAB_DIR"] = "{tmp_path / "clone"}"',
        "no git": f'PATH = os.environ["PATH"]\nos.environ["PATH"] = "{tmp_path / "no_git"}"',
        "install fails": f'os.environ["PATH"] = PATH\n'
                         f'os.environ["FORKING_TOKENS_COLAB_DIR"] = "{tmp_path / "not_a_project"}"',
    }
    cells = [nbformat.v4.new_code_cell(f'{FAKE_COLAB}\nimport os\nos.chdir("{tmp_path / "opened"}")')]
    for env in cases.values():
        cells += [nbformat.v4.new_code_cell(env), nbformat.v4.new_code_cell(N.setup_cell_source())]
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True).execute()
    errors = {name: [o for o in nb.cells[2 + 2 * i].outputs if o.output_type == "error"]
              for i, name in enumerate(cases)}
    assert all(len(e) == 1 and e[0].ename == "SetupError" and len(e[0].traceback) == 1 for e in errors.values()), errors
    line = {name: e[0].traceback[0] for name, e in errors.items()}
    assert "git clone --depth 1" in line["clone fails"] and "fatal:" in line["clone fails"]
    assert line["no git"].startswith("SetupError: cannot run git")
    assert "pip install" in line["install fails"] and "does not appear to be a Python project" in line["install fails"]
    assert not (tmp_path / "clone").exists()
