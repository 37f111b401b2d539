"""Plots and token views: tokens colored by entropy, entropy histograms (one panel or several on a shared
axis), per-step training curves of several arms (mean over seeds, and paired differences to a baseline arm, each
with its 95 % CI), a text colour that contrasts with a cell, saving figures.

The views live in :mod:`utils.viz.tokens`, :mod:`utils.viz.histograms`, :mod:`utils.viz.curves` and
:mod:`utils.viz.forks` (notebooks 03-06 have :mod:`utils.viz.decoding` and :mod:`utils.viz.rl`); this package
re-exports them and keeps :func:`save_figure`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from utils.config import figures_dir
from utils.results import atomic_path
from utils.viz.curves import moving_average, paired_key, plot_paired_differences, plot_seed_means
from utils.viz.forks import after_forks_figure, ci_point, threshold_bars, token_roles_figure
from utils.viz.histograms import (BAND_COLORS, entropy_by_text_figure, entropy_panels,
                                  plot_entropy_histogram)
from utils.viz.tokens import ColoredTokens, entropy_color_scale, text_color

__all__ = ["BAND_COLORS", "ColoredTokens", "after_forks_figure", "ci_point", "entropy_by_text_figure",
           "entropy_color_scale", "entropy_panels", "moving_average", "paired_key", "plot_entropy_histogram",
           "plot_paired_differences", "plot_seed_means", "save_figure", "text_color", "threshold_bars",
           "token_roles_figure"]


def save_figure(fig: Any, name: str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``figures/NAME.png`` atomically (``build/<profile>/figures`` in the ci and full profiles);
    returns the path."""
    if not name or any(c in name for c in "/\\") or name.endswith(".png"):
        raise ValueError(f"figure name must be a bare name like '01_entropy_hist', got {name!r}.")
    path = figures_dir() / f"{name}.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png", metadata={"Software": None})
    return path
