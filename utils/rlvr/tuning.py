"""Per-arm learning rates: every arm of a comparison tuned by the same rule, fixed in ``configs/margins.yaml``.

A comparison of two RL arms is fair only when both had the same chance to find their best learning rate. The rule
(``margins.yaml``, sections ``"04".per_arm_lr`` and ``"06".per_arm_lr``, committed before any of these runs):

* **stage 1 (choose)** -- on a model no comparison uses (notebook 04: the task model; notebook 06: each size's seed-0
  model), every arm at every rate of the grid with RL seeds 100-101; per arm (and size) the rate with the highest
  mean endpoint wins, the lower rate on an exact tie (:func:`choose`);
* **stage 2 (compare)** -- the comparison's seeds, each arm at its own chosen rate (:func:`comparison_jobs`).

``python -m utils.rlvr.tuning select --notebook 04|06`` runs stage 1 and ``... compare --notebook 04|06`` stage 2,
both resumable (finished runs are read back, not trained again) and writing to the committed folders under
``data/results/full/``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import DATA_DIR

__all__ = ["NOTEBOOKS", "choose", "comparison_jobs", "selection_jobs", "selection_dir", "spec"]

NOTEBOOKS = ("04", "06")
#: The rates at which notebook 04's arms already have committed 8-seed runs.
COMMITTED_04 = (1e-4, 3e-4)
_KEYS = {"grid", "arms", "selection_seeds", "margin_share_of_gain", "reason"}


def spec(notebook: str) -> dict[str, Any]:
    """The ``per_arm_lr`` section of ``configs/margins.yaml`` for ``notebook`` ("04" or "06"), checked."""
    from utils.interventions import margins
    from utils.rlvr.config import ConfigError

    if notebook not in NOTEBOOKS:
        raise ConfigError(f"per-arm learning rates are fixed for notebooks {', '.join(NOTEBOOKS)}, not {notebook!r}")
    d = dict(margins(notebook)["per_arm_lr"])
    if _KEYS - set(d):
        raise ConfigError(f"configs/margins.yaml ({notebook}.per_arm_lr): missing {', '.join(sorted(_KEYS - set(d)))}")
    grid = [float(x) for x in d["grid"]]
    if len(grid) < 4 or grid != sorted(set(grid)) or grid[0] <= 0:
        raise ConfigError(f"configs/margins.yaml ({notebook}.per_arm_lr): grid must be >= 4 increasing positive rates")
    d["grid"] = grid
    return d


def selection_dir(notebook: str) -> Path:
    """Where stage 1's runs are committed."""
    sub = {"04": "04_masked_rlvr", "06": "06_scale_ladder"}[notebook]
    return DATA_DIR / "results" / "full" / sub / "per_arm_lr"


def _base_configs(notebook: str, arm: str) -> dict[str, Any]:
    """``{size: RunConfig}`` of an arm on the selection model(s), full profile."""
    from utils.rlvr import load_config

    if notebook == "04":
        return {"d96": load_config(f"countdown_{arm}", profile="full")}
    from utils.ladder import RUNGS, rung_configs

    return {rung: rung_configs(rung, "full", (arm,))[arm] for rung in RUNGS}


def selection_jobs(notebook: str, out_dir: str | Path | None = None) -> list[Any]:
    """Stage 1: every arm x rate x selection seed on the selection model(s), cheapest size first, seed by seed (an
    interrupted run leaves whole (size, seed) blocks)."""
    from utils.rlvr import Job

    d = spec(notebook)
    out = Path(out_dir) if out_dir is not None else selection_dir(notebook)
    by_arm = {arm: _base_configs(notebook, arm) for arm in d["arms"]}
    sizes = list(next(iter(by_arm.values())))
    jobs = []
    for size in sizes:
        for seed in d["selection_seeds"]:
            for arm in d["arms"]:
                for lr in d["grid"]:
                    base = by_arm[arm][size]
                    name = f"{notebook}_{size}_{arm}_lrsel_{lr:g}" if notebook == "06" else f"04_{arm}_lrsel_{lr:g}"
                    cfg = base.replace(learning_rate=lr, name=name)
                    jobs.append(Job(cfg, seed, str(out / f"{name}_seed{seed}.json")))
    return jobs


def _size_arm(run: dict[str, Any]) -> tuple[str, str]:
    parts = run["name"].split("_")  # 04_<arm>_lrsel_<lr> or 06_<size>_<arm>_lrsel_<lr>
    return ("d96", parts[1]) if parts[0] == "04" else (parts[1], parts[2])


def choose(runs: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The rule of stage 1 on its runs: per (size, arm), the rate with the highest mean endpoint over the selection
    seeds (the lower rate on an exact tie), with every rate's mean endpoint, the seeds behind each, and the mean
    step-0 evaluation (the base model's pass@1 on the same problems and samples)."""
    from utils.rlvr.readout import endpoint

    cells: dict[tuple[str, str], dict[float, list[dict[str, Any]]]] = {}
    for r in runs:
        cells.setdefault(_size_arm(r), {}).setdefault(float(r["config"]["learning_rate"]), []).append(r)
    out = {}
    for key, by_lr in sorted(cells.items()):
        means = {lr: float(np.mean([endpoint(r) for r in rs])) for lr, rs in sorted(by_lr.items())}
        best = max(means.values())
        lr = min(x for x, m in means.items() if m == best)
        base = float(np.mean([r["eval"]["pass1"][0] for rs in by_lr.values() for r in rs]))
        out[key] = {"lr": lr, "means": means, "n": {x: len(rs) for x, rs in by_lr.items()}, "base": base,
                    "gain": means[lr] - base}
    return out


def second_rate(notebook: str, lr: float) -> float:
    """The grid's next higher rate than ``lr`` (the next lower for the grid's top), where top20 is also run."""
    g = spec(notebook)["grid"]
    i = g.index(lr)
    return g[i + 1] if i + 1 < len(g) else g[i - 1]


def comparison_jobs(notebook: str, chosen: dict[tuple[str, str], dict[str, Any]]) -> list[Any]:
    """Stage 2: each arm at its chosen rate on the comparison's models and seeds, plus top20 at its second rate
    (notebook 06). A run at a rate that the committed design already ran is the committed file (so it is read back,
    not trained again); a new rate gets its own name and file."""
    from utils.rlvr import Job

    d = spec(notebook)
    jobs = []
    if notebook == "04":  # 1e-4 and 3e-4 ran for every arm (countdown_<arm>, countdown_<arm>_lr3e-4): new rates only
        from utils.rlvr import load_config

        pre = DATA_DIR / "results" / "full" / "04_masked_rlvr"
        for arm in d["arms"]:
            lr = chosen[("d96", arm)]["lr"]
            if not any(abs(lr - x) <= 1e-15 for x in COMMITTED_04):
                jobs += [_job_at(load_config(f"countdown_{arm}", profile="full"), lr, s, pre, f"04_{arm}")
                         for s in d["comparison_seeds"]]
        return jobs
    from utils.ladder import PRE_DIR, design_jobs

    for j in design_jobs():
        rung, arm = j.cfg.name.split("_")[1], j.cfg.name.split("_")[-1]
        lr = chosen[(rung, arm)]["lr"]
        rates = [lr] + ([second_rate("06", lr)] if arm == "top20" else [])
        for x in rates:
            jobs.append(_job_at(j.cfg, x, j.seed, PRE_DIR, j.cfg.name))
    return [Job(c, s, o) for c, s, o in dict.fromkeys((j.cfg, j.seed, j.out) for j in jobs)]


def _job_at(cfg: Any, lr: float, seed: int, out_dir: Path, name: str) -> Any:
    """A job of ``cfg`` at rate ``lr``: the committed name where ``cfg`` already runs at ``lr``, else ``<name>_lr<lr>``."""
    from utils.rlvr import Job

    if abs(float(cfg.learning_rate) - lr) > 1e-15 * lr:
        name = f"{name}_lr{lr:g}"
        cfg = cfg.replace(learning_rate=lr, name=name)
    return Job(cfg, seed, str(Path(out_dir) / f"{name}_seed{seed}.json"))


PROG = "python -m utils.rlvr.tuning"


def parser() -> Any:
    """The command line (see :func:`main`)."""
    from utils.cli import Parser, add_debug, whole_number

    ap = Parser(prog=PROG, description="per-arm learning rates (configs/margins.yaml, per_arm_lr)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd, text in (("select", "stage 1: every arm x rate on the selection seeds (resumes)"),
                      ("compare", "stage 2: every arm at its chosen rate on the comparison's seeds (resumes)"),
                      ("show", "print the choice stage 1's committed runs give")):
        p = sub.add_parser(cmd, help=text)
        p.add_argument("--notebook", required=True, choices=NOTEBOOKS)
        if cmd != "show":
            p.add_argument("--workers", type=whole_number(1), default=2)
        add_debug(p)
    return ap


def _finished(jobs: Sequence[Any]) -> list[dict[str, Any]]:
    from utils.errors import UsageError
    from utils.rlvr.run import finished_run

    runs = [finished_run(j, threads=1, any_profile=True) for j in jobs]
    if any(r is None for r in runs):
        raise UsageError(f"stage 1 is not finished ({sum(r is None for r in runs)} of {len(runs)} runs missing): "
                         f"{PROG} select --notebook ...")
    return runs  # type: ignore[return-value]


def _show(notebook: str) -> dict[tuple[str, str], dict[str, Any]]:
    chosen = choose(_finished(selection_jobs(notebook)))
    for (size, arm), c in chosen.items():
        means = ", ".join(f"{lr:g}: {m:.4f}" for lr, m in c["means"].items())
        print(f"{notebook} {size} {arm}: chosen lr {c['lr']:g} (mean endpoint by lr: {means}; base {c['base']:.4f})")
    return chosen


def _train(jobs: Sequence[Any], workers: int) -> None:
    from utils.notebook import quiet
    from utils.results import guard_overwrite
    from utils.rlvr import run_many
    from utils.rlvr.run import finished_run

    for j in jobs:  # a file that is not this job's finished run is never replaced silently
        if Path(j.out).exists() and finished_run(j) is None:
            guard_overwrite(j.out, False, kind="file")
    with quiet():
        run_many(jobs, workers=workers, threads=1, verbose=True, resume=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m utils.rlvr.tuning select|compare|show --notebook 04|06 [--workers 2]``: one line and exit code 2
    for a bad argument (``--debug``: the traceback)."""
    from utils.cli import run

    a = parser().parse_args(argv)

    def go() -> int:
        import os

        os.environ["FORKING_TOKENS_PROFILE"] = "full"  # these are the full profile's runs
        if a.cmd == "select":
            _train(selection_jobs(a.notebook), a.workers)
            _show(a.notebook)
        elif a.cmd == "show":
            _show(a.notebook)
        else:
            _train(comparison_jobs(a.notebook, _show(a.notebook)), a.workers)
        return 0

    return run(go, f"{PROG} {a.cmd}", a.debug)


if __name__ == "__main__":
    sys.exit(main())
