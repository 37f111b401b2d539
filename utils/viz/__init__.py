"""Plots and token views: tokens colored by entropy, entropy histograms (one panel or several on a shared
axis), per-step training curves of several arms (mean over seeds, and paired differences to a baseline arm, each
with its 95 % CI), a text colour that contrasts with a cell, saving figures."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from utils.config import figures_dir
from utils.results import atomic_path
from utils.entropy import LN2, PAPER_P80_NATS, WRITEUP_BANDS_BITS, TokenRecord

BAND_COLORS = ("#a1d99b", "#9ecae1", "#fdd49e", "#fc8d59")  # the write-up's bands: <1, 1-3, 3-4, >4 bits


def _visible(tok: str) -> str:
    return tok.replace("\n", "⏎").replace("\t", "⇥")


class ColoredTokens:
    """Tokens shaded by entropy: HTML in Jupyter, plain text elsewhere.

    The plain-text form marks tokens at or above ``threshold`` as ``[token|H]``; the HTML form
    shades every token by its entropy (white = certain), underlines those at or above ``threshold``
    and shows the exact value on hover. The HTML wraps like text (``white-space: pre-wrap``, a break
    opportunity between two tokens unless they continue one word, long unbroken runs broken anywhere) and starts
    a new line after each newline token, so a long trace reads as a paragraph in JupyterLab, Colab and an HTML export.
    """

    def __init__(
        self,
        tokens: Sequence[str],
        entropies: Sequence[float | None],
        threshold: float | None = None,
        vmax: float | None = None,
        unit: str = "nats",
    ) -> None:
        if len(tokens) != len(entropies):
            raise ValueError(f"{len(tokens)} tokens but {len(entropies)} entropies: pass one entropy per token.")
        self.tokens = list(tokens)
        self.entropies = list(entropies)
        defined = [h for h in self.entropies if h is not None]
        self.threshold = threshold
        self.vmax = vmax if vmax is not None else (max(defined) if defined else 1.0) or 1.0
        self.unit = unit

    @classmethod
    def from_records(cls, records: Sequence[TokenRecord], **kw: Any) -> "ColoredTokens":
        return cls([r.token for r in records], [r.entropy for r in records], **kw)

    #: Style of the container: wrap like text, break long unbroken runs (JupyterLab's sanitizer keeps these).
    BOX_STYLE = ("font-family:monospace;line-height:1.9;white-space:pre-wrap;overflow-wrap:anywhere;"
                 "word-break:break-word;max-width:100%")

    def _repr_html_(self) -> str:
        parts = []
        for tok, h in zip(self.tokens, self.entropies):
            if h is None:
                style, title = "background:#eeeeee;color:#777", "no predicting distribution"
            else:
                a = min(1.0, h / self.vmax)
                border = "border-bottom:2px solid #b30000;" if self.threshold is not None and h >= self.threshold else ""
                style, title = f"background:rgba(215,48,31,{a:.2f});{border}", f"H = {h:.3f} {self.unit}"
            # a newline shows as ⏎ and breaks the line where it is, so indentation after it starts the next line
            text = html.escape(tok.replace("\t", "⇥")).replace("\n", "⏎<br>")
            parts.append(f'<span title="{title}" style="{style};padding:1px 0;white-space:pre-wrap">{text}</span>')
        legend = (
            f'<div style="font-size:80%;color:#555">shade: entropy from 0 (white) to {self.vmax:.2f} {self.unit} '
            f"(dark red){'; underlined: at or above %.3f %s' % (self.threshold, self.unit) if self.threshold is not None else ''}</div>"
        )
        joined = parts[0] if parts else ""
        for prev, tok, part in zip(self.tokens, self.tokens[1:], parts[1:]):
            # a break opportunity between two tokens, except inside a word ("fog" + "gy"); spaces inside a token
            # are break opportunities anyway (pre-wrap), and overflow-wrap breaks any run that is still too long
            inside_word = prev[-1:].isalnum() and tok[:1].isalnum()
            joined += ("" if inside_word else "<wbr>") + part
        return f'<div style="{self.BOX_STYLE}">{joined}</div>{legend}'

    def __str__(self) -> str:
        out = []
        for tok, h in zip(self.tokens, self.entropies):
            t = _visible(tok)
            if h is not None and self.threshold is not None and h >= self.threshold:
                out.append(f"[{t}|{h:.2f}]")
            else:
                out.append(t)
        return "".join(out)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython plain-text fallback
        p.text(str(self))


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
    (``bands``: :func:`utils.reproduce.ledgers.band_summary`), beside the range of entropies a top probability of 0.9 allows
    (``band_range_bits``: the arithmetic that decides the sentence; no test). One legend below all panels."""
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


def text_color(rgba: Sequence[float]) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with the background colour ``rgba`` (0-1 floats): the
    WCAG contrast ratio from the colour's relative luminance (sRGB linearised). For numbers written on cells."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def moving_average(y: Sequence[float] | np.ndarray, window: int = 5) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (``len(y) - window + 1`` of them); ``y`` itself when shorter."""
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
                            baseline: dict[str, str | None], colors: dict[str, Any], final: dict[str, Any] | None = None,
                            margins: dict[str, float] | None = None, window: int = 5, last: int = 10,
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
        rows = np.stack([moving_average(series[lab][s], window) - moving_average(series[baseline[lab]][s], window)  # type: ignore[index]
                         for s in seeds])
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


def paired_key(last: int = 10, margins: dict[str, float] | None = None, unit: str = "nats", n: int | None = None) -> list[Any]:
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


def save_figure(fig: Any, name: str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``figures/NAME.png`` atomically (``build/<profile>/figures`` in the ci and full profiles);
    returns the path."""
    if not name or any(c in name for c in "/\\") or name.endswith(".png"):
        raise ValueError(f"figure name must be a bare name like '01_entropy_hist', got {name!r}.")
    path = figures_dir() / f"{name}.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png", metadata={"Software": None})
    return path


def entropy_color_scale(values: Sequence[float]) -> float:
    """A robust upper end for color scales: the 99th percentile (at least 1e-6)."""
    v = np.asarray(values, float)
    return max(float(np.percentile(v, 99)) if v.size else 1.0, 1e-6) if not math.isnan(v.sum()) else 1.0


# ---------------------------------------------------------------------------------------------
# Notebook 02's figures: what follows a fork, which tokens fork, the threshold per corpus
# ---------------------------------------------------------------------------------------------


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
