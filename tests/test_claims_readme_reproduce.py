"""Claims ledger rows, README generated blocks, and the main job's failure message."""


import nbformat
import pytest

from utils import claims, config
from utils.readme import notebook_index_markdown, replace_block


def test_record_and_build_ledger(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    row = dict(id="x.one", claim="a | b", source="seed", measured="m", verdict="corrected", why="w",
               notebook="01_token_entropy.ipynb", section="S", figure="01_f")
    claims.record_claim(**row)
    claims.record_claim(**{**row, "measured": "m2"})  # same id: replaced, not duplicated
    rows = claims.load_claims("ci")
    assert len(rows) == 1 and rows[0]["measured"] == "m2"
    md = claims.build_ledger("ci").read_text()
    assert "a \\| b" in md and "**corrected**" in md and "figures/01_f.png" in md
    with pytest.raises(ValueError, match="verdict"):
        claims.record_claim(**{**row, "verdict": "great"})
    with pytest.raises(ValueError, match="source"):
        claims.record_claim(**{**row, "source": "blog"})


def test_replace_block():
    text = "a\n<!-- x:start -->\nold\n<!-- x:end -->\nb"
    assert replace_block(text, "x", "new") == "a\n<!-- x:start -->\nnew\n<!-- x:end -->\nb"
    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers", "x", "new")


def test_readme_notebook_index_is_current():
    readme = (config.REPO_ROOT / "README.md").read_text()
    block = readme.split("<!-- notebooks:start -->\n", 1)[1].split("\n<!-- notebooks:end -->", 1)[0]
    assert block == notebook_index_markdown(), "README's notebook index is stale: run make reproduce (or utils.readme.refresh_readme)"


def test_main_job_names_failing_notebook_and_cell(tmp_path):
    from utils.reproduce import NotebookFailed, execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(NotebookFailed, match=r"99_broken.ipynb: cell 1 failed: .*boom"):
        execute_notebook(path, "ci", timeout=60)
