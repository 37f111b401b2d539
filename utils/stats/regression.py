"""A trend with the right unit (notebook 06): the least-squares slope with one value per unit (:func:`slope`), and
the same slope from every observation with a random intercept per unit (:func:`random_intercept_slope`, REML)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from utils.stats.core import Evidence, _evidence, _values


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
