"""Per-arm learning rates: every arm of a comparison tuned by the same rule, fixed in ``configs/margins.yaml``.

A comparison of two RL arms is fair only when both had the same chance to find their best learning rate. The rule
(``margins.yaml``, sections ``"04".per_arm_lr`` and ``"06".per_arm_lr``, committed before any of these runs):

* **stage 1 (choose)** -- on a model no comparison uses (notebook 04: the task model; notebook 06: each size's seed-0
  model), every arm at every rate of the grid with RL seeds 100-101; per arm (and size) the rate with the highest
  mean endpoint wins, the lower rate on an exact tie (:func:`choose`);
* **stage 2 (compare)** -- the comparison's seeds, each arm at its own chosen rate (:func:`comparison_jobs`).

``python -m utils.tuning select --notebook 04|06`` runs stage 1 and ``... compare --notebook 04|06`` stage 2,
both resumable (finished runs are read back, not trained again) and writing to the committed folders under
``data/results/full/``.
"""

from __future__ import annotations


from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import DATA_DIR

__all__ = ["NOTEBOOKS", "choose", "comparison_jobs", "per_arm_04", "per_arm_04_words", "runs_at_04", "selection_jobs", "selection_dir",
           "selection_runs", "share_words", "sizes", "spec"]

NOTEBOOKS = ("04", "06")
#: The rates at which notebook 04's arms already have committed 8-seed runs.
COMMITTED_04 = (1e-4, 3e-4)
_KEYS = {"grid", "arms", "selection_seeds", "margin_share_of_gain", "reason"}


def spec(notebook: str) -> dict[str, Any]:
    """The ``per_arm_lr`` section of ``configs/margins.yaml`` for ``notebook`` ("04" or "06"), checked."""
    from utils.config import margins
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


def sizes(chosen: dict[tuple[str, str], Any]) -> list[str]:
    """The sizes of a stage-1 choice (:func:`choose`), smallest first: ``["d48", "d96", "d192"]``."""
    return sorted({s for s, _ in chosen}, key=lambda s: int(s[1:]))


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
    seen: set[str] = set()
    return [j for j in jobs if not (j.out in seen or seen.add(j.out))]  # one job per file (top20's rate once)


def _job_at(cfg: Any, lr: float, seed: int, out_dir: Path, name: str) -> Any:
    """A job of ``cfg`` at rate ``lr``: the committed name where ``cfg`` already runs at ``lr``, else ``<name>_lr<lr>``."""
    from utils.rlvr import Job

    if abs(float(cfg.learning_rate) - lr) > 1e-15 * lr:
        name = f"{name}_lr{lr:g}"
        cfg = cfg.replace(learning_rate=lr, name=name)
    return Job(cfg, seed, str(Path(out_dir) / f"{name}_seed{seed}.json"))


#: How the ledger names each arm.
ARM_LABELS = {"all": "all", "top20": "top-20%", "bottom80": "bottom-80%", "random20": "random-20%",
              "role20": "role-only 20%"}
_DIRS_04 = (DATA_DIR / "results" / "04_masked_rlvr", DATA_DIR / "results" / "full" / "04_masked_rlvr")


def runs_at_04(arm: str, lr: float, seeds: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Notebook 04's committed runs of ``arm`` at rate ``lr`` on the comparison seeds (default: the spec's 0-7):
    ``countdown_<arm>`` at 1e-4, ``countdown_<arm>_lr3e-4`` at 3e-4, ``04_<arm>_lr<lr>`` at a rate stage 1 added;
    from ``data/results/04_masked_rlvr/`` or ``data/results/full/04_masked_rlvr/``, each checked as a complete run
    of its job (:func:`utils.rlvr.readout.load_jobs`)."""
    from utils.rlvr import Job, load_config
    from utils.rlvr.readout import load_jobs

    seeds = list(spec("04")["comparison_seeds"] if seeds is None else seeds)
    if abs(lr - 1e-4) <= 1e-15:
        cfg = load_config(f"countdown_{arm}", profile="full")
    elif abs(lr - 3e-4) <= 1e-15:
        cfg = load_config(f"countdown_{arm}_lr3e-4", profile="full")
    else:
        cfg = load_config(f"countdown_{arm}", profile="full")
        cfg = cfg.replace(learning_rate=lr, name=f"04_{arm}_lr{lr:g}")
    jobs = []
    for s in seeds:
        found = [d / f"{cfg.name}_seed{s}.json" for d in _DIRS_04 if (d / f"{cfg.name}_seed{s}.json").exists()]
        jobs.append(Job(cfg, s, str(found[0] if found else _DIRS_04[1] / f"{cfg.name}_seed{s}.json")))
    made_by = (f"{PROG} compare --notebook 04" if cfg.name.startswith("04_") and "_lr" in cfg.name
               and not cfg.name.endswith("lr3e-4") else "make reproduce PROFILE=full (notebook 04)")
    return load_jobs(jobs, made_by)


def selection_runs(notebook: str) -> list[dict[str, Any]]:
    """Stage 1's committed runs (all of them: a missing one is an error naming the command that makes it)."""
    from utils.rlvr.readout import load_jobs

    return load_jobs(selection_jobs(notebook), f"{PROG} select --notebook {notebook}")


def per_arm_04(margin_share: float | None = None) -> dict[str, Any]:
    """Notebook 04's comparisons with every arm at its own chosen rate (stage 1's rule): the choice per arm, the
    equivalence margin (a quarter of `all`'s selection gain), the best-vs-best evidence (top20 - all, bottom80 - all,
    top20 - random20, top20 - role20, paired by seed) and the share of `all`'s gain that top20 recovers."""
    from utils.rlvr.readout import compare_runs, values
    from utils.stats import gain_share

    d = spec("04")
    chosen = choose(selection_runs("04"))
    lr = {arm: chosen[("d96", arm)]["lr"] for arm in d["arms"]}
    share = float(d["margin_share_of_gain"] if margin_share is None else margin_share)
    margin = share * chosen[("d96", "all")]["gain"]
    runs = {arm: runs_at_04(arm, lr[arm]) for arm in d["arms"]}
    base = float(runs["all"][0]["eval"]["pass1"][0])
    lab = {arm: f"{ARM_LABELS[arm]} (lr {x:g})" for arm, x in lr.items()}  # how each arm is named in the evidence
    ev = {"top20_vs_all": compare_runs(runs["top20"], runs["all"], labels=(lab["top20"], lab["all"]), margin=margin),
          "bottom80_vs_all": compare_runs(runs["bottom80"], runs["all"], labels=(lab["bottom80"], lab["all"])),
          "top20_vs_random20": compare_runs(runs["top20"], runs["random20"], labels=(lab["top20"], lab["random20"])),
          "top20_vs_role20": compare_runs(runs["top20"], runs["role20"], labels=(lab["top20"], lab["role20"]))}
    # Did the choice hold on other seeds? Each arm whose rule picked another rate than 1e-4 (the rate all arms ran at
    # before), against itself at 1e-4 on the comparison seeds: the selection used two seeds, so it can miss.
    check = {arm: compare_runs(runs[arm], runs_at_04(arm, 1e-4), labels=(lab[arm], f"{ARM_LABELS[arm]} (lr 0.0001)"))
             for arm in d["arms"] if abs(lr[arm] - 1e-4) > 1e-15}
    return {"chosen": chosen, "lr": lr, "margin": margin, "margin_share": share, "runs": runs, "base": base,
            "evidence": ev, "choice_check": check,
            "gain_share": gain_share(values(runs["top20"]), values(runs["all"]), base)}


def share_words(gs: dict[str, Any], unit: str = "seeds") -> str:
    """``"top-20% recovers 138% of all's gain [95% CI 99%, 252%] (Fieller, n = 8 seeds)"``."""
    ci = f"[95% CI {gs['ci'][0]:.0%}, {gs['ci'][1]:.0%}]" if gs["ci"] else "(no finite 95% CI: all's gain is unclear)"
    return f"top-20% recovers {gs['share']:.0%} of all's gain over the base model {ci} (Fieller, n = {gs['n']} {unit})"


def per_arm_04_words(pa: dict[str, Any]) -> str:
    """What notebook 04's per-arm comparison found, from :func:`per_arm_04`'s numbers (Markdown)."""
    from utils.stats import verdict

    ev, bot = pa["evidence"]["top20_vs_all"], pa["evidence"]["bottom80_vs_all"]
    v = verdict(ev, "equivalent")
    same = [ARM_LABELS[a] for a in ("random20", "role20") if abs(pa["lr"][a] - pa["lr"]["top20"]) <= 1e-15]
    sel_seeds = spec("04")["selection_seeds"]
    ahead = ev.ci95[0] > 0
    rates = ", ".join(f"{ARM_LABELS[a]} {x:g}" for a, x in pa["lr"].items())
    checks = "; ".join(f"{e.labels[0]} − {e.labels[1]}: {e.diff:+.3f} [95% CI {e.ci95[0]:+.3f}, {e.ci95[1]:+.3f}]"
                       for e in pa["choice_check"].values())
    return (f"The rule chose: {rates}. At those rates, over {ev.n_a} paired seeds, **top-20 % − all** "
            f"{ev.diff:+.3f}, 90 % CI [{ev.ci90[0]:+.3f}, {ev.ci90[1]:+.3f}], against the margin "
            f"±{pa['margin']:.4f} ({pa['margin_share']:g} × all's gain on its selection runs) → **{v}**"
            + (" — top-20 % is *ahead* (95 % CI above 0), and its 90 % CI reaches past the margin, so a match "
               "within it is not shown" if ahead and v != "reproduced" else "")
            + f"; {share_words(pa['gain_share'])}. **Bottom-80 % − all** at their own rates: "
            f"{bot.diff:+.3f} [95% CI {bot.ci95[0]:+.3f}, {bot.ci95[1]:+.3f}] → **{verdict(bot, 'less')}**. "
            + (f"{' and '.join(same)} chose {pa['lr']['top20']:g} like top-20 %, so their comparisons with it "
               "(sections 3 and 5) already run each at its own rate. " if same else "")
            + f"Did each {len(sel_seeds)}-seed choice hold on the {ev.n_a} comparison seeds? {checks}"
            + (": where that interval lies below 0 the rule's pick was worse on other seeds than 1e-4 — a choice from "
               "two seeds is noisy (the winner's curse), and the rule, fixed in advance, is kept as it is."
               if any(e.ci95[1] < 0 for e in pa["choice_check"].values()) else "."))


PROG = "python -m utils.tuning"


def parser() -> Any:
    """The command line (see :func:`main`)."""
    from utils.infra.cli import Parser, add_debug, whole_number

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
                         f"{PROG} select --notebook {jobs[0].cfg.name[:2]}")
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

    # A committed run of the same config (under the default or full profile: the ladder's ran under default) is read
    # back, not trained again; a file that is not this job's finished run is never replaced silently.
    jobs = [j for j in jobs if finished_run(j, any_profile=True) is None]
    for j in jobs:
        if Path(j.out).exists():
            guard_overwrite(j.out, False, kind="file")
    with quiet():
        run_many(jobs, workers=workers, threads=1, verbose=True, resume=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m utils.tuning select|compare|show --notebook 04|06 [--workers 2]``: one line and exit code 2
    for a bad argument (``--debug``: the traceback)."""
    from utils.infra.cli import run

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
