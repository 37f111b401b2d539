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
  seeds (100, 101) that the comparison (seeds 0-4) never uses: ``python -m utils.ladder lr-sweep``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import BUILD_DIR, DATA_DIR

__all__ = ["LR_GRID", "RUNGS", "SWEEP_SEEDS", "entropy_stats", "lr_sweep_jobs", "pick_lr", "rung_configs", "rung_table"]

#: Rung name -> checkpoint folder (repository-relative), smallest first.
RUNGS: dict[str, str] = {"d48": "data/ladder/d48", "d96": "data/task_model", "d192": "data/ladder/d192"}
LR_GRID = (1e-4, 3e-4, 1e-3)
SWEEP_SEEDS = (100, 101)
SWEEP_DIR = DATA_DIR / "results" / "full" / "06_scale_ladder" / "lr_sweep"


def rung_table() -> list[dict[str, Any]]:
    """One row per rung: name, folder, parameters, width, SFT steps, training wall time and the base model's held-out
    pass@1 (mean over 3 sampling seeds, from its ``train_info.json``)."""
    from utils import toy_lm

    rows = []
    for name, path in RUNGS.items():
        info = toy_lm.load_train_info(toy_lm.resolve_model_dir(path))
        rows.append({"rung": name, "model": path, "params": int(info["n_params"]),
                     "n_embd": int(info["architecture"]["n_embd"]), "sft_steps": int(info["steps"]),
                     "train_wall_s": float(info["train_wall_time_s"]), "base_pass1": float(info["metrics"]["pass1"]["mean"]),
                     "base_pass1_sd": float(info["metrics"]["pass1"]["sd"]), "command": info.get("command", "")})
    return rows


def entropy_stats(model: Any, tokenizer: Any, problems: Sequence[dict[str, Any]], seeds: Sequence[int]) -> dict[str, list[float]]:
    """Per sampling seed, over one T = 1 sample per problem: the 80th percentile of token entropy (nats) and the share
    of tokens below 0.01 nats (EOS step included), as in notebook 02."""
    from utils import checks
    from utils.rollouts import sample_completions, token_entropies

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


def rung_configs(rung: str, profile: str | None = None, arms: Sequence[str] = ("all", "top20", "bottom80")) -> dict[str, Any]:
    """``{arm: RunConfig}`` from ``configs/ladder_<rung>_<arm>.yaml``."""
    from utils.rlvr import load_config

    if rung not in RUNGS:
        raise ValueError(f"unknown rung {rung!r}; rungs: {', '.join(RUNGS)}")
    return {arm: load_config(f"ladder_{rung}_{arm}", profile=profile) for arm in arms}


def lr_sweep_jobs(rung: str, out_dir: str | Path, profile: str = "full") -> list[Any]:
    """The learning-rate sweep of one rung: ``all`` at every rate of :data:`LR_GRID`, seeds :data:`SWEEP_SEEDS`."""
    from utils.rlvr import Job

    base = rung_configs(rung, profile, ("all",))["all"]
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
    from utils.cli import Parser, add_debug, path_arg, whole_number

    ap = Parser(prog=PROG, description="the scale ladder of notebook 06")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sw = sub.add_parser("lr-sweep", help="choose each rung's learning rate (all, seeds 100-101, lr 1e-4/3e-4/1e-3)")
    sw.add_argument("--rungs", nargs="+", default=list(RUNGS), choices=list(RUNGS))
    sw.add_argument("--out-dir", type=path_arg, default=BUILD_DIR / "06_lr_sweep",
                    help="where the runs' JSON go (default build/06_lr_sweep; the committed folder needs --force)")
    sw.add_argument("--force", action="store_true", help="allow replacing the committed sweep results")
    sw.add_argument("--workers", type=whole_number(1), default=2)
    add_debug(sw)
    return ap


def _lr_sweep(a: Any) -> int:
    from utils.results import guard_overwrite, repo_relative

    jobs = [j for r in a.rungs for j in lr_sweep_jobs(r, a.out_dir)]
    for j in jobs:  # before any training: a committed result is replaced only with --force
        guard_overwrite(j.out, a.force)
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
    """``python -m utils.ladder lr-sweep [--rungs d48 d96 ...] [--out-dir DIR] [--force] [--workers 2]``: one line and
    exit code 2 for a bad argument or a committed result without ``--force`` (``--debug``: the traceback)."""
    from utils.cli import run

    a = parser().parse_args(argv)
    return run(lambda: _lr_sweep(a), f"{PROG} {a.cmd}", a.debug)


if __name__ == "__main__":
    sys.exit(main())
