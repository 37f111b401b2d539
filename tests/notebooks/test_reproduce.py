"""utils.reproduce: the main job validates its inputs before any notebook runs, names a failing notebook and cell,
and never writes the committed notebooks outside the default profile."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from utils import reproduce


@pytest.mark.slow  # executes a notebook in a Jupyter kernel
def test_main_job_names_failing_notebook_and_cell(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    with pytest.raises(reproduce.NotebookFailed, match=r"99_broken.ipynb: cell 1 failed: .*boom"):
        reproduce.execute_notebook(path, "ci", timeout=60)
    assert path.read_bytes() == before  # a failed run writes nothing


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--profile", "bogus"], "'bogus' is not a run profile"), (["--only", "77"], "--only 77: no such notebook")],
)
def test_bad_arguments_exit_2_before_any_work(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert reproduce.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_uppercase_profile_is_the_ci_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    from utils.config import notebooks_out_dir, resolve_profile

    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "CI")
    assert resolve_profile("CI") == "ci" and notebooks_out_dir("ci").parts[-3:] == ("build", "ci", "notebooks")


def test_corrupt_run_times_fail_before_any_notebook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import utils.notebook as N

    bad = tmp_path / "run_times_default.json"
    bad.write_text('{"01_token_entropy.ipynb": 3')
    monkeypatch.setattr(N, "run_times_path", lambda profile: bad)
    ran: list = []
    monkeypatch.setattr(reproduce, "execute_notebook", lambda *a, **k: ran.append(a) or 0.0)
    assert reproduce.main(["--profile", "default", "--only", "01"]) == 2
    assert "run_times_default.json is truncated or not valid JSON" in capsys.readouterr().err and not ran
