"""Notebook 05's figures (entropy bonus): the arms, pass@k, the baseline's noise, the base models' difficulty and
entropy during training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from utils import stats
from utils.viz.rl.common import _plt

__all__ = ["arms_figure", "base_difficulty_figure", "baseline_noise_figure", "entropy_training_figure",
           "pass_at_k_figure"]


def arms_figure(rows: Sequence[tuple[str, str, Mapping[str, stats.Evidence]]],
                metrics: Sequence[tuple[str, str, float | None]]) -> Any:
    """Notebook 05's ``05_arms``: one panel per metric (``metrics`` = ``(key, title, margin)``), one row per arm
    (``rows`` = ``(arm, baseline, {key: evidence})``): the arm minus its baseline, paired by seed, 95 % CI thin and
    90 % CI thick; where the metric has an equivalence margin, the ±margin band. The arms' names are written once,
    on the left."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(metrics), figsize=(9.0, 0.42 * len(rows) + 1.6), sharey=True)
    for ax, (key, title, margin) in zip(np.atleast_1d(axes), metrics):
        for i, (_, _, evs) in enumerate(rows):
            ev = evs.get(key)
            if ev is None:
                continue
            ax.errorbar([ev.diff], [i], xerr=[[ev.diff - ev.ci95[0]], [ev.ci95[1] - ev.diff]], fmt="o", ms=4,
                        capsize=3, color="k", lw=1)
            ax.hlines(i, *ev.ci90, color="k", lw=4, alpha=0.45)
        if margin:
            ax.axvspan(-margin, margin, color="tab:green", alpha=0.12, lw=0)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set(title=title + (f"\n(green: margin ±{margin:g})" if margin else "\n"))
        ax.title.set_fontsize(9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3, axis="x")
    ax0 = np.atleast_1d(axes)[0]
    ax0.set(yticks=range(len(rows)), ylim=(len(rows) - 0.5, -0.5))
    ax0.set_yticklabels([f"{a} − {b} (n = {next(iter(e.values())).n_a})" for a, b, e in rows], fontsize=8)
    fig.text(0.5, 0.005, "arm minus its baseline, paired by seed: ● with thin bar = 95% CI, thick bar = 90% CI "
             "(the equivalence tests' interval)", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def pass_at_k_figure(ks: Sequence[int], base_curve: np.ndarray, arm_curves: Mapping[str, tuple[np.ndarray, int]],
                     diff_panels: Sequence[tuple[str, Mapping[str, Sequence[stats.Evidence]]]],
                     coverage: Sequence[stats.Evidence], colors: Mapping[str, Any], k_judged: int,
                     n_problems: int) -> Any:
    """Notebook 05's ``05_pass_at_k`` on the hard problems, 2 x 2: pass@k per arm (mean over seeds); GRPO − base
    model (paired by problem, 95 % CI); and in the bottom row the arms minus their baselines (paired by seed, 95 %
    CI), split over two panels (``diff_panels`` = ``(title, {label: evidence per k})``) so the bands stay apart.
    Every panel marks k = 1 and k = max (where a crossover would be read) and the ledger's k."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 7.4), sharex=True)
    ks = np.asarray(ks)
    ax = axes[0, 0]
    ax.plot(ks, base_curve, "k--", label="base model")
    for lab, (curve, n) in arm_curves.items():
        ax.plot(ks, curve, color=colors[lab], label=f"{lab} (n = {n})")
    ax.set(title=f"pass@k, {n_problems} hard problems (mean over seeds)", ylabel="pass@k")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=6.5, loc="upper left", frameon=False)
    panels = [(axes[0, 1], "GRPO − base model (95% CI, paired by problem)",
               {f"GRPO − base model (n = {coverage[0].n_a} problems)": coverage})]
    panels += [(axes[1, j], t, evs) for j, (t, evs) in enumerate(diff_panels)]
    for ax, title, evs in panels:
        for lab, es in evs.items():
            col = colors.get(lab.split(" − ")[0], "k")
            ax.plot(ks, [e.diff for e in es], color=col, label=lab)
            ax.fill_between(ks, [e.ci95[0] for e in es], [e.ci95[1] for e in es], color=col, alpha=0.2, lw=0)
            ax.plot(ks, [e.ci95[0] for e in es], color=col, lw=0.6, alpha=0.7)
            ax.plot(ks, [e.ci95[1] for e in es], color=col, lw=0.6, alpha=0.7)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6.5, loc="lower left", frameon=False)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 0.35 * (hi - lo), hi)
    for ax in axes.flat:
        ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
        for k, ls in ((ks[0], "--"), (k_judged, ":"), (ks[-1], "--")):
            ax.axvline(k, color="0.4", ls=ls, lw=1)
        ax.set_xticks([2**i for i in range(int(np.log2(ks[-1])) + 1)])
        ax.xaxis.set_major_formatter("{x:g}")
    for ax in axes[1]:
        ax.set_xlabel("k (samples per problem)")
    axes[1, 0].set_ylabel("arm − its baseline")
    fig.text(0.5, 0.005, f"dashed: k = {ks[0]} and k = {ks[-1]}, the two ends where a crossover is read; "
             f"dotted: k = {k_judged}, the k the ledger judges", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.025, 1, 1))
    return fig


def baseline_noise_figure(held: Mapping[str, Any], n_batches: int) -> Any:
    """Notebook 05's ``05_baseline_noise``: the norm of the mean gradient over N batches, for the uncapped bonus
    and the advantage term, *predicted* from one half of the committed batches (lines: ``sqrt(||E g||^2 +
    tr Sigma / N)``, band: bootstrap 95 % CI; dotted: the baseline's ``sqrt(tr Sigma_psi / N)``) and *measured* on
    the other half (points: mean over disjoint blocks, bars: t 95 % CI over the blocks) -- ``held`` is
    :func:`utils.entropy_bonus.identity.held_out_curve`'s result."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    for t, lab, col in (("psi", "uncapped ψ = 0.4 H", "tab:orange"), ("adv", "advantage term", "tab:blue")):
        cv = held["curve"][t]
        ns = np.array(sorted(cv))
        ms = np.array([cv[n]["measured"] for n in ns])
        ci = np.array([cv[n]["measured_ci"] for n in ns]).T
        key = "predicted_null" if t == "psi" else "predicted"
        pr = np.array([cv[n][key] for n in ns])
        pci = np.array([cv[n][key + "_ci"] for n in ns]).T
        ax.plot(ns, pr, "--" if t == "psi" else "-", color=col, alpha=0.8,
                label=f"{lab}: predicted from batches 1-{held['fit_batches']}"
                      + (" (E g = 0: 1/√N)" if t == "psi" else ""))
        ax.fill_between(ns, pci[0], pci[1], color=col, alpha=0.15, lw=0)
        ax.errorbar(ns * (1.04 if t == "psi" else 0.96), ms, yerr=[ms - ci[0], ci[1] - ms], fmt="o", ms=4,
                    color=col, capsize=3,
                    label=f"{lab}: measured on the other {held['check_batches']} (95% CI over blocks)")
    ax.set(xscale="log", yscale="log", xlabel="N (batches of 64 completions averaged)",
           ylabel="norm of the mean gradient",
           title=f"Predicted on one half, checked on the other ({n_batches} committed batches)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7, loc="lower left", frameon=False)
    ax.grid(alpha=0.3, which="both")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo / 8, hi)
    fig.tight_layout()
    return fig


def base_difficulty_figure(bases: Sequence[tuple[Mapping[str, Any], str, Any]]) -> Any:
    """Notebook 05's ``05_base_difficulty``: the base models' pass@k on each problem set (``bases`` = ``(result of
    utils.entropy_bonus.exploration.base_pass_at_k, label, colour)``)."""
    from utils.entropy_bonus import exploration as X

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for b, lab, color in bases:
        ax.plot(range(1, b["samples"] + 1), X.curves(b["correct"], b["samples"]), color=color, label=lab)
    ax.set(xscale="log", xlabel="k (samples per problem)", ylabel="pass@k",
           title="Base models (committed, full profile)")
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def entropy_training_figure(train: Mapping[str, Mapping[str, Mapping[int, Sequence[float]]]],
                            panels: Sequence[tuple[str, Sequence[str]]], baseline: Mapping[str, str | None],
                            colors: Mapping[str, Any], final: Mapping[str, stats.Evidence],
                            margins: Mapping[str, float], psi_arms: Sequence[str], capped_arms: Sequence[str]) -> Any:
    """Notebook 05's ``05_entropy_during_training``, 3 x 2: per panel of arms, the training entropy (mean over seeds,
    95 % CI) and each arm minus its baseline paired by seed, with the final value's CI the ledger reads (◆; the 90 %
    CI thick and the margin dotted for an equivalence test); below, ψ's size per token and how often the cap binds
    (``train[key][arm][seed]``: one value per optimiser step)."""
    from utils import viz

    plt = _plt()
    fig, axes = plt.subplots(3, 2, figsize=(9.0, 12.5))
    for col, (title, labs) in enumerate(panels):
        viz.plot_seed_means(axes[0, col], train["entropy"], labs, colors, ylabel="mean token entropy (nats)",
                            title=title)
        viz.plot_paired_differences(axes[1, col], train["entropy"], labs, {lab: baseline[lab] for lab in labs},
                                    colors, final=dict(final), margins=dict(margins),
                                    title="minus its baseline, paired by seed; ◆ final entropy")
    viz.plot_seed_means(axes[2, 0], train["psi_mean"], psi_arms, colors, log=True,
                        ylabel="ψ per completion token\n(advantage units: ψ is added to A)",
                        title="the treatment: size of ψ")
    viz.plot_seed_means(axes[2, 1], train["psi_clip_frac"], capped_arms, colors,
                        ylabel="share of tokens where |A|/κ binds", title="how often the cap binds (capped arms)")
    for ax in axes.flat:
        ax.title.set_fontsize(9)
        if ax.get_legend() is not None:
            ax.legend(fontsize=7, frameon=False, loc="best")
    fig.legend(handles=viz.paired_key(margins=dict(margins)), loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
