"""The tiers (README, "Testing"): a test not marked ``slow`` -- like these -- cannot execute a
notebook or load a real language model (tests/conftest.py), so ``pytest -m "not slow"``
(``make unit``) does neither."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from utils.config import REPO_ROOT


def test_a_test_not_marked_slow_cannot_execute_a_notebook() -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(pytest.fail.Exception, match="a notebook executed in a test not marked"):
        NotebookClient(nb, kernel_name="python3").execute()


def test_a_test_not_marked_slow_cannot_load_a_language_model() -> None:
    from transformers import AutoModelForCausalLM

    with pytest.raises(pytest.fail.Exception, match="a language model loaded in a test not marked"):
        AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct")


def test_a_subprocess_of_a_test_not_marked_slow_gets_a_kernel_that_exits_at_once() -> None:
    """A notebook executed by a command line this test starts (out of reach of the patches) finds
    a ``python3`` kernel that exits with the message before it runs a cell."""
    code = ("import json; from jupyter_client.kernelspec import KernelSpecManager\n"
            "print(json.dumps(KernelSpecManager().get_kernel_spec('python3').argv))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=dict(os.environ),
                         capture_output=True, text=True, encoding="utf-8", check=True).stdout
    argv = json.loads(out)
    assert argv[1] == "-c" and "not marked slow" in argv[2]


def test_every_test_file_lies_in_a_tier() -> None:
    tests = REPO_ROOT / "tests"
    loose = sorted(p.name for p in tests.glob("test_*.py"))
    assert not loose, f"put {loose} in tests/unit, integration or notebooks (README, Testing)"
    tiers = {p.name for p in tests.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert tiers == {"unit", "integration", "notebooks"}


def test_nbvals_cells_are_slow() -> None:
    """``make test`` runs nbval in the same session: its cells are ``slow``, else the guard would
    hand their kernel the one that exits at once."""
    import conftest  # tests/conftest.py

    marked: list = []
    cell = SimpleNamespace(path=Path("notebooks/01_token_entropy.ipynb"), add_marker=marked.append)
    test = SimpleNamespace(path=Path("tests/unit/test_tiers.py"), add_marker=marked.append)
    conftest.pytest_collection_modifyitems(None, [cell, test])
    assert [m.name for m in marked] == ["slow"]
