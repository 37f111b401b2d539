"""What notebook 06 shows next to its numbers, built from those numbers, and its plumbing (issue 32, section 1: the
lesson in the cells, the formatting and the job lists here). Every sentence function takes the notebook's own results
and returns Markdown; the table functions return the DataFrame the cell displays; none computes a result the ledger
judges (the slope, its intervals and the verdict come from :mod:`utils.ladder.analysis`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "design_sentence",
    "entropy_sentence",
    "gap_table",
    "incomplete_sentence",
    "levelled_sentence",
    "live_lines",
    "live_runs",
    "lr_sweep",
    "lr_sweep_sentence",
    "models_sentence",
    "models_table",
    "scatter_sentence",
    "size_sentence",
    "size_table",
    "trained_models",
    "trend_sentence",
]

#: The command that regenerates the committed learning-rate sweep.
SWEEP_COMMAND = "python -m utils.ladder lr-sweep --out-dir data/results/full/06_scale_ladder/lr_sweep --force"
#: The columns of section 5's per-size table, in the order shown.
SIZE_COLUMNS = ["params", "models", "gap", "sd_between_models", "sd_within_model", "seed-level 95% CI",
                "model-level 95% CI"]


def trained_models(base_model_seeds: Sequence[int], root: Path) -> list[int]:
    """The SFT seeds whose base model exists under ``root`` at every size: seed 0 (the model that chose the learning
    rate) and those of ``base_model_seeds`` trained so far."""
    from utils import ladder

    return [0] + [s for s in base_model_seeds if all((root / ladder.base_model_dir(r, s)).is_dir()
                                                      for r in ladder.RUNGS)]


def models_table(models: Any) -> Any:
    """Section 1's table: held-out pass@1 of each base model before RL, one row per size, one column per SFT
    seed."""
    return (models.pivot_table(index=["rung", "params"], columns="model_seed", values="base_pass1")
            .round(3).rename(columns=lambda s: f"SFT seed {s}"))


def models_sentence(models: Any, params: Mapping[str, int]) -> str:
    """Section 1: how many base models, how many sizes, the command that made one, and SFT's wall time
    (``models``: :func:`utils.ladder.rung_table` as a DataFrame; ``params``: parameters per size)."""
    lo, hi = min(params.values()), max(params.values())
    return (f"Held-out pass@1 of each base model before RL (mean of 3 sampling seeds). {len(models)} models, "
            f"{len(params)} sizes from {lo:,} to {hi:,} parameters ({hi / lo:.1f}×); each made by one command, "
            f"e.g. `{models['command'].iloc[-1]}`. SFT took {models['train_wall_s'].min() / 60:.0f}–"
            f"{models['train_wall_s'].max() / 60:.0f} min per model on one shared CPU thread.")


def entropy_sentence(ent: Mapping[str, Mapping[str, Sequence[float]]], sizes: Sequence[str], n_seeds: int,
                     n_problems: int) -> str:
    """Section 1: the 80th percentile and the share below 0.01 nats of each size (mean over sampling seeds)."""
    return ("80th percentile / share below 0.01 nats by size: "
            + "; ".join(f"{n} {np.mean(ent[n]['p80']):.3f} nats / {np.mean(ent[n]['share_below_0.01']):.3f}"
                        for n in sizes)
            + f" (mean over {n_seeds} sampling seeds of {n_problems} problems). Descriptive: one model per size.")


def live_runs(cfgs: Mapping[str, Any], seeds: Sequence[int], run_dir: Path, workers: int = 2
              ) -> tuple[list[dict[str, Any]], float]:
    """Section 2: train every config of ``cfgs`` on every seed (results in ``run_dir``), ``workers`` at a time with
    one torch thread each, quietly. Returns the runs and the wall time in seconds."""
    from utils.notebook import quiet
    from utils.rlvr import Job, run_many

    jobs = [Job(c, s, str(run_dir / f"{c.name}_seed{s}.json")) for c in cfgs.values() for s in seeds]
    t0 = time.perf_counter()
    with quiet():
        live = run_many(jobs, workers=workers, threads=1, verbose=False)
    return live, time.perf_counter() - t0


def live_lines(live: Sequence[Mapping[str, Any]], seconds: float) -> str:
    """Section 2: one line per run (its held-out pass@1 at each evaluation), then the runs' wall time."""
    lines = [f"{r['name']} seed {r['seed']}: held-out pass@1 " + " → ".join(f"{p:.3f}" for p in r["eval"]["pass1"])
             + f"  (steps {r['eval']['step'][0]}..{r['eval']['step'][-1]})" for r in live]
    return "\n".join([*lines, f"{len(live)} runs in {seconds:.0f} s"])


def lr_sweep(sizes: Sequence[str]) -> list[dict[str, Any]]:
    """Section 3: the committed learning-rate sweep's runs of every size in ``sizes`` (``SWEEP_COMMAND``
    regenerates them)."""
    from utils import ladder
    from utils.rlvr import readout

    jobs = [j for name in sizes for j in ladder.lr_sweep_jobs(name, ladder.SWEEP_DIR)]
    return readout.load_jobs(jobs, SWEEP_COMMAND)


def lr_sweep_row(means: Mapping[float, float], lr: float) -> dict[str, Any]:
    """One row of section 3's table: the mean endpoint per learning rate (3 decimals) and the chosen rate."""
    return {**{f"lr {k:g}": round(v, 3) for k, v in means.items()}, "chosen": f"{lr:g}"}


def lr_sweep_sentence(n_sweep_seeds: int) -> str:
    """Section 3: what the table of sweep endpoints shows."""
    return (f"Mean endpoint of `all` per learning rate ({n_sweep_seeds} sweep seeds each, 100 steps, "
            "seed-0 models). The chosen rates are written into `configs/ladder_<size>_*.yaml`.")


def incomplete_sentence(n_done: int, n_jobs: int, n_models: int, regenerate: str) -> str:
    """Section 4, when runs are missing: how many have finished and how to resume."""
    return (f"**The design is not complete**: {n_done} of {n_jobs} runs have finished; what follows analyses the "
            f"{n_models} base models whose runs all have (`{regenerate}` resumes).")


def design_sentence(design: Mapping[str, Any], n_sizes: int, n_jobs: int) -> str:
    """Section 4: the pre-registered design (``design``: :func:`utils.ladder.design`) in one paragraph."""
    d, ee = design, design["eval_every"]
    return (f"**Design**: {n_sizes} sizes × {len(d['base_model_seeds'])} base models (SFT seeds "
            f"{d['base_model_seeds']}) × {len(d['arms'])} arms ({', '.join(d['arms'])}) × {len(d['rl_seeds'])} RL "
            f"seeds = {n_jobs} runs of {d['steps']} GRPO steps at each size's learning rate; held-out pass@1 (500 "
            f"problems × 4 samples) every {ee} steps. The gap at budget *b* is the mean of the evaluations at *b* − "
            f"{ee} and *b*; budgets {d['budgets']}, primary {d['primary_budget']}. Slope margin: "
            f"±{d['slope_margin']} pass@1 per 10× parameters.")


def gap_table(rows: Sequence[Mapping[str, Any]]) -> Any:
    """Section 4's table: per base model, its pass@1 before RL, each arm's endpoint, the gap and its SD over RL
    seeds (one column per base model)."""
    import pandas as pd

    return (pd.DataFrame(rows)[["rung", "model_seed", "base", "all", "top20", "gap", "gap_sd"]]
            .round(4).set_index(["rung", "model_seed"]).T)


def levelled_sentence(rise: Mapping[str, float]) -> str:
    """Section 4: how much ``all``'s mean endpoint rises per size from the first budget to the primary one."""
    return ("Has `all` levelled off? Its mean endpoint rises from the first budget to the primary one by "
            + ", ".join(f"{n} {v:+.3f}" for n, v in rise.items()) + " pass@1 (dotted lines: the two budgets).")


def scatter_sentence(anova: Mapping[str, Any], n_seeds: int) -> str:
    """Section 5: the between-model scatter of the mean gaps against seed noise, and the pooled F test
    (``anova``: :func:`utils.ladder.analysis.between_model_test`)."""
    a = anova
    return (f"Between base models of one size the mean gaps scatter with SD {a['sd_model_means']:.4f}; RL-seed noise "
            f"alone predicts {a['sd_predicted']:.4f} (σ_w = {a['sd_within']:.4f} over {n_seeds} seeds). Pooled over "
            f"sizes, F = {a['F']:.2f} on ({a['df1']}, {a['df2']}) df, p = {a['p']:.3g}: "
            + ("the base models differ by more than seed noise — the seed-level analysis would be too narrow."
               if a["p"] < 0.05 else "no evidence here that base models differ beyond seed noise; the model-level "
               "analysis still makes no assumption about it."))


def size_table(sizes: Any) -> Any:
    """Section 5's table: the columns ``SIZE_COLUMNS`` of the per-size table, to 4 decimals."""
    return sizes[SIZE_COLUMNS].round(4)


def size_sentence(primary: int, k: int, n_seeds: int) -> str:
    """Section 5: what the two intervals of the per-size table are (``k`` base models per size, ``n_seeds`` RL
    seeds each)."""
    return (f"Per size, the mean gap top-20 % − all at {primary} steps. *Seed-level*: Welch over the {k * n_seeds} + "
            f"{k * n_seeds} pooled runs (your `gap_ci`); *model-level*: a t interval over the {k} base models' mean "
            "gaps (df = K − 1). The model-level interval is the one a claim about size can use.")


def trend_sentence(res: Mapping[int, Mapping[str, Any]], primary: int, margin: float, n_done: int, n_jobs: int
                   ) -> str:
    """Section 5's result: the model-level slope at the primary budget with its intervals, the random-intercept
    check, the seed-level interval and why it differs, the design's power, the first budget, and the pre-registered
    verdict (or that there is none yet while ``n_done < n_jobs``). ``res``: :func:`utils.ladder.analysis.analyse`
    per budget."""
    main, first = res[primary], res[min(res)]
    m, sl, mx, f = main["model"], main["seed_level"], main["mixed"], first["model"]
    if n_done == n_jobs:
        close = f"**Verdict (pre-registered rule, {primary} steps): {main['verdict']}.**" + (
            f" The 90 % CI [{m.ci90[0]:+.4f}, {m.ci90[1]:+.4f}] lies inside ±{margin}: in this setting any trend is "
            "smaller than the margin fixed in advance — which is not the same as no trend (the point estimate is "
            f"{m.diff:+.4f})." if main["verdict"] == "not reproduced" and m.ci95[0] < 0 < m.ci95[1] else "")
    else:
        close = (f"**No verdict yet**: the pre-registered design is not complete ({n_done} of {n_jobs} runs); the "
                 f"rule would say *{main['verdict']}* on these {m.n_a} base models.")
    return (f"**At {primary} steps**, per 10× parameters the gap top-20 % − all changes by {m.diff:+.4f} (95 % CI "
            f"[{m.ci95[0]:+.4f}, {m.ci95[1]:+.4f}], p = {m.p:.2g}, n = {m.n_a} base models, df = {m.df:.0f}); the "
            f"random-intercept fit gives {mx.diff:+.4f} [{mx.ci95[0]:+.4f}, {mx.ci95[1]:+.4f}]. Treating the "
            f"{sl.n_a} seeds' gaps as independent gives [{sl.ci95[0]:+.4f}, {sl.ci95[1]:+.4f}] (df = {sl.df:.0f}), "
            f"{1 / main['se_ratio']:.2f}× the model-level standard error"
            + (": narrower, because it ignores that the seeds of one base model share its offset "
               if main["se_ratio"] > 1
               else ": not narrower on these models, whose gaps differ little beyond seed noise ")
            + f"(estimated SD of the base models' own offsets σ_b {main['sd_between']:.4f}, seed noise removed; "
            f"between seeds of one model σ_w {main['sd_within']:.4f}). This design detects slopes of "
            f"{main['mds']:.4f} and more with 80 % power; detecting a slope of the margin ({margin}) would take "
            f"{main['models_needed'] or 'more than 1000'} base models per size. At {min(res)} steps: "
            f"{f.diff:+.4f} [{f.ci95[0]:+.4f}, {f.ci95[1]:+.4f}] ({first['verdict']}). " + close)
