"""Notebook 06's figures (scale ladder): the gap against size, the learning curves and entropy by size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from utils.viz.rl.common import _band, _plt

__all__ = ["entropy_by_size_figure", "gap_vs_size_figure", "learning_curves_figure"]


def gap_vs_size_figure(rows: Sequence[Mapping[str, Any]], sizes: Any, res: Mapping[int, Mapping[str, Any]],
                       primary: int, margin: float) -> Any:
    """Notebook 06's ``06_gap_vs_size``. Left: one gap per base model against log10(parameters), the size means
    with their 95 % CI, and the model-level line with its 90 % band; the dashed wedge is the slope margin ±``margin``
    per 10× through the centre. Right: the slope estimates with the 90 % CI that decides (thick; inside the
    green ±margin means 'flat within the margin') and the 95 % CI (thin), at every budget, beside the seed-level
    slope (the wrong unit)."""
    from scipy.stats import t as t_dist

    plt = _plt()
    fig, (ax, sx) = plt.subplots(1, 2, figsize=(9.0, 4.4), width_ratios=(1.6, 1))
    main = res[primary]
    x_models = np.array([r["x"] for r in rows])
    g_models = np.array([r["gap"] for r in rows])
    seeds = sorted({r["model_seed"] for r in rows})
    jit = {m: (i - (len(seeds) - 1) / 2) * 0.012 for i, m in enumerate(seeds)}
    ev = main["model"]
    xs = np.linspace(x_models.min() - 0.1, x_models.max() + 0.1, 50)
    xc = xs - x_models.mean()
    se_fit = np.sqrt(ev.se**2 * xc**2 + ev.detail["resid_sd"] ** 2 / ev.n_a)
    fit = ev.detail["intercept"] + ev.diff * xs
    h = t_dist.ppf(0.95, ev.df) * se_fit
    ax.plot(xs, fit, color="tab:red", lw=1.5, label=f"model-level fit, 90% band (n = {len(rows)} base models)")
    ax.fill_between(xs, fit - h, fit + h, color="tab:red", alpha=0.15)
    y0 = ev.detail["intercept"] + ev.diff * x_models.mean()
    for sgn in (-1, 1):
        ax.plot(xs, y0 + sgn * margin * xc, color="tab:green", ls="--", lw=1,
                label=f"slope margin ±{margin:g} per 10× (fixed in advance)" if sgn > 0 else None)
    ax.scatter([r["x"] + jit[r["model_seed"]] for r in rows], g_models, s=16, color="k", zorder=3,
               label="one base model (mean of its paired seeds)")
    ci = np.array(sizes["ci95"].tolist()).T
    ax.errorbar(np.log10(sizes["params"].astype(float)), sizes["gap"], yerr=np.abs(ci - sizes["gap"].to_numpy()),
                fmt="D", color="tab:red", capsize=4, ms=6, label="size mean, 95% CI over base models")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="log10(parameters)", ylabel=f"gap top-20% − all (pass@1, {primary} steps)",
           title="the gap along the ladder")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.45 * (hi - lo), hi)
    ax.legend(fontsize=7, loc="lower center", ncol=1, frameon=False)
    items = [(f"{b} steps{' (primary)' if b == primary else ''}", r["model"]) for b, r in res.items()]
    items.append((f"{primary} steps, seed-level\n(wrong unit)", main["seed_level"]))
    for i, (lab, e) in enumerate(items):
        sx.hlines(i, *e.ci95, color="k", lw=1)
        sx.hlines(i, *e.ci90, color="tab:red" if i < len(res) else "0.5", lw=5, alpha=0.6)
        sx.plot([e.diff], [i], "o", color="k", ms=4)
    sx.axvspan(-margin, margin, color="tab:green", alpha=0.12, lw=0)
    sx.axvline(0, color="grey", lw=0.8)
    reach = max(1.5 * margin, *(abs(x) * 1.1 for _, e in items for x in e.ci95))
    sx.set_xlim(-reach, reach)
    sx.set(yticks=range(len(items)), ylim=(len(items) - 0.5, -0.5), xlabel="slope (pass@1 per 10× parameters)",
           title=f"slope: 90% CI (thick) decides\ngreen: ±{margin:g}, thin: 95% CI")
    sx.set_yticklabels([lab for lab, _ in items], fontsize=8)
    sx.title.set_fontsize(9)
    sx.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def learning_curves_figure(ladder_runs: Sequence[dict[str, Any]], params: Mapping[str, int], models: Sequence[int],
                           budgets: Sequence[int]) -> Any:
    """Notebook 06's ``06_learning_curves``: per size, pass@1 of ``all`` and ``top20`` over GRPO steps, the mean over
    base models (each the mean over its seeds) with the 95 % CI over base models; dotted: the budgets read."""
    from utils.rlvr import readout as R

    plt = _plt()
    fig, axes = plt.subplots(1, len(params), figsize=(9.0, 3.6), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), params):
        for arm, color in (("all", "tab:blue"), ("top20", "tab:red")):
            curves = [R.curve([r for r in ladder_runs if r["name"] == f"06_{name}_s{m}_{arm}"]) for m in models
                      if any(r["name"] == f"06_{name}_s{m}_{arm}" for r in ladder_runs)]
            steps = curves[0][0]
            mean, lo, hi = _band(np.array([P.mean(0) for _, P in curves]))
            ax.plot(steps, mean, color=color, label=f"{arm}: mean of {len(curves)} base models, 95% CI")
            ax.fill_between(steps, lo, hi, color=color, alpha=0.15)
        for b in budgets:
            ax.axvline(b, color="grey", ls=":", lw=1)
        ax.set_title(f"{name} ({params[name]:,} parameters)", fontsize=9)
        ax.set(xlabel="GRPO step")
    ax0 = np.atleast_1d(axes)[0]
    ax0.set_ylabel("held-out pass@1")
    h, lab = ax0.get_legend_handles_labels()
    fig.legend(h, lab, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def entropy_by_size_figure(params: Sequence[float], ent: Mapping[str, Mapping[str, Sequence[float]]],
                           reference_p80: float, n_seeds: int) -> Any:
    """Notebook 06's ``06_entropy_by_size``: the 80th percentile of token entropy and the share below 0.01 nats per
    size (mean ± SD over sampling seeds), against Qwen3-8B's values."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.5))
    names = list(ent)
    for ax, key, ref, label in ((axes[0], "p80", reference_p80, "80th percentile of token entropy (nats)"),
                                (axes[1], "share_below_0.01", 0.5, "share of tokens below 0.01 nats")):
        m = [np.mean(ent[n][key]) for n in names]
        sd = [np.std(ent[n][key], ddof=1) for n in names]
        ax.errorbar(params, m, yerr=sd, marker="o", capsize=3, color="tab:red",
                    label=f"task models (mean ± SD, {n_seeds} sampling seeds)")
        ax.axhline(ref, color="purple", ls="--", label=f"Qwen3-8B (paper): {'> ' if key != 'p80' else ''}{ref}")
        ax.set(xscale="log", xlabel="parameters")
        ax.set_title(label, fontsize=9)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.3 * (hi - lo))
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.tight_layout()
    return fig
