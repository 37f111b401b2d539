"""utils.stats: the comparisons equal scipy's t tests to float precision, the verdict rules, the detectable effect,
the trend test, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from utils import stats as S

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
group = st.lists(finite, min_size=2, max_size=12).filter(lambda v: np.ptp(v) > 1e-3)


@settings(max_examples=200, deadline=None)
@given(a=group, b=group)
def test_welch_matches_scipy(a: list[float], b: list[float]) -> None:
    ev = S.compare(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert ev.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    lo, hi = ref.confidence_interval(0.95)
    assert ev.ci95 == pytest.approx((lo, hi), rel=1e-9, abs=1e-12)
    assert ev.diff == pytest.approx(np.mean(a) - np.mean(b)) and ev.df == pytest.approx(ref.df)
    assert ev.n_a == len(a) and ev.n_b == len(b) and ev.test == "Welch t"


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(2, 12))
def test_paired_and_one_sample_match_scipy(data: st.DataObject, n: int) -> None:
    a = data.draw(st.lists(finite, min_size=n, max_size=n))
    b = data.draw(st.lists(finite, min_size=n, max_size=n))
    if np.ptp(np.subtract(a, b)) < 1e-3:
        return
    ev = S.compare(a, b, paired=True)
    ref = sps.ttest_rel(a, b)
    assert ev.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    assert ev.ci95 == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=1e-9, abs=1e-12)
    one = S.compare_to(a, 0.3) if np.ptp(a) > 1e-3 else None
    if one is not None:
        r1 = sps.ttest_1samp(a, 0.3)
        assert one.p == pytest.approx(r1.pvalue, rel=1e-9, abs=1e-12) and one.n_b == 0
        assert one.ci95 == pytest.approx(tuple(np.subtract(r1.confidence_interval(0.95), 0.3)), rel=1e-9, abs=1e-12)


def test_ninety_percent_interval_and_mde() -> None:
    a, b = [0.20, 0.22, 0.19, 0.25, 0.21], [0.23, 0.24, 0.22, 0.26]
    ev = S.compare(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert ev.ci90 == pytest.approx(tuple(ref.confidence_interval(0.90)), rel=1e-9)
    # mde: a true difference of that size is detected with about 80% power (noncentral t, two-sided 5%)
    t = sps.t.ppf(0.975, ev.df)
    power = sps.nct.sf(t, ev.df, ev.mde / ev.se) + sps.nct.cdf(-t, ev.df, ev.mde / ev.se)
    assert 0.75 < power < 0.85


def _ev(lo: float, hi: float, margin: float | None = None, lo90: float | None = None, hi90: float | None = None) -> S.Evidence:
    return S.Evidence(test="t", n_a=8, n_b=8, mean_a=0, mean_b=0, diff=(lo + hi) / 2, se=1, df=10, ci95=(lo, hi),
                      ci90=(lo90 if lo90 is not None else lo, hi90 if hi90 is not None else hi), p=0.5, mde=0.1,
                      margin=margin)


@pytest.mark.parametrize(
    ("lo", "hi", "greater", "less"),
    [(0.01, 0.2, "reproduced", "not reproduced"), (-0.2, -0.01, "not reproduced", "reproduced"),
     (-0.1, 0.1, "inconclusive", "inconclusive")],
)
def test_directional_verdicts(lo: float, hi: float, greater: str, less: str) -> None:
    assert S.verdict(_ev(lo, hi), "greater") == greater
    assert S.verdict(_ev(lo, hi), "less") == less


def test_equivalence_verdicts() -> None:
    m = 0.02
    assert S.verdict(_ev(-0.025, 0.025, m, -0.015, 0.015), "equivalent") == "reproduced"  # 90% CI inside
    assert S.verdict(_ev(0.03, 0.08, m), "equivalent") == "not reproduced"  # 95% CI entirely above the margin
    assert S.verdict(_ev(-0.09, -0.025, m), "equivalent") == "not reproduced"
    assert S.verdict(_ev(-0.01, 0.05, m), "equivalent") == "inconclusive"
    with pytest.raises(ValueError, match="margin"):
        S.verdict(_ev(-0.01, 0.01), "equivalent")
    with pytest.raises(ValueError, match="claim must be"):
        S.verdict(_ev(-0.01, 0.01), "bigger")


def test_gated_verdict_needs_the_control() -> None:
    acted, idle = _ev(0.1, 0.3), _ev(-0.1, 0.1)
    assert S.gated_verdict(_ev(0.01, 0.2), "greater", acted, "greater") == ("reproduced", True)
    assert S.gated_verdict(_ev(0.01, 0.2), "greater", idle, "greater") == ("inconclusive", False)


def test_trend_matches_two_group_difference_of_gaps() -> None:
    rng = np.random.default_rng(0)
    a = [rng.normal(0.2, 0.02, 6), rng.normal(0.3, 0.02, 6)]
    b = [rng.normal(0.25, 0.02, 6), rng.normal(0.25, 0.02, 6)]
    ev = S.trend([0.0, 2.0], a, b)
    gaps = [a[i].mean() - b[i].mean() for i in range(2)]
    assert ev.diff == pytest.approx((gaps[1] - gaps[0]) / 2)
    se = np.sqrt(sum(x.var(ddof=1) / x.size for x in a + b)) / 2
    assert ev.se == pytest.approx(se) and S.verdict(ev, "greater") == "reproduced"
    three = S.trend(np.log([1e5, 3e5, 1e6]), [rng.normal(0.2, 0.01, 5)] * 3, [rng.normal(0.2, 0.01, 5)] * 3)
    assert three.diff == pytest.approx(0.0, abs=1e-12) and S.verdict(three, "greater") == "inconclusive"
    with pytest.raises(ValueError, match="two different x"):
        S.trend([1.0, 1.0], a, b)


@pytest.mark.parametrize(
    ("a", "b", "kw", "message"),
    [([0.1], [0.2, 0.3], {}, "at least 2"), ([0.1, float("nan")], [0.2, 0.3], {}, "NaN"),
     ([0.1, 0.2, 0.3], [0.2, 0.3], {"paired": True}, "equal lengths"), ([0.1, 0.2], [0.2, 0.3], {"margin": -1}, "margin")],
)
def test_clear_errors(a: list[float], b: list[float], kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        S.compare(a, b, **kw)


def test_no_spread_and_summaries() -> None:
    ev = S.compare([1.0, 1.0], [0.0, 0.0])
    assert ev.p == pytest.approx(0.0, abs=1e-12) and ev.ci95 == pytest.approx((1.0, 1.0))
    assert S.compare([1.0, 1.0], [1.0, 1.0]).p == pytest.approx(1.0)
    s = S.seed_summary([0.1, 0.2, 0.3])
    assert s["mean"] == pytest.approx(0.2) and s["sd"] == pytest.approx(0.1) and s["n"] == 3
    assert s["ci95_lo"] == pytest.approx(0.2 - sps.t.ppf(0.975, 2) * 0.1 / np.sqrt(3))
    assert S.mean_sd([0.5]) == pytest.approx((0.5, 0.0))
    line = S.describe(S.compare([0.2, 0.21, 0.19], [0.25, 0.26, 0.24], labels=("top-20%", "all")))
    assert line.startswith("top-20% 0.200 vs all 0.250: diff -0.050 [95% CI") and "n = 3/3 seeds" in line
    import json
    from dataclasses import asdict

    json.dumps(asdict(ev))  # JSON-serialisable


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: S.compare_to([0.1, 0.2, 0.3], INF), "published contains NaN or infinite"),
        (lambda: S.compare_to([0.1, 0.2, 0.3], NAN), "published contains NaN or infinite"),
        (lambda: S.compare_to([0.1, NAN, 0.3], 0.2), "a contains NaN"),
        (lambda: S.trend([1.0, NAN], [[1, 2], [3, 4]], [[0, 1], [0, 2]]), "x contains NaN"),
        (lambda: S.trend([1.0, INF], [[1, 2], [3, 4]], [[0, 1], [0, 2]]), "x contains NaN"),
        (lambda: S.trend([[1.0, 2.0]], [[1, 2], [3, 4]], [[0, 1], [0, 2]]), "1-D"),
        (lambda: S.compare([[1, 2], [3, 4]], [1, 2]), r"1-D\), got an array of shape \(2, 2\)"),
        (lambda: S.compare(5.0, [1, 2]), "1-D"),
        (lambda: S.compare(["x", "y"], [1, 2]), "must be a list of numbers"),
        (lambda: S.seed_summary([0.1, NAN]), "seed_summary contains NaN"),
        (lambda: S.seed_summary([]), "at least 1 value"),
        (lambda: S.seed_summary(np.ones((2, 2))), "1-D"),
        (lambda: S.mean_sd([INF]), "mean_sd contains NaN"),
    ],
)
def test_one_input_check_for_every_public_function(call: object, message: str) -> None:
    """Issue 18, finding 13: compare_to(x, inf) said "reproduced" with CI (-inf, -inf), NaN gave "diff +nan", trend
    with NaN/inf in x gave a verdict, a 2 x 2 array counted as n = 4 and the summaries took NaN."""
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


@pytest.mark.parametrize("bad", [[0.1, float("nan")], [0.1, -0.5], [float("inf")], []])
def test_entropy_summaries_refuse_nan_and_negative(bad: list[float]) -> None:
    from utils import entropy as E
    from utils.toy_lm.rollouts import entropy_summary

    for f in (E.summarize, E.band_shares, E.percentile_threshold, lambda h: entropy_summary([np.array(h)])):
        with pytest.raises(ValueError, match="entropies"):
            f(bad)
    assert E.summarize(np.array([[0.0, 1.0], [2.0, 0.5]]))["n"] == 4  # a bag of tokens: its shape does not matter


# ------------------------------------------------------------------ slope with one value per unit (random intercept:
# tests/test_stats_models.py)


def test_slope_equals_scipy_linregress() -> None:
    from scipy.stats import linregress

    rng = np.random.default_rng(3)
    x = np.repeat([4.95, 5.54, 6.13], 4)
    y = 0.01 * x + rng.normal(0, 0.01, x.size)
    ev = S.slope(x, y, margin=0.02)
    ref = linregress(x, y)
    assert ev.diff == pytest.approx(ref.slope, rel=1e-9) and ev.se == pytest.approx(ref.stderr, rel=1e-9)
    assert ev.df == x.size - 2 and ev.p == pytest.approx(ref.pvalue, rel=1e-6)
    with pytest.raises(ValueError, match="different x"):
        S.slope([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one y per x"):
        S.slope([1, 2, 3], [0.1, 0.2, 0.3, 0.4])


def test_gain_share_fieller_interval():
    """The share of the reference arm's gain: the ratio of mean gains, Fieller's interval around it (close to the
    delta method when the denominator is well away from 0), and no finite interval when the reference gained
    nothing clear."""
    import numpy as np
    from scipy.stats import t

    from utils.stats import gain_share

    rng = np.random.default_rng(0)
    b = 0.23 + rng.normal(0, 0.004, 8)
    a = b - 0.002 + rng.normal(0, 0.003, 8)
    res = gain_share(a, b, 0.178)
    x, y = a - 0.178, b - 0.178
    assert res["share"] == pytest.approx(x.mean() / y.mean())
    lo, hi = res["ci"]
    assert lo < res["share"] < hi
    c = np.cov(np.vstack([x, y])) / 8
    r = res["share"]
    se = np.sqrt(c[0, 0] - 2 * r * c[0, 1] + r**2 * c[1, 1]) / y.mean()
    h = t.ppf(0.975, 7) * se
    assert lo == pytest.approx(r - h, abs=0.01) and hi == pytest.approx(r + h, abs=0.01)
    # Every R inside the interval satisfies Fieller's inequality, the end points with equality.
    tq = t.ppf(0.975, 7)
    for R in (lo, hi):
        assert (x.mean() - R * y.mean()) ** 2 == pytest.approx(tq**2 * (c[0, 0] - 2 * R * c[0, 1] + R**2 * c[1, 1]))
    flat = gain_share(a, 0.178 + rng.normal(0, 0.01, 8), 0.178)
    assert flat["ci"] is None
    with pytest.raises(ValueError):
        gain_share(a, b[:4], 0.178)


def test_within_margin_is_the_one_equivalence_rule() -> None:
    """Issue 29: equivalence (90% CI inside the margin) is one function; a directional claim whose evidence carries a
    margin is "not reproduced" when its CI includes 0 but lies within the margin, "inconclusive" without one."""
    ev = _ev(-0.005, 0.0003, 0.01, -0.0046, -0.0004)   # entbonus.psi_entropy's committed intervals
    assert S.within_margin(ev) and S.verdict(ev, "greater") == "not reproduced"
    assert S.verdict(ev, "equivalent") == "reproduced"
    wide = _ev(-0.02, 0.001, 0.01, -0.015, -0.001)
    assert not S.within_margin(wide) and S.verdict(wide, "greater") == "inconclusive"
    assert S.verdict(_ev(0.001, 0.02, 0.01, 0.002, 0.018), "greater") == "reproduced"  # direction first
    no_margin = S.Evidence("x", 8, 8, 0, 0, 0.0, 0.01, 7, (-0.005, 0.0003), (-0.0046, -0.0004), 0.06, 0.004)
    assert S.verdict(no_margin, "greater") == "inconclusive"
    with pytest.raises(ValueError, match="margin"):
        S.within_margin(no_margin)


def test_ratio_summary_of_paired_measurements() -> None:
    """Per-pair ratios: median, quartiles and a bootstrap CI that holds the median; clear errors for unpaired,
    too short or non-positive input."""
    den = np.array([1.0, 2.0, 4.0, 1.0, 3.0, 2.0, 5.0])
    num = 1.5 * den
    r = S.ratio_summary(num, den)
    assert r["median"] == pytest.approx(1.5) and r["q1"] == pytest.approx(1.5) and r["q3"] == pytest.approx(1.5)
    assert r["ci95_lo"] == pytest.approx(1.5) and r["ci95_hi"] == pytest.approx(1.5) and r["n"] == 7
    rng = np.random.default_rng(1)
    ratios = 1.2 + 0.1 * rng.standard_normal(40)
    r = S.ratio_summary(ratios * 2.0, np.full(40, 2.0))
    assert r["q1"] <= r["median"] <= r["q3"] and r["ci95_lo"] <= r["median"] <= r["ci95_hi"]
    assert r["median"] == pytest.approx(float(np.median(ratios)))
    assert S.ratio_summary(ratios, np.ones(40)) == S.ratio_summary(ratios, np.ones(40))  # seeded
    for a, b in (([1.0, 2.0], [1.0]), ([1.0], [1.0]), ([1.0, 2.0], [1.0, 0.0]), ([1.0, float("nan")], [1.0, 1.0])):
        with pytest.raises(ValueError):
            S.ratio_summary(a, b)


def test_gain_share_refuses_what_is_no_share_of_a_gain():
    """A reference arm that clearly lost gets no interval (a share of a loss is not a share of a gain), and a base of
    the wrong length is one clear error."""
    import numpy as np

    from utils.stats import gain_share

    b = 0.15 + np.array([0.001, -0.002, 0.0, 0.001, -0.001, 0.002, 0.0, -0.001])
    assert gain_share(b - 0.01, b, 0.178)["ci"] is None
    with pytest.raises(ValueError, match="one number or one per unit"):
        gain_share(b, b, [0.1, 0.2])
