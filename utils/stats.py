"""Statistics for the claims ledger: summaries over seeds, comparisons with confidence intervals, verdicts.

Every comparison in the series goes through :func:`compare` (two groups: Welch's t, or a paired t when the two
groups measure the same units), :func:`compare_to` (one group against a published number) or :func:`trend` (does a
gap between two arms grow along ``x``?). Each returns an :class:`Evidence` -- means, difference, 95 % and 90 %
confidence intervals from t quantiles, the two-sided p-value, and the smallest difference the design detects with
80 % power (``mde``) -- and :func:`verdict` turns it into the ledger's word:

* one equivalence rule for every row, :func:`within_margin`: the 90 % CI of a - b lies inside ``(-margin, margin)``
  (two one-sided tests at 5 %), the margin fixed before the runs;
* ``claim="greater"`` (the paper says a > b): **reproduced** when the 95 % CI of a - b lies above 0, **not
  reproduced** when it lies below 0 -- or, when the evidence carries a margin, when it is :func:`within_margin` (no
  difference of a size that matters) -- **inconclusive** otherwise; ``"less"`` mirrors it.
* ``claim="equivalent"`` (a ~ b): **reproduced** when :func:`within_margin`, **not reproduced** when the 95 % CI lies
  entirely outside ``(-margin, margin)``, **inconclusive** otherwise.
* ``claim="grows"`` (a trend's slope is positive; four outcomes fixed in ``configs/margins.yaml``,
  ``06.scale_trend_rule``): **reproduced** when the 95 % CI lies above 0 and the slope is at least the margin;
  **below the margin** when the 95 % CI lies above 0 but the 90 % CI lies below ``+margin`` (the direction holds,
  the size does not); **not reproduced** when the 95 % CI lies below 0 or the slope is :func:`within_margin`;
  **inconclusive** otherwise.

"Inconclusive" is an honest outcome: the ``mde`` says how large a difference the design could have seen.
A null result also needs a positive control (:func:`gated_verdict`): evidence that the manipulation acted at all.

The p-values and intervals equal scipy's ``ttest_ind(equal_var=False)`` / ``ttest_rel`` / ``ttest_1samp``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CLAIMS",
    "VERDICTS",
    "Evidence",
    "all_of",
    "compare",
    "compare_to",
    "describe",
    "gain_share",
    "gated_verdict",
    "holm",
    "mde",
    "mean_sd",
    "random_intercept_slope",
    "ratio_summary",
    "seed_summary",
    "slope",
    "trend",
    "verdict",
    "within_margin",
]

#: What a paper's comparison claims about a vs b.
CLAIMS = ("greater", "less", "equivalent", "grows")
#: What :func:`verdict` can say.
VERDICTS = ("reproduced", "not reproduced", "inconclusive", "below the margin")
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
    """Smallest |difference| detected with ``power`` by a two-sided t test at ``alpha``: ``(t_{1-a/2} + t_power) se``."""
    t = _t()
    return float((t.ppf(1 - alpha / 2, df) + t.ppf(power, df)) * se)


def _evidence(test: str, ma: float, mb: float, diff: float, se: float, df: float, na: int, nb: int,
              margin: float | None, labels: tuple[str, str], unit: str, detail: dict[str, Any] | None = None) -> Evidence:
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


def within_margin(ev: Evidence) -> bool:
    """The one equivalence rule of the ledger: the 90 % CI of ``ev.diff`` lies inside ``(-margin, margin)`` (two
    one-sided tests at 5 %), with the margin fixed before the runs (``ev.margin``; ``ValueError`` without one)."""
    if ev.margin is None:
        raise ValueError("an equivalence claim needs the margin fixed before the runs (compare(..., margin=m))")
    return -ev.margin < ev.ci90[0] and ev.ci90[1] < ev.margin


def verdict(ev: Evidence, claim: str) -> str:
    """The ledger verdict for a paper's claim about ``a`` vs ``b`` (see the module docstring for the rules)."""
    lo, hi = ev.ci95
    if claim in ("greater", "less"):
        side, other = (lo > 0, hi < 0) if claim == "greater" else (hi < 0, lo > 0)
        if side:
            return "reproduced"
        return "not reproduced" if other or (ev.margin is not None and within_margin(ev)) else "inconclusive"
    if claim == "equivalent":
        if within_margin(ev):
            return "reproduced"
        m = float(ev.margin)  # type: ignore[arg-type]
        return "not reproduced" if lo > m or hi < -m else "inconclusive"
    if claim == "grows":
        if ev.margin is None:
            raise ValueError("a 'grows' claim needs the slope margin fixed before the runs")
        if lo > 0:
            if ev.diff >= ev.margin:
                return "reproduced"
            return "below the margin" if ev.ci90[1] < ev.margin else "inconclusive"
        return "not reproduced" if hi < 0 or within_margin(ev) else "inconclusive"
    raise ValueError(f"claim must be one of {', '.join(CLAIMS)}, got {claim!r}")


def all_of(parts: Sequence[tuple[Evidence, str]]) -> str:
    """The verdict of a claim made of several parts (each an ``(evidence, claim)`` pair, e.g. "behind at k = 1 *and*
    ahead at k = 64"): reproduced when every part is, not reproduced when any part is not, else inconclusive."""
    if not parts:
        raise ValueError("all_of needs at least one part")
    vs = [verdict(ev, c) for ev, c in parts]
    if all(v == "reproduced" for v in vs):
        return "reproduced"
    return "not reproduced" if "not reproduced" in vs else "inconclusive"


def gated_verdict(ev: Evidence | Sequence[Evidence], claim: str | Sequence[str], control: Evidence,
                  control_claim: str) -> tuple[str, bool]:
    """``(verdict, control_ok)``: :func:`verdict` of ``ev`` when the positive control (``control`` under
    ``control_claim``, e.g. "the bonus raised entropy": greater) is reproduced, else ``"inconclusive"``: without a
    manipulation that acted, no result says anything about the method."""
    ok = verdict(control, control_claim) == "reproduced"
    if isinstance(ev, Evidence):
        v = verdict(ev, claim)  # type: ignore[arg-type]
    else:
        v = all_of(list(zip(ev, claim)))  # type: ignore[arg-type]
    return (v if ok else "inconclusive"), ok


def describe(ev: Evidence, digits: int = 3) -> str:
    """One line: ``a 0.201 vs b 0.229: diff -0.028 [95% CI -0.052, -0.004], p = 0.03 (Welch t, n = 8/8)``."""
    f = f"{{:+.{digits}f}}"
    a, b = ev.labels
    n = f"n = {ev.n_a}" if ev.n_b == 0 else f"n = {ev.n_a}/{ev.n_b}"
    if ev.test.startswith("trend") or "slope" in ev.test:
        head = f"slope of {a} - {b}: {f.format(ev.diff)}"
    else:
        head = f"{a} {ev.mean_a:.{digits}f} vs {b} {ev.mean_b:.{digits}f}: diff {f.format(ev.diff)}"
    margin = f", margin ±{ev.margin:g}" if ev.margin is not None else ""
    return (f"{head} [95% CI {f.format(ev.ci95[0])}, {f.format(ev.ci95[1])}], p = {_fmt_p(ev.p)} "
            f"({ev.test}, {n} {ev.unit}s{margin}; detectable {ev.mde:.{digits}f})")


def _fmt_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


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


# ------------------------------------------------------------------ a trend with the right unit (notebook 06)


def slope(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, *, margin: float | None = None,
          labels: tuple[str, str] = ("a", "b"), unit: str = "base model") -> Evidence:
    """Least-squares slope of ``y`` on ``x`` with one value per independent unit (e.g. the gap of one base model, x
    its log10 size): ``se = s / sqrt(sum (x - mean x)^2)`` from the residual SD ``s``, ``df = n - 2``. ``mean_a`` is
    the mean of ``y``; ``detail`` holds the intercept and the residual SD."""
    xs, ys = _values(x, "x", minimum=3), _values(y, labels[0], minimum=3)
    if xs.size != ys.size:
        raise ValueError(f"slope needs one y per x, got {xs.size} and {ys.size}")
    sxx = float(np.sum((xs - xs.mean()) ** 2))
    if sxx == 0:
        raise ValueError("slope needs at least two different x values")
    b = float(np.sum((xs - xs.mean()) * (ys - ys.mean())) / sxx)
    a = float(ys.mean() - b * xs.mean())
    resid = ys - (a + b * xs)
    s = float(math.sqrt(np.sum(resid**2) / (xs.size - 2)))
    return _evidence("least-squares slope, one value per unit", ys.mean(), 0.0, b, s / math.sqrt(sxx), xs.size - 2,
                     xs.size, 0, margin, labels, unit, {"intercept": a, "resid_sd": s})


def random_intercept_slope(x: Sequence[float] | np.ndarray, groups: Sequence[Sequence[float]], *,
                           margin: float | None = None, labels: tuple[str, str] = ("a", "b"),
                           unit: str = "base model") -> Evidence:
    """The same slope from every observation, with a random intercept per unit: ``y_ij = b0 + b1 x_i + u_i + e_ij``,
    ``u_i ~ N(0, sd_between^2)``, ``e_ij ~ N(0, sd_within^2)``, fitted by REML (the variance ratio by a bounded 1-D
    search, the rest in closed form). ``groups[i]`` holds unit ``i``'s observations (e.g. one gap per RL seed).
    Degrees of freedom: units - 2 (x varies between units only). ``detail``: ``sd_between``, ``sd_within``."""
    from scipy.optimize import minimize_scalar

    xs = _values(x, "x", minimum=3)
    ys = [_values(g, f"{labels[0]}[{i}]", minimum=1) for i, g in enumerate(groups)]
    if len(ys) != xs.size:
        raise ValueError(f"random_intercept_slope needs one group per x, got {len(ys)} and {xs.size}")
    n_obs = sum(g.size for g in ys)
    if n_obs <= xs.size:
        raise ValueError("random_intercept_slope needs more observations than units (a within-unit spread)")

    def fit(gamma: float) -> tuple[float, np.ndarray, np.ndarray, float]:
        # H_i = I + gamma J (V = sd_within^2 H): H_i^-1 = I - w_i J with w_i = gamma / (1 + n_i gamma)
        xtx, xty, logdet = np.zeros((2, 2)), np.zeros(2), 0.0
        for xi, g in zip(xs, ys):
            n, w = g.size, gamma / (1 + g.size * gamma)
            X = np.column_stack([np.ones(n), np.full(n, xi)])
            xtx += X.T @ X - w * np.outer(X.sum(0), X.sum(0))
            xty += X.T @ g - w * X.sum(0) * g.sum()
            logdet += math.log1p(n * gamma)
        beta = np.linalg.solve(xtx, xty)
        rss = sum(float(((g - beta[0] - beta[1] * xi) ** 2).sum() - gamma / (1 + g.size * gamma)
                        * (g - beta[0] - beta[1] * xi).sum() ** 2) for xi, g in zip(xs, ys))
        reml = (n_obs - 2) * math.log(max(rss, 1e-300)) + logdet + math.log(np.linalg.det(xtx))
        return reml, beta, xtx, rss

    best = minimize_scalar(lambda lg: fit(math.exp(lg))[0], bounds=(-12.0, 12.0), method="bounded")
    gamma = math.exp(best.x) if fit(math.exp(best.x))[0] < fit(0.0)[0] else 0.0
    _, beta, xtx, rss = fit(gamma)
    s2_within = rss / (n_obs - 2)
    se = float(math.sqrt(s2_within * np.linalg.inv(xtx)[1, 1]))
    detail = {"intercept": float(beta[0]), "sd_between": math.sqrt(gamma * s2_within), "sd_within": math.sqrt(s2_within),
              "n_obs": n_obs}
    return _evidence("random-intercept slope (REML)", float(np.mean([g.mean() for g in ys])), 0.0, float(beta[1]), se,
                     xs.size - 2, xs.size, 0, margin, labels, unit, detail)


# --- Multiplicity (issue 20): Holm's step-down correction for a family of pre-specified contrasts ---------------------

def holm(evidence: Sequence[Evidence], alpha: float = ALPHA) -> list[Evidence]:
    """A family of pre-specified comparisons corrected for multiplicity by Holm's step-down rule (same order).

    With the raw two-sided p-values sorted ``p_(1) <= ... <= p_(m)``, the Holm-adjusted value of the ``i``-th is
    ``max_{j <= i} min(1, (m - j + 1) p_(j))``; a contrast is significant at family-wise level ``alpha`` when its
    adjusted p is below ``alpha``. Each returned :class:`Evidence` carries the adjusted ``p`` and a ``ci95`` widened
    to level ``1 - alpha * p_raw / p_holm`` -- for a contrast decided at step ``i`` that is Holm's own level
    ``1 - alpha / (m - i + 1)`` -- so the interval excludes 0 exactly when Holm rejects and :func:`verdict` applies
    unchanged. ``ci90`` (equivalence) is left as it was: Holm corrects the difference tests only. ``detail`` keeps
    the raw p, the adjusted p, the interval's level and ``m``; ``test`` gains ", Holm (m = ...)"."""
    evs = list(evidence)
    if not evs:
        raise ValueError("holm needs at least one comparison")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    m = len(evs)
    order = sorted(range(m), key=lambda i: evs[i].p)
    adj = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * evs[i].p))
        adj[i] = running
    t = _t()
    out = []
    for ev, pa in zip(evs, adj):
        if ev.se > 0 and ev.p > 0:
            level = 1 - alpha * ev.p / pa
            h = float(t.ppf(1 - (1 - level) / 2, ev.df) * ev.se)
            ci95 = (ev.diff - h, ev.diff + h)
        else:  # an exact difference (no spread) or p = 0: nothing to widen
            level, ci95 = 1 - alpha / m, ev.ci95
        detail = {**ev.detail, "p_raw": ev.p, "p_holm": pa, "ci_level": level, "family_size": m}
        out.append(Evidence(test=f"{ev.test}, Holm (m = {m})", n_a=ev.n_a, n_b=ev.n_b, mean_a=ev.mean_a,
                            mean_b=ev.mean_b, diff=ev.diff, se=ev.se, df=ev.df, ci95=ci95, ci90=ev.ci90, p=pa,
                            mde=ev.mde, margin=ev.margin, labels=ev.labels, unit=ev.unit, detail=detail))
    return out


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


def mean_ci(ev: Evidence) -> str:
    """A one-sample comparison's mean and its 95 % interval (``ci95`` is of the difference, so shifted back by the
    fixed value): ``"0.015 [95% CI 0.012, 0.018]"``."""
    return f"{ev.mean_a:.3f} [95% CI {ev.ci95[0] + ev.mean_b:.3f}, {ev.ci95[1] + ev.mean_b:.3f}]"


def diff_ci(ev: Evidence) -> str:
    """A comparison's difference and its 95 % interval: ``"+0.369 [95% CI +0.309, +0.430]"``."""
    return f"{ev.diff:+.3f} [95% CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}]"
