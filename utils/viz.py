"""Plots and token views: tokens colored by entropy, entropy histograms, saving figures."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from utils.config import figures_dir
from utils.results import atomic_path
from utils.entropy import LN2, PAPER_P80_NATS, SEED_BANDS_BITS, TokenRecord

BAND_COLORS = ("#e8f1fa", "#c6dbef", "#fdd49e", "#fc8d59")


def _visible(tok: str) -> str:
    return tok.replace("\n", "⏎").replace("\t", "⇥")


class ColoredTokens:
    """Tokens shaded by entropy: HTML in Jupyter, plain text elsewhere.

    The plain-text form marks tokens at or above ``threshold`` as ``[token|H]``; the HTML form
    shades every token by its entropy (white = certain) and shows the exact value on hover.
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

    def _repr_html_(self) -> str:
        parts = []
        for tok, h in zip(self.tokens, self.entropies):
            if h is None:
                style, title = "background:#eeeeee;color:#777", "no predicting distribution"
            else:
                a = min(1.0, h / self.vmax)
                border = "border-bottom:2px solid #b30000;" if self.threshold is not None and h >= self.threshold else ""
                style, title = f"background:rgba(215,48,31,{a:.2f});{border}", f"H = {h:.3f} {self.unit}"
            parts.append(
                f'<span title="{title}" style="{style};padding:1px 0;white-space:pre">{html.escape(_visible(tok))}</span>'
            )
        legend = (
            f'<div style="font-size:80%;color:#555">shade: entropy from 0 (white) to {self.vmax:.2f} {self.unit} '
            f"(dark red){'; underlined: at or above %.3f %s' % (self.threshold, self.unit) if self.threshold is not None else ''}</div>"
        )
        return f'<div style="font-family:monospace;line-height:1.9">{"".join(parts)}</div>{legend}'

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


def plot_entropy_histogram(
    entropies_nats: Iterable[float] | np.ndarray,
    ax: Any = None,
    title: str | None = None,
    bands: bool = True,
    percentiles: Sequence[float] = (50, 80),
    paper_line: bool = True,
    bins: int = 60,
) -> Any:
    """Histogram of token entropies (x in nats, log-count), with the seed's bit-bands shaded,
    percentile lines and the paper's 0.672-nat 80th percentile. Returns the axes."""
    import matplotlib.pyplot as plt

    h = np.asarray(list(entropies_nats) if not isinstance(entropies_nats, np.ndarray) else entropies_nats, float)
    if h.size == 0:
        raise ValueError("no entropies to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    xmax = max(float(h.max()) * 1.05, PAPER_P80_NATS * 1.2)
    if bands:
        for (label, lo, hi), color in zip(SEED_BANDS_BITS, BAND_COLORS):
            lo_n, hi_n = lo * LN2, min(hi * LN2, xmax)
            if lo_n < xmax:
                ax.axvspan(lo_n, hi_n, color=color, alpha=0.6, lw=0, label=f"seed band {label}")
    ax.hist(h, bins=bins, range=(0, xmax), color="#444444", alpha=0.85)
    ax.set_yscale("log")
    for q, ls in zip(percentiles, ("--", "-", ":")):
        v = float(np.percentile(h, q))
        ax.axvline(v, color="#1f77b4", ls=ls, lw=1.5, label=f"{q:g}th percentile = {v:.3f} nats")
    if paper_line:
        ax.axvline(PAPER_P80_NATS, color="#d62728", lw=1.5, label="paper's 80th pct (Qwen3-8B) = 0.672 nats")
    ax.set_xlabel("token entropy (nats)   [1 bit = 0.693 nats]")
    ax.set_ylabel("tokens (log scale)")
    ax.set_xlim(0, xmax)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="upper right")
    return ax


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
