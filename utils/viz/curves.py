"""Per-step training curves of several arms: the mean over seeds with its 95 % CI, and each arm minus its baseline
arm, paired by seed, with the legend handles that explain those marks."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["moving_average", "paired_key", "plot_paired_differences", "plot_seed_means"]


def moving_average(y: Sequence[float] | np.ndarray, window: int = 5) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (``len(y) - window + 1`` of them); ``y`` itself when
    shorter."""
    v = np.asarray(y, float)
    return np.convolve(v, np.ones(window) / window, mode="valid") if v.size >= window else v


def _seed_band(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % t interval of the mean over the rows (one row per seed) at every column."""
    from utils.stats import seed_summary

    s = [seed_summary(rows[:, j]) for j in range(rows.shape[1])]
    return (np.array([v["mean"] for v in s]), np.array([v["ci95_lo"] for v in s]), np.array([v["ci95_hi"] for v in s]))


def plot_seed_means(ax: Any, series: dict[str, dict[int, Sequence[float]]], labels: Sequence[str],
                    colors: dict[str, Any], window: int = 5, ylabel: str | None = None, title: str | None = None,
                    log: bool = False) -> Any:
    """Per-step values of several arms (``series[label][seed]``: one value per optimiser step): for each label, the
    ``window``-step moving average, its mean over seeds and the 95 % CI of that mean (t over seeds, shaded), each
    legend entry with its n. Labels absent from ``series`` are skipped; ``log`` puts y on a log scale with plain
    tick labels. Returns the axes."""
    for lab in [x for x in labels if x in series]:
        rows = np.stack([moving_average(v, window) for v in series[lab].values()])
        x = np.arange(rows.shape[1]) + min(window, len(next(iter(series[lab].values()))))
        mean, lo, hi = _seed_band(rows) if len(rows) > 1 else (rows[0], rows[0], rows[0])
        ax.plot(x, mean, color=colors[lab], label=f"{lab} (n = {len(rows)} seeds)")
        ax.fill_between(x, lo, hi, color=colors[lab], alpha=0.15, lw=0)
    if log:
        from matplotlib.ticker import LogLocator

        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        ax.yaxis.set_major_formatter("{x:g}")
        ax.yaxis.set_minor_formatter("{x:g}")
    ax.set_xlabel(f"optimiser step ({window}-step moving average)")
    ax.set(ylabel=ylabel or ax.get_ylabel(), title=title or ax.get_title())
    ax.grid(alpha=0.3, which="both" if log else "major")
    ax.legend(fontsize=8)
    return ax


def plot_paired_differences(ax: Any, series: dict[str, dict[int, Sequence[float]]], labels: Sequence[str],
                            baseline: dict[str, str | None], colors: dict[str, Any],
                            final: dict[str, Any] | None = None, margins: dict[str, float] | None = None,
                            window: int = 5, last: int = 10,
                            unit: str = "nats", title: str | None = None) -> Any:
    """Each arm minus its ``baseline`` arm, paired by seed (the same seed's runs subtracted step by step): the mean
    difference of the ``window``-step moving averages with its paired 95 % CI (t over the seeds both arms have,
    shaded). The last ``last`` steps are shaded grey; ``final`` (label -> :class:`utils.stats.Evidence` of the mean
    over those steps, arm minus baseline, paired by seed) is drawn right of the curves as a diamond with its 95 % CI:
    the interval a verdict reads. For labels in ``margins`` (an equivalence test) the 90 % CI is drawn thick and the
    ±margin band dotted. Arms without a baseline in ``series`` are skipped. Returns the axes."""
    final, margins = final or {}, margins or {}
    drawn = [lab for lab in labels if lab in series and baseline.get(lab) in series]
    n_steps = max((len(v) for lab in drawn for v in series[lab].values()), default=0)
    for i, lab in enumerate(drawn):
        seeds = sorted(set(series[lab]) & set(series[baseline[lab]]))  # type: ignore[index]
        base = series[baseline[lab]]  # type: ignore[index]
        rows = np.stack([moving_average(series[lab][s], window) - moving_average(base[s], window) for s in seeds])
        x = np.arange(rows.shape[1]) + min(window, n_steps)
        mean, lo, hi = _seed_band(rows) if len(rows) > 1 else (rows[0], rows[0], rows[0])
        ax.plot(x, mean, color=colors[lab], label=f"{lab} − {baseline[lab]} (n = {len(seeds)} seeds)")
        ax.fill_between(x, lo, hi, color=colors[lab], alpha=0.15, lw=0)
        ev = final.get(lab)
        if ev is not None:
            xe = n_steps + 0.06 * n_steps * (i + 1)
            ax.errorbar([xe], [ev.diff], yerr=[[ev.diff - ev.ci95[0]], [ev.ci95[1] - ev.diff]], fmt="D", ms=5,
                        color=colors[lab], capsize=3, lw=1.2)
            if lab in margins:
                ax.vlines(xe, *ev.ci90, color=colors[lab], lw=4, alpha=0.6)
    ax.axhline(0, color="k", lw=0.8)
    if n_steps:
        ax.axvspan(n_steps - last + 0.5, n_steps + 0.5, color="0.85", lw=0, zorder=0)
        ax.set_xlim(right=n_steps + 0.06 * n_steps * (len(drawn) + 1))
    for lab, m in margins.items():
        if lab in drawn:
            for y in (-m, m):
                ax.axhline(y, color=colors[lab], ls=":", lw=1)
    ax.set_xlabel(f"optimiser step ({window}-step moving average)")
    ax.set(ylabel=f"minus its baseline ({unit})", title=title or ax.get_title())
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def paired_key(last: int = 10, margins: dict[str, float] | None = None, unit: str = "nats",
               n: int | None = None) -> list[Any]:
    """Legend handles that explain :func:`plot_paired_differences`' marks: the shaded bands, the grey window, the
    diamonds (the final value's paired 95 % CI) and, with ``margins``, the equivalence marks."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    nn = f", n = {n} seeds" if n else ""
    out = [Patch(color="0.6", alpha=0.3, label=f"shaded: 95 % CI over seeds (t{nn})"),
           Patch(color="0.85", label=f"grey: the last {last} steps, whose mean is the final value judged"),
           Line2D([], [], color="0.3", marker="D", ls="-", label=f"final value minus baseline, paired 95 % CI{nn}")]
    for lab, m in (margins or {}).items():
        out += [Line2D([], [], color="0.3", lw=4, alpha=0.6, label=f"thick: 90 % CI, {lab} (equivalence test)"),
                Line2D([], [], color="0.3", ls=":", label=f"dotted: ±{m:g} {unit}, its margin fixed in advance")]
    return out
