"""Entropy histograms: one panel with the write-up's bands and the percentile lines, several panels on a shared
axis, and notebook 01's figure of entropy by kind of text."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from utils.entropy import LN2, PAPER_P80_NATS, WRITEUP_BANDS_BITS

__all__ = ["BAND_COLORS", "entropy_by_text_figure", "entropy_panels", "plot_entropy_histogram"]

BAND_COLORS = ("#a1d99b", "#9ecae1", "#fdd49e", "#fc8d59")  # the write-up's bands: <1, 1-3, 3-4, >4 bits


#: Line styles of the percentile lines, in the order of ``percentiles``.
_PCT_STYLES = ("--", "-", ":", "-.")


def plot_entropy_histogram(
    entropies_nats: Iterable[float] | np.ndarray,
    ax: Any = None,
    title: str | None = None,
    bands: bool = True,
    percentiles: Sequence[float] = (50, 80),
    paper_line: bool = True,
    bins: int = 60,
    xmax: float | None = None,
    annotate: bool = True,
    legend: bool = True,
) -> Any:
    """Histogram of token entropies (x in nats, log-count), with the write-up's bit-bands as a colour strip
    along the top (never hidden by the bars), percentile lines and the paper's 0.672-nat 80th percentile.

    ``xmax`` fixes the x range (pass the same value to every panel of a figure); ``annotate`` writes this
    panel's percentile values and the share below 0.01 nats in a box in the upper right; ``legend`` adds the
    legend outside the axes, on the right (for a figure of several panels use :func:`entropy_panels`, which
    draws one legend below all panels). Returns the axes."""
    import matplotlib.pyplot as plt

    h = np.asarray(list(entropies_nats) if not isinstance(entropies_nats, np.ndarray) else entropies_nats, float)
    if h.size == 0:
        raise ValueError("no entropies to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    if xmax is None:
        xmax = max(float(h.max()) * 1.05, PAPER_P80_NATS * 1.2)
    ax.hist(np.clip(h, 0, xmax), bins=bins, range=(0, xmax), color="#7f7f7f", alpha=0.75, zorder=2,
            label="tokens per bin")
    ax.set_yscale("log")
    lo, top = ax.get_ylim()
    ax.set_ylim(lo, top * 6)  # head room: the tallest bar stays below the band strip and the annotation
    if bands:
        for (label, lo, hi), color in zip(WRITEUP_BANDS_BITS, BAND_COLORS):
            lo_n, hi_n = lo * LN2, min(hi * LN2, xmax)
            if lo_n < xmax:
                ax.axvspan(lo_n, hi_n, ymin=0.93, ymax=1.0, color=color, lw=0, zorder=1,
                           label=f"write-up band: {label}")
                ax.axvspan(lo_n, hi_n, ymax=0.93, color=color, alpha=0.25, lw=0, zorder=0)
    notes = []
    for q, ls in zip(percentiles, _PCT_STYLES):
        v = float(np.percentile(h, q))
        ax.axvline(v, color="#1f4e9e", ls=ls, lw=1.5, zorder=3, label=f"{q:g}th percentile (value per panel)")
        notes.append(f"{q:g}th pct: {v:.3f} nats")
    notes.append(f"below 0.01 nats: {np.mean(h < 0.01):.1%}")
    if paper_line:
        ax.axvline(PAPER_P80_NATS, color="#d62728", lw=1.5, zorder=3, label="paper's 80th pct (Qwen3-8B): 0.672 nats")
    if annotate:
        ax.text(0.98, 0.88, "\n".join(notes), transform=ax.transAxes, ha="right", va="top", fontsize=8, zorder=4,
                bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#999999", alpha=0.9))
    ax.set_xlabel("token entropy (nats)   [1 bit = 0.693 nats]")
    ax.set_ylabel("tokens (log scale)")
    ax.set_xlim(0, xmax)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return ax


def entropy_panels(
    panels: dict[str, Any],
    ncols: int | None = None,
    bins: int = 50,
    xmax: float | None = None,
    panel_size: tuple[float, float] = (5.0, 3.4),
    **kw: Any,
) -> Any:
    """One :func:`plot_entropy_histogram` per entry of ``panels`` (title -> entropies in nats) on a shared x range
    (``xmax``, default: the largest entropy of all panels), each annotated with its own percentile values, and
    one legend below the panels. Returns the figure."""
    import matplotlib.pyplot as plt

    if not panels:
        raise ValueError("no panels: pass {title: entropies}.")
    arrays = {k: np.asarray(v, float) for k, v in panels.items()}
    if xmax is None:
        xmax = max(max(float(a.max()) for a in arrays.values()) * 1.02, PAPER_P80_NATS * 1.2)
    n = len(arrays)
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows + 0.8),
                             sharex=True, squeeze=False)
    for ax, (title, h) in zip(axes.flat, arrays.items()):
        plot_entropy_histogram(h, ax=ax, title=title, bins=bins, xmax=xmax, legend=False, **kw)
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    wide = panel_size[0] * ncols >= 12  # four legend columns fit only a wide figure
    fig.tight_layout(rect=(0, 0.12 if nrows == 1 else 0.06 if wide else 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=min(4 if wide else 2, len(labels)), fontsize=8,
               frameon=False)
    return fig


def entropy_by_text_figure(per_kind: dict[str, Any], shares: Sequence[float], bands: dict[str, float],
                           band_range_bits: tuple[float, float], model_name: str, bins: int = 40) -> Any:
    """Notebook 01's ``01_entropy_by_text``, four panels in two rows (at most about 970 px wide at 110 dpi): the
    entropy histogram of each kind of text (``per_kind``: kind -> entropies in nats, with the write-up's bands
    shaded, :func:`plot_entropy_histogram`), and the write-up's bands described: each text's share of tokens under
    1 bit with a top probability >= 0.9 (``shares``, one dot per text) and their mean with its 95 % CI over texts
    (``bands``: :func:`utils.reproduce.ledgers.band_summary`), beside the range of entropies a top probability of
    0.9 allows (``band_range_bits``: the arithmetic that decides the sentence; no test). One legend below all
    panels."""
    import matplotlib.pyplot as plt

    if len(per_kind) > 3:
        raise ValueError(f"at most three kinds of text fit beside the bands, got {len(per_kind)}")
    arrays = {k: np.asarray(v, float) for k, v in per_kind.items()}
    xmax = max(max(float(a.max()) for a in arrays.values()) * 1.02, PAPER_P80_NATS * 1.2)
    fig, axes = plt.subplots(2, 2, figsize=(8.8, 7.0))
    for ax, (kind, h) in zip(axes.flat, arrays.items()):
        plot_entropy_histogram(h, ax=ax, title=f"{kind} ({len(h)} tokens)", bins=bins, xmax=xmax, legend=False)
        ax.set_xlabel("token entropy (nats)")
    ax = axes.flat[3]
    x = np.asarray(shares, float)
    ax.plot(x, np.zeros_like(x), "o", color="#7f7f7f", alpha=0.8)
    ax.errorbar([bands["mean"]], [1.0], xerr=[[bands["mean"] - bands["ci95_lo"]], [bands["ci95_hi"] - bands["mean"]]],
                fmt="o", color="#222222", capsize=4, lw=1.6)
    ax.annotate(f"{bands['mean']:.2f} [{bands['ci95_lo']:.2f}, {bands['ci95_hi']:.2f}], n = {bands['n']} texts",
                (bands["mean"], 1.0), xytext=(0, 9), textcoords="offset points", ha="center", fontsize=8)
    lo_bits, hi_bits = band_range_bits
    ax.text(0.02, 0.04, f"p_max = 0.9 allows {lo_bits:.2f}-{hi_bits:.2f} bits:\nthe arithmetic corrects the rule",
            transform=ax.transAxes, fontsize=8, va="bottom")
    ax.set_yticks([0, 1], ["each text", "mean, 95 % CI"])
    ax.set_ylim(-0.9, 1.7)
    ax.set_xlim(min(0.0, float(x.min()) - 0.05), 1.05)
    ax.set_xlabel("share of a text's tokens under 1 bit\nwith top probability ≥ 0.9")
    ax.set_title("the write-up's bands, described", fontsize=10)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.suptitle(f"{model_name}, text it did not write", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    return fig
