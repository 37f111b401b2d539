"""Issue 30's findings about writes, paths, modes, races and signals, replayed: no command destroys what it did not
make, a target that cannot be written fails before any heavy work, and an interruption or a terminal is no reason
for a traceback.

Items (issue 30): 1 (a folder wiped by ``--save-model`` / ``toy_lm train --out``), 2 (special files replaced by
atomic writes), 3 (README growing on refresh), 6 (the default results path of ``utils.rlvr run``), 11 (``--only``
without a value), 13 (``--out`` that cannot be written), 15 (Ctrl-C in the first second, ANSI codes, an ASCII
terminal), 16 (a second notebook run deleting the first's staged ledger rows), 17 (0600 checkpoints).

Nothing here trains more than one step of a one-layer task model, and nothing writes inside the repository (every
output goes to ``tmp_path``; commands that must refuse are checked to refuse before any model loads).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from utils.config import REPO_ROOT


def _umask_file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORKING_TOKENS_PROFILE", "CI")}
    env.update(PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="",
               PYTHONWARNINGS="ignore")
    env.update(extra)
    return env


def _one_line(err: str, *fragments: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err[-2000:]
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def _main(module: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``main(argv)`` of a command line, in this process: ``(exit code, stdout, stderr)``."""
    import importlib

    mod = importlib.import_module(module)
    try:
        rc = mod.main(argv)
    except SystemExit as e:
        rc = int(e.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("a week of notes\n", encoding="utf-8")
    return d


def _no_model_load(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make loading a policy or training the task model fail the test (they must not start)."""
    import utils.rlvr.run as rr
    import utils.toy_lm.cli as tl

    started: list[str] = []

    def fail(*a: Any, **k: Any) -> Any:
        started.append("heavy work")
        raise AssertionError("heavy work started")

    monkeypatch.setattr(rr, "build_trainer", fail)
    monkeypatch.setattr(tl, "train_task_model", fail)
    return started


STANDIN = ["run", "--config", "countdown_top20", "--standin", "--profile", "ci"]


# ------------------------------------------------------------------------- 1: folders this project did not write


def test_a_folder_we_did_not_write_is_refused_before_the_model_loads(
        tmp_path: Path, user_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 1: ``--save-model DIR`` and ``toy_lm train --out DIR`` replaced a user's folder whole (exit 0, notes
    gone), a file became a folder with the file left as ``.NAME.XXXX.old``. Now anything but a new or empty folder or
    a checkpoint this project wrote is one line, exit code 2, before the model loads -- with --force too."""
    started = _no_model_load(monkeypatch)
    a_file = tmp_path / "results.json"
    a_file.write_text("{}\n", encoding="utf-8")
    cases = [("utils.rlvr.__main__", [*STANDIN, "--out", str(tmp_path / "r.json"), "--save-model", str(user_folder)]),
             ("utils.rlvr.__main__", [*STANDIN, "--out", str(tmp_path / "r.json"), "--save-model", str(user_folder),
                                      "--force"]),
             ("utils.rlvr.__main__", [*STANDIN, "--out", str(tmp_path / "r.json"), "--save-model", str(a_file)]),
             ("utils.toy_lm", ["train", "--steps", "1", "--out", str(user_folder)]),
             ("utils.toy_lm", ["train", "--steps", "1", "--out", str(user_folder), "--force"]),
             ("utils.toy_lm", ["train", "--steps", "1", "--out", str(a_file)])]
    if Path.home().is_dir() and any(Path.home().iterdir()):  # `--out ~` would have deleted the home folder
        cases.append(("utils.toy_lm", ["train", "--steps", "1", "--out", str(Path.home())]))
    for module, argv in cases:
        rc, _out, err = _main(module, argv, capsys)
        assert rc == 2, (argv, err)
        line = _one_line(err, "refusing to replace it")
        assert ("this project did not write" in line) or ("is a file, not a checkpoint folder" in line), line
    assert not started
    assert (user_folder / "notes.txt").read_text(encoding="utf-8") == "a week of notes\n"
    assert sorted(p.name for p in user_folder.iterdir()) == ["notes.txt"]
    assert a_file.read_text(encoding="utf-8") == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "results.json"]  # no .old, no temporary folder


def test_atomic_dir_replaces_only_checkpoints_and_gives_files_the_umask_mode(tmp_path: Path) -> None:
    """Items 1 and 17 at the one writer of whole folders: ``atomic_dir`` refuses a folder with foreign files, a
    file and a link, replaces an empty folder or a checkpoint, and every file it writes gets the umask's mode (a
    writer's 0600 -- safetensors' -- included)."""
    from utils.results import TargetError, atomic_dir, is_checkpoint_dir

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "config.json").write_text("{}", encoding="utf-8")
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(foreign)
    for target in (foreign, a_file, link):
        with pytest.raises(TargetError, match="refusing to replace it"):
            with atomic_dir(target) as tmp:
                (tmp / "config.json").write_text("{}", encoding="utf-8")
    assert (foreign / "notes.txt").exists() and a_file.read_text(encoding="utf-8") == "x" and link.is_symlink()
    assert not is_checkpoint_dir(foreign) and not is_checkpoint_dir(link)
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (empty, empty):  # an empty folder, then the checkpoint written there
        with atomic_dir(target) as tmp:
            (tmp / "config.json").write_text("{}", encoding="utf-8")
            weights = tmp / "model.safetensors"
            weights.write_bytes(b"w")
            weights.chmod(0o600)  # what safetensors' writer leaves
        assert is_checkpoint_dir(target)
        assert stat.S_IMODE((target / "model.safetensors").stat().st_mode) == _umask_file_mode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file", "foreign", "link"]


def test_toy_lm_replaces_its_own_checkpoint_and_writes_it_with_the_umask_mode(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], one_thread: None) -> None:
    """Items 1 and 17 end to end: ``toy_lm train --out DIR`` writes a checkpoint whose model.safetensors has the
    umask's mode (it was 0600), and replaces a checkpoint it wrote -- the way ``utils.ladder models`` retrains a
    rung with ``--force`` -- while a checkpoint folder with a user's file added is refused."""
    held = tmp_path / "held.jsonl"
    rc, _, err = _main("utils.countdown.__main__", ["make-eval", "--n", "2", "--out", str(held)], capsys)
    assert rc == 0, err
    ck = tmp_path / "ck"
    tiny = ["train", "--steps", "1", "--batch-size", "2", "--n-embd", "8", "--n-head", "1", "--n-layer", "1",
            "--eval-path", str(held), "--out", str(ck)]
    for extra in ([], ["--force"]):
        rc, out, err = _main("utils.toy_lm", tiny + extra, capsys)
        assert rc == 0, err
        assert "saved to" in out
        assert stat.S_IMODE((ck / "model.safetensors").stat().st_mode) == _umask_file_mode()
        assert (ck / "train_info.json").is_file()
    (ck / "notes.txt").write_text("mine", encoding="utf-8")
    rc, _, err = _main("utils.toy_lm", tiny + ["--force"], capsys)
    assert rc == 2 and "(it holds 'notes.txt')" in _one_line(err)
    assert (ck / "notes.txt").exists()


# ------------------------------------------------------------------------------- 2: special files are not replaced


def test_atomic_writes_refuse_special_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 2: an atomic write renamed a regular file over a named pipe, a device node or a link to
    /proc/self/fd/1. Decision: a non-regular target is refused (never replaced, never written through), a link to a
    regular file too; the command line says so in one line with exit code 2, before any work."""
    from utils.results import TargetError, atomic_write_text, save_json

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    to_stdout = tmp_path / "stdout"
    to_stdout.symlink_to("/proc/self/fd/1")
    real = tmp_path / "real.json"
    real.write_text("{}", encoding="utf-8")
    to_file = tmp_path / "to_file.json"
    to_file.symlink_to(real)
    targets = [fifo, to_stdout, to_file]
    if os.geteuid() == 0:  # only root may make a device node: a copy of /dev/null's
        dev = tmp_path / "null"
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        targets.append(dev)
    kinds = {p: os.lstat(p).st_mode for p in targets}
    for p in targets:
        with pytest.raises(TargetError, match="refusing to replace it"):
            save_json({"a": 1}, p)
        with pytest.raises(TargetError):
            atomic_write_text(p, "x")
        assert os.lstat(p).st_mode == kinds[p], p
    assert real.read_text(encoding="utf-8") == "{}"
    for p in targets:
        rc, out, err = _main("utils.countdown.__main__", ["make-eval", "--n", "2", "--out", str(p)], capsys)
        assert rc == 2 and out == "", err
        _one_line(err, str(p), "refusing to replace it")
        assert os.lstat(p).st_mode == kinds[p], p
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [*targets, real])


# ------------------------------------------------------------------------------- 3: README's blocks do not grow


def test_readme_blocks_do_not_grow_when_generated_text_holds_a_marker(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 3: a claim whose text held ``<!-- claims:end -->`` made every refresh add the block again (~34 lines
    each). Marker text in generated content is escaped now, so refreshing is idempotent; a README whose markers were
    already doubled is refused with one line naming the marker instead of being rewritten wrongly."""
    import utils.reproduce.readme as rd

    readme = tmp_path / "README.md"
    readme.write_text((REPO_ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    ledger = rd.summary_markdown

    def hostile(*args: Any, **kwargs: Any) -> str:
        return ledger(*args, **kwargs) + "| a claim quoting <!-- claims:end --> and <!-- notebooks:start --> |\n"

    monkeypatch.setattr(rd, "summary_markdown", hostile)
    sizes = []
    for _ in range(3):
        rd.refresh_readme(readme)
        text = readme.read_text(encoding="utf-8")
        sizes.append(len(text.splitlines()))
        assert text.count("<!-- claims:end -->") == 1 and text.count("<!-- notebooks:start -->") == 1
    assert sizes[0] == sizes[1] == sizes[2], sizes
    assert "&lt;!-- claims:end --&gt;" in text
    doubled = text.replace("<!-- claims:end -->", "<!-- claims:end -->\nold\n<!-- claims:end -->")
    with pytest.raises(ValueError, match="has the marker <!-- claims:start --> 1 times and <!-- claims:end --> 2"):
        rd.replace_block(doubled, "claims", "x")


# ---------------------------------------------------------------- 6, 13: where utils.rlvr run writes, checked first


def test_rlvr_default_out_depends_on_profile_and_standin(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Item 6: a stand-in smoke test overwrote ``build/rlvr/04_top20_seed0.json`` from a real run. The default path
    is now one per profile and kind of run."""
    import utils.rlvr.__main__ as cli
    import utils.rlvr.run as rr

    paths = {(p, s): cli.default_out("04_top20", 0, p, s) for p in ("ci", "default", "full") for s in (False, True)}
    assert len(set(paths.values())) == 6
    assert paths[("default", False)] == REPO_ROOT / "build" / "rlvr" / "default" / "04_top20_seed0.json"
    assert paths[("default", True)] == REPO_ROOT / "build" / "rlvr" / "default" / "standin" / "04_top20_seed0.json"
    seen = []

    def fake_run(cfg: Any, seed: int, out: Any = None, standin: bool = False, **k: Any) -> dict[str, Any]:
        seen.append((Path(out), standin))
        return {"final": {}, "timing": {"median_step_s": None, "total_s": 0.0}}  # no "path": nothing is printed

    monkeypatch.setattr(rr, "run_condition", fake_run)
    for argv, want in [(STANDIN, paths[("ci", True)]),
                       (["run", "--config", "countdown_top20", "--profile", "default"], paths[("default", False)])]:
        rc, _, err = _main("utils.rlvr.__main__", argv, capsys)
        assert rc == 0, err
        assert seen[-1][0] == want


def test_an_out_that_cannot_be_written_fails_before_the_model_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 13: ``--out`` naming an existing folder, a path under a file (``README.md/x.json``) or an unwritable
    place failed only after training. Each is one line and exit code 2 now, before the model loads."""
    started = _no_model_load(monkeypatch)
    a_file = tmp_path / "notes.md"
    a_file.write_text("x", encoding="utf-8")
    cases = [(str(tmp_path), "is a folder, not a file"),
             (str(a_file / "x.json"), "which is a file, not a folder"),
             (str(REPO_ROOT / "README.md" / "x.json"), "README.md/x.json lies under README.md, which is a file"),
             ("/proc/forking_tokens_probe/x.json", "is not writable")]
    if os.geteuid() != 0:  # root writes anywhere the file system lets it
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        cases.append((str(locked / "x.json"), "is not writable"))
    for out, fragment in cases:
        rc, stdout, err = _main("utils.rlvr.__main__", [*STANDIN, "--out", out], capsys)
        assert rc == 2 and stdout == "", (out, err)
        _one_line(err, fragment)
    rc, _, err = _main("utils.toy_lm", ["train", "--steps", "1", "--out", str(a_file / "ck")], capsys)
    assert rc == 2
    _one_line(err, "which is a file, not a folder")
    for out in (tmp_path / "ck", tmp_path / "ck" / "r.json"):  # a further probe: the results file inside the folder
        rc, _, err = _main("utils.rlvr.__main__", [*STANDIN, "--out", str(out), "--save-model", str(tmp_path / "ck")],
                           capsys)
        assert rc == 2
        _one_line(err, "lies in --save-model", "which is replaced whole")
    assert not started
    assert a_file.read_text(encoding="utf-8") == "x"


# --------------------------------------------------------------------------- 11: an empty --only selects nothing


def test_reproduce_only_without_a_value_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Item 11: ``--only $NB`` with NB unset ran every notebook (under the default profile: rewrote every committed
    notebook). An empty selection is one line and exit code 2 before any notebook starts."""
    import utils.reproduce as rp

    def never(*a: Any, **k: Any) -> float:
        raise AssertionError("a notebook started")

    monkeypatch.setattr(rp, "execute_notebook", never)
    for argv in (["--only"], ["--only", ""], ["--only", " "], ["--profile", "ci", "--only"]):
        rc, out, err = _main("utils.reproduce", argv, capsys)
        assert rc == 2 and out == "", (argv, err)
        _one_line(err, "--only")


# -------------------------------------------------------------------------- 15: signals, ANSI codes, ASCII output


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_torch_imports_is_one_line(sig: int, code: int) -> None:
    """Item 15: Ctrl-C in the first second printed a KeyboardInterrupt traceback from inside ``import torch`` (the
    handler came after the imports). ``utils/__init__`` installs it first now: one line, exit code 130 (143)."""
    p = subprocess.Popen([sys.executable, "-m", "utils.rlvr", "run", "--config", "countdown_top20", "--dry-run"],
                         cwd=REPO_ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         # Ctrl-C reaches it even where pytest runs with SIGINT ignored (a background job)
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(1.0)  # utils is imported, torch is not yet (it takes seconds)
    p.send_signal(sig)
    _out, err = p.communicate(timeout=120)
    assert p.returncode == code, err[-2000:]
    _one_line(err, "python -m utils.rlvr", "interrupted")


def test_a_failing_notebook_is_named_without_ansi_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 15: the FAILED line of ``utils.reproduce`` carried the kernel's colour codes (``\\x1b[0;31m``). The line
    is plain text now."""
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    import utils.reproduce as rp

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('boom')")])
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)

    class FailingClient:
        def __init__(self, nb: Any, **kw: Any) -> None:
            self.nb = nb

        def execute(self) -> None:
            self.nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom")]
            raise CellExecutionError("\x1b[0;31mTraceback\x1b[0m ...\n\x1b[0;31mValueError\x1b[0m: boom\x1b[K",
                                     "ValueError", "boom")

    monkeypatch.setattr(nbclient, "NotebookClient", FailingClient)
    with pytest.raises(rp.NotebookFailed) as e:
        rp.execute_notebook(path, "ci", write_to=tmp_path / "out.ipynb")
    assert str(e.value) == "01_x.ipynb: cell 0 failed: ValueError: boom"
    assert not (tmp_path / "out.ipynb").exists()


def test_an_ascii_terminal_and_a_non_ascii_out(tmp_path: Path) -> None:
    """Item 15: with ``PYTHONIOENCODING=ascii`` and a non-ASCII ``--out`` the file was written but the success
    message failed (UnicodeEncodeError, exit code 1). The message is written with escapes now, exit code 0."""
    out = tmp_path / "prüfung" / "é.jsonl"
    p = subprocess.run([sys.executable, "-m", "utils.countdown", "make-eval", "--n", "2", "--out", str(out)],
                       check=False, cwd=REPO_ROOT, env=_env(PYTHONIOENCODING="ascii"), capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr.decode("ascii", "replace")[-2000:]
    assert out.is_file()
    assert b"pr\\xfcfung/\\xe9.jsonl" in p.stdout and p.stderr == b""


# ------------------------------------------------------------------- 16: two runs of a notebook keep their rows


def test_a_second_notebook_run_keeps_the_first_runs_staged_rows(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 16: a second run of a notebook started while the first ran deleted the first's staging file, whose rows
    then never reached ``claims/NN.json``. Each run stages in its own file now (orphans of dead runs are removed),
    and the rows are written under a lock; each finished run's rows reach the ledger."""
    from utils import config
    from utils.reproduce import claims

    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    folder = tmp_path / "ci" / "results" / "claims"
    folder.mkdir(parents=True)
    orphan = folder / "04.json.999999999-dead.staged"  # left by a run that was killed
    orphan.write_text("{}", encoding="utf-8")
    final = folder / "04.json"
    ledger = claims.Ledger("04_masked_rlvr.ipynb")

    def rows() -> dict[str, str]:
        return {k: v["why"] for k, v in json.loads(final.read_text(encoding="utf-8"))["rows"].items()}

    with claims.staged_claims("04_masked_rlvr.ipynb", "ci"):  # the first run
        assert not orphan.exists()
        ledger.record("seed.off_by_one", section="s", verdict="corrected", why="first run", basis="documented")
        first = list(folder.glob("04.json.*.staged"))
        assert len(first) == 1
        with claims.staged_claims("04_masked_rlvr.ipynb", "ci"):  # the second, started meanwhile (its kernel)
            assert first[0].exists()  # the first run's rows are not deleted
            ledger.record("seed.epsilon_fp16", section="s", verdict="corrected", why="second run", basis="documented")
        assert rows() == {"seed.epsilon_fp16": "second run"}  # the second finished first
        assert first[0].exists()
    assert rows() == {"seed.off_by_one": "first run"}  # the first's rows reached the ledger when it finished
    assert sorted(p.name for p in folder.iterdir()) == ["04.json"]


def test_file_lock_makes_writers_take_turns(tmp_path: Path) -> None:
    """Item 16's lock: while one process holds :func:`utils.results.file_lock` for a file, another waits for it."""
    from utils.results import file_lock

    target = tmp_path / "claims.json"
    code = ("import sys, time; from utils.results import file_lock\n"
            "with file_lock(sys.argv[1]):\n    print('got', flush=True)\n")
    with file_lock(target):
        p = subprocess.Popen([sys.executable, "-c", code, str(target)], cwd=REPO_ROOT, env=_env(),
                             stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert p.poll() is None  # still waiting for the lock
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0 and out.strip() == "got"
    assert list(tmp_path.iterdir()) == []  # the lock file lives in build/locks, not next to the file
