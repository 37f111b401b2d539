"""Figures of the per-arm learning-rate rule (issue 29; ``configs/margins.yaml`` ``per_arm_lr``): notebook 06's
stage-2 gaps per base model, with each arm at its own chosen rate and with top-20 % at its second rate. (Stage 1's
choice is drawn by :func:`utils.viz.rl.lr_selection_figure`, shared with notebook 04.)"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["per_arm_gaps_figure"]

MAX_WIDTH_IN = 9.0  # 990 px at 110 dpi


def _size_means(rows: list[dict[str, Any]]) -> list[tuple[str, float, float, float]]:
    """Per size: (rung, mean gap, 95 % CI low, high) over its base models (unit: the base model)."""
    from utils.ladder.analysis import size_table

    return [(s["rung"], s["gap"], *s["ci95"]) for s in size_table(rows)]


def per_arm_gaps_figure(pa: dict[str, Any]) -> Any:
    """One point per base model: the gap top-20 % − all at each arm's chosen rate (filled) and with top-20 % at its
    second rate (hollow), per size; each size's mean with its 95 % CI over base models; the equivalence margin
    (``pa["margin"]``) shaded around 0. ``pa``: :func:`utils.tuning.nb06.per_arm_06` (with ``rows``)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH_IN, 7.2), 3.6))
    rungs = list(dict.fromkeys(r["rung"] for r in pa["rows"]))
    pos = {r: i for i, r in enumerate(rungs)}
    ax.axhspan(-pa["margin"], pa["margin"], color="0.9", zorder=0, label=f"margin ±{pa['margin']:.3f}")
    ax.axhline(0, color="grey", lw=0.8)
    for rows, dx, color, fill, label in ((pa["rows"], -0.12, "tab:red", True, "each arm at its chosen rate"),
                                         (pa["second_rows"], 0.12, "tab:purple", False,
                                          "top-20 % at its second rate")):
        jit = np.linspace(-0.05, 0.05, 4)
        for rung in rungs:
            mine = [r for r in rows if r["rung"] == rung]
            xs = [pos[rung] + dx + jit[i % 4] for i in range(len(mine))]
            ax.scatter(xs, [r["gap"] for r in mine], s=18, color=color if fill else "none", edgecolor=color,
                       zorder=3, label=label if rung == rungs[0] else None)
        for rung, m, lo, hi in _size_means(list(rows)):
            ax.errorbar([pos[rung] + dx + 0.1], [m], yerr=[[m - lo], [hi - m]], fmt="D", ms=5, color=color,
                        mfc=color if fill else "white", capsize=3, zorder=4)
    ax.set_xticks(range(len(rungs)), [f"{r}\n({pa['rows'][[x['rung'] for x in pa['rows']].index(r)]['params']:,} "
                                      "params)" for r in rungs])
    ax.set_ylabel("gap top-20 % − all\n(pass@1, mean over RL seeds)")
    ax.set_title("Per base model: the gap at each arm's own rate, and with top-20 % one rate higher\n"
                 "(diamond: the size's mean and 95 % CI over its base models)", fontsize=9)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    return fig
