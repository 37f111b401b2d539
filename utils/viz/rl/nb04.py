"""Notebook 04's figures (masked RLVR): pass@1 curves, the budget gap, the rho sweep, the entropy pattern, the
gradients, and stage 1 of the per-arm learning rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from utils import stats
from utils.viz.rl.common import COLORS_04, MAX_WIDTH_IN, _band, _by_seed, _errbar, _plt

__all__ = ["budget_gap_figure", "entropy_pattern_figure", "gradients_figure", "lr_selection_figure",
           "pass1_curves_figure", "rho_sweep_figure"]


def pass1_curves_figure(groups: Mapping[str, Sequence[dict[str, Any]]], base: float,
                        judged: Sequence[tuple[str, str, stats.Evidence, bool]], margin: float,
                        colors: Mapping[str, Any] = COLORS_04) -> Any:
    """Notebook 04's ``04_pass1_curves``. Top: each arm's held-out pass@1 over GRPO steps (mean over seeds, 95 % CI
    band). Bottom: the paired differences the ledger judges, ``judged`` = ``(a, b, evidence, equivalence)``, each
    ``a − b`` per evaluation (paired by seed, 95 % CI band) and, right of the curves, the endpoint's difference
    (``evidence``: mean of the last two evaluations, as the ledger) with its 95 % CI; an equivalence test adds its
    90 % CI (thick) and the ±``margin`` band."""
    plt = _plt()
    fig, (top, bot) = plt.subplots(2, 1, figsize=(8.0, 8.6), height_ratios=(1, 1.15))
    for k, g in groups.items():
        steps, P, _ = _by_seed(g)
        mean, lo, hi = _band(P)
        top.plot(steps, mean, color=colors[k], marker="o", ms=3, label=f"{k} (n = {len(g)} seeds)")
        top.fill_between(steps, lo, hi, color=colors[k], alpha=0.15, lw=0)
    top.axhline(base, color="grey", ls=":", label="base model (step 0: the same for every arm)")
    top.set(ylabel="held-out pass@1 (T = 1)", title="each arm (band: 95% CI over seeds)")
    top.set_xlabel("GRPO step")
    top.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    last = 0.0
    contrast_colors = ("tab:blue", "tab:green", "tab:red")
    for i, (a, b, ev, equiv) in enumerate(judged):
        steps, Pa, sa = _by_seed(groups[a])
        _, Pb, sb = _by_seed(groups[b])
        if sa != sb:
            raise ValueError(f"{a} and {b} ran different seeds: {sa} vs {sb}")
        mean, lo, hi = _band(Pa - Pb, 0.90 if equiv else 0.95)
        col = contrast_colors[i % 3]
        ls = "-" if i == 0 else ("--" if i == 1 else "-.")
        bot.plot(steps, mean, color=col, ls=ls, marker="o", ms=2.5,
                 label=f"{a} − {b} ({90 if equiv else 95}% CI band, paired, n = {len(sa)} seeds)")
        bot.fill_between(steps, lo, hi, color=col, alpha=0.12, lw=0)
        x_end = steps[-1] + (steps[-1] - steps[0]) * 0.06 * (i + 1)
        _errbar(bot, x_end, ev, col, equivalence=equiv)
        last = max(last, x_end)
        if equiv:
            bot.axhspan(-margin, margin, color="tab:green", alpha=0.10, lw=0,
                        label=f"±{margin:g}: equivalence margin of {a} − {b}")
    bot.axhline(0, color="k", lw=0.8)
    bot.set_xlim(right=last + (steps[-1] - steps[0]) * 0.05)
    bot.set(xlabel="GRPO step (◆: the endpoint the ledger judges, mean of the last two evaluations)",
            ylabel="paired difference in pass@1",
            title="the differences the ledger judges (◆: 95% CI; thick: 90% CI, equivalence)")
    bot.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def budget_gap_figure(curves: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]],
                      gap_ev: Mapping[str, Mapping[int, stats.Evidence]], base: float, margin: float,
                      n_seeds: int, colors: Mapping[str, Any] = COLORS_04) -> Any:
    """Notebook 04's ``04_budget_gap``: per learning rate (columns), pass@1 of ``all`` and ``top20`` over 400 steps
    (``curves[lr][arm] = (steps, P)``) and below it the paired gap top-20 % − all at every budget with its 90 % CI
    (the TOST interval) and the ±``margin`` band. The legends sit below the panels, off the bands."""
    plt = _plt()
    lrs = list(curves)
    fig, axes = plt.subplots(2, len(lrs), figsize=(9.0, 6.6), sharex=True, squeeze=False)
    for j, lr in enumerate(lrs):
        for arm, (steps, P) in curves[lr].items():
            axes[0, j].plot(steps, P.mean(0), color=colors[arm], marker="o", ms=2,
                            label=f"{arm} (mean of n = {len(P)} seeds)")
        axes[0, j].axvspan(0, 100, color="grey", alpha=0.08, label="steps 0-100 = the headline runs")
        axes[0, j].axhline(base, color="grey", ls=":", label="base model")
        axes[0, j].set(title=f"lr {lr}{' (tuned)' if lr == '1e-4' else ''}: held-out pass@1")
        st = sorted(gap_ev[lr])
        d = np.array([gap_ev[lr][s].diff for s in st])
        lo, hi = np.array([gap_ev[lr][s].ci90 for s in st]).T
        axes[1, j].axhspan(-margin, margin, color="tab:green", alpha=0.12, label=f"equivalence margin ±{margin:g}")
        axes[1, j].plot(st, d, color="tab:red", marker="o", ms=2, label="top-20% − all (paired mean)")
        axes[1, j].fill_between(st, lo, hi, color="tab:red", alpha=0.2, lw=0,
                                label=f"90% CI, paired t, n = {n_seeds} seeds (the TOST interval)")
        axes[1, j].axhline(0, color="k", lw=0.8)
        axes[1, j].set(xlabel="GRPO step")
    axes[0, 0].set_ylabel("pass@1")
    axes[1, 0].set_ylabel("gap in pass@1")
    h0, l0 = axes[0, 0].get_legend_handles_labels()
    h1, l1 = axes[1, 0].get_legend_handles_labels()
    fig.suptitle(f"Budget and learning rate: top-20% vs all ({n_seeds} seeds, precomputed, full profile)",
                 fontsize=11)
    fig.legend(h0 + h1, l0 + l1, loc="lower center", ncol=2, fontsize=7.5, frameon=False)
    fig.tight_layout(rect=(0, 0.11, 1, 1))
    return fig


def rho_sweep_figure(endpoints: Mapping[float, Sequence[float]], contrasts: Sequence[stats.Evidence], base: float,
                     focus: float = 0.2) -> Any:
    """Notebook 04's ``04_rho_sweep``. Left: the endpoint per ρ (mean, 95 % CI, dots: seeds). Right: the
    pre-registered contrasts ρ = ``focus`` minus each other ρ, paired by seed, each with its Holm-corrected
    interval (:func:`utils.stats.holm` widens ``ci95`` to Holm's level, so it excludes 0 exactly when Holm
    rejects)."""
    plt = _plt()
    fig, (ax, cx) = plt.subplots(1, 2, figsize=(9.0, 3.7), width_ratios=(1.1, 1))
    rhos = list(endpoints)
    s = [stats.seed_summary(endpoints[r]) for r in rhos]
    mean = np.array([v["mean"] for v in s])
    ax.errorbar(rhos, mean, yerr=[mean - [v["ci95_lo"] for v in s], [v["ci95_hi"] for v in s] - mean], marker="o",
                capsize=3, color="tab:red", label=f"mean, 95% CI (t over n = {len(endpoints[rhos[0]])} seeds)")
    for r in rhos:
        ax.scatter([r] * len(endpoints[r]), endpoints[r], s=10, color="k", alpha=0.4, zorder=3)
    ax.axhline(base, color="grey", ls=":", label="base model")
    ax.set(xscale="log", xticks=rhos, xticklabels=[f"{r:g}" for r in rhos], xlabel="ρ (share kept, top by entropy)",
           ylabel="held-out pass@1 (endpoint)", title="endpoint per ρ (dots: seeds)")
    ax.set_ylim(top=ax.get_ylim()[1] + 0.25 * np.ptp(ax.get_ylim()))
    ax.legend(fontsize=7.5, loc="upper left")
    for i, ev in enumerate(contrasts):
        level = ev.detail.get("ci_level")
        cx.errorbar([ev.diff], [i], xerr=[[ev.diff - ev.ci95[0]], [ev.ci95[1] - ev.diff]], fmt="D", capsize=4,
                    color="tab:red" if ev.ci95[0] > 0 else "0.3")
        cx.text(ev.ci95[1], i - 0.18, f"  {stats.verdict(ev, 'greater')}", fontsize=7.5, va="bottom")
        cx.text(ev.ci95[0], i + 0.32, f"{level:.1%} CI (Holm)" if level else "", fontsize=7, va="center")
        cx.set_yticks(range(len(contrasts)))
    cx.set_yticklabels([f"ρ {focus:g} − {e.labels[1].replace('rho ', 'ρ ')}" for e in contrasts])
    cx.axvline(0, color="k", lw=0.8)
    cx.set(ylim=(len(contrasts) - 0.4, -0.6), xlabel="difference in pass@1 (paired by seed)",
           title=f"the judged contrasts, Holm-corrected (m = {len(contrasts)})")
    lo = min(e.ci95[0] for e in contrasts)
    hi = max(e.ci95[1] for e in contrasts)
    cx.set_xlim(lo - 0.1 * (hi - lo), hi + 0.45 * (hi - lo))
    cx.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def entropy_pattern_figure(ov_sum: Any, chance: float, null_ov: Mapping[str, float], n_seeds: int,
                           deltas: Mapping[str, Sequence[Mapping[str, Any]]], null_by_decile: np.ndarray,
                           ev_hi: stats.Evidence, colors: Mapping[str, Any] = COLORS_04) -> Any:
    """Notebook 04's ``04_entropy_pattern``: the overlap of the top-20 % positions (bars, 95 % CI) against chance,
    the paper's 0.86 and the matched random perturbation (band); below, the mean |ΔH| by decile of base entropy."""
    plt = _plt()
    fig, axes = plt.subplots(2, 1, figsize=(8.0, 8.4))
    ax = axes[0]
    ax.bar(ov_sum.index, ov_sum["mean"], yerr=[ov_sum["mean"] - ov_sum["ci95_lo"], ov_sum["ci95_hi"] - ov_sum["mean"]],
           capsize=3, color=[colors[n] for n in ov_sum.index], alpha=0.7)
    ax.axhline(0.86, color="purple", ls="--", label="paper: > 0.86 (Qwen3-14B)")
    ax.axhline(chance, color="grey", ls=":", label="chance (random 20%)")
    ax.axhspan(null_ov["ci95_lo"], null_ov["ci95_hi"], color="orange", alpha=0.25,
               label=f"random weights, |ΔH| matched to all (95% CI, n = {null_ov['n']} noise seeds)")
    ax.set(ylim=(0, 1.1), yticks=np.arange(0, 1.01, 0.2), ylabel="overlap of top-20% positions",
           title=f"the same top-20% positions? (bars: 95% CI, t over n = {n_seeds} seeds)")
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    ax = axes[1]
    x = np.arange(1, 11)
    for k, ds in deltas.items():
        mean, lo, hi = _band(np.array([d["abs_delta"] for d in ds]))
        ax.plot(x, mean, marker="o", ms=3, color=colors[k], label=f"{k} (n = {len(ds)} seeds)")
        ax.fill_between(x, lo, hi, color=colors[k], alpha=0.12, lw=0)
    ax.plot(x, np.mean(null_by_decile, 0), "--", color="orange",
            label=f"random weights, |ΔH| matched to all (mean of {len(null_by_decile)})")
    ax.set(xlabel="decile of base-model entropy (1 = lowest; 9-10: the top 20%)", ylabel="mean |ΔH| (nats)",
           title=f"where RL changed the entropy (bands: 95% CI over seeds)\njudged: top-20% minus rest, all − null "
                 f"{ev_hi.diff:+.3f} nats, 95% CI [{ev_hi.ci95[0]:+.3f}, {ev_hi.ci95[1]:+.3f}] "
                 f"({ev_hi.n_a}/{ev_hi.n_b} models)", xticks=range(1, 11))
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7.5, loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def gradients_figure(gsum: Any) -> Any:
    """Notebook 04's ``04_gradients``: each mask's cosine with the full gradient and its norm ratio, at the start and
    end of training (mean ± SD over batches)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6))
    for ax, key, sd, title in zip(axes, ("cosine", "norm_ratio"), ("cosine_sd", "norm_sd"),
                                  ("cosine with the full gradient", "norm / full gradient's norm")):
        gsum[key].unstack(0).plot.bar(ax=ax, yerr=gsum[sd].unstack(0), capsize=2, rot=0,
                                      color=["#9ecae1", "#08519c"], legend=False)
        ax.set(title=title, xlabel="mask (20% of tokens; bottom = the other 80%)", ylim=(0, 1.25))
        ax.axhline(0, color="k", lw=0.6)
    h, lab = axes[0].get_legend_handles_labels()
    nb_lo, nb_hi = int(gsum["batches"].min()), int(gsum["batches"].max())
    fig.legend(h, lab, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"mean ± SD over n = {nb_lo if nb_lo == nb_hi else f'{nb_lo}-{nb_hi}'} batches with a learning "
                 "signal", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def lr_selection_figure(chosen: Mapping[tuple[str, str], Mapping[str, Any]],
                        colors: Mapping[str, Any] = COLORS_04) -> Any:
    """Stage 1 of the per-arm learning-rate rule (``configs/margins.yaml`` ``per_arm_lr``), one panel per size: each
    arm's mean endpoint over the selection seeds at every rate of the grid (log axis), the chosen rate ringed, the
    base model's pass@1 dotted. ``chosen``: :func:`utils.tuning.choose`. Legend below the panels."""
    plt = _plt()
    from utils.tuning import sizes as in_order

    sizes = in_order(chosen)  # d48, d96, d192
    fig, axes = plt.subplots(1, len(sizes), figsize=(min(MAX_WIDTH_IN, 2.9 * len(sizes) + 2.6), 3.4), sharey=True,
                             squeeze=False)
    for ax, size in zip(axes[0], sizes):
        for (s, arm), c in chosen.items():
            if s != size:
                continue
            lrs = list(c["means"])
            ax.plot(lrs, [c["means"][x] for x in lrs], marker="o", ms=4, color=colors.get(arm, "grey"), label=arm)
            ax.plot([c["lr"]], [c["means"][c["lr"]]], marker="o", ms=12, mfc="none", mew=1.6,
                    color=colors.get(arm, "grey"))
        base = float(np.mean([c["base"] for (s, _), c in chosen.items() if s == size]))
        ax.axhline(base, color="grey", ls=":", lw=1, label="base model")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        if len(sizes) > 1:
            ax.set_title(size, fontsize=10)
    axes[0][0].set_ylabel("mean endpoint pass@1\n(RL seeds 100-101)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.suptitle("Each arm's rate, chosen by one rule (ring: the chosen rate)", fontsize=10)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
    return fig
