"""Issue 14's probes, replayed end to end: no command loses work, every bad input gets one clear line before any
heavy work.

Each command line runs as a user would run it (``python -m utils.<module> ...`` in a subprocess) inside a throw-away
copy of the repository -- its tracked and untracked, not ignored files, committed into a fresh git repository -- so a
command that overwrote a committed artifact could only damage the copy. After every test the copy's ``git status``
must be clean: tracked files byte-identical, no new file outside the ignored ``build/``. A probe either succeeds
(exit code 0, writing under ``build/``) or fails with exit code 2 and exactly one line on stderr that says what is
wrong, with no traceback.

The last test feeds every command line random junk arguments (hypothesis), in this process, with the heavy work
replaced by stubs: whatever the arguments, the exit code is 0 or 2 and an error is one line.

Nothing here loads SmolLM2; the slowest probe trains the task model for one step (about 10 s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from utils.config import REPO_ROOT

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="needs git to compare the repository copy")


# ------------------------------------------------------------------------------------------------ fixtures


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run([GIT, "-C", str(repo), *args], capture_output=True, text=True, check=True)  # type: ignore[list-item]
    return out.stdout


def _source_files() -> list[str]:
    """The working tree's files as a fresh clone (plus uncommitted work) would have them."""
    try:
        listed = _git(REPO_ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
        return [f for f in listed if f and (REPO_ROOT / f).is_file()]
    except (subprocess.CalledProcessError, OSError):  # not a git checkout: everything but the usual ignored folders
        skip = {".git", ".venv", "build", "__pycache__", ".hypothesis", ".pytest_cache", ".ipynb_checkpoints"}
        return [p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(REPO_ROOT).parts)]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("repo")
    for f in _source_files():
        (copy / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / f, copy / f)
    _git(copy, "init", "-q")
    _git(copy, "add", "-A")
    _git(copy, "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false",
         "commit", "-q", "-m", "copy")
    return copy


@pytest.fixture(autouse=True)
def stays_clean(request: pytest.FixtureRequest) -> object:
    """After each test: the copy's tracked files are byte-identical and nothing new lies outside build/."""
    yield
    if "repo" in request.fixturenames:
        repo = request.getfixturevalue("repo")
        assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""


@dataclass
class Result:
    rc: int
    out: str
    err: str


def run(repo: Path, *args: str, env: dict[str, str] | None = None, code: str | None = None) -> Result:
    """``python -m <args>`` (or ``python -c code args``) in the copy, with the copy's ``utils`` on the path."""
    base = {k: v for k, v in os.environ.items() if k not in ("FORKING_TOKENS_PROFILE", "CI")}
    base.update(PYTHONPATH=str(repo), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="",
                PYTHONWARNINGS="ignore")
    base.update(env or {})
    cmd = [sys.executable, "-c", code, *args] if code is not None else [sys.executable, "-m", *args]
    p = subprocess.run(cmd, cwd=repo, env=base, capture_output=True, text=True, timeout=600)
    return Result(p.returncode, p.stdout, p.stderr)


def one_line_error(r: Result, *fragments: str, code: int = 2) -> str:
    assert r.rc == code, (r.rc, r.err[-2000:])
    assert "Traceback" not in r.err, r.err[-2000:]
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err[-2000:]
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


# -------------------------------------------------------------------- usage errors: one line, before any work

PROBES = [
    # (argv, fragments of the one line); all must fail before anything heavy starts
    (["utils.countdown", "make-eval", "--n", "-5"], ["make-eval: error: argument --n: must be >= 1, got -5"]),
    (["utils.countdown", "make-eval", "--n", "2.7"], ["--n: must be a whole number"]),
    (["utils.countdown", "make-eval", "--number-range", "9", "1"], ["--number-range LO HI needs LO <= HI, got 9 1"]),
    (["utils.countdown", "make-eval", "--target-range", "0", "50"], ["--target-range needs numbers >= 1"]),
    (["utils.countdown", "make-eval", "--n-numbers", "1"], ["--n-numbers must be 2 to 5"]),
    (["utils.countdown", "make-eval", "--n", "20000"], ["at most 14850 distinct problems"]),
    (["utils.countdown", "make-eval", "--out", "data/countdown_eval.jsonl"],
     ["data/countdown_eval.jsonl is a committed artifact: pass --force"]),
    (["utils.traces", "generate", "--n", "1", "--model", "countdown-task-model"],
     ["--model must be a language model for word problems"]),
    (["utils.traces", "generate", "--samples", "0"], ["--samples: must be >= 1, got 0"]),
    (["utils.traces", "generate", "--temperature", "nan"], ["--temperature: must be a finite number"]),
    (["utils.traces", "generate", "--problems", "nope.jsonl"], ["nope.jsonl is missing"]),
    (["utils.traces", "generate", "--out", "data/traces_smollm2.jsonl"],
     ["data/traces_smollm2.jsonl is a committed artifact: pass --force"]),
    (["utils.traces", "problems", "--out", "data/math_problems.jsonl"], ["data/math_problems.jsonl is a committed"]),
    (["utils.toy_lm", "train", "--out", "data/task_model", "--steps", "1"],
     ["data/task_model is a committed artifact: pass --force"]),
    (["utils.toy_lm", "train", "--steps", "0"], ["--steps: must be >= 1"]),
    (["utils.toy_lm", "train", "--lr", "inf"], ["--lr: must be a finite number"]),
    (["utils.toy_lm", "train", "--n-embd", "10", "--n-head", "4"], ["--n-embd (10) must be a multiple of --n-head (4)"]),
    (["utils.toy_lm", "evaluate", "--model", "nope"], ["No task model in nope"]),
    (["utils.toy_lm", "evaluate", "--temperature", "-1"], ["--temperature: must be > 0.0"]),
    (["utils.entropy_bonus.exploration", "hard-set", "--samples", "0"], ["--samples: must be >= 1"]),
    (["utils.entropy_bonus.exploration", "hard-set", "--model", "nope"], ["nope/train_info.json is missing"]),
    (["utils.ladder", "lr-sweep", "--workers", "0"], ["--workers: must be >= 1"]),
    (["utils.ladder", "lr-sweep", "--rungs", "d7"], ["invalid choice: 'd7'"]),
    (["utils.reproduce", "--profile", "bogus"], ["'bogus' is not a run profile; use one of ci, default, full"]),
    (["utils.reproduce", "--only", "99"], ["--only 99: no such notebook"]),
    (["utils.rlvr", "run", "--config", "configs/countdown_top20.yaml", "--profile", "bogus"],
     ["'bogus' is not a run profile"]),
    (["utils.rlvr", "run", "--config", "configs/nope.yaml"], ["config 'configs/nope.yaml' not found"]),
    (["utils.rlvr", "run", "--config", "configs/countdown_top20.yaml", "--set", "rho=abc"],
     ["configs/countdown_top20.yaml: rho must be a number, got 'abc'"]),
    (["utils.rlvr", "run", "--config", "configs/countdown_top20.yaml", "--seed", "-1"], ["--seed: must be >= 0"]),
    (["utils.rlvr", "run", "--config", "configs/countdown_top20.yaml", "--forc"], ["unrecognized arguments: --forc"]),
]


_DRIVER = """
import contextlib, importlib, io, json, os, sys, traceback
results = []
for module, argv in json.loads(sys.argv[1]):
    main = importlib.import_module(module).main
    env = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
        except BaseException:
            traceback.print_exc()
            rc = 1
    os.environ.clear()
    os.environ.update(env)
    results.append([rc, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""

_MAINS = {"utils.countdown": "utils.countdown.__main__", "utils.rlvr": "utils.rlvr.__main__"}


def run_mains(repo: Path, calls: list[list[str]]) -> list[Result]:
    """Several command lines (``[module, *args]``) in one fresh interpreter in the copy, each through its ``main(argv)``
    with its own stdout/stderr (one interpreter per call would spend most of the time importing torch)."""
    todo = [[_MAINS.get(c[0], c[0]), c[1:]] for c in calls]
    r = run(repo, json.dumps(todo), code=_DRIVER)
    assert r.rc == 0, r.err[-2000:]
    return [Result(rc, out, err) for rc, out, err in json.loads(r.out.strip().splitlines()[-1])]


@pytest.fixture(scope="module")
def probe_results(repo: Path) -> dict[tuple[str, ...], Result]:
    """Every probe of :data:`PROBES`, run once."""
    return {tuple(argv): res for (argv, _), res in zip(PROBES, run_mains(repo, [a for a, _ in PROBES]), strict=True)}


@pytest.mark.parametrize(("argv", "fragments"), PROBES, ids=[" ".join(p[0]) for p in PROBES])
def test_bad_arguments_fail_in_one_line_before_any_work(probe_results: dict, argv: list[str],
                                                        fragments: list[str]) -> None:
    r = probe_results[tuple(argv)]
    one_line_error(r, *fragments)
    assert r.out == ""  # nothing started: no model line, no progress


def test_a_probe_as_a_user_runs_it(repo: Path) -> None:
    """The same through ``python -m`` (the probes above call ``main``): the exit code reaches the shell."""
    one_line_error(run(repo, "utils.countdown", "make-eval", "--n", "-5"), "argument --n: must be >= 1, got -5")
    one_line_error(run(repo, "utils.rlvr", "run", "--config", "configs/countdown_top20.yaml", "--profile", "bogus"),
                   "python -m utils.rlvr run: error: 'bogus' is not a run profile")


def test_profile_from_the_environment_is_checked_first(repo: Path) -> None:
    r = run(repo, "utils.reproduce", "--only", "01", env={"FORKING_TOKENS_PROFILE": "bogus"})
    one_line_error(r, "'bogus' is not a run profile")


# ----------------------------------------------------------------- what used to overwrite committed artifacts

_STUB_REPRODUCE = """
import json, shutil, sys
import utils.reproduce as r
calls = []
def stub(path, profile, timeout=3600, write_to=None):
    calls.append([path.name, profile, str(write_to)])
    shutil.copyfile(path, write_to)
    return 1.0
r.execute_notebook = stub
code = r.main(sys.argv[1:])
print(json.dumps(calls))
sys.exit(code)
"""


def test_uppercase_ci_profile_writes_only_build(repo: Path) -> None:
    """``FORKING_TOKENS_PROFILE=CI python -m utils.reproduce --only 01`` wrote ci-sized outputs over the committed
    notebook, README.md and claims.md, and created run_times_CI.json. Now CI is ci: the notebook goes to build/ci and
    nothing committed changes (the notebook run itself is stubbed: it is not what is tested here)."""
    r = run(repo, "--only", "01", code=_STUB_REPRODUCE, env={"FORKING_TOKENS_PROFILE": "CI"})
    assert r.rc == 0, r.err[-2000:]
    calls = json.loads(r.out.strip().splitlines()[-1])
    assert calls == [["01_token_entropy.ipynb", "ci", str(repo / "build" / "ci" / "notebooks" / "01_token_entropy.ipynb")]]
    assert (repo / "build" / "ci" / "notebooks" / "01_token_entropy.ipynb").exists()
    assert not list((repo / "data" / "results").glob("run_times_CI*"))


@pytest.mark.parametrize("profile", ["ci", "default"])
def test_corrupt_run_times_fail_before_any_notebook(repo: Path, profile: str) -> None:
    times = repo / "data" / "results" / f"run_times_{profile}.json"
    times.write_text('{"01_token_entropy.ipynb": 3')
    try:
        extra = ["--record-times"] if profile == "ci" else []
        r = run(repo, "--profile", profile, "--only", "01", *extra, code=_STUB_REPRODUCE)
        one_line_error(r, f"data/results/run_times_{profile}.json is truncated or not valid JSON",
                       f"make reproduce PROFILE={profile}")
        assert times.read_text() == '{"01_token_entropy.ipynb": 3'  # left for the user to see, not half-rewritten
    finally:
        _git(repo, "checkout", "--", str(times.relative_to(repo)))


def test_make_eval_writes_build_and_the_documented_command_regenerates_the_shipped_set(repo: Path) -> None:
    r = run(repo, "utils.countdown", "make-eval", "--n", "5")
    assert r.rc == 0 and r.out.strip() == "wrote 5 problems to build/countdown_eval.jsonl", r.err
    assert len((repo / "build" / "countdown_eval.jsonl").read_text().splitlines()) == 5
    # data/README.md's command names its target and --force; it rewrites the file byte for byte (git stays clean)
    r = run(repo, "utils.countdown", "make-eval", "--n", "500", "--seed", "2506", "--out", "data/countdown_eval.jsonl",
            "--force")
    assert r.rc == 0, r.err


def test_toy_lm_train_writes_build_not_the_shipped_model(repo: Path) -> None:
    """``python -m utils.toy_lm train --steps 1 --n-numbers 4`` replaced data/task_model with a 1-step model."""
    r = run(repo, "utils.toy_lm", "train", "--steps", "1", "--n-numbers", "4")
    assert r.rc == 0, r.err[-2000:]
    assert r.out.strip().splitlines()[-1] == "saved to build/task_model"
    assert json.loads((repo / "build" / "task_model" / "train_info.json").read_text())["n_numbers"] == 4


def test_rlvr_profile_ci_and_a_yaml_learning_rate(repo: Path, tmp_path: Path) -> None:
    """``--profile CI`` ran default sizes labelled "ci", and ``learning_rate: 3e-4`` (a string to YAML 1.1) crashed
    at train start. A short stand-in run now records profile ci and a float learning rate, under build/."""
    cfg = tmp_path / "lr.yaml"
    cfg.write_text(f"extends: {repo / 'configs' / 'countdown_top20.yaml'}\nname: probe_lr\nlearning_rate: 3e-4\n"
                   "profiles:\n  ci:\n    learning_rate: 3e-4\n")
    tiny = ["steps=1", "eval_every=0", "eval_n=2", "eval_samples=1", "prompts_per_step=2", "num_generations=2",
            "train_size=8", "max_completion_length=4", "final_samples=0"]
    r = run(repo, "utils.rlvr", "run", "--config", str(cfg), "--profile", "CI", "--standin", "--set", *tiny)
    assert r.rc == 0, r.err[-2000:]
    assert json.loads(r.out.strip().splitlines()[-1])["path"] == "build/rlvr/ci/standin/probe_lr_seed0.json"
    res = json.loads((repo / "build" / "rlvr" / "ci" / "standin" / "probe_lr_seed0.json").read_text())
    assert res["profile"] == "ci" and res["config"]["learning_rate"] == 3e-4


CONFIG_MISTAKES = [
    ("profiles:\n  default:\n    stepz: 3\n", ["(profiles.default): unknown key 'stepz' (did you mean 'steps'?)"]),
    ("profiles:\n  full:\n    rho: abc\n", ["(profiles.full): rho must be a number, got 'abc'"]),
    ("profiles:\n  CI:\n    steps: 3\n", ["unknown profile block 'CI'; profiles are ci, default, full"]),
    ("learning_rate: [1, 2]\n", ["learning_rate must be a number"]),
    ("steps: 2.5\n", ["steps must be a whole number"]),  # even where a profile block overrides it
    ("{{{\n", ["not valid YAML/JSON"]),
]


def test_config_mistakes_anywhere_in_the_file(repo: Path, tmp_path: Path) -> None:
    """A typo in an inactive profile block, or a misspelled block name, used to be ignored."""
    calls = []
    for i, (yaml, _) in enumerate(CONFIG_MISTAKES):
        cfg = tmp_path / f"c{i}.yaml"
        cfg.write_text(yaml if yaml.startswith("{") else f"extends: {repo / 'configs' / 'countdown_top20.yaml'}\n{yaml}")
        calls.append(["utils.rlvr", "run", "--config", str(cfg), "--dry-run", "--standin"])
    for (yaml, fragments), r in zip(CONFIG_MISTAKES, run_mains(repo, calls), strict=True):
        one_line_error(r, f"c{CONFIG_MISTAKES.index((yaml, fragments))}.yaml", *fragments)


# --------------------------------------------------------------------------------- corrupt inputs: one line


def test_corrupt_checkpoint_names_the_file_and_the_fix(repo: Path) -> None:
    elsewhere = repo / "build" / "ckpt"
    shutil.copytree(repo / "data" / "task_model", elsewhere)
    (elsewhere / "model.safetensors").write_bytes(b"garbage")
    weights = repo / "data" / "task_model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100_000])
    try:
        shipped, hard_set, other = run_mains(repo, [
            ["utils.toy_lm", "evaluate"],
            ["utils.entropy_bonus.exploration", "hard-set", "--samples", "2", "--max-correct", "0"],
            ["utils.toy_lm", "evaluate", "--model", "build/ckpt"],
        ])
    finally:
        _git(repo, "checkout", "--", "data/task_model/model.safetensors")
    fix = "restore it with `git checkout -- data/task_model` or retrain it with `python -m utils.toy_lm train --out"
    one_line_error(shipped, "data/task_model/model.safetensors is corrupt or truncated", fix)
    one_line_error(hard_set, "data/task_model/model.safetensors is corrupt or truncated", fix)
    one_line_error(other, "build/ckpt/model.safetensors is corrupt or truncated",
                   "retrain it with `python -m utils.toy_lm train --out build/ckpt`")


def test_truncated_data_file_names_the_file_and_the_command(repo: Path) -> None:
    problems = repo / "data" / "math_problems.jsonl"
    problems.write_text(problems.read_text()[:-40])
    try:
        one_line_error(run(repo, "utils.traces", "generate", "--n", "4"),
                       "data/math_problems.jsonl line 200 is not valid JSON", "regenerate it with")
    finally:
        _git(repo, "checkout", "--", "data/math_problems.jsonl")


def test_unexpected_failures_are_one_line_and_debug_shows_the_traceback(repo: Path) -> None:
    """Not a usage error (here the solver cannot find a problem): exit code 1, one line naming --debug."""
    code = ("import sys, utils.countdown.__main__ as m\n"
            "def boom(*a, **k): raise RuntimeError('disk on fire')\n"
            "m.write_problems = boom\n"
            "sys.exit(m.main(sys.argv[1:]))")
    r = run(repo, "make-eval", "--n", "3", code=code)
    one_line_error(r, "RuntimeError: disk on fire (rerun with --debug for the traceback)", code=1)
    r = run(repo, "make-eval", "--n", "3", "--debug", code=code)
    assert r.rc == 1 and "Traceback" in r.err and "disk on fire" in r.err


# ---- issue 18: findings 6-9, 13-14


def _committed_runs() -> list[tuple[str, dict]]:
    """Every committed results file of an RL run, with its contents."""
    out = []
    for p in sorted((REPO_ROOT / "data" / "results").rglob("*.json")):
        r = json.loads(p.read_text())
        if isinstance(r, dict) and r.get("schema") == "forking-tokens/rlvr-run/1":
            out.append((p.relative_to(REPO_ROOT).as_posix(), r))
    return out


def _committed_configs() -> dict[tuple[str, str], list]:
    """``{(profile, name): [RunConfig]}`` for every config file and the ladder's learning-rate sweep, as the notebooks
    build their jobs (data/results/full from the full profile, data/results from the default one)."""
    from utils import ladder
    from utils.rlvr import load_config
    from utils.config import margins
    from utils.entropy_bonus.arms import sweep_config
    from utils.rlvr.config import run_config_paths

    out: dict[tuple[str, str], list] = {}
    for prof in ("default", "full"):
        for path in run_config_paths():
            c = load_config(path, profile=prof)
            out.setdefault((prof, c.name), []).append(c)
        for rung in ladder.RUNGS:
            for j in ladder.lr_sweep_jobs(rung, ladder.SWEEP_DIR, profile=prof):
                out.setdefault((prof, j.cfg.name), []).append(j.cfg)
        for j in ladder.design_jobs(profile=prof):  # notebook 06's base-model ladder
            out.setdefault((prof, j.cfg.name), []).append(j.cfg)
        for coef in margins("05")["entropy_coef_sweep"]["coefficients"]:  # notebook 05's sweep, made in the notebook
            c = sweep_config(coef, profile=prof)
            out.setdefault((prof, c.name), []).append(c)
    from utils import tuning  # the per-arm learning-rate runs (issue 29): stage 1 and both stage 2s

    jobs = tuning.selection_jobs("04") + tuning.selection_jobs("06")
    jobs += tuning.comparison_jobs("04", tuning.choose(tuning.selection_runs("04")))
    jobs += tuning.comparison_jobs("06", tuning.choose(tuning.selection_runs("06")))  # 06's stage 2 (top20 at 3e-4)
    for j in jobs:
        out.setdefault(("full", j.cfg.name), []).append(j.cfg)
    return out


def test_committed_runs_pass_the_resume_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stricter check (finding 6) still accepts every committed run: against the config that made it (the whole
    config, a field added later counting as its default), and as ``run_many(resume=True)`` reads it back."""
    from utils.rlvr.readout import run_problem
    from utils.rlvr.run import Job, finished_run

    configs = _committed_configs()
    runs = _committed_runs()
    assert len(runs) > 200
    for path, r in runs:
        prof = "full" if path.startswith("data/results/full/") else "default"
        jobs = [Job(c, r["seed"], str(REPO_ROOT / path)) for c in configs.get((prof, r["name"]), [])]
        problems = [run_problem(r, j) for j in jobs]
        assert None in problems, (path, problems)
        monkeypatch.setenv("FORKING_TOKENS_PROFILE", r["profile"])
        assert finished_run(jobs[problems.index(None)], threads=1) is not None, path


def _edits() -> list[tuple[str, object, str]]:
    def cut(r: dict) -> None:
        r["eval"]["step"], r["eval"]["pass1"] = r["eval"]["step"][:2], r["eval"]["pass1"][:2]

    def seven(r: dict) -> None:
        r["eval"]["pass1"][-1] = r["final"]["pass1"] = 7.0

    def standin(r: dict) -> None:
        r["standin"] = True

    def ci(r: dict) -> None:
        r["profile"] = "ci"

    def config(r: dict) -> None:
        r["config"]["kappa"] = 3.0

    def history(r: dict) -> None:
        r["train"] = {k: v[:0] for k, v in r["train"].items()}

    return [("eval curve cut to two points", cut, "evaluated at steps"), ("pass@1 of 7.0", seven, "numbers in [0, 1]"),
            ("a stand-in run", standin, "stand-in run"), ("profile ci", ci, "profile 'ci'"),
            ("another kappa", config, "config differs in kappa"), ("no training history", history, "steps 1-")]


@pytest.mark.parametrize(("what", "edit", "message"), _edits(), ids=[e[0] for e in _edits()])
def test_resume_and_load_jobs_refuse_an_edited_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str,
                                                    edit: object, message: str) -> None:
    """Finding 6: ``finished_run`` accepted a stored run whose eval curve was cut to two points, whose pass@1 was 7.0,
    whose ``standin`` was true or whose profile was ci, and ``load_jobs`` matched on name and seed only. Both now
    re-check the run completely: resume recomputes it, ``load_jobs`` names the file and what is wrong."""
    from utils.results import ResultsError
    from utils.rlvr.config import RunConfig
    from utils.rlvr.readout import load_jobs
    from utils.rlvr.run import Job, finished_run

    src = REPO_ROOT / "data" / "results" / "full" / "04_masked_rlvr" / "04_all_seed0.json"
    r = json.loads(src.read_text())
    job = Job(RunConfig(**r["config"]), r["seed"], str(tmp_path / src.name))
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "full")
    (tmp_path / src.name).write_text(json.dumps(r))
    assert finished_run(job) is not None and load_jobs([job], "make it")[0]["seed"] == r["seed"]  # untouched: fine
    edit(r)  # type: ignore[operator]
    (tmp_path / src.name).write_text(json.dumps(r))
    assert finished_run(job) is None
    with pytest.raises(ResultsError, match=re.escape(message)) as e:
        load_jobs([job], "python -m utils.rlvr run ...")
    assert "regenerate it with: python -m utils.rlvr run" in str(e.value) and "\n" not in str(e.value)


RLVR = ["utils.rlvr", "run", "--config", "configs/countdown_top20.yaml", "--profile", "ci", "--standin", "--set"]
CONFIG_RANGES = [
    # finding 7: fewer prompts than one step needs stopped TRL at step 0 and still wrote a result
    (["train_size=7"], "train_size (7) must be >= prompts_per_step (8)"),
    # finding 8: every field is checked, with the method's ranges
    (["success_threshold=-1"], "success_threshold must be in (0, 1]"),
    (["success_threshold=0"], "success_threshold must be in (0, 1]"),
    (["alpha=inf"], "alpha must be a finite number >= 0"),
    (["alpha=.nan"], "alpha must be a number"),
    (["kappa=0.5"], "kappa must be a finite number >= 1 (with kappa < 1 the cap |A| / kappa exceeds |A|"),
    (["epsilon=-0.1"], "epsilon must be in (0, 1)"),
    (["epsilon_high=0"], "epsilon_high must be a finite number > 0"),
    (["beta=-1"], "beta must be a finite number >= 0"),
    (["weight_decay=-0.1"], "weight_decay must be a finite number >= 0"),
    (["temperature=1e-300"], "temperature must be >= 0.01"),
    (["eval_temperature=1e-300"], "eval_temperature must be >= 0.01"),
    (["ema=1"], "ema must be in [0, 1)"),
    (["num_generations=1"], "num_generations must be a finite number >= 2"),
    (["loss_type=bogus"], "loss_type must be one of dapo, bnpo, grpo, dr_grpo"),
    (["name=a/b"], "name must be printable text without /"),
    (["max_grad_norm=inf"], "max_grad_norm must be a finite number > 0"),
    (["grpo_overrides={bogus_key: 1}"], "GRPOConfig refuses these settings"),
]


def test_config_ranges_fail_in_one_line_before_the_model_loads(repo: Path) -> None:
    before = sorted((repo / "build").rglob("*.json"))
    results = run_mains(repo, [RLVR + sets for sets, _ in CONFIG_RANGES])
    for (sets, message), r in zip(CONFIG_RANGES, results, strict=True):
        one_line_error(r, message)
        assert r.out == "", sets  # nothing trained
    assert sorted((repo / "build").rglob("*.json")) == before  # nothing written


def test_reward_takes_only_what_verify_takes() -> None:
    """Finding 9: ``countdown_reward(..., target=[26.9])`` gave 1.0 for a solution of 26 (and took "２６" and True)."""
    from utils import countdown as cd

    for target in (26.9, "\uff12\uff16", True):
        with pytest.raises(ValueError, match="whole number"):
            cd.countdown_reward(["x"], ["8*3=24,24+2=26"], numbers=[[8, 3, 2]], target=[target])
        with pytest.raises(ValueError, match="whole number"):
            cd.verify([8, 3, 2], target, "8*3=24,24+2=26")
    assert cd.countdown_reward(["x"], ["8*3=24,24+2=26"], numbers=[[8, 3, 2]], target=[26]) == [1.0]


def test_stats_and_the_ledger_refuse_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 13: ``compare_to(x, inf)`` said "reproduced" with CI (-inf, -inf), NaN gave "diff +nan", ``trend``
    with NaN in x gave a verdict, a 2 x 2 array counted as n = 4, summaries took NaN and negative entropies, and a
    claim id recorded by two notebooks gave two contradicting rows. Each is now a clear error."""
    from utils import config, entropy, stats
    from utils.reproduce import claims

    x = [0.1, 0.2, 0.3]
    for call, message in [(lambda: stats.compare_to(x, float("inf")), "infinite"),
                          (lambda: stats.compare_to(x, float("nan")), "NaN"),
                          (lambda: stats.trend([1.0, float("nan")], [x, x], [x, x]), "x contains NaN"),
                          (lambda: stats.compare([[1, 2], [3, 4]], x), "1-D"),
                          (lambda: stats.seed_summary([0.1, float("nan")]), "NaN"),
                          (lambda: entropy.summarize([0.5, float("nan")]), "NaN"),
                          (lambda: entropy.summarize([0.5, -1.0]), "negative")]:
        with pytest.raises(ValueError, match=message):
            call()
    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")  # the ledger goes to BUILD_DIR/ci, never data/results
    ev = stats.compare([0.20, 0.21, 0.19], [0.25, 0.26, 0.24])
    claims.Ledger("04_masked_rlvr.ipynb").record("wang.top20_matches_full", section="2", evidence=ev,
                                                 direction="less", profile="ci")
    with pytest.raises(ValueError, match="already recorded by notebook 04"):
        claims.Ledger("05_entropy_bonus.ipynb").record("wang.top20_matches_full", section="x", evidence=ev,
                                                        direction="greater", profile="ci")


SMALLER = [
    (["utils.toy_lm", "evaluate", "--temperature", "1e-40"], "--temperature: must be >= 0.01"),
    (["utils.toy_lm", "evaluate", "--seeds", "0", "0", "0"], "--seeds must be distinct"),
    (["utils.toy_lm", "evaluate", "--seeds", "3", "1", "3"], "repeated: 3"),
    (["utils.traces", "generate", "--temperature", "0.001"], "--temperature: must be >= 0.01"),
    (["utils.traces", "problems", "--n", "100000"], "--n 100000: at most 5809 distinct problems exist"),
]


def test_smaller_findings_fail_before_any_work(repo: Path) -> None:
    """Finding 14: ``toy_lm evaluate --temperature 1e-40`` failed after loading the model, ``--seeds 0 0 0`` counted
    one seed three times, ``traces problems --n 100000`` drew problems for seconds before failing."""
    for (argv, message), r in zip(SMALLER, run_mains(repo, [a for a, _ in SMALLER]), strict=True):
        one_line_error(r, message)
        assert r.out == "", argv


def test_problem_count_is_checked_before_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The size check of ``make_problems`` is O(1): too many problems fails before one is drawn; the bound is tight
    (every question of the smallest template is drawn at ``max_problems()``)."""
    import random

    from utils import checks, traces

    draws = []
    monkeypatch.setitem(traces.TEMPLATES, "groups", lambda r, f=traces.TEMPLATES["groups"]: draws.append(1) or f(r))
    with pytest.raises(ValueError, match="at most 5809 distinct problems"):
        traces.make_problems(10**12)
    assert draws == []
    probs = traces.make_problems(traces.max_problems())
    assert len({p.question for p in probs}) == traces.max_problems() == 5809
    rng = random.Random(0)
    assert len({traces.TEMPLATES["groups"](rng)[0] for _ in range(30_000)}) == traces.TEMPLATE_SIZES["groups"]
    with pytest.raises(ValueError, match="repeated: 0"):
        checks.seeds([0, 0, 0])


# ------------------------------------------------------------------------ junk arguments, property-tested

_JUNK_VALUES = ["", " ", "-1", "0", "1", "2", "3", "2.7", "1e3", "1e309", "nan", "inf", "-inf", "abc", "CI", "ci",
                "default", "bogus", "9", "99", "01", "x=1", "rho=abc", "steps=1", "rho=0.1", "=", "--", "-",
                "configs/countdown_top20.yaml", "configs/nope.yaml", "countdown_top20", "data/task_model", "task_model",
                "smollm2-135m-instruct", "countdown-task-model", "gpt2", "\x00", "é", "9" * 5000]

_CLIS = {
    "countdown": (["make-eval"], ["--n", "--seed", "--n-numbers", "--number-range", "--target-range", "--out",
                                  "--force", "--debug", "--help"]),
    "traces": (["problems", "generate"], ["--n", "--seed", "--samples", "--model", "--max-new-tokens", "--batch-size",
                                          "--temperature", "--threads", "--problems", "--out", "--force"]),
    "toy_lm": (["train", "evaluate"], ["--out", "--force", "--seed", "--steps", "--batch-size", "--lr", "--n-numbers",
                                       "--number-range", "--target-range", "--p-correct", "--n-embd", "--n-layer",
                                       "--n-head", "--eval-path", "--threads", "--model", "--seeds", "--temperature"]),
    "exploration": (["hard-set"], ["--model", "--samples", "--seed", "--max-correct", "--out", "--force"]),
    "reproduce": ([], ["--profile", "--only", "--no-ledger", "--record-times"]),
    "ladder": (["lr-sweep"], ["--rungs", "--out-dir", "--force", "--workers", "--debug"]),
    "rlvr": (["run"], ["--config", "--seed", "--out", "--force", "--save-model", "--profile", "--dry-run", "--standin",
                       "--set"]),
    "robustness": (["check"], ["--stored", "--perturbed", "--perturbation", "--out", "--force", "--debug", "--help"]),
    "readme": ([], ["--help"]),
}


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """Every command's heavy work and every writer replaced by a stub; the current folder is a temporary one."""
    import types

    import utils.countdown.__main__ as countdown_cli
    import utils.entropy_bonus.exploration as exploration
    import utils.models as models
    import utils.reproduce as reproduce
    import utils.results as results
    import utils.toy_lm.rollouts as rollouts
    import utils.rlvr.run as rlvr_run
    import utils.toy_lm.cli as toy_lm
    import utils.traces.cli as traces

    monkeypatch.setattr(countdown_cli, "generate_problems", lambda *a, **k: [])
    monkeypatch.setattr(countdown_cli, "write_problems", lambda rows, out: out)
    monkeypatch.setattr(results, "write_jsonl", lambda rows, path: path)
    monkeypatch.setattr(traces, "make_problems", lambda n, seed=0: [])
    monkeypatch.setattr(models, "load_lm", lambda name: (None, None, types.SimpleNamespace(loaded=name)))
    monkeypatch.setattr(traces, "generate_traces", lambda *a, **k: [{"correct": True}])
    monkeypatch.setattr(toy_lm, "train_task_model", lambda *a, **k: (None, None, {}))
    monkeypatch.setattr(toy_lm, "save_task_model", lambda *a, **k: a[2])
    monkeypatch.setattr(toy_lm, "load_task_model", lambda path=None: (None, None))
    metrics = {"pass1": {"mean": 0.0, "sd": 0.0}, "arithmetic": {"mean": 0.0}, "entropy_seed0": {"p80": 0.0}}
    monkeypatch.setattr(rollouts, "measure", lambda *a, **k: metrics)
    monkeypatch.setattr(exploration, "hard_problems", lambda *a, **k: ([], [0]))
    monkeypatch.setattr(reproduce, "execute_notebook", lambda *a, **k: 0.0)
    import utils.rlvr as rlvr_pkg

    monkeypatch.setattr(rlvr_pkg, "run_many", lambda jobs, **k: [])
    monkeypatch.setattr(reproduce, "save_json", lambda obj, path, **k: path)
    monkeypatch.setattr(reproduce, "refresh_openings", lambda paths: None)
    import utils.reproduce.claims as claims
    import utils.reproduce.readme as readme

    monkeypatch.setattr(claims, "build_ledger", lambda profile=None: REPO_ROOT / "build" / "claims.md")
    # readme binds build_ledger at import: patched there too, or `python -m utils.reproduce.readme` would rewrite
    # the committed data/results/claims.md and figures/ledger_forest.png from inside a test
    monkeypatch.setattr(readme, "build_ledger", lambda profile=None: REPO_ROOT / "build" / "claims.md")
    monkeypatch.setattr(readme, "refresh_readme", lambda *a, **k: REPO_ROOT / "README.md")
    monkeypatch.setattr(readme, "refresh_openings", lambda paths: None)
    monkeypatch.setattr(readme, "atomic_write_text", lambda path, text: path)
    monkeypatch.setattr(rlvr_run, "run_condition", lambda cfg, seed, out=None, standin=False, dry_run=False,
                        save_model=None, **k: {"trainer": "T"} if dry_run else
                        {"path": str(out), "final": {}, "timing": {"median_step_s": 0.0, "total_s": 0.0}})
    import utils.reproduce.robustness as robustness

    monkeypatch.setattr(robustness, "check", lambda *a, **k: {"claims": {}})
    monkeypatch.setattr(robustness, "save_json", lambda obj, path, **k: path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORKING_TOKENS_PROFILE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from utils.countdown.__main__ import main as countdown_main
    from utils.entropy_bonus.exploration import main as exploration_main
    from utils.ladder import main as ladder_main
    from utils.reproduce.readme import main as readme_main
    from utils.reproduce import main as reproduce_main
    from utils.rlvr.__main__ import main as rlvr_main
    from utils.reproduce.robustness import main as robustness_main
    from utils.toy_lm import main as toy_lm_main
    from utils.traces import main as traces_main

    return {"countdown": countdown_main, "traces": traces_main, "toy_lm": toy_lm_main, "exploration": exploration_main,
            "reproduce": reproduce_main, "rlvr": rlvr_main, "ladder": ladder_main, "robustness": robustness_main,
            "readme": readme_main}


def test_junk_arguments_exit_0_or_2_in_one_line(stubbed: dict, capsys: pytest.CaptureFixture[str]) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    before = _git(REPO_ROOT, "status", "--porcelain") if (REPO_ROOT / ".git").exists() else None
    # no "/" in random text: a junk --out stays inside the temporary current folder
    token = st.one_of(st.sampled_from(_JUNK_VALUES), st.text(st.characters(blacklist_characters="/\\"), max_size=6))

    @st.composite
    def argv(draw: st.DrawFn) -> tuple[str, list[str]]:
        name = draw(st.sampled_from(sorted(_CLIS)))
        subs, opts = _CLIS[name]
        head = [draw(st.sampled_from(subs))] if subs and draw(st.integers(0, 9)) else []
        body = draw(st.lists(st.one_of(st.sampled_from(opts), token), max_size=8))
        return name, head + body

    @settings(max_examples=300, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(argv())
    def check(case: tuple[str, list[str]]) -> None:
        name, args = case
        capsys.readouterr()
        try:
            code = stubbed[name](args)
        except SystemExit as e:  # argparse: --help (0) or a usage error (2)
            code = e.code
        err = capsys.readouterr().err
        assert code in (0, 2), (name, args, code, err)
        assert "Traceback" not in err
        if code == 2:
            assert len(err.strip().splitlines()) == 1, (name, args, err)

    check()
    if before is not None:
        assert _git(REPO_ROOT, "status", "--porcelain") == before  # the real checkout is untouched too


# ---- issue 18: findings 1-5, 10-12


_TEXT_CALLS = {"open", "read_text", "write_text", "fdopen", "NamedTemporaryFile", "TemporaryFile",
               "SpooledTemporaryFile", "TextIOWrapper"}


def _unnamed_encodings(path: Path, source: str | None = None, where: str = "") -> list[str]:
    """Text-mode reads and writes in ``path`` (or in ``source``, a notebook cell, named ``where``) that leave the
    encoding to the locale: ``open``/``Path.open``/``read_text``/``write_text``/... without ``encoding=`` (binary
    modes are fine), and ``subprocess`` calls with ``text=True`` or ``universal_newlines=True`` but no
    ``encoding=``."""
    import ast

    bad = []
    name_of = where or str(path.relative_to(REPO_ROOT))
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        kw = {k.arg: k.value for k in node.keywords}
        if "encoding" in kw:
            continue
        if name in _TEXT_CALLS:
            mode = kw.get("mode")
            if mode is None:  # the mode as a positional argument: open(file, mode) or Path.open(mode)
                pos = 1 if name in ("open", "fdopen") and isinstance(node.func, ast.Name) else 0
                pos = 0 if name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile") else pos
                mode = node.args[pos] if len(node.args) > pos and name not in ("read_text", "write_text") else None
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "b" in mode.value:
                continue
            if name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile") and mode is None:
                continue  # their default mode is binary (w+b)
            bad.append(f"{name_of}:{node.lineno}: {name}(...) without encoding=")
        elif any(isinstance(kw.get(k), ast.Constant) and kw[k].value is True for k in ("text", "universal_newlines")):
            bad.append(f"{name_of}:{node.lineno}: {name}(..., text=True) without encoding=")
    return bad


def test_every_text_read_and_write_names_its_encoding() -> None:
    """Finding 1 (static half): under a Latin-1 locale utils.reproduce.readme read README in Latin-1 and wrote UTF-8
    (``ψ`` became ``Ï``). Every text read and write in utils/, scripts/ and the notebooks' code cells now says
    ``encoding="utf-8"``."""
    files = sorted((REPO_ROOT / "utils").rglob("*.py")) + sorted((REPO_ROOT / "scripts").glob("*.py"))
    bad = [line for f in files for line in _unnamed_encodings(f)]
    for nb in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):  # the notebooks' code cells too
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and not any(line.lstrip().startswith(("%", "!")) for line in src.splitlines()):
                bad += _unnamed_encodings(nb, src, f"{nb.relative_to(REPO_ROOT)} cell {i}")
    assert not bad, "\n".join(bad)
    # the checker itself catches what it should and passes what it should
    probe = REPO_ROOT / "build" / "encoding_probe.py"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text("from pathlib import Path\nimport subprocess\nopen('a')\nopen('a', 'rb')\nPath('a').read_text()\n"
                     "Path('a').open('w')\nPath('a').open('wb')\nPath('a').write_text('x', encoding='utf-8')\n"
                     "subprocess.run(['ls'], text=True)\n", encoding="utf-8")
    try:
        assert [s.split(": ", 1)[0].rsplit(":", 1)[1] for s in _unnamed_encodings(probe)] == ["3", "5", "6", "9"]
    finally:
        probe.unlink()


def _latin1_locale() -> str | None:
    try:
        names = subprocess.run(["locale", "-a"], capture_output=True, text=True, encoding="utf-8").stdout.split()
    except OSError:
        return None
    return next((n for n in names if n.lower().replace("-", "").endswith(("iso88591", "latin1"))), None)


def test_readme_refresh_keeps_utf8_under_any_locale(repo: Path) -> None:
    """Finding 1: ``LC_ALL=C PYTHONUTF8=0 python -m utils.reproduce.readme`` died with a raw UnicodeDecodeError, and under a
    Latin-1 locale it rewrote README as mojibake with exit code 0. Now README (and every notebook) comes back byte
    for byte -- the copy's git status stays clean -- and keeps its mode."""
    readme = repo / "README.md"
    before, mode = readme.read_bytes(), readme.stat().st_mode
    assert "ψ" in before.decode("utf-8")
    locales = [{"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}]
    if (latin1 := _latin1_locale()) is not None:  # not every machine has one installed
        locales.append({"LC_ALL": latin1, "LANG": latin1, "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"})
    for env in locales:
        r = run(repo, "utils.reproduce.readme", env=env)
        assert r.rc == 0 and r.err == "", (env, r.err[-2000:])
        assert readme.read_bytes() == before and readme.stat().st_mode == mode, env


def test_nothing_in_the_repository_is_overwritten_without_force(repo: Path) -> None:
    """Finding 2: ``make-eval --out README.md``, ``traces problems --out configs/countdown_top20.yaml`` and
    ``toy_lm train --out utils/countdown`` succeeded without --force (the last replaced a package with a checkpoint).
    Each is now one line and exit code 2 before any work; the copy stays clean."""
    calls = [["utils.countdown", "make-eval", "--n", "5", "--out", "README.md"],
             ["utils.traces", "problems", "--n", "3", "--out", "configs/countdown_top20.yaml"],
             ["utils.toy_lm", "train", "--out", "utils/countdown", "--steps", "1"],
             ["utils.rlvr", "run", "--config", "countdown_top20", "--standin", "--out", "Makefile"]]
    for call, r in zip(calls, run_mains(repo, calls), strict=True):
        out = call[call.index("--out") + 1]
        one_line_error(r, f"{out} is a committed artifact: pass --force")
        assert r.out == ""
    assert (repo / "utils" / "countdown" / "__init__.py").is_file()


def test_guard_overwrite_refuses_everything_in_the_repository_but_build(tmp_path: Path) -> None:
    """Finding 2, the one place that decides: any existing path inside the repository outside build/ -- a file, a
    folder, the root itself, a link -- needs force; new paths, build/ and paths outside the repository do not."""
    from utils.results import guard_overwrite

    for p in ["README.md", "configs/countdown_top20.yaml", "utils/countdown", "utils", ".", "data/task_model"]:
        with pytest.raises(FileExistsError, match="pass --force"):
            guard_overwrite(REPO_ROOT / p)
        assert guard_overwrite(REPO_ROOT / p, force=True) == REPO_ROOT / p
    build = REPO_ROOT / "build"
    build.mkdir(exist_ok=True)
    with pytest.raises(FileExistsError):
        guard_overwrite(build)  # build/ itself is not a place to put one file
    link = build / f"guard_link_{os.getpid()}"
    link.symlink_to(REPO_ROOT / "README.md")
    try:
        assert guard_overwrite(link) == link  # the link is replaced, not what it points to
    finally:
        link.unlink()
    for p in [REPO_ROOT / "README.md.new", REPO_ROOT / "utils" / "nope", build / "anything", tmp_path]:
        assert guard_overwrite(p) == p


def test_atomic_dir_puts_the_old_copy_back_when_the_swap_is_interrupted(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 10: a KeyboardInterrupt at the second ``os.replace`` of ``atomic_dir`` left the target gone and the
    folder empty. Now the old copy is put back and nothing else is left."""
    import utils.results.atomic as R

    d = tmp_path / "ckpt"  # a checkpoint (atomic_dir replaces nothing else)
    d.mkdir()
    (d / "config.json").write_text("old", encoding="utf-8")
    real_replace, calls = os.replace, []

    def replace(src: object, dst: object) -> None:
        calls.append((src, dst))
        if len(calls) == 2:  # the swap: tmp -> target
            raise KeyboardInterrupt
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(R.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        with R.atomic_dir(d) as tmp:
            (tmp / "config.json").write_text("new", encoding="utf-8")
    assert len(calls) == 3  # aside, the interrupted swap, back
    assert (d / "config.json").read_text(encoding="utf-8") == "old" and sorted(x.name for x in tmp_path.iterdir()) == ["ckpt"]


def test_atomic_writes_keep_the_mode(tmp_path: Path) -> None:
    """Finding 11: every atomic write left 0600 files and 0700 folders (README.md became -rw-------). A replaced
    file or folder keeps its mode; a new one gets the umask's default."""
    import stat

    from utils.results import atomic_dir, atomic_write_text, save_json

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    old_mask = os.umask(0o027)
    try:
        new = atomic_write_text(tmp_path / "new.txt", "x")
        assert mode(new) == 0o640
        kept = tmp_path / "kept.md"
        kept.write_text("x", encoding="utf-8")
        kept.chmod(0o664)
        atomic_write_text(kept, "y")
        assert mode(kept) == 0o664
        assert mode(save_json({"a": 1}, tmp_path / "r.json")) == 0o640
        with atomic_dir(tmp_path / "d") as t:
            (t / "config.json").write_text("x", encoding="utf-8")
        assert mode(tmp_path / "d") == 0o750
        (tmp_path / "d").chmod(0o755)
        with atomic_dir(tmp_path / "d") as t:
            (t / "config.json").write_text("y", encoding="utf-8")
        assert mode(tmp_path / "d") == 0o755
    finally:
        os.umask(old_mask)


_SLEEPER = """
import os, time
from pathlib import Path

def sleep_job(job, threads):
    here = Path(__file__).parent
    (here / f"started_{os.getpid()}").write_text("", encoding="utf-8")
    time.sleep(120)
    (here / f"finished_{os.getpid()}").write_text("", encoding="utf-8")  # a result written after the kill
    return {}
"""

_POOL_PARENT = """
import multiprocessing, os, sys
from concurrent.futures import ProcessPoolExecutor, wait
sys.path.insert(0, sys.argv[1])
import sleeper
from utils.infra.workers import die_with_parent

with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent,
                         initargs=(os.getpid(),)) as ex:  # as utils.rlvr.run_many's workers start
    wait([ex.submit(sleeper.sleep_job, None, 1) for _ in range(2)])
"""


def _alive(pid: int) -> bool:
    """``pid`` runs (a zombie waiting for an init that does not reap is as good as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    kids = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat_file.read_text(encoding="utf-8").rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat_file.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_killed_parent_takes_its_pool_workers_with_it(repo: Path) -> None:
    """Finding 4: SIGKILL of ``utils.reproduce`` during notebook 04 left the resource tracker and two spawn workers
    (~580 MB each) alive with parent 1, and the workers wrote four result files after the kill. Workers started
    the way run_many starts them (spawn pool, :func:`utils.infra.workers.die_with_parent` as initializer) now die with
    their parent: a parent running two sleeping jobs is killed, and within seconds every process it started
    (workers and resource tracker) is gone and no worker wrote anything after the kill. (The pool here runs a
    sleeping job instead of run_many's, whose workers spend ~20 s importing TRL; the next test checks run_many
    starts its workers so.)"""
    import signal

    work = repo / "build" / "issue18_pool"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "sleeper.py").write_text(_SLEEPER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("FORKING_TOKENS_PROFILE", "CI")}
    env.update(PYTHONPATH=str(repo), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", CUDA_VISIBLE_DEVICES="",
               PYTHONWARNINGS="ignore")
    parent = subprocess.Popen([sys.executable, "-c", _POOL_PARENT, str(work)], cwd=repo, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started: list[int] = []
    try:
        for _ in range(1200):  # each worker imports transformers first
            started = [int(p.name.split("_")[1]) for p in work.glob("started_*")]
            if len(started) == 2 or parent.poll() is not None:
                break
            subprocess.run(["sleep", "0.1"], check=False)
        assert len(started) == 2, parent.stderr.read().decode("utf-8", "replace")[-2000:] if parent.stderr else ""
        family = set(_children(parent.pid)) | set(started)  # the workers and the resource tracker
        assert set(started) <= family and len(family) >= 2
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        for _ in range(100):
            if not any(_alive(p) for p in family):
                break
            subprocess.run(["sleep", "0.1"], check=False)
        assert not [p for p in family if _alive(p)], "processes outlived their killed parent"
        assert not list(work.glob("finished_*"))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for p in started:
            if _alive(p):
                os.kill(p, signal.SIGKILL)  # only the workers this test started
        if parent.stderr:
            parent.stderr.close()
        shutil.rmtree(work, ignore_errors=True)


def test_run_many_starts_its_workers_to_die_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 4, the wiring: run_many's pool passes this process's pid to every worker, and the worker's first act
    is :func:`utils.infra.workers.die_with_parent` with it (checked with stand-ins: nothing is spawned or trained)."""
    import concurrent.futures

    import utils.infra.workers
    from utils.rlvr import run as R
    from utils.rlvr.config import load_config

    class Stop(Exception):
        pass

    seen: dict = {}

    def pool(*args: object, **kwargs: object) -> None:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    cfg = load_config("countdown_top20", profile="ci")
    with pytest.raises(Stop):
        R.run_many([R.Job(cfg, 0), R.Job(cfg, 1)], workers=2, verbose=False)
    assert seen["initializer"] is R._worker_init and seen["initargs"][-1] == os.getpid()

    def armed(parent_pid: int) -> None:
        seen["armed"] = parent_pid
        raise Stop  # before the initializer changes anything in this process

    monkeypatch.setattr(utils.infra.workers, "die_with_parent", armed)
    with pytest.raises(Stop):
        R._worker_init(*seen["initargs"])
    assert seen["armed"] == os.getpid()


def test_ci_true_is_the_ci_profile_for_the_main_job(repo: Path) -> None:
    """Finding 3: ``CI=true python -m utils.reproduce --only 01`` ran the default profile and rewrote the committed
    notebook, README and run times, although get_profile() said ci. The main job now asks get_profile() too: the
    notebook goes to build/ci and nothing committed changes (the notebook run itself is stubbed)."""
    r = run(repo, "--only", "01", code=_STUB_REPRODUCE, env={"CI": "true"})
    assert r.rc == 0, r.err[-2000:]
    calls = json.loads(r.out.strip().splitlines()[-1])
    assert calls == [["01_token_entropy.ipynb", "ci", str(repo / "build" / "ci" / "notebooks" / "01_token_entropy.ipynb")]]


_STUB_LEDGER = """
import sys
import utils.reproduce as r
from utils.reproduce.claims import Ledger

mode = sys.argv[1]

def stub(path, profile, timeout=3600, write_to=None):  # a notebook whose cells record two ledger rows
    ledger = Ledger(path.name)
    for i, cid in enumerate(["seed.off_by_one", "seed.epsilon_fp16"][: 1 if mode == "one" else 2]):
        if mode != "silent":
            ledger.record(cid, section="s", verdict="corrected", why=f"{mode} run, row {i}", basis="documented")
        if mode == "interrupted":
            raise KeyboardInterrupt  # Ctrl-C after the first row's cell
    return 1.0

r.execute_notebook = stub
sys.exit(r.main(sys.argv[2:]))
"""


def test_an_interrupted_notebook_leaves_its_ledger_rows_alone(repo: Path) -> None:
    """Finding 5: SIGINT during notebook 04, then ``--only 06``: claims/04.json held the rows recorded before the
    interruption and the rebuilt claims.md listed them unmarked. A notebook's rows now replace its old rows only when
    it finished (the notebooks are stubbed: each records rows through utils.reproduce.claims.Ledger as a cell would)."""
    claims = repo / "build" / "ci" / "results" / "claims"
    rows_file, ledger_md = claims / "04.json", repo / "build" / "ci" / "results" / "claims.md"

    def rows() -> dict[str, str]:
        return {k: v["why"] for k, v in json.loads(rows_file.read_text(encoding="utf-8"))["rows"].items()}

    try:
        r = run(repo, "finished", "--profile", "ci", "--only", "04", code=_STUB_LEDGER)
        assert r.rc == 0, r.err[-2000:]
        old = rows_file.read_bytes()
        assert rows() == {"seed.off_by_one": "finished run, row 0", "seed.epsilon_fp16": "finished run, row 1"}
        r = run(repo, "interrupted", "--profile", "ci", "--only", "04", code=_STUB_LEDGER)
        one_line_error(r, "python -m utils.reproduce: interrupted", code=130)
        assert rows_file.read_bytes() == old and not list(claims.glob("*.staged"))
        r = run(repo, "silent", "--profile", "ci", "--only", "06", code=_STUB_LEDGER)
        assert r.rc == 0, r.err[-2000:]
        md = ledger_md.read_text(encoding="utf-8")
        assert "finished run, row 0" in md and "interrupted run" not in md
        r = run(repo, "one", "--profile", "ci", "--only", "04", code=_STUB_LEDGER)  # a finished run replaces them all
        assert r.rc == 0 and rows() == {"seed.off_by_one": "one run, row 0"}, r.err[-2000:]
    finally:
        rows_file.unlink(missing_ok=True)


def test_readme_command_line_has_the_shared_shape(repo: Path) -> None:
    """Finding 12, utils.reproduce.readme: ``--help`` was ignored (README rewritten), a corrupt claims/05.json was a raw
    traceback, and so was a read-only tree. Now: help and exit 0, nothing written; the corrupt file named in one
    line, exit 2, nothing written; a failing write one line, exit 1. (The read-only tree is stood in for by a write
    that fails with EACCES: as root a read-only mode would not stop the write.)"""
    r = run(repo, "utils.reproduce.readme", "--help")
    assert r.rc == 0 and r.out.startswith("usage: python -m utils.reproduce.readme") and r.err == "", r.err[-2000:]
    one_line_error(run(repo, "utils.reproduce.readme", "--bogus"), "unrecognized arguments: --bogus")
    claims05 = repo / "data" / "results" / "claims" / "05.json"
    claims05.write_text(claims05.read_text(encoding="utf-8")[:200], encoding="utf-8")
    try:
        one_line_error(run(repo, "utils.reproduce.readme"), "data/results/claims/05.json is truncated or not valid JSON",
                       "regenerate it with: make reproduce (notebook 05)")
    finally:
        _git(repo, "checkout", "--", "data/results/claims/05.json")
    code = ("import errno, os, sys, tempfile\n"
            "def denied(*a, dir=None, **k): raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))\n"
            "tempfile.mkstemp = denied\n"
            "import utils.reproduce.readme\n"
            "sys.exit(utils.reproduce.readme.main(sys.argv[1:]))")
    one_line_error(run(repo, code=code), "python -m utils.reproduce.readme: error: PermissionError: [Errno 13] Permission denied",
                   "(rerun with --debug for the traceback)", code=1)


_SLEEPING_NOTEBOOK = """
import sys
from pathlib import Path
import nbformat
import utils.reproduce as r

nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
ready = Path(sys.argv[1]) / "ready"
nb.cells = [nbformat.v4.new_code_cell(
    f"import os, time\\nfrom pathlib import Path\\nPath({str(ready)!r}).write_text(str(os.getpid()))\\ntime.sleep(120)")]
path = Path(sys.argv[1]) / "99_sleep.ipynb"
nbformat.write(nb, path)
r.notebook_paths = lambda: [path]
sys.exit(r.main(["--profile", "ci"]))
"""


@pytest.mark.slow  # executes a notebook (in a subprocess's kernel)
@pytest.mark.parametrize(("sig", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_interrupting_the_main_job_is_one_line(repo: Path, sig: str, code: int) -> None:
    """Finding 12, utils.reproduce: SIGINT during a cell said "cell 17 failed: KeyboardInterrupt ... fix that cell"
    with exit code 1, SIGTERM an AttributeError (here: nbclient's own signal handlers killed the kernel, then its
    cleanup failed an assertion). Now the running cell is interrupted, the kernel goes down, nothing of the notebook
    is written, and the job ends with one line, ``interrupted``: exit code 130 for SIGINT, 143 (128 + 15, what a
    shell reports for SIGTERM) for SIGTERM. A one-cell notebook that sleeps stands in for notebook 04."""
    import signal

    work = repo / "build" / f"issue18_{sig}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("FORKING_TOKENS_PROFILE", "CI")}
    env.update(PYTHONPATH=str(repo), OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    p = subprocess.Popen([sys.executable, "-c", _SLEEPING_NOTEBOOK, str(work)], cwd=repo, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for _ in range(1200):
            if (work / "ready").exists() and (work / "ready").read_text(encoding="utf-8") or p.poll() is not None:
                break
            subprocess.run(["sleep", "0.1"], check=False)
        kernel = int((work / "ready").read_text(encoding="utf-8"))
        p.send_signal(getattr(signal, sig))
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    lines = [line for line in err.strip().splitlines() if not line.startswith("[IPKernelApp] WARNING")]
    assert p.returncode == code and lines == ["python -m utils.reproduce: interrupted"], (p.returncode, err[-3000:])
    assert not (repo / "build" / "ci" / "notebooks" / "99_sleep.ipynb").exists()
    for _ in range(100):
        if not _alive(kernel):
            break
        subprocess.run(["sleep", "0.1"], check=False)
    assert not _alive(kernel)
    shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow  # executes a notebook in a Jupyter kernel
def test_a_cell_interrupted_in_the_kernel_is_an_interruption_not_a_failing_cell(tmp_path: Path) -> None:
    """Finding 12: a KeyboardInterrupt in the kernel (the kernel interrupted from elsewhere) was reported as
    "cell 0 failed: KeyboardInterrupt ... fix that cell"; it is an interruption, and nothing is written."""
    import nbformat

    from utils import reproduce

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("raise KeyboardInterrupt")]
    path = tmp_path / "99_interrupted.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        reproduce.execute_notebook(path, "ci", timeout=60)
    assert path.read_bytes() == before


def test_an_interrupted_run_many_stops_its_workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 4/12: interrupted (Ctrl-C, or SIGTERM now that it raises), run_many's ``with`` pool waited for every
    running job to finish -- minutes of training -- before the one line. It now kills its workers and returns at
    once (stand-ins: a pool whose ``as_completed`` is interrupted)."""
    import concurrent.futures

    from utils.infra.cli import Terminated
    from utils.rlvr import run as R
    from utils.rlvr.config import load_config

    killed: list[int] = []
    shut: list[dict] = []

    class Proc:
        def __init__(self, pid: int) -> None:
            self.pid = pid

        def kill(self) -> None:
            killed.append(self.pid)

    class Pool:
        def __init__(self, *args: object, **kwargs: object) -> None:
            self._processes = {1: Proc(1), 2: Proc(2)}

        def __enter__(self) -> Pool:
            return self

        def __exit__(self, *exc: object) -> None:
            shut.append({"exit": True})

        def submit(self, fn: object, *args: object) -> object:
            return object()

        def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
            shut.append({"wait": wait, "cancel_futures": cancel_futures})

    def interrupted(futures: object) -> object:
        raise Terminated

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(concurrent.futures, "as_completed", interrupted)
    cfg = load_config("countdown_top20", profile="ci")
    with pytest.raises(Terminated):
        R.run_many([R.Job(cfg, 0), R.Job(cfg, 1)], workers=2, verbose=False)
    assert sorted(killed) == [1, 2] and shut[0] == {"wait": False, "cancel_futures": True}
