"""Multiplicity (issue 20): Holm's step-down correction for a family of pre-specified contrasts (the adjusted
p-values from statsmodels' ``multipletests``), with intervals that decide as the correction does."""

from __future__ import annotations

from collections.abc import Sequence

from utils.stats.core import ALPHA, Evidence, _t


def holm(evidence: Sequence[Evidence], alpha: float = ALPHA) -> list[Evidence]:
    """A family of pre-specified comparisons corrected for multiplicity by Holm's step-down rule (same order).

    With the raw two-sided p-values sorted ``p_(1) <= ... <= p_(m)``, the Holm-adjusted value of the ``i``-th is
    ``max_{j <= i} min(1, (m - j + 1) p_(j))``; a contrast is significant at family-wise level ``alpha`` when its
    adjusted p is below ``alpha``. Each returned :class:`Evidence` carries the adjusted ``p`` and a ``ci95`` widened
    to level ``1 - alpha * p_raw / p_holm`` -- for a contrast decided at step ``i`` that is Holm's own level
    ``1 - alpha / (m - i + 1)`` -- so the interval excludes 0 exactly when Holm rejects and :func:`verdict` applies
    unchanged. ``ci90`` (equivalence) is left as it was: Holm corrects the difference tests only. ``detail`` keeps
    the raw p, the adjusted p, the interval's level and ``m``; ``test`` gains ", Holm (m = ...)"."""
    from statsmodels.stats.multitest import multipletests

    evs = list(evidence)
    if not evs:
        raise ValueError("holm needs at least one comparison")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    m = len(evs)
    adj = [float(p) for p in multipletests([ev.p for ev in evs], alpha=alpha, method="holm")[1]]
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
