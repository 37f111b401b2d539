"""Ratios: how many times one paired measurement is another (:func:`ratio_summary`, median and bootstrap CI) and
the share of one arm's gain that another recovers (:func:`gain_share`, Fieller's interval)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from utils.stats.core import _t, _values

def ratio_summary(num: Sequence[float] | np.ndarray, den: Sequence[float] | np.ndarray, n_boot: int = 2000,
                  seed: int = 0) -> dict[str, float]:
    """How many times ``den`` the ``num`` measurements are (e.g. how many times as long one code path takes as
    another), from paired measurements (e.g. interleaved timings: ``num[i]`` and
    ``den[i]`` were measured side by side): the per-pair ratios ``num[i] / den[i]``, summarised by their median,
    quartiles (``q1``, ``q3``) and a percentile-bootstrap 95 % CI of the median (``n_boot`` resamples of the pairs,
    seeded). Returns ``{"median", "q1", "q3", "ci95_lo", "ci95_hi", "n"}``. Pairing removes what the two share
    (a change of the machine's load hits both); the median ignores the odd disturbed pair."""
    a = _values(num, "ratio_summary (numerator)", minimum=2)
    b = _values(den, "ratio_summary (denominator)", minimum=2)
    if a.size != b.size:
        raise ValueError(f"ratio_summary needs paired values: {a.size} numerators vs {b.size} denominators.")
    if (b <= 0).any() or (a < 0).any():
        raise ValueError("ratio_summary needs positive denominators and non-negative numerators.")
    r = a / b
    rng = np.random.default_rng(seed)
    boot = np.median(r[rng.integers(0, r.size, size=(int(n_boot), r.size))], axis=1)
    q1, med, q3 = np.percentile(r, [25, 50, 75])
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "ci95_lo": float(lo), "ci95_hi": float(hi),
            "n": int(r.size)}


# --- The share of one arm's gain that another recovers (issue 29) -----------------------------------------------------

def gain_share(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
               base: float | Sequence[float] | np.ndarray, level: float = 0.95) -> dict[str, Any]:
    """The share of ``b``'s gain over ``base`` that ``a`` recovers, ``mean(a - base) / mean(b - base)``, with Fieller's
    confidence interval for a ratio of two paired means (units paired: ``a[i]`` and ``b[i]`` measure the same unit,
    ``base`` is one number or one per unit, e.g. each base model's own step-0 pass@1).

    With ``x = a - base``, ``y = b - base``, their means ``mx, my``, the variances and covariance of those means
    ``v11, v22, v12`` (n - 1 in the denominators) and ``t = t_{(1+level)/2, n-1}``, the interval is the set of ``R``
    with ``(mx - R my)^2 <= t^2 (v11 - 2 R v12 + R^2 v22)``; it is a finite interval only when ``my`` is clearly
    away from 0 (``my^2 > t^2 v22``) and positive, else ``ci`` is ``None`` (the gain in the denominator is not
    established, or the reference arm lost).
    Returns ``{"share", "ci", "level", "n", "gain_a", "gain_b"}``."""
    va, vb = _values(a, "a"), _values(b, "b")
    if va.size != vb.size:
        raise ValueError(f"gain_share pairs units: got {va.size} and {vb.size} values")
    base_a = np.asarray(base, dtype=float)
    if base_a.ndim and base_a.shape != va.shape:
        raise ValueError(f"gain_share: base is one number or one per unit ({va.size}), got {base_a.size} values")
    base_v = np.broadcast_to(base_a, va.shape)
    x, y = va - base_v, vb - base_v
    n = x.size
    mx, my = float(x.mean()), float(y.mean())
    if my == 0:
        raise ValueError("gain_share: the reference arm gained nothing over the base (division by zero)")
    c = np.cov(np.vstack([x, y]), ddof=1) / n
    v11, v22, v12 = float(c[0, 0]), float(c[1, 1]), float(c[0, 1])
    tq = float(_t().ppf((1 + level) / 2, n - 1))
    qa = my**2 - tq**2 * v22
    qb = -2 * (mx * my - tq**2 * v12)
    qc = mx**2 - tq**2 * v11
    ci: tuple[float, float] | None = None
    disc = qb**2 - 4 * qa * qc
    if qa > 0 and disc >= 0 and my > 0:  # a share of a loss is no share of a gain: no interval then
        r = math.sqrt(disc)
        ci = ((-qb - r) / (2 * qa), (-qb + r) / (2 * qa))
    return {"share": mx / my, "ci": ci, "level": level, "n": n, "gain_a": mx, "gain_b": my}
