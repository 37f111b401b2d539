"""The evidence of one comparison and the tests that make it: :class:`Evidence`, the one input check, the t-based
interval / p-value / detectable effect (:func:`mde`), and the comparisons :func:`compare`, :func:`compare_to`,
:func:`trend`, with the per-seed summaries :func:`mean_sd` and :func:`seed_summary` (re-exported by
:mod:`utils.stats`, whose docstring states the rules)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

ALPHA = 0.05
POWER = 0.8


@dataclass
class Evidence:
    """The outcome of one comparison (JSON-serialisable with ``dataclasses.asdict``).

    ``diff`` is ``mean_a - mean_b`` (for a trend: the slope); ``ci95``/``ci90`` are t intervals of ``diff``;
    ``p`` is two-sided (against 0); ``mde`` the smallest ``|diff|`` this design detects with 80 % power at
    alpha = 0.05 (t approximation: ``(t_0.975 + t_0.8) * se``); ``margin`` the equivalence margin, if any.
    """

    test: str
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    diff: float
    se: float
    df: float
    ci95: tuple[float, float]
    ci90: tuple[float, float]
    p: float
    mde: float
    margin: float | None = None
    labels: tuple[str, str] = ("a", "b")
    unit: str = "seed"
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _values(x: Sequence[float] | np.ndarray, name: str, minimum: int = 2) -> np.ndarray:
    """The one input check of every public function: ``x`` as a 1-D float array of at least ``minimum`` finite
    values, else ``ValueError`` naming ``name`` (a 2 x 2 array is not four seeds; NaN or inf is not a measurement)."""
    try:
        v = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of numbers, got {x!r:.60}") from None
    if v.ndim != 1:
        raise ValueError(f"{name} must be one list of values (1-D), got an array of shape {v.shape}")
    if v.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} value{'s' if minimum > 1 else ''} (one per seed or unit), "
                         f"got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return v


def _number(x: float, name: str) -> float:
    """``x`` as a finite float, else ``ValueError`` (a published value of inf or NaN compares with nothing)."""
    v = _values([x], name, minimum=1)
    return float(v[0])


def _t():
    from scipy import stats as st

    return st.t


def mde(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest |difference| detected with ``power`` by a two-sided t test at ``alpha``:
    ``(t_{1-a/2} + t_power) se``."""
    t = _t()
    return float((t.ppf(1 - alpha / 2, df) + t.ppf(power, df)) * se)


def _evidence(test: str, ma: float, mb: float, diff: float, se: float, df: float, na: int, nb: int,
              margin: float | None, labels: tuple[str, str], unit: str,
              detail: dict[str, Any] | None = None) -> Evidence:
    t = _t()
    if se > 0:
        stat = diff / se
        p = float(2 * t.sf(abs(stat), df))
        h95, h90 = float(t.ppf(0.975, df) * se), float(t.ppf(0.95, df) * se)
    else:  # no spread at all: the difference is exact
        p = 1.0 if diff == 0 else 0.0
        h95 = h90 = 0.0
    if margin is not None and not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"margin must be a positive number, got {margin}")
    return Evidence(test=test, n_a=na, n_b=nb, mean_a=float(ma), mean_b=float(mb), diff=float(diff), se=float(se),
                    df=float(df), ci95=(diff - h95, diff + h95), ci90=(diff - h90, diff + h90), p=p,
                    mde=mde(se, df) if se > 0 else 0.0, margin=margin, labels=labels, unit=unit, detail=detail or {})


def compare(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    paired: bool = False,
    margin: float | None = None,
    labels: tuple[str, str] = ("a", "b"),
    unit: str = "seed",
) -> Evidence:
    """Compare per-unit values ``a`` and ``b`` (one per seed, or per problem when the unit is a problem).

    Unpaired: Welch's t (Welch-Satterthwaite degrees of freedom). ``paired=True``: a t test on the differences
    ``a[i] - b[i]`` (the same units measured twice, e.g. the same problems under two decoding rules).
    Raises ``ValueError`` for fewer than 2 values per group, NaN, or paired groups of different lengths."""
    va, vb = _values(a, labels[0]), _values(b, labels[1])
    if paired:
        if va.size != vb.size:
            raise ValueError(f"paired comparison needs equal lengths, got {va.size} and {vb.size}")
        d = va - vb
        se = float(d.std(ddof=1) / math.sqrt(d.size))
        return _evidence("paired t", va.mean(), vb.mean(), float(d.mean()), se, d.size - 1, va.size, vb.size,
                         margin, labels, unit)
    sa, sb = va.var(ddof=1) / va.size, vb.var(ddof=1) / vb.size
    se = math.sqrt(sa + sb)
    df = (sa + sb) ** 2 / (sa**2 / (va.size - 1) + sb**2 / (vb.size - 1)) if se > 0 else float(va.size + vb.size - 2)
    return _evidence("Welch t", va.mean(), vb.mean(), float(va.mean() - vb.mean()), se, df, va.size, vb.size,
                     margin, labels, unit)


def compare_to(
    a: Sequence[float] | np.ndarray,
    value: float,
    *,
    margin: float | None = None,
    labels: tuple[str, str] = ("a", "published"),
    unit: str = "seed",
) -> Evidence:
    """One group against a fixed number (e.g. a paper's reported value): one-sample t test of ``mean(a) - value``."""
    va = _values(a, labels[0])
    value = _number(value, labels[1])
    se = float(va.std(ddof=1) / math.sqrt(va.size))
    return _evidence("one-sample t", va.mean(), value, float(va.mean() - value), se, va.size - 1, va.size, 0,
                     margin, labels, unit)


def trend(
    x: Sequence[float],
    a_groups: Sequence[Sequence[float]],
    b_groups: Sequence[Sequence[float]],
    *,
    labels: tuple[str, str] = ("a", "b"),
    unit: str = "seed",
) -> Evidence:
    """Does the gap ``mean(a_i) - mean(b_i)`` change along ``x`` (e.g. log parameter count)?

    The slope of the least-squares line through the per-group gaps, ``sum_i c_i gap_i`` with
    ``c_i = (x_i - mean x) / sum (x_j - mean x)^2``; its variance is ``sum_i c_i^2 (s_ai^2/n_ai + s_bi^2/n_bi)``
    (the groups are independent) and its degrees of freedom Welch-Satterthwaite's. With two groups it is the
    difference of the two gaps divided by the x distance. ``diff`` is the slope; ``detail`` holds x, the gaps and
    their standard errors."""
    xs = _values(x, "x")
    if len(a_groups) != xs.size or len(b_groups) != xs.size:
        raise ValueError("trend needs at least 2 groups and one list of values per x for each arm")
    if np.ptp(xs) == 0:
        raise ValueError("trend needs at least two different x values")
    c = (xs - xs.mean()) / np.sum((xs - xs.mean()) ** 2)
    gaps, ses, comps, dfs = [], [], [], []
    for i, (ga, gb) in enumerate(zip(a_groups, b_groups)):
        va, vb = _values(ga, f"{labels[0]}[{i}]"), _values(gb, f"{labels[1]}[{i}]")
        gaps.append(va.mean() - vb.mean())
        wa, wb = va.var(ddof=1) / va.size, vb.var(ddof=1) / vb.size
        ses.append(math.sqrt(wa + wb))
        comps += [c[i] ** 2 * wa, c[i] ** 2 * wb]
        dfs += [va.size - 1, vb.size - 1]
    var = float(sum(comps))
    se = math.sqrt(var)
    denom = sum(w**2 / d for w, d in zip(comps, dfs))
    df = var**2 / denom if denom > 0 else float(sum(dfs))
    slope = float(np.dot(c, gaps))
    na, nb = sum(len(g) for g in a_groups), sum(len(g) for g in b_groups)
    ma = float(np.mean([np.mean(g) for g in a_groups]))
    mb = float(np.mean([np.mean(g) for g in b_groups]))
    detail = {"x": xs.tolist(), "gap": [float(g) for g in gaps], "gap_se": ses}
    return _evidence("trend (Welch-Satterthwaite)", ma, mb, slope, se, df, na, nb, None, labels, unit, detail)


def mean_sd(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof = 1; 0 for a single value)."""
    v = _values(values, "mean_sd", minimum=1)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def seed_summary(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """``{"mean", "sd", "n", "se", "ci95_lo", "ci95_hi"}`` of per-seed values (t interval; the CI is the mean
    itself for one value)."""
    v = _values(values, "seed_summary", minimum=1)
    m, sd = mean_sd(v)
    se = sd / math.sqrt(v.size)
    h = float(_t().ppf(0.975, v.size - 1) * se) if v.size > 1 else 0.0
    return {"mean": m, "sd": sd, "n": int(v.size), "se": se, "ci95_lo": m - h, "ci95_hi": m + h}
