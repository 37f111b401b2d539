"""Notebook 03's figures of the dual-temperature grid (:mod:`utils.toy_lm.decoding_grid`): the heatmap of a grid
table with its key, the pass@k curves with their deciding intervals, and the one-axis comparisons; one named call per
figure (``grid_heatmap_figure``, ``axis_effects_figure``, ``passk_figure``), each at most about 1000 px wide."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from utils.stats import Evidence
from utils.toy_lm.decoding_grid import COLORBAR_LABELS, Cell

__all__ = [
    "axis_effects_figure",
    "grid_heatmap_figure",
    "heatmap_key",
    "passk_figure",
    "plot_axis_comparisons",
    "plot_grid_heatmap",
    "plot_passk",
]


def _signed(x: float) -> str:
    return f"{x:+.3f}".replace("-", "\u2212")


def plot_grid_heatmap(
    table: dict[str, Any],
    ax: Any = None,
    title: str | None = None,
    highlight: Sequence[Cell] = (),
    fmt: str = "{mean:.3f}",
    cmap: str = "viridis",
    cbar_label: str | None = None,
    diffs: dict[Cell, Evidence] | None = None,
    fontsize: float = 10.0,
) -> Any:
    """Heatmap of a :func:`grid_table` (rows t_fork, columns t_rest), each cell annotated with ``fmt`` (keys ``mean``,
    ``sd``) in black or white, whichever contrasts more with the cell (:func:`utils.viz.text_color`), the
    uniform-temperature diagonal (t_fork == t_rest) outlined in dashed white and ``highlight`` cells in red.
    ``diffs`` (from :func:`diffs_to`) adds a second line to each cell it holds: the difference to the base cell
    ``± the half-width of its 95 % CI`` (a t interval, symmetric), and "baseline" on the one cell without a
    difference. :func:`heatmap_key` makes the legend of the outlines. ``cbar_label`` defaults to a readable name
    for the table's key (:data:`COLORBAR_LABELS`)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from utils.viz import text_color

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.2))
    m, sd = np.asarray(table["mean"]), np.asarray(table["sd"])
    fs, rs = table["t_forks"], table["t_rests"]
    im = ax.imshow(m, origin="lower", cmap=cmap, aspect="auto")
    key = table.get("key", "pass1")
    plt.colorbar(im, ax=ax, label=cbar_label or COLORBAR_LABELS.get(key, key))
    for i in range(len(fs)):
        for j in range(len(rs)):
            if np.isnan(m[i, j]):
                continue
            text = fmt.format(mean=m[i, j], sd=sd[i, j])
            if diffs is not None:
                ev = next((e for c, e in diffs.items() if math.isclose(c[0], fs[i]) and math.isclose(c[1], rs[j])), None)
                text += "\nbaseline" if ev is None else f"\n{_signed(ev.diff)} ± {(ev.ci95[1] - ev.ci95[0]) / 2:.3f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, linespacing=1.3,
                    color=text_color(im.cmap(im.norm(m[i, j]))))
            if math.isclose(fs[i], rs[j]):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="white", lw=2.0, ls="--"))
    for f, r in highlight:
        i = next(k for k, v in enumerate(fs) if math.isclose(v, f))
        j = next(k for k, v in enumerate(rs) if math.isclose(v, r))
        ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, ec="red", lw=2.5))
    ax.set_xticks(range(len(rs)), [f"{v:g}" for v in rs])
    ax.set_yticks(range(len(fs)), [f"{v:g}" for v in fs])
    ax.set_xlabel("T_rest (steps below the entropy threshold)")
    ax.set_ylabel("T_fork (steps at or above the threshold)")
    if title:
        ax.set_title(title)
    return ax


def heatmap_key(fig: Any, highlight_label: str | None = None, **legend_kw: Any) -> Any:
    """The legend of the outlines :func:`plot_grid_heatmap` draws, below the panels of ``fig``: the dashed white
    diagonal (drawn on grey so that it shows on a white page) and, with ``highlight_label``, the red cells.
    ``legend_kw`` goes to ``fig.legend``. Returns the legend."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="0.35", edgecolor="white", ls="--", lw=1.5,
                     label="dashed white outline: uniform temperature, T_fork = T_rest (plain sampling)")]
    if highlight_label:
        handles.append(Patch(facecolor="none", edgecolor="red", lw=2.5, label=highlight_label))
    kw = {"loc": "lower center", "ncol": 1, "fontsize": 10, "frameon": False, "handlelength": 3.0, "handleheight": 1.6}
    return fig.legend(handles=handles, **(kw | legend_kw))


def plot_passk(curves: dict[str, tuple[Sequence[int], Sequence[float]]], diffs: dict[str, Evidence], k: int,
               judged: str, axes: Sequence[Any], n_problems: int) -> None:
    """pass@k against k for several cells (``curves``: key ``"t_fork,t_rest"`` -> ``(ks, pass@k)``) on ``axes[0]``,
    and on ``axes[1]`` each cell minus the base cell at ``k`` (``diffs``: key -> :class:`utils.stats.Evidence` of
    :func:`compare_cells` at that ``k``) with its 95 % CI, paired by problem; the cell ``judged`` (the one a claim
    is judged on) in bold, ``k`` marked on the curves."""
    from matplotlib.ticker import MaxNLocator

    from utils.viz import ci_point

    colors = {key: f"C{i}" for i, key in enumerate(curves)}
    name = lambda key: "({}, {})".format(*key.split(","))  # noqa: E731
    for key, (ks, v) in curves.items():
        axes[0].plot(ks, v, marker=".", ms=3, color=colors[key], label=f"(T_fork, T_rest) = {name(key)}")
    axes[0].axvline(k, color="0.4", ls=":", lw=1.2, label=f"k = {k}: where coverage is judged")
    ticks = [t for t in (1, 2, 4, 8, 16, 32, 64, 128) if t <= max(max(ks) for ks, _ in curves.values())]
    axes[0].set_xscale("log", base=2)
    axes[0].set_xticks(ticks, [str(t) for t in ticks])
    axes[0].set(xlabel="k (samples allowed per problem)", ylabel="pass@k (unbiased, mean over problems)")
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # off the curves
    keys = list(diffs)
    for y, key in enumerate(keys):
        ev = diffs[key]
        ci_point(axes[1], y, ev, f"{_signed(ev.diff)} [{_signed(ev.ci95[0])}, {_signed(ev.ci95[1])}]", at="above",
                 color=colors.get(key, "k"), lw=2.5 if key == judged else 1.2, fontsize=9,
                 fontweight="bold" if key == judged else "normal")
    axes[1].axvline(0, color="k", lw=0.8)
    axes[1].set_yticks(range(len(keys)), [f"{name(key)} − {diffs[key].labels[1]}" for key in keys])
    for lab, key in zip(axes[1].get_yticklabels(), keys):
        lab.set_fontweight("bold" if key == judged else "normal")
    axes[1].set_ylim(len(keys) - 0.5, -0.7)
    lo, hi = min(0.0, *(diffs[key].ci95[0] for key in keys)), max(0.0, *(diffs[key].ci95[1] for key in keys))
    axes[1].set_xlim(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo))
    axes[1].xaxis.set_major_locator(MaxNLocator(5))
    axes[1].set_xlabel(f"pass@{k} difference\n(95 % CI, paired by problem, n = {n_problems} problems)")
    axes[1].grid(alpha=0.3, axis="x")


def plot_axis_comparisons(comparisons: dict[str, list[dict[str, Any]]], ax: Any = None, center: float = 1.0,
                          title: str | None = None) -> Any:
    """Plot :func:`axis_comparisons`: for each line through the centre, pass@k minus the centre's, with the paired
    95 % CIs (the centre itself at 0)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.2))
    for axis, label, marker, dx in (("fork", f"vary T_fork (T_rest = {center:g})", "o", -0.015),
                                    ("rest", f"vary T_rest (T_fork = {center:g})", "s", 0.015)):
        pts = sorted([(c["t"], c["evidence"].diff, *c["evidence"].ci95) for c in comparisons[axis]]
                     + [(center, 0.0, 0.0, 0.0)])
        t, d, lo, hi = (np.array(v) for v in zip(*pts))
        ax.errorbar(t + dx, d, yerr=[d - lo, hi - d], marker=marker, capsize=3, label=label)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("temperature of the varied steps")
    ax.set_ylabel(f"pass@1 minus ({center:g}, {center:g})\n(95% CI, paired by problem)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)  # off the data
    if title:
        ax.set_title(title)
    return ax


def grid_heatmap_figure(table: dict[str, Any], fork_table: dict[str, Any], diffs: dict[Any, Any], judged: Any,
                        base: Any, n_seeds: int, n_problems: int, tau: float) -> Any:
    """Notebook 03's ``03_grid_heatmap``: pass@1 of every (T_fork, T_rest) cell (top; each cell's second line its
    difference to ``base`` ± the half-width of the paired 95 % CI, from ``diffs``) and the fork share (bottom), the
    cells ``judged`` and ``base`` outlined in red, and a key below that states ``judged`` − ``base`` with its 95 %
    CI. At most about 1000 px wide at 110 dpi. Returns the figure."""
    import matplotlib.pyplot as plt

    ev = diffs[judged]
    n_temps = len(table["t_rests"])
    fig, axes = plt.subplots(2, 1, figsize=(min(8.8, 2.2 + 1.3 * n_temps), 12))
    plot_grid_heatmap(table, ax=axes[0], highlight=[judged, base], diffs=diffs, fontsize=9,
                         title=f"pass@1 per cell: mean over {n_seeds} seed(s) x {n_problems} problems\nsecond "
                               f"line: minus {base}, paired by problem,\n± 95 % CI half-width (n = {ev.n_a} problems)")
    plot_grid_heatmap(fork_table, ax=axes[1], cmap="magma", fontsize=9,
                         title=f"fork share (mean over seeds):\nsteps with untempered H ≥ τ = {tau:.3f} nats")
    heatmap_key(fig, f"red outline: the write-up's {judged} and the baseline {base}:\n{judged} − {base} = "
                        f"{ev.diff:+.3f}, 95 % CI [{ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}] (paired by problem, "
                        f"n = {ev.n_a})", fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def axis_effects_figure(comparisons: dict[str, list[dict[str, Any]]], title: str) -> Any:
    """Notebook 03's ``03_axis_effects``: :func:`utils.viz.decoding.plot_axis_comparisons` (each cell on the two
    lines through (1, 1) minus (1, 1), paired 95 % CIs), the legend below the axes. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    plot_axis_comparisons(comparisons, ax=ax, title=title)
    fig.tight_layout()
    return fig


def passk_figure(curves: dict[str, tuple[Sequence[int], Sequence[float]]], at_n: dict[str, Any], k: int,
                 judged: str, n_problems: int, n_seeds: int) -> Any:
    """Notebook 03's ``03_passk``: pass@k curves of each cell (top, the legend beside the axes, off the curves)
    and each cell minus (1, 1) at ``k`` with its paired 95 % CI (bottom; ``judged`` in bold), by
    :func:`utils.viz.decoding.plot_passk`. At most about 1000 px wide at 110 dpi. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(6.2, 8), gridspec_kw={"height_ratios": [1.5, 1]})
    plot_passk(curves, at_n, k, judged, axes, n_problems)
    axes[0].set_title(f"pass@k, n = {k} samples per problem,\n{n_problems} problems, {n_seeds} seed(s)", fontsize=10)
    axes[1].set_title(f"each cell minus (1, 1) at k = {k};\nbold: the cell the coverage claim is judged on",
                      fontsize=10)
    fig.tight_layout()
    return fig
