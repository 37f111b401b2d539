"""What the figures of notebooks 04-06 share: notebook 04's arm colours, the widest figure, a mean over seeds with
its t interval, a run group's curves by seed, and a difference's error bar."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from utils import stats

__all__ = ["COLORS_04", "MAX_WIDTH_IN"]

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
