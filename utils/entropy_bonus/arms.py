"""Notebook 05's comparison: which interventions keep entropy up in RLVR, side by side.

* :data:`ARMS` -- every arm of the comparison: its config, the arm it is compared with (its *baseline*: GRPO, or
  GRPO with two optimisation steps per batch for clip-higher) and what it changes;
* :func:`margins` -- the equivalence margins and pre-registered choices of ``configs/margins.yaml``;
* :func:`choose_entropy_coef` -- the positive control's coefficient, by the rule fixed there before the sweep;
* :func:`paired` / :func:`arm_evidence` / :func:`arm_table` -- per-seed values of two arms, aligned by seed (the arms
  share the initial model, the training prompts of a seed and the evaluation samples' seeds), compared with the
  paired t test of :func:`utils.stats.compare`;
* notebook 05's ledger rows are built by :func:`utils.reproduce.ledgers.record_05`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from utils import stats
from utils.config import margins  # the 05 section is this module's margins (re-exported)
from utils.entropy_bonus.exploration import final_entropy  # a per-run value of the arms' table (re-exported)

__all__ = ["ARMS", "Arm", "arm_evidence", "arm_rows", "arm_summary", "arm_table", "budget", "choose_entropy_coef",
           "clip_share", "coverage_evidence", "final_entropy", "margins", "paired",
           "pass1", "passk", "sweep_config"]


@dataclass(frozen=True)
class Arm:
    """One arm: ``config`` (a name in ``configs/``), the label of the arm it is compared with, what it changes."""

    label: str
    config: str
    baseline: str | None
    what: str


GRPO, GRPO_MU2 = "GRPO", "GRPO, 2 steps/batch"
P04, P4, U04, U4, ER, CH = ("ψ, α 0.4 (Cheng et al.)", "ψ, α 4", "uncapped 0.4 H", "uncapped 4 H", "entropy regulariser",
                            "clip-higher")
ARMS: dict[str, Arm] = {a.label: a for a in (
    Arm(GRPO, "countdown_entadv_grpo", None, "the baseline: one optimisation step per batch"),
    Arm(P04, "countdown_entadv", GRPO, "A + min(0.4 H, |A|/2): the paper's rule"),
    Arm("ψ, α 1", "countdown_entadv_a1", GRPO, "A + min(H, |A|/2)"),
    Arm("ψ, α 2", "countdown_entadv_a2", GRPO, "A + min(2 H, |A|/2)"),
    Arm(P4, "countdown_entadv_a4", GRPO, "A + min(4 H, |A|/2): the cap binds at most forks"),
    Arm(U04, "countdown_entadv_uncapped", GRPO, "A + 0.4 H: the baseline term alone"),
    Arm(U4, "countdown_entadv_uncapped_a4", GRPO, "A + 4 H: ten times the noise"),
    Arm(ER, "countdown_entadv_entreg", GRPO, "loss - c * mean token entropy (TRL entropy_coef)"),
    Arm(GRPO_MU2, "countdown_entadv_grpo_mu2", GRPO, "two steps per batch, symmetric clip 0.2"),
    Arm(CH, "countdown_entadv_cliphigh", GRPO_MU2, "two steps per batch, clip [0.8, 1.28] (DAPO)"),
)}


def budget(cfg: Any) -> str:
    """The ledger's budget line of a run config (every arm shares it; clip-higher and its baseline re-use each
    batch for two of the optimiser steps)."""
    return (f"{cfg.steps} optimiser steps, lr {cfg.learning_rate:g}, {cfg.prompts_per_step}x{cfg.num_generations} samples "
            f"per batch; pass@1: mean of the last two evaluations ({cfg.eval_n} problems x {cfg.eval_samples}); "
            f"pass@k: {cfg.final_samples} samples per hard problem")


def clip_share(run: dict[str, Any]) -> float:
    """The share of a run's optimiser steps whose gradient norm exceeded its ``max_grad_norm`` (clipping scaled the
    whole update down on those steps)."""
    return float(np.mean(np.asarray(run["train"]["grad_norm"], float) > float(run["config"]["max_grad_norm"])))


def pass1(run: dict[str, Any]) -> float:
    """Held-out pass@1: mean of the last two evaluations (500 problems x 4 samples in the full profile), i.e.
    :func:`utils.rlvr.readout.endpoint` at its defaults."""
    from utils.rlvr.readout import endpoint

    return endpoint(run)


def passk(k: int) -> Callable[[dict[str, Any]], float]:
    """Unbiased pass@k of a run's final evaluation (the hard problems), as a per-run value function."""
    from utils.entropy_bonus.exploration import passk_of_run

    return lambda run: passk_of_run(run, k)


def paired(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], fn: Callable[[dict[str, Any]], float]
           ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``fn`` of the runs of ``a`` and ``b`` on the seeds both have, aligned by seed: ``(va, vb, seeds)``."""
    sa, sb = {r["seed"]: r for r in a}, {r["seed"]: r for r in b}
    seeds = sorted(set(sa) & set(sb))
    return np.array([fn(sa[s]) for s in seeds]), np.array([fn(sb[s]) for s in seeds]), seeds


def coverage_evidence(runs: Sequence[dict[str, Any]], base_hard: dict[str, Any], k: int,
                      label: str = "GRPO") -> stats.Evidence:
    """Does RL shrink coverage: per hard problem, the unbiased pass@``k`` of ``runs`` (averaged over their seeds)
    minus the base model's, paired by problem (``base_hard``: the base model's ``correct`` counts of its
    ``samples`` per problem, the same problems and sample count as the runs' final evaluation)."""
    from utils.passk import pass_at_k

    n_samp = int(base_hard["samples"])
    pp = lambda correct: np.asarray(pass_at_k(n_samp, correct, k))  # noqa: E731
    mean_pp = np.mean([pp(r["final"]["correct"]) for r in runs], axis=0)
    return stats.compare(mean_pp, pp(base_hard["correct"]), paired=True, unit="problem",
                         labels=(f"pass@{k} after {label}", f"pass@{k} of the base model"))


def arm_evidence(groups: dict[str, list[dict[str, Any]]], label: str, fn: Callable[[dict[str, Any]], float],
                 what: str, margin: float | None = None, against: str | None = None) -> stats.Evidence:
    """Arm ``label`` against its baseline (or ``against``), paired by seed, on the per-run value ``fn``."""
    base = against or ARMS[label].baseline
    va, vb, _ = paired(groups[label], groups[base], fn)  # type: ignore[index]
    return stats.compare(va, vb, paired=True, margin=margin, labels=(f"{what}, {label}", f"{what}, {base}"))


def arm_table(groups: dict[str, list[dict[str, Any]]], k: int) -> list[dict[str, Any]]:
    """One row per arm: n, final entropy, pass@1, pass@k (means) and each minus the arm's baseline with the paired
    95 % CI (``diff``/``lo``/``hi``/``n`` keys per metric; absent with fewer than 2 seeds paired), for the notebook's
    table and figure."""
    metrics = {"entropy": final_entropy, "pass@1": pass1, f"pass@{k}": passk(k)}
    rows = []
    for label, arm in ARMS.items():
        if label not in groups:
            continue
        row: dict[str, Any] = {"arm": label, "vs": arm.baseline or "–", "n": len(groups[label])}
        for m, fn in metrics.items():
            row[m] = float(np.mean([fn(r) for r in groups[label]]))
            if arm.baseline in groups and len(paired(groups[label], groups[arm.baseline], fn)[2]) >= 2:
                ev = arm_evidence(groups, label, fn, m)
                row.update({f"{m} diff": ev.diff, f"{m} lo": ev.ci95[0], f"{m} hi": ev.ci95[1], f"{m} n": ev.n_a})
        rows.append(row)
    return rows


def _mean_and_diff(r: Any, m: str) -> str:
    """A row of :func:`arm_table`'s metric ``m`` as ``mean (Δ [95 % CI])`` (the mean alone without a baseline)."""
    import pandas as pd

    d = r.get(f"{m} diff")
    return f"{r[m]:.3f}" + ("" if pd.isna(d) else f" ({d:+.3f} [{r[f'{m} lo']:+.3f}, {r[f'{m} hi']:+.3f}])")


def _metric_column(tab: Any, m: str) -> Any:
    """The column of the metric ``m`` of :func:`arm_summary`'s table, formatted by :func:`_mean_and_diff`."""
    return tab.apply(_mean_and_diff, axis=1, args=(m,))


def _optional(v: Any, f: str) -> str:
    """``v`` formatted by ``f``, or an empty string where it is missing."""
    import pandas as pd

    return "" if pd.isna(v) else f.format(v)


def arm_summary(groups: dict[str, list[dict[str, Any]]], k: int) -> tuple[Any, Any]:
    """Notebook 05's table of the arms: ``(tab, show)``. ``tab`` is :func:`arm_table` as a DataFrame indexed by arm,
    with the treatment's size from the training logs (``ψ per token``, ``cap binds``: the share of tokens where
    |A|/κ binds) for the ψ arms; ``show`` the same, formatted for display, each metric as ``mean (Δ [95 % CI])``."""
    import pandas as pd

    tab = pd.DataFrame(arm_table(groups, k)).set_index("arm")
    for lab, rs in groups.items():
        if lab in tab.index and "psi_mean" in rs[0]["train"] and lab.startswith(("ψ", "uncapped")):
            tab.loc[lab, "ψ per token"] = float(np.mean([np.mean(r["train"]["psi_mean"]) for r in rs]))
            tab.loc[lab, "cap binds"] = float(np.mean([np.mean(r["train"]["psi_clip_frac"]) for r in rs]))

    fmt = partial(_metric_column, tab)
    show = pd.DataFrame({"vs": tab["vs"], "n": tab["n"],
                         "ψ per token": tab["ψ per token"].map(partial(_optional, f="{:.3f}")),
                         "cap binds": tab["cap binds"].map(partial(_optional, f="{:.0%}")),
                         "final entropy (Δ [95% CI])": fmt("entropy"),
                         "pass@1 (Δ)": fmt("pass@1"), f"pass@{k} (Δ)": fmt(f"pass@{k}")})
    return tab, show


def arm_rows(groups: dict[str, list[dict[str, Any]]], k: int, entropy_margins: dict[str, float], pass1_margin: float
             ) -> list[tuple[str, str, dict[str, stats.Evidence]]]:
    """For :func:`utils.viz.rl.arms_figure`: every arm with a paired baseline, ``(arm, baseline, {metric:
    evidence})`` for final entropy (with its margin where ``entropy_margins`` has one), pass@1 (against
    ``pass1_margin``) and pass@``k``, each paired by seed as the ledger compares them."""
    out = []
    for lab, arm in ARMS.items():
        if lab not in groups or arm.baseline not in groups:
            continue
        if len(paired(groups[lab], groups[arm.baseline], pass1)[2]) < 2:
            continue
        out.append((lab, arm.baseline, {
            "entropy": arm_evidence(groups, lab, final_entropy, "final entropy", margin=entropy_margins.get(lab)),
            "pass@1": arm_evidence(groups, lab, pass1, "pass@1", margin=pass1_margin),
            f"pass@{k}": arm_evidence(groups, lab, passk(k), f"pass@{k}")}))
    return out


def sweep_config(coef: float, profile: str | None = None) -> Any:
    """The run config of the entropy-coefficient sweep at ``coef`` (plain GRPO plus TRL's ``entropy_coef``), as
    notebook 05 builds it: ``05_countdown_entadv_entreg_c<coef>``."""
    from utils.rlvr import load_config

    return load_config("countdown_entadv_grpo", profile=profile, name=f"05_countdown_entadv_entreg_c{coef:g}",
                       grpo_overrides={"entropy_coef": coef})


def choose_entropy_coef(sweep: dict[float, list[dict[str, Any]]], grpo: Sequence[dict[str, Any]], min_rise: float
                        ) -> tuple[float, dict[float, float]]:
    """The pre-registered rule (``configs/margins.yaml``): the smallest coefficient whose mean final-entropy rise over
    GRPO on the same seeds is at least ``min_rise`` nats, else the largest. Coefficients are taken in increasing
    order and the rule stops at the first that qualifies, so larger ones need not have been run. Returns the
    choice and the rises of the coefficients that were run."""
    rises: dict[float, float] = {}
    for c in sorted(sweep):
        va, vb, _ = paired(sweep[c], grpo, final_entropy)
        rises[c] = float(np.mean(va - vb))
        if rises[c] >= min_rise:
            return c, rises
    return max(sweep), rises


