"""utils.notebook: every notebook's opening (badge, title, what you'll learn / need / how long, the setup cell)
against the template; the "How long" line is the measured one; notebooks are committed executed."""

from __future__ import annotations

import json

import nbformat
import pytest

from utils.notebook import (
    badge_markdown,
    device_line,
    how_long_line,
    notebook_paths,
    opening_problems,
    refresh_how_long,
    repo_url,
    setup_cell_source,
)


def test_badge_and_setup_come_from_pyproject() -> None:
    url = repo_url()
    assert url.startswith("https://github.com/")
    assert url in setup_cell_source()
    assert "colab.research.google.com/github/" + url.removeprefix("https://github.com/") in badge_markdown("x.ipynb")


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_opening_matches_template(path) -> None:
    nb = json.loads(path.read_text())
    assert opening_problems(nb, path.name) == []


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_committed_executed_without_local_paths(path) -> None:
    from utils.config import REPO_ROOT

    text = path.read_text()
    nb = json.loads(text)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["execution_count"] is not None for c in code), "run `make reproduce` before committing"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert str(REPO_ROOT) not in text, "an output holds this machine's absolute path"
    assert "Claim(" not in text, "a cell prints a dataclass repr"


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_kernelspec_is_what_jupyterlab_writes(path) -> None:
    """JupyterLab rewrote 'Python 3' to ipykernel's 'Python 3 (ipykernel)' on open, marking every notebook modified."""
    from utils.reproduce import KERNELSPEC

    assert json.loads(path.read_text(encoding="utf-8"))["metadata"]["kernelspec"] == KERNELSPEC


def test_how_long_line_is_generated() -> None:
    line = how_long_line("01_token_entropy.ipynb")
    assert line.startswith("**How long** (measured by `make reproduce`") and "default" in line
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T\n\n**How long**: ages")]
    assert refresh_how_long(nb, "01_token_entropy.ipynb") and line in nb.cells[0].source
    assert not refresh_how_long(nb, "01_token_entropy.ipynb")


def test_device_line_says_what_runs_where() -> None:
    line = device_line()
    assert line.startswith("device:") and ("CPU" in line)
