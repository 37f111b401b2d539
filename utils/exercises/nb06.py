"""Exercise checks of notebook 06 (scale ladder): the gap's confidence interval and the trend's slope."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register
from utils.exercises.core import slips as _slips

__all__ = ["check_gap_ci", "check_trend_slope"]

#: Exercise 6.1's usual slips, by the name :func:`_gap_ci_slip` knows them by, with the words that say so.
_GAP_CI_SLIPS = {"z": "1.96 (the normal quantile): Welch's interval uses t.ppf(0.975, df)",
                 "pooled": ("the pooled (Student) degrees of freedom n_a + n_b - 2: Welch's df comes from the "
                            "Welch-Satterthwaite formula"),
                 "ddof0": "var with ddof=0: the sample variance divides by n - 1"}


def _gap_ci_slip(a: list[float], b: list[float], slip: str) -> tuple[float, float]:
    """Exercise 6.1's usual slips: the normal quantile, Student's pooled df, or the ddof=0 variance."""
    from scipy.stats import t

    x, y = np.asarray(a, float), np.asarray(b, float)
    ddof = 0 if slip == "ddof0" else 1
    va, vb = x.var(ddof=ddof) / x.size, y.var(ddof=ddof) / y.size
    df = x.size + y.size - 2 if slip == "pooled" else (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    h = (1.959964 if slip == "z" else float(t.ppf(0.975, df))) * float(np.sqrt(va + vb))
    d = float(x.mean() - y.mean())
    return d - h, d + h


def _gap_ci_case(fn: Callable[..., tuple[float, float]], a: list[float], b: list[float], what: str) -> None:
    """One case of :func:`check_gap_ci`."""
    from utils.stats import compare

    got = fn(list(a), list(b))
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise ExerciseFailed("return the interval as two numbers (low, high)")
    got_t = torch.tensor([float(got[0]), float(got[1])], dtype=torch.float64)
    want = torch.tensor(compare(a, b).ci95, dtype=torch.float64)
    _slips(got_t, want, {f"the half-width uses {why}": torch.tensor(_gap_ci_slip(a, b, k), dtype=torch.float64)
                         for k, why in _GAP_CI_SLIPS.items()}, what, atol=1e-6)
    _close(got_t, torch.tensor(compare(a, b).ci95), what, atol=1e-6)


@_register
def check_gap_ci(fn: Callable[..., tuple[float, float]]) -> None:
    """``fn(top, all_)``: the 95 % confidence interval of mean(top) - mean(all_) by Welch's t (two floats) --
    must equal ``utils.stats.compare(top, all_).ci95``."""
    case = partial(_gap_ci_case, fn)
    rng = np.random.default_rng(0)
    cases = [partial(case, [0.20, 0.22, 0.19, 0.21, 0.23], [0.25, 0.24, 0.26, 0.25, 0.27], "five seeds each"),
             partial(case, [0.1, 0.3], [0.2, 0.2, 0.21, 0.19],
                     "unequal sizes and spreads (Welch's degrees of freedom)"),
             partial(case, rng.normal(0.2, 0.05, 8).tolist(), rng.normal(0.2, 0.01, 8).tolist(), "eight seeds each")]
    run_check("gap CI", cases)


def _slope_case(fn: Callable[..., float], x: list[float], seed: int, what: str) -> None:
    """One case of :func:`check_trend_slope`: random per-size seeds around a gap that grows with ``x``."""
    from utils.stats import trend

    rng = np.random.default_rng(seed)
    a = [rng.normal(0.2 + 0.01 * i, 0.02, 5) for i in range(len(x))]
    b = [rng.normal(0.22, 0.02, 5) for _ in x]
    gaps = [float(ai.mean() - bi.mean()) for ai, bi in zip(a, b)]
    got = fn(list(x), gaps)
    if not isinstance(got, (float, int, np.floating)):
        raise ExerciseFailed(f"return one number (the slope), got {type(got).__name__}")
    want = trend(x, a, b).diff
    if abs(float(got) - want) > 1e-9:
        raise ExerciseFailed(f"{what}: expected a slope of {want:.5f}, got {float(got):.5f}")


@_register
def check_trend_slope(fn: Callable[..., float]) -> None:
    """``fn(x, gaps)``: the least-squares slope of the per-size gaps against x (e.g. log10 parameters) -- must equal
    the slope ``utils.stats.trend`` reports."""
    case = partial(_slope_case, fn)
    run_check("trend slope", [partial(case, [4.95, 5.54, 6.13, 6.61], 0, "four rungs"),
                              partial(case, [0.0, 1.0], 1, "two sizes"),
                              partial(case, [1.0, 2.0, 4.0], 2, "unevenly spaced x")])
