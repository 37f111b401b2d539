"""utils.stats' model fits from statsmodels (issue 31): the random-intercept slope (``MixedLM``, REML) and Holm's
correction (``multipletests``) against the hand formulas they replaced, on fixed data, and the committed numbers of
notebooks 04 and 06 recomputed from the committed run files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from utils import stats as S

REPO = Path(__file__).resolve().parents[2]


def _reference_reml(x: list[float], groups: list[np.ndarray]) -> dict[str, float]:
    """The hand REML utils.stats used before statsmodels: ``V = sd_within^2 (I + gamma J)`` per unit, the variance
    ratio ``gamma`` by a bounded search over log gamma in [-12, 12] (0 when the criterion is lower there; the
    search's tolerance tightened here from scipy's default 1e-5 to 1e-10), the rest in closed form (GLS slope,
    ``se = sqrt(s2 [(X' H^-1 X)^-1]_11)``, ``s2 = rss / (n - 2)``)."""
    xs, ys = np.asarray(x, float), [np.asarray(g, float) for g in groups]
    n_obs = sum(g.size for g in ys)

    def fit(gamma: float) -> tuple[float, np.ndarray, np.ndarray, float]:
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

    best = minimize_scalar(lambda lg: fit(math.exp(lg))[0], bounds=(-12.0, 12.0), method="bounded",
                           options={"xatol": 1e-10})
    gamma = math.exp(best.x) if fit(math.exp(best.x))[0] < fit(0.0)[0] else 0.0
    _, beta, xtx, rss = fit(gamma)
    s2 = rss / (n_obs - 2)
    return {"intercept": float(beta[0]), "slope": float(beta[1]), "se": math.sqrt(s2 * np.linalg.inv(xtx)[1, 1]),
            "sd_between": math.sqrt(gamma * s2), "sd_within": math.sqrt(s2)}


def _design(seed: int, sizes: list[int], sd_between: float) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.2, len(sizes))
    return x, [0.005 * xi + rng.normal(0, sd_between) + rng.normal(0, 0.008, n) for xi, n in zip(x, sizes)]


@pytest.mark.parametrize(
    ("seed", "sizes", "sd_between"),
    [(0, [4] * 6, 0.02), (1, [4] * 12, 0.006), (2, [5, 2, 3, 6, 1, 4], 0.01), (3, [2, 3, 2, 4], 0.03),
     (4, [3] * 5, 0.0), (5, [6, 1, 4, 2, 5], 0.0)],
)
def test_random_intercept_slope_equals_the_hand_reml(seed: int, sizes: list[int], sd_between: float) -> None:
    """MixedLM's REML fit gives the hand REML's slope, standard error and SDs (balanced and unbalanced designs, with
    and without a between-unit spread) to well within 1e-6 of data of this size (SDs ~0.01)."""
    x, groups = _design(seed, sizes, sd_between)
    ev = S.random_intercept_slope(x, groups)
    ref = _reference_reml(list(x), groups)
    assert ev.diff == pytest.approx(ref["slope"], abs=1e-8)
    assert ev.se == pytest.approx(ref["se"], abs=1e-8)
    assert ev.detail["intercept"] == pytest.approx(ref["intercept"], abs=1e-8)
    assert ev.detail["sd_between"] == pytest.approx(ref["sd_between"], abs=1e-7)
    assert ev.detail["sd_within"] == pytest.approx(ref["sd_within"], abs=1e-8)
    assert ev.df == len(sizes) - 2 and ev.detail["n_obs"] == sum(sizes)


def test_random_intercept_slope_matches_the_two_stage_fit_in_a_balanced_design() -> None:
    """The derivation's prediction: with equal seeds per unit and a positive between-unit variance, REML gives the
    least-squares slope of the unit means and the same standard error (var = (sd_b^2 + sd_w^2/n) / Sxx)."""
    rng = np.random.default_rng(0)
    x = np.repeat([0.0, 0.6, 1.2], 4)
    groups = [0.005 * xi + rng.normal(0, 0.02) + rng.normal(0, 0.008, 4) for xi in x]
    two_stage = S.slope(x, [g.mean() for g in groups])
    mixed = S.random_intercept_slope(x, groups)
    assert mixed.detail["sd_between"] > 0
    assert mixed.diff == pytest.approx(two_stage.diff, abs=1e-9)
    assert mixed.se == pytest.approx(two_stage.se, rel=1e-6)
    assert mixed.df == two_stage.df == 10
    # the between-unit SD it reports: the unit means' residual variance minus the seeds' share of it
    within = np.mean([g.var(ddof=1) for g in groups])
    moments = two_stage.detail["resid_sd"] ** 2 - within / 4
    assert mixed.detail["sd_between"] ** 2 == pytest.approx(moments, rel=0.05)


def test_random_intercept_slope_without_a_between_unit_spread() -> None:
    """At the boundary (no unit effect) the fit is least squares through every observation, sd_between 0."""
    rng = np.random.default_rng(1)
    x = np.repeat([0.0, 1.0, 2.0], 3)
    groups = [0.01 * xi + rng.normal(0, 0.01, 6) for xi in x]  # no unit effect at all
    ev = S.random_intercept_slope(x, groups)
    assert ev.detail["sd_between"] < 0.01
    assert ev.ci95[0] < 0.01 < ev.ci95[1]
    flat = S.random_intercept_slope([0.0, 1.0, 2.0], [[0.0, 0.01, -0.01], [0.02, 0.0, 0.01], [0.01, 0.03, 0.02]])
    ols = S.slope(np.repeat([0.0, 1.0, 2.0], 3), [0.0, 0.01, -0.01, 0.02, 0.0, 0.01, 0.01, 0.03, 0.02])
    assert flat.detail["sd_between"] == 0.0
    assert flat.diff == pytest.approx(ols.diff, abs=1e-12) and flat.se == pytest.approx(ols.se, abs=1e-12)
    with pytest.raises(ValueError, match="more observations than units"):
        S.random_intercept_slope([0, 1, 2], [[0.1], [0.2], [0.3]])


def _reference_holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment by hand: sorted ascending, ``max_{j <= i} min(1, (m - j + 1) p_(j))``."""
    m = len(p)
    adj, running = [0.0] * m, 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda i: p[i])):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


@pytest.mark.parametrize("p", [[0.01, 0.04, 0.03, 0.005], [0.02, 0.02, 0.5], [0.3, 0.6, 0.7], [1e-5], [0.04, 0.04]])
def test_holm_equals_the_step_down_rule(p: list[float]) -> None:
    evs = [S.Evidence("t", 8, 8, 0.0, 0.0, 0.01, 0.004, 7.0, (0.0, 0.02), (0.002, 0.018), q, 0.01) for q in p]
    out = S.holm(evs)
    assert [e.p for e in out] == pytest.approx(_reference_holm(p), rel=1e-15, abs=0)
    assert [e.detail["p_raw"] for e in out] == p


# ------------------------------------------------------------------ the committed numbers (issue 31's done-when)

_PARAMS = {"d48": 89088, "d96": 344064, "d192": 1351680}  # the rungs' parameter counts (data/results/claims/06.json)


def _runs(pattern: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(REPO.glob(pattern))]


def _close(new: dict, old: dict, path: str = "") -> list[str]:
    """Every number of ``old`` (a committed Evidence dict) that ``new`` misses by more than 1e-6."""
    bad = []
    for k, v in old.items():
        if isinstance(v, dict):
            bad += _close(new[k], v, f"{path}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and abs(new[k] - v) > 1e-6:
            bad.append(f"{path}{k}: {new[k]!r} vs {v!r}")
        elif isinstance(v, list) and (len(new[k]) != len(v) or any(
                a != b if isinstance(b, str) else abs(a - b) > 1e-6 for a, b in zip(new[k], v))):
            bad.append(f"{path}{k}: {new[k]!r} vs {v!r}")
    return bad


def test_committed_scale_trend_and_rho_contrasts_are_unchanged() -> None:
    """Notebook 06's random-intercept slopes (every budget) and 04's Holm-corrected rho contrasts, recomputed from
    the committed run files, equal data/results/claims/{06,04}.json to 1e-6."""
    from utils.ladder import analysis as LA
    from utils.rlvr.readout import by_name
    from utils.rlvr.verdicts import rho_contrasts

    claims = REPO / "data" / "results" / "claims"
    c06 = json.loads((claims / "06.json").read_text())["rows"]["wang.scale_trend"]["numbers"]
    runs = _runs("data/results/full/06_scale_ladder/06_*_s*_*_seed*.json")
    runs = [r for r in runs if "_lr" not in r["name"]]  # the design at its rate (not the per-arm stage-2 runs)
    budgets = [b for b in c06 if b.isdigit()]
    assert budgets
    for b in budgets:
        res = LA.analyse(LA.gap_table(runs, int(b), _PARAMS), c06[b]["mixed"]["margin"])
        assert _close(res["mixed"].as_dict(), c06[b]["mixed"]) == []
        assert res["sd_between"] == pytest.approx(c06[b]["sd_between"], abs=1e-6)
    c04 = json.loads((claims / "04.json").read_text())["rows"]["wang.rho_sweep"]["numbers"]["evidence"]
    head = by_name(_runs("data/results/04_masked_rlvr/04_*_seed*.json"))
    pre = by_name(_runs("data/results/full/04_masked_rlvr/04_top[15]0_seed*.json"))
    evs = rho_contrasts({0.1: pre["04_top10"], 0.2: head["04_top20"], 0.5: pre["04_top50"], 1.0: head["04_all"]})
    assert len(evs) == len(c04) == 3
    for ev, old in zip(evs, c04):
        assert _close(ev.as_dict(), old) == []
