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
    from utils.reproduce import readme

    monkeypatch.setattr(N, "repo_url", lambda: "https://github.com/someone/elsewhere")
    assert readme.notebook_index_markdown().count("github/someone/elsewhere/blob/main/notebooks/") == len(N.notebook_paths())


# ------------------------------------------------------------------------------------ the setup cell's Colab branch

#: Run first in a kernel: what Colab's kernel has imported when a notebook starts.
FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'


@pytest.mark.slow  # executes a notebook in a Jupyter kernel
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
    one_line = [len(e) == 1 and e[0].ename == "SetupError" and len(e[0].traceback) == 1 for e in errors.values()]
    assert all(one_line), errors
    line = {name: e[0].traceback[0] for name, e in errors.items()}
    assert "git clone --depth 1" in line["clone fails"] and "fatal:" in line["clone fails"]
    assert line["no git"].startswith("SetupError: cannot run git")
    assert "pip install" in line["install fails"] and "does not appear to be a Python project" in line["install fails"]
    assert not (tmp_path / "clone").exists()


# ------------------------------------------------------------------------------------------------ a simulated Colab


def _git(*args: str, cwd=None) -> str:
    import subprocess

    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _link_or_copy(src: str, dst: str) -> None:
    import os
    import shutil

    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst)


@pytest.fixture(scope="module")
def colab(tmp_path_factory: pytest.TempPathFactory):
    """A simulated Colab, offline, in a temporary folder (removed afterwards):

    - ``origin.git``: a bare clone of this repository whose ``main`` is the commit checked out here (HEAD: changes
      not committed are not in it), cloned by the setup cell through a ``file://`` address, shallow as from GitHub;
    - ``runtime``: the Python environment the kernel runs in, standing in for Colab's preinstalled one: a copy of
      the environment running the tests with this package removed (and ``trl`` and ``gguf``, so that the setup
      cell's ``pip install -e`` has dependencies to install into a running kernel). A copy rather than a new venv
      filled from the package index, which takes over 5 minutes on two busy cores. The copy's files are hard links
      where the file system allows (2 GB not written, nor deleted afterwards): safe, because nothing writes into an
      installed file in place (pip unlinks a file before it writes one at the same path and moves files away to
      uninstall; Python writes bytecode to a new file and renames it). Its torch is "Colab's": a pip constraint
      pins it, so an install that would change it fails instead;
    - a kernel that imports ``google.colab`` (a stand-in module) at start, as Colab's does; no ``PYTHONPATH``
      to this checkout; ``FORKING_TOKENS_REPO`` and ``FORKING_TOKENS_COLAB_DIR`` point at the two folders.
    """
    import json
    import os
    import shutil
    import subprocess
    import sys
    from importlib.metadata import version

    from utils.config import REPO_ROOT

    if sys.prefix == sys.base_prefix:
        pytest.skip("the simulated Colab copies the virtual environment the tests run in; this is not one")
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("the simulated Colab clones this checkout: needs git and a git checkout")
    root = tmp_path_factory.mktemp("colab")
    sha = _git("rev-parse", "HEAD", cwd=REPO_ROOT)
    origin = root / "origin.git"
    _git("clone", "--quiet", "--bare", str(REPO_ROOT), str(origin))
    _git("--git-dir", str(origin), "update-ref", "refs/heads/main", sha)
    _git("--git-dir", str(origin), "symbolic-ref", "HEAD", "refs/heads/main")

    runtime = root / "runtime"
    shutil.copytree(sys.prefix, runtime, symlinks=True, copy_function=_link_or_copy)
    python = runtime / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{runtime / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", "forking-tokens", "trl", "gguf"], cwd=root,
                   env=env, check=True, capture_output=True)
    probe = "import importlib.util as u; print([m for m in ('utils', 'trl', 'gguf') if u.find_spec(m)])"
    seen = subprocess.run([python, "-c", probe], cwd=root, env=env, check=True, capture_output=True, text=True)
    assert seen.stdout.strip() == "[]", f"the runtime still sees {seen.stdout.strip()}"

    torch_version = version("torch")
    pins = root / "colab-pins.txt"
    pins.write_text(f"torch=={torch_version}\n" + (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8"))
    fake = root / "fake_colab" / "google" / "colab"  # google/ stays a namespace package (protobuf's lives there)
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab (tests/test_colab.py)."""\n')
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab\n")
    spec = root / "jupyter" / "kernels" / "colab-sim"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "colab-sim", "language": "python"}))
    env.update({
        "FORKING_TOKENS_REPO": origin.as_uri(), "FORKING_TOKENS_COLAB_DIR": str(root / "content" / "forking-tokens"),
        "FORKING_TOKENS_PROFILE": "ci", "PIP_CONSTRAINT": str(pins), "PYTHONPATH": str(root / "fake_colab"),
        "IPYTHONDIR": str(root / "ipython"), "HF_HUB_OFFLINE": "1", "JUPYTER_PATH": str(root / "jupyter"),
    })
    yield {"root": root, "sha": sha, "python": python, "env": env, "torch": torch_version,
           "clone": root / "content" / "forking-tokens"}
    shutil.rmtree(root, ignore_errors=True)


#: Appended to each notebook run in the simulated Colab: what the kernel ended with.
REPORT_CELL = '''import json, os, sys
import torch, utils
print("COLAB-SIM " + json.dumps({"utils": utils.__file__, "python": sys.executable, "cwd": os.getcwd(),
                                 "torch": torch.__version__, "colab": "google.colab" in sys.modules,
                                 "trl": sys.modules["trl"].__file__ if "trl" in sys.modules else None}))'''


def _run_in_colab(colab, notebook: str, upto: str | None = None) -> tuple[dict, str]:
    """Copy ``notebooks/<notebook>`` alone into an empty folder and execute it (up to and including the first code
    cell containing ``upto``) in the simulated Colab; return the report cell's record and the setup cell's text."""
    import json
    import shutil

    import nbformat
    from nbclient import NotebookClient

    from utils.config import REPO_ROOT

    opened = colab["root"] / f"opened-{notebook[:2]}"
    opened.mkdir()
    path = opened / notebook
    shutil.copy(REPO_ROOT / "notebooks" / notebook, path)
    nb = nbformat.read(path, as_version=4)
    if upto is not None:
        last = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and upto in c.source)
        nb.cells = nb.cells[: last + 1]
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", colab["env"]["JUPYTER_PATH"])  # where the kernel spec "colab-sim" lies
        client = NotebookClient(nb, timeout=900, kernel_name="colab-sim",
                                resources={"metadata": {"path": str(opened)}})
        client.execute(env=colab["env"])  # an error output in any cell raises CellExecutionError: the asserts held
    out = lambda c: "".join(o.get("text", "") for o in c.get("outputs", []))  # noqa: E731
    report = next(l for l in out(nb.cells[-1]).splitlines() if l.startswith("COLAB-SIM "))
    setup = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(N.SETUP_MARKER))
    return json.loads(report.removeprefix("COLAB-SIM ")), out(setup)


@pytest.mark.slow
def test_notebooks_run_in_a_simulated_colab(colab) -> None:
    """Issue 35: the setup cell's Colab branch, executed the way Colab runs it. Notebook 01, alone in an empty folder
    outside the repository, runs to its end (ci profile) in a kernel that has ``google.colab`` and no access to this
    checkout: the setup cell clones ``FORKING_TOKENS_REPO`` (shallow) into ``FORKING_TOKENS_COLAB_DIR``, installs it
    with ``pip install -e`` without changing the pinned torch, and every import comes from that clone. Then the first
    cells of 04 (imports, configs, a batch sampled through TRL's GRPOTrainer, the task model) in the same runtime,
    where the clone is already there (as after a runtime restart): it is reinstalled, not cloned again. Measured:
    2.3 CPU-minutes (two installs, two kernels, the runs); 14 minutes of wall time on 2 cores shared with a load
    average of about 20."""
    import subprocess
    from pathlib import Path

    env, clone, python = colab["env"], colab["clone"], colab["python"]
    # the pin is honoured: with it, pip cannot move torch (so the installs below did not)
    moved = subprocess.run([python, "-m", "pip", "install", "--dry-run", "-q", f"torch!={colab['torch']}"],
                           cwd=colab["root"], env=env, capture_output=True, text=True)
    assert moved.returncode != 0, "the torch pin did not stop pip from changing torch"

    report, setup = _run_in_colab(colab, "01_token_entropy.ipynb")
    assert (clone / "utils" / "__init__.py").is_file() and _git("rev-parse", "HEAD", cwd=clone) == colab["sha"]
    assert (clone / ".git" / "shallow").is_file(), "the setup cell clones with --depth 1"
    assert report["colab"] and Path(report["python"]).parent == python.parent
    assert Path(report["utils"]).is_relative_to(clone) and Path(report["cwd"]) == clone / "notebooks"
    assert report["torch"] == colab["torch"]
    assert "| Colab" in setup and "trl not installed" not in setup, setup
    # the package is installed from the clone (not only put on sys.path by the setup cell)
    where = subprocess.run([python, "-c", "import utils, trl; print(utils.__file__); print(trl.__file__)"],
                           cwd=colab["root"], env=env, check=True, capture_output=True, text=True).stdout.split()
    assert Path(where[0]).is_relative_to(clone) and Path(where[1]).is_relative_to(colab["root"] / "runtime")

    report, _ = _run_in_colab(colab, "04_masked_rlvr.ipynb", upto="load_task_model()")
    assert Path(report["utils"]).is_relative_to(clone) and report["torch"] == colab["torch"]
    assert report["trl"] and Path(report["trl"]).is_relative_to(colab["root"] / "runtime")
