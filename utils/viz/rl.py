"""The figures of notebooks 04-06 (RL on the task model), one named call per figure: each draws the intervals the
ledger judges, labelled, with its legend off the data, at most 9 inches wide (<= 1000 px at
:func:`utils.viz.save_figure`'s 110 dpi), and returns the figure (the notebook saves and shows it).

Every function takes what the notebook computed (runs, :class:`utils.stats.Evidence`) and computes nothing that a
verdict reads: the verdicts are in :mod:`utils.rlvr.verdicts`, :mod:`utils.entropy_bonus.arms` and
:mod:`utils.ladder.analysis`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from utils import stats

#: The arms' colours in notebook 04.
COLORS_04 = {"all": "k", "top20": "tab:red", "bottom80": "tab:blue", "random20": "tab:green",
             "role20": "tab:purple"}
MAX_WIDTH_IN = 9.0  # 990 px at 110 dpi


def _plt() -> Any:
    import matplotlib.pyplot as plt

    return plt


def _band(rows: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over the rows (one per seed) and its t interval at ``level``, column by column."""
    from scipy.stats import t

    rows = np.asarray(rows, float)
    n = rows.shape[0]
    mean = rows.mean(0)
    if n < 2:
        return mean, mean, mean
    h = t.ppf(0.5 + level / 2, n - 1) * rows.std(0, ddof=1) / np.sqrt(n)
    return mean, mean - h, mean + h


def _by_seed(runs: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``(steps, P, seeds)`` of :func:`utils.rlvr.readout.curve`, rows sorted by seed."""
    from utils.rlvr import readout as R

    runs = sorted(runs, key=lambda r: r["seed"])
    steps, P = R.curve(runs)
    return steps, P, [r["seed"] for r in runs]


def _errbar(ax: Any, x: float, ev: stats.Evidence, color: Any, equivalence: bool = False, **kw: Any) -> None:
    """``ev``'s difference at ``x``: the 95 % CI thin, and for an equivalence test the 90 % CI thick."""
    ax.errorbar([x], [ev.diff], yerr=[[ev.diff - ev.ci95[0]], [ev.ci95[1] - ev.diff]], fmt="D", ms=5,
                color=color, capsize=3, lw=1.2, **kw)
    if equivalence:
        ax.vlines(x, *ev.ci90, color=color, lw=4, alpha=0.6)


# ============================================================================================== notebook 04


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


# ============================================================================================== notebook 05


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


# ============================================================================================== notebook 06


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


def lr_selection_figure(chosen: Mapping[tuple[str, str], Mapping[str, Any]],
                        colors: Mapping[str, Any] = COLORS_04) -> Any:
    """Stage 1 of the per-arm learning-rate rule (``configs/margins.yaml`` ``per_arm_lr``), one panel per size: each
    arm's mean endpoint over the selection seeds at every rate of the grid (log axis), the chosen rate ringed, the
    base model's pass@1 dotted. ``chosen``: :func:`utils.tuning.choose`. Legend below the panels."""
    plt = _plt()
    sizes = list(dict.fromkeys(s for s, _ in chosen))
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
