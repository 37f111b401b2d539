"""The scale ladder of notebook 06: the same Countdown task model at three widths, and what RL does at each size.

Wang et al.'s strongest claim is a trend: top-20 % matches full-gradient RLVR at 8B and beats it at 14B and 32B. One
toy model cannot speak to a trend; a ladder of toy models can. Every rung is the task-model recipe of ``utils.toy_lm``
(same 3-number task, tokenizer, SFT data mix, 1,200 steps, seed 0, held-out set) at another width ``n_embd`` (3 layers,
4 heads), made by ``python -m utils.toy_lm train --out data/ladder/d<width> --seed 0 --steps 1200 --n-embd <width>``;
the 96-wide rung is the shipped ``data/task_model``.

* :data:`RUNGS` -- rung name -> checkpoint folder; :func:`rung_table` -- parameters, training record, base pass@1;
* :func:`entropy_stats` -- the paper's two statistics (80th percentile, share below 0.01 nats) on a model's own samples;
* :func:`rung_configs` -- the RL configs of a rung (``configs/ladder_<rung>_<arm>.yaml``);
* :func:`lr_sweep_jobs` / :func:`pick_lr` -- the learning rate of each rung, chosen by a small sweep on ``all`` with
  RL seeds (100, 101) on the rung's seed-0 model, which the comparison never uses: ``python -m utils.ladder lr-sweep``;
* :func:`design` / :func:`base_model_dir` / :func:`design_jobs` -- the comparison, fixed in ``configs/margins.yaml``
  (section "06") before it ran: K = 4 base models per size (SFT seeds 1-4, ``python -m utils.ladder models``), on
  each ``all`` and ``top20`` with RL seeds 0-3 (``python -m utils.ladder runs``); both commands resume where they
  stopped. The analysis, with the base model as the unit: :mod:`utils.ladder.analysis`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import BUILD_DIR, DATA_DIR

__all__ = ["LR_GRID", "PRE_DIR", "RUNGS", "SWEEP_SEEDS", "base_model_dir", "design", "design_jobs", "entropy_stats",
           "finished_runs",
           "lr_sweep_jobs", "model_jobs", "pick_lr", "rung_configs", "rung_table"]

#: Rung name -> checkpoint folder (repository-relative), smallest first.
RUNGS: dict[str, str] = {"d48": "data/ladder/d48", "d96": "data/task_model", "d192": "data/ladder/d192"}
LR_GRID = (1e-4, 3e-4, 1e-3)
SWEEP_SEEDS = (100, 101)
PRE_DIR = DATA_DIR / "results" / "full" / "06_scale_ladder"
SWEEP_DIR = PRE_DIR / "lr_sweep"
#: The lr sweep's run sizes (the full profile of the rung configs before the base-model design; kept so the committed
#: sweep stays the runs its configs describe).
SWEEP_SIZES = {"steps": 100, "eval_every": 25}


def design() -> dict[str, Any]:
    """The base-model design of the ladder (``configs/margins.yaml``, section "06" -> ``ladder``), checked."""
    from utils.config import margins
    from utils.rlvr.config import ConfigError

    d = dict(margins("06")["ladder"])
    need = {"widths", "base_model_seeds", "arms", "rl_seeds", "steps", "eval_every", "budgets", "primary_budget",
            "slope_margin", "reason"}
    if need - set(d):
        raise ConfigError(f"configs/margins.yaml (06.ladder): missing {', '.join(sorted(need - set(d)))}")
    if set(d["widths"]) != set(RUNGS):
        raise ConfigError(f"configs/margins.yaml (06.ladder): widths must name the rungs {', '.join(RUNGS)}")
    if 0 in d["base_model_seeds"] or len(set(d["base_model_seeds"])) != len(d["base_model_seeds"]):
        raise ConfigError("configs/margins.yaml (06.ladder): base_model_seeds must be distinct and exclude 0 (the lr model)")
    if d["primary_budget"] not in d["budgets"] or any(b % d["eval_every"] or b > d["steps"] for b in d["budgets"]):
        raise ConfigError("configs/margins.yaml (06.ladder): every budget must be an evaluation step <= steps")
    return d


def base_model_dir(rung: str, seed: int) -> str:
    """The checkpoint folder of a rung's base model with SFT seed ``seed`` (0: the rung's lr-selection model)."""
    if rung not in RUNGS:
        raise ValueError(f"unknown rung {rung!r}; rungs: {', '.join(RUNGS)}")
    return RUNGS[rung] if seed == 0 else f"data/ladder/{rung}_s{seed}"


def model_jobs(rungs: Sequence[str] | None = None) -> list[tuple[str, int, list[str]]]:
    """``(rung, seed, toy_lm train arguments)`` for every base model of the design (the task-model recipe at the
    rung's width; only the SFT seed differs between a size's models)."""
    d = design()
    out = []
    for rung in rungs or list(RUNGS):
        for s in d["base_model_seeds"]:
            args = ["train", "--out", base_model_dir(rung, s), "--seed", str(s), "--steps", "1200",
                    "--n-embd", str(d["widths"][rung]), "--threads", "1"]
            out.append((rung, s, args))
    return out


def design_jobs(rungs: Sequence[str] | None = None, out_dir: str | Path = PRE_DIR, profile: str = "full",
                models: Sequence[int] | None = None) -> list[Any]:
    """The comparison's RL runs: every base model x arm x RL seed of :func:`design`, each a rung config with the base
    model swapped in and named ``06_<rung>_s<model seed>_<arm>``, ordered base model by base model (``models``: only
    these SFT seeds)."""
    from utils.rlvr import Job

    d = design()
    cfgs = {rung: rung_configs(rung, profile, d["arms"]) for rung in rungs or list(RUNGS)}
    jobs = []
    for m in models or d["base_model_seeds"]:  # model by model: an interrupted run leaves a balanced ladder
        if m not in d["base_model_seeds"]:
            raise ValueError(f"base model seed {m} is not in the design ({d['base_model_seeds']})")
        for rung, by_arm in cfgs.items():
            for arm, cfg in by_arm.items():
                c = cfg.replace(model=base_model_dir(rung, m), name=f"06_{rung}_s{m}_{arm}")
                jobs += [Job(c, s, str(Path(out_dir) / f"{c.name}_seed{s}.json")) for s in d["rl_seeds"]]
    return jobs


def finished_runs(jobs: Sequence[Any]) -> tuple[list[dict[str, Any]], int]:
    """The runs of the base models whose every job has finished (a complete default- or full-profile run of the job,
    :func:`utils.rlvr.run.finished_run`), and the number of jobs finished in all. A design that is still running
    (``python -m utils.ladder runs`` resumes it) is analysed on its complete base models only, so every model keeps
    both arms and all of its seeds."""
    from utils.rlvr.run import finished_run

    by_model: dict[str, list[dict[str, Any] | None]] = {}
    for j in jobs:
        by_model.setdefault(j.cfg.model, []).append(finished_run(j, threads=1, any_profile=True))
    runs = [r for rs in by_model.values() if all(r is not None for r in rs) for r in rs]
    return runs, sum(r is not None for rs in by_model.values() for r in rs)  # type: ignore[misc]


def rung_table(models: Sequence[int] = (0,)) -> list[dict[str, Any]]:
    """One row per rung and base model (default: the seed-0 models): name, folder, parameters, width, SFT steps,
    training wall time and the base model's held-out pass@1 (mean over 3 sampling seeds, from its
    ``train_info.json``)."""
    from utils import toy_lm

    rows = []
    for name, m in ((n, m) for n in RUNGS for m in models):
        path = base_model_dir(name, m)
        info = toy_lm.load_train_info(toy_lm.resolve_model_dir(path))
        rows.append({"rung": name, "model_seed": m, "model": path, "params": int(info["n_params"]),
                     "n_embd": int(info["architecture"]["n_embd"]), "sft_steps": int(info["steps"]),
                     "train_wall_s": float(info["train_wall_time_s"]), "base_pass1": float(info["metrics"]["pass1"]["mean"]),
                     "base_pass1_sd": float(info["metrics"]["pass1"]["sd"]), "command": info.get("command", "")})
    return rows


def entropy_stats(model: Any, tokenizer: Any, problems: Sequence[dict[str, Any]], seeds: Sequence[int]) -> dict[str, list[float]]:
    """Per sampling seed, over one T = 1 sample per problem: the 80th percentile of token entropy (nats) and the share
    of tokens below 0.01 nats (EOS step included), as in notebook 02."""
    from utils import checks
    from utils.toy_lm.rollouts import sample_completions, token_entropies

    seeds = checks.seeds(seeds)
    prompts = [p["prompt"] for p in problems]
    out: dict[str, list[float]] = {"p80": [], "share_below_0.01": [], "median": []}
    for s in seeds:
        comps = sample_completions(model, tokenizer, prompts, n=1, temperature=1.0, max_new_tokens=24, seed=s)
        h = np.concatenate(token_entropies(model, tokenizer, prompts, comps))
        out["p80"].append(float(np.percentile(h, 80)))
        out["share_below_0.01"].append(float((h < 0.01).mean()))
        out["median"].append(float(np.median(h)))
    return out


def rung_configs(rung: str, profile: str | None = None, arms: Sequence[str] = ("all", "top20")) -> dict[str, Any]:
    """``{arm: RunConfig}`` from ``configs/ladder_<rung>_<arm>.yaml``."""
    from utils.rlvr import load_config

    if rung not in RUNGS:
        raise ValueError(f"unknown rung {rung!r}; rungs: {', '.join(RUNGS)}")
    return {arm: load_config(f"ladder_{rung}_{arm}", profile=profile) for arm in arms}


def lr_sweep_jobs(rung: str, out_dir: str | Path, profile: str = "full") -> list[Any]:
    """The learning-rate sweep of one rung: ``all`` at every rate of :data:`LR_GRID`, seeds :data:`SWEEP_SEEDS`."""
    from utils.rlvr import Job

    base = rung_configs(rung, profile, ("all",))["all"]
    if profile == "full":
        base = base.replace(**SWEEP_SIZES)
    jobs = []
    for lr in LR_GRID:
        cfg = base.replace(learning_rate=lr, name=f"06_{rung}_lrsweep_{lr:g}")
        jobs += [Job(cfg, s, str(Path(out_dir) / f"{cfg.name}_seed{s}.json")) for s in SWEEP_SEEDS]
    return jobs


def pick_lr(runs: Sequence[dict[str, Any]]) -> tuple[float, dict[float, float]]:
    """The learning rate whose sweep runs reach the highest mean endpoint (mean of the last two evaluations), and
    every rate's mean endpoint."""
    from utils.rlvr.readout import endpoint

    if not runs:
        raise ValueError("pick_lr needs the sweep's runs")
    by: dict[float, list[float]] = {}
    for r in runs:
        by.setdefault(float(r["config"]["learning_rate"]), []).append(endpoint(r))
    means = {lr: float(np.mean(v)) for lr, v in sorted(by.items())}
    return max(means, key=means.get), means  # type: ignore[arg-type]


PROG = "python -m utils.ladder"


def parser() -> Any:
    """The command line (see :func:`main`)."""
    from utils.infra.cli import Extend, Parser, add_debug, path_arg, whole_number

    ap = Parser(prog=PROG, description="the scale ladder of notebook 06")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sw = sub.add_parser("lr-sweep", help="choose each rung's learning rate (all, seeds 100-101, lr 1e-4/3e-4/1e-3)")
    sw.add_argument("--rungs", nargs="+", action=Extend, default=list(RUNGS), choices=list(RUNGS))
    sw.add_argument("--out-dir", type=path_arg, default=BUILD_DIR / "06_lr_sweep",
                    help="where the runs' JSON go (default build/06_lr_sweep; the committed folder needs --force)")
    sw.add_argument("--force", action="store_true", help="allow replacing the committed sweep results")
    sw.add_argument("--workers", type=whole_number(1), default=2)
    add_debug(sw)
    mo = sub.add_parser("models", help="train the base models of the design that are missing (SFT seeds 1-4 per size)")
    mo.add_argument("--rungs", nargs="+", action=Extend, default=list(RUNGS), choices=list(RUNGS))
    mo.add_argument("--workers", type=whole_number(1), default=2)
    add_debug(mo)
    ru = sub.add_parser("runs", help="the comparison's RL runs on every base model (resumes: finished runs are kept)")
    ru.add_argument("--rungs", nargs="+", action=Extend, default=list(RUNGS), choices=list(RUNGS))
    ru.add_argument("--out-dir", type=path_arg, default=PRE_DIR, help="where the runs' JSON go (default: the committed folder)")
    ru.add_argument("--force", action="store_true", help="allow replacing a file there that is not a finished run of its job")
    ru.add_argument("--models", type=whole_number(1), nargs="+", action=Extend, default=None,
                    help="only these base models (SFT seeds)")
    ru.add_argument("--workers", type=whole_number(1), default=2)
    add_debug(ru)
    return ap


def _train_base_model(job: tuple[str, int, list[str]]) -> int:
    """Train one base model of :func:`model_jobs` in its own 1-thread process; print its exit code and last lines."""
    import subprocess

    from utils.config import REPO_ROOT

    r, s, args = job
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-m", "utils.toy_lm", *args, "--force"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, encoding="utf-8")
    tail = (res.stdout.strip().splitlines() or [""])[-2:]
    print(f"{base_model_dir(r, s)}: exit {res.returncode}; " + " | ".join(tail), flush=True)
    return res.returncode


def _models(a: Any) -> int:
    """Train the design's missing base models, ``a.workers`` at a time, each in its own 1-thread process."""
    from concurrent.futures import ThreadPoolExecutor

    from utils import toy_lm
    from utils.config import REPO_ROOT

    todo = [(r, s, args) for r, s, args in model_jobs(a.rungs)
            if not (REPO_ROOT / base_model_dir(r, s) / toy_lm.INFO_FILE).exists()]
    print(f"{len(todo)} base models to train", flush=True)
    with ThreadPoolExecutor(max(1, a.workers)) as ex:
        codes = list(ex.map(_train_base_model, todo))
    return 1 if any(codes) else 0


def _runs(a: Any) -> int:
    from utils import toy_lm
    from utils.results import guard_overwrite
    from utils.rlvr.run import finished_run

    seeds = design()["base_model_seeds"]
    if a.models and set(a.models) - set(seeds):
        from utils.errors import UsageError

        raise UsageError(f"--models: the design's base models are {seeds}")
    jobs = design_jobs(a.rungs, a.out_dir, models=a.models)
    missing = sorted({j.cfg.model for j in jobs if not toy_lm.is_task_model_dir(toy_lm.resolve_model_dir(j.cfg.model))})
    if missing:
        from utils.errors import UsageError

        raise UsageError(f"base models missing: {', '.join(missing)} (python -m utils.ladder models)")
    for j in jobs:  # a file that is not this job's finished run would be replaced: only with --force
        if Path(j.out).exists() and finished_run(j) is None:
            guard_overwrite(j.out, a.force, kind="file")
    from utils.notebook import quiet
    from utils.rlvr import run_many

    with quiet():
        run_many(jobs, workers=a.workers, threads=1, verbose=True, resume=True)
    return 0


def _lr_sweep(a: Any) -> int:
    from utils.results import guard_overwrite, repo_relative

    jobs = [j for r in a.rungs for j in lr_sweep_jobs(r, a.out_dir)]
    for j in jobs:  # before any training: a committed result is replaced only with --force
        guard_overwrite(j.out, a.force, kind="file")
    from utils import toy_lm

    for r in a.rungs:
        toy_lm.task_spec(RUNGS[r])  # the checkpoint and its held-out file exist
    from utils.notebook import quiet
    from utils.rlvr import run_many

    with quiet():
        runs = run_many(jobs, workers=a.workers, threads=1, verbose=True)
    for rung in a.rungs:
        mine = [r for r in runs if r["name"].startswith(f"06_{rung}_")]
        if not mine:
            continue
        lr, means = pick_lr(mine)
        print(f"{rung}: chosen lr {lr:g}  (mean endpoint by lr: " + ", ".join(f"{k:g}: {v:.3f}" for k, v in means.items())
              + f"); results in {repo_relative(a.out_dir)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m utils.ladder lr-sweep [--rungs d48 d96 ...] [--out-dir DIR] [--force] [--workers 2]``,
    ``... models [--rungs ...] [--workers 2]`` (train the missing base models) and ``... runs [--rungs ...]
    [--out-dir DIR] [--force] [--workers 2]`` (the comparison's RL runs, resumed): one line and exit code 2 for a bad
    argument or a committed result without ``--force`` (``--debug``: the traceback)."""
    from utils.infra.cli import run

    a = parser().parse_args(argv)
    todo = {"lr-sweep": _lr_sweep, "models": _models, "runs": _runs}[a.cmd]
    return run(lambda: todo(a), f"{PROG} {a.cmd}", a.debug)
