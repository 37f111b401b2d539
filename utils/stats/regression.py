"""A trend with the right unit (notebook 06): the least-squares slope with one value per unit (:func:`slope`), and
the same slope from every observation with a random intercept per unit (:func:`random_intercept_slope`, fitted by
statsmodels' ``MixedLM`` with REML)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from utils.stats.core import Evidence, _evidence, _values

#: The boundary (no between-unit variance) as MixedLM sees it: it takes a variance ratio below 1e-10 for a singular
#: covariance (its REML criterion jumps there), and the criterion is continuous down to it.
_BOUNDARY_RATIO = 1e-10


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


def _mixedlm_reml(xs: np.ndarray, ys: list[np.ndarray]) -> dict[str, float] | None:
    """statsmodels' REML fit of ``y_ij = b0 + b1 x_i + u_i + e_ij``: ``intercept``, ``slope``, its ``se``,
    ``sd_between``, ``sd_within``; ``None`` when the REML criterion is highest at the boundary (no between-unit
    variance). The standard error is ``sqrt([(X' V^-1 X)^-1]_11)`` from the fixed-effects block of MixedLM's Hessian
    (the fixed effects are orthogonal to the variance parameters; its ``bse_fe`` also inverts the cross terms of
    the observed Hessian, which differ from 0 in unbalanced designs)."""
    from statsmodels.regression.mixed_linear_model import MixedLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    y = np.concatenate(ys)
    x = np.concatenate([np.full(g.size, xi) for xi, g in zip(xs, ys)])
    units = np.repeat(np.arange(len(ys)), [g.size for g in ys])
    model = MixedLM(y, np.column_stack([np.ones_like(x), x]), groups=units)
    with warnings.catch_warnings():
        # its "MLE may be on the boundary" fires for any variance below 0.01 in the data's units (gaps in pass@1 are
        # all below it): the boundary is checked here
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Powell: the gradient methods (its default) stop early on the flat criterion of a few units
        fit = model.fit(reml=True, method="powell", ftol=1e-14)
        ratio = float(np.asarray(fit.cov_re_unscaled)[0, 0])  # sd_between^2 / sd_within^2
        if ratio <= _BOUNDARY_RATIO:
            return None
        at_ratio, at_boundary = (model.loglike(np.array([math.sqrt(r)])) for r in (ratio, _BOUNDARY_RATIO))
        if at_boundary >= at_ratio:
            return None
        hess, _ = model.hessian(fit.params_object)
    cov = np.linalg.inv(-hess[:2, :2])
    return {"intercept": float(fit.fe_params[0]), "slope": float(fit.fe_params[1]), "se": math.sqrt(cov[1, 1]),
            "sd_between": math.sqrt(ratio * fit.scale), "sd_within": math.sqrt(fit.scale)}


def random_intercept_slope(x: Sequence[float] | np.ndarray, groups: Sequence[Sequence[float]], *,
                           margin: float | None = None, labels: tuple[str, str] = ("a", "b"),
                           unit: str = "base model") -> Evidence:
    """The same slope from every observation, with a random intercept per unit: ``y_ij = b0 + b1 x_i + u_i + e_ij``,
    ``u_i ~ N(0, sd_between^2)``, ``e_ij ~ N(0, sd_within^2)``, fitted by REML (statsmodels' ``MixedLM``; at the
    boundary, no between-unit variance, it is the least-squares slope through every observation).
    ``groups[i]`` holds unit ``i``'s observations (e.g. one gap per RL seed).
    Degrees of freedom: units - 2 (x varies between units only). ``detail``: ``sd_between``, ``sd_within``."""
    xs = _values(x, "x", minimum=3)
    ys = [_values(g, f"{labels[0]}[{i}]", minimum=1) for i, g in enumerate(groups)]
    if len(ys) != xs.size:
        raise ValueError(f"random_intercept_slope needs one group per x, got {len(ys)} and {xs.size}")
    n_obs = sum(g.size for g in ys)
    if n_obs <= xs.size:
        raise ValueError("random_intercept_slope needs more observations than units (a within-unit spread)")
    fit = _mixedlm_reml(xs, ys)
    if fit is None:  # the boundary: ordinary least squares through every observation
        ols = slope(np.repeat(xs, [g.size for g in ys]), np.concatenate(ys), labels=labels)
        fit = {"intercept": ols.detail["intercept"], "slope": ols.diff, "se": ols.se, "sd_between": 0.0,
               "sd_within": ols.detail["resid_sd"]}
    detail: dict[str, Any] = {"intercept": fit["intercept"], "sd_between": fit["sd_between"],
                              "sd_within": fit["sd_within"], "n_obs": n_obs}
    return _evidence("random-intercept slope (REML)", float(np.mean([g.mean() for g in ys])), 0.0, fit["slope"],
                     fit["se"], xs.size - 2, xs.size, 0, margin, labels, unit, detail)
