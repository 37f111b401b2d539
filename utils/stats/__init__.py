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
The random-intercept model (:func:`random_intercept_slope`) and Holm's adjustment (:func:`holm`) come from
statsmodels (``MixedLM`` with REML, ``multipletests``); this package turns their results into :class:`Evidence`.
"""

from __future__ import annotations

from collections.abc import Sequence

from utils.stats.core import Evidence, compare, compare_to, mde, mean_sd, seed_summary, trend
from utils.stats.multiplicity import holm
from utils.stats.ratios import gain_share, ratio_summary
from utils.stats.regression import random_intercept_slope, slope

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


def mean_ci(ev: Evidence) -> str:
    """A one-sample comparison's mean and its 95 % interval (``ci95`` is of the difference, so shifted back by the
    fixed value): ``"0.015 [95% CI 0.012, 0.018]"``."""
    return f"{ev.mean_a:.3f} [95% CI {ev.ci95[0] + ev.mean_b:.3f}, {ev.ci95[1] + ev.mean_b:.3f}]"


def diff_ci(ev: Evidence) -> str:
    """A comparison's difference and its 95 % interval: ``"+0.369 [95% CI +0.309, +0.430]"``."""
    return f"{ev.diff:+.3f} [95% CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}]"
