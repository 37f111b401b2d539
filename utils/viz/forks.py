"""Notebook 02's figures: what follows a fork, which tokens fork, the threshold per corpus; and one comparison's
95 % CI drawn as a point (:func:`ci_point`, which notebook 03's figures use too)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from utils.entropy import PAPER_P80_NATS

__all__ = ["after_forks_figure", "ci_point", "threshold_bars", "token_roles_figure"]


def ci_point(ax: Any, y: float, ev: Any, text: str, *, at: str = "right", color: str = "#222222", lw: float = 1.6,
             fontsize: float = 8, **text_kw: Any) -> None:
    """One comparison's 95 % CI (:class:`utils.stats.Evidence`) as a horizontal error bar at height ``y``, the
    difference as a dot, and ``text`` written after the interval's upper end (``at="right"``) or above the dot
    (``at="above"``); ``text_kw`` goes to the text (e.g. ``fontweight``). Notebooks 02 and 03 draw their
    deciding intervals with it (:func:`after_forks_figure`, :func:`utils.viz.decoding.plot_passk`)."""
    if at not in ("right", "above"):
        raise ValueError(f"at must be 'right' or 'above', got {at!r}")
    lo, hi = ev.ci95
    ax.errorbar([ev.diff], [y], xerr=[[ev.diff - lo], [hi - ev.diff]], fmt="o", color=color, capsize=4, lw=lw)
    if at == "right":
        ax.annotate(text, (hi, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize=fontsize, **text_kw)
    else:
        ax.annotate(text, (ev.diff, y), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=fontsize,
                    **text_kw)


def _ci_rows(ax: Any, rows: Sequence[tuple[str, Any, str]], color: str = "#222222") -> None:
    """Draw one 95 % CI per row of ``rows`` (label, :class:`utils.stats.Evidence`, note) from the top down, the
    difference as a dot, a line at 0, and the difference, interval and n written beside each."""
    y = np.arange(len(rows))[::-1]
    for yy, (label, ev, note) in zip(y, rows):
        lo, hi = ev.ci95
        ci_point(ax, yy, ev, f"{ev.diff:+.3f} [{lo:+.3f}, {hi:+.3f}], n = {ev.n_a} {ev.unit}s{note}", color=color)
    ax.axvline(0, color="#555555", lw=1, ls="--")
    ax.set_yticks(y, [label for label, _, _ in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    lo = min(min(ev.ci95[0] for _, ev, _ in rows), 0.0)
    hi = max(max(ev.ci95[1] for _, ev, _ in rows), 0.0)
    ax.set_xlim(lo - 0.08 * (hi - lo), hi + 0.9 * (hi - lo))  # room on the right for the notes


def after_forks_figure(after: dict[str, dict[str, Any]], k: int, decides: str | None = None) -> Any:
    """Notebook 02's ``02_after_forks``: per corpus (``after``: name -> ``real`` and ``shuffled``
    (:func:`utils.forking.forking_vs_random`), ``runs`` and ``runs_null`` (:func:`utils.forking.runs_after_forks`,
    real and shuffled order) and ``evidence`` (the paired comparison of :func:`utils.forking.after_fork_pairs`)),
    one row of two panels:

    * left: the mean entropy 1..``k`` tokens after a forking token, after a random token and after a fork in the
      shuffled sequences (pooled over all forks: descriptive);
    * right: the length of the low-entropy run after each fork, real against shuffled order;

    the two legends in a strip above the rows (off the data), and at the bottom the test: the paired difference
    (mean next-``k`` entropy after a fork - after a random token of the same sequence, one pair per sequence) with
    its 95 % CI and n for every corpus; ``decides`` names the corpus whose interval decides the claim, ``None`` (the
    default) when none decides alone (the claim must hold on each). About 970 px wide at 110 dpi. Returns the
    figure."""
    import matplotlib.pyplot as plt

    names = list(after)
    if decides is not None and decides not in after:
        raise ValueError(f"decides={decides!r} is not one of the corpora {names}")
    n = len(names)
    fig = plt.figure(figsize=(8.8, 2.6 * n + 4.0))
    grid = fig.add_gridspec(n + 2, 2, height_ratios=[0.35] + [1] * n + [0.35 * n + 0.4], hspace=1.0, wspace=0.5,
                            left=0.2)  # room for the test's row labels inside the figure's width
    x = np.arange(1, k + 1)
    for i, name in enumerate(names):
        a = after[name]
        ax = fig.add_subplot(grid[i + 1, 0])
        ax.plot(x, a["real"]["profile_fork"], "o-", color="#d7301f", label="after a forking token (all forks pooled)")
        ax.plot(x, a["real"]["profile_random"], "s--", color="#444444", label="after a random token")
        ax.plot(x, a["shuffled"]["profile_fork"], ":", color="#1f77b4", label="after a fork, order shuffled")
        ax.set_xticks(x)
        ax.set_xlabel("tokens after")
        ax.set_ylabel("mean entropy (nats)")
        ax.set_title(name, fontsize=9)
        left = ax.get_legend_handles_labels()
        ax = fig.add_subplot(grid[i + 1, 1])
        hi = int(np.percentile(np.concatenate([a["runs"], a["runs_null"]]), 99)) + 1
        bins = np.arange(0, hi + 1) - 0.5
        ax.hist(a["runs"], bins=bins, density=True, alpha=0.6, color="#d7301f", label="real order")
        ax.hist(a["runs_null"], bins=bins, density=True, histtype="step", color="#1f77b4", lw=1.5,
                label="shuffled order")
        ax.set_title(f"{name}\nmean run: real {np.mean(a['runs']):.1f}, shuffled {np.mean(a['runs_null']):.1f}",
                     fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("low-entropy tokens before the next fork")
        ax.set_ylabel("share of forks")
        right = ax.get_legend_handles_labels()
    for col, (handles, labels) in enumerate((left, right)):
        ax = fig.add_subplot(grid[0, col])
        ax.axis("off")
        ax.legend(handles, labels, loc="center", fontsize=8, frameon=False)
    ax = fig.add_subplot(grid[n + 1, :])
    _ci_rows(ax, [(name.replace(" · T", "\nT"), after[name]["evidence"], " (decides)" if name == decides else "")
                  for name in names])
    ax.set_xlabel(f"mean entropy of the next {k} tokens after a fork − after a random token of the same sequence\n"
                  "(nats; mean of the per-sequence differences, 95 % CI)")
    ax.set_title("the test: paired by sequence" + ("" if decides else "; the claim must hold on every corpus"),
                 fontsize=9)
    return fig


def token_roles_figure(kinds: dict[str, Any], paired: dict[str, Any], roles: Any, decides: str) -> Any:
    """Notebook 02's ``02_token_roles``, three panels (two above, the test below; about 970 px wide at 110 dpi):

    * ``kinds`` (label -> :func:`utils.forking.group_table` of SmolLM2's token kinds, e.g. ``{"T = 1": ...,
      "T = 0.7": ...}``): the fork rate (``share_high``) of each kind with at least 20 tokens, **pooled** over all
      traces;
    * ``roles`` (:func:`utils.forking.group_table` of Countdown's roles): the fork rate of each role, pooled, with its
      mean entropy in nats written in a column right of 1 (clear of the bars and the tick labels);
    * ``paired`` (label -> :class:`utils.stats.Evidence` of word pieces - word starts, fork rate paired by trace): the
      test, each difference with its 95 % CI and n; ``decides`` names the label whose interval decides.

    The legends sit below their panels, off the data. Returns the figure."""
    import matplotlib.pyplot as plt

    if decides not in paired:
        raise ValueError(f"decides={decides!r} is not one of {list(paired)}")
    fig = plt.figure(figsize=(8.8, 7.4))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.5, 0.2 * len(paired) + 0.5], hspace=0.95, wspace=0.75)
    ax = fig.add_subplot(grid[0, 0])
    first = next(iter(kinds.values()))
    order = first[first["n"] >= 20].sort_values("share_high").index.tolist()
    y = np.arange(len(order))
    colors = ("#d7301f", "#fc9272", "#fdbb84")
    h = 0.8 / len(kinds)
    for j, (label, table) in enumerate(kinds.items()):
        ax.barh(y + 0.4 - h * (j + 0.5), table.reindex(order)["share_high"], height=h, color=colors[j % len(colors)],
                label=f"{label}, pooled over all traces")
    ax.set_yticks(y, order)
    ax.set_title("SmolLM2 · word problems:\nfork rate by token kind (pooled)", fontsize=9)
    bars = [ax]
    ax = fig.add_subplot(grid[0, 1])
    t = roles[roles["n"] >= 20].sort_values("share_high")
    ax.barh(t.index, t["share_high"], color="#1f77b4", label="T = 1, pooled over all completions")
    for yy, m in enumerate(t["mean_entropy"]):  # a column right of every bar (fork rates end at 1)
        ax.text(1.04, yy, f"mean H\n{m:.2f} nats", ha="left", va="center", fontsize=7.5)
    ax.axvline(1.0, color="#bbbbbb", lw=0.8)
    ax.set_title("task model · Countdown:\nfork rate by token role (pooled)", fontsize=9)
    bars.append(ax)
    for ax, right in zip(bars, (1.0, 1.38)):
        ax.axvline(0.2, color="#555555", ls="--", lw=1, label="average token: 20%")
        ax.set_xlim(0, right)
        ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_xlabel("fork rate: share of tokens at or above\ntheir corpus' 80th percentile")
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False)
    ax = fig.add_subplot(grid[1, :])
    _ci_rows(ax, [(label, ev, " (decides)" if label == decides else "") for label, ev in paired.items()],
             color="#d7301f")
    ax.set_xlabel("fork rate of word pieces − word starts in the same trace (mean over traces, 95 % CI)")
    ax.set_title("SmolLM2: the test, paired by trace", fontsize=9)
    return fig


def threshold_bars(groups: dict[str, dict[str, float]], colors: dict[str, str], reference: float = PAPER_P80_NATS,
                   reference_label: str = "paper: 0.672 nats (Qwen3-8B, AIME)") -> Any:
    """Notebook 02's ``02_thresholds``: one horizontal bar per slice (``groups``: corpus -> {slice: 80th percentile in
    nats}), the slices of one corpus together and in one colour (``colors``: corpus -> colour; the legend names the
    corpora, so each bar's label is the slice alone), thin lines between corpora and the paper's value as a dashed
    line. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    labels, values, cols, breaks = [], [], [], []
    for corpus, slices in groups.items():
        if labels:
            breaks.append(len(labels) - 0.5)
        for name, v in slices.items():
            labels.append(name)
            values.append(v)
            cols.append(colors[corpus])
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(labels) + 1.4))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=cols)
    for b in breaks:
        ax.axhline(len(labels) - 1 - b, color="#999999", lw=0.8)
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    line = ax.axvline(reference, color="k", ls="--", lw=1.2)
    ax.set_xlabel("80th percentile of token entropy (nats)")
    handles = [Patch(color=colors[c], label=c) for c in groups] + [line]
    ax.legend(handles, list(groups) + [reference_label], fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
