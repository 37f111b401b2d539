"""The scale trend of notebook 06 with the base model as the unit.

A claim about model *size* is randomised over base models, not over RL seeds: each base model's SFT run is one draw
of "a model of this size", and its RL seeds only measure that one model more precisely. So the unit of the trend is
the base model (design: ``configs/margins.yaml`` section "06", :func:`utils.ladder.design`):

* :func:`gap_table` -- per base model, the paired gap ``top20 - all`` at a budget (one difference per RL seed: both
  arms of a seed share their training prompts), its mean and SD over seeds, and both arms' endpoints;
* :func:`analyse` -- the slope of the per-model gaps on log10(parameters): least squares with ``df = models - 2``
  (the decision), the random-intercept model on every seed's gap (the check: in a balanced design it gives the same
  slope), the seed-level analysis that treats RL seeds as independent (shown as the wrong answer), the
  between-model and within-model SDs, the minimum detectable slope and how many models per size a decisive answer
  would need;
* the verdict is :func:`utils.stats.verdict` with direction ``"grows"``, the four outcomes of ``configs/margins.yaml``
  ``06.scale_trend_rule``: reproduced (95 % CI above 0 and the slope at least the margin), below the margin (95 % CI
  above 0, 90 % CI below +margin), not reproduced (95 % CI below 0, or the 90 % CI inside +/- the margin), else
  inconclusive; beside it, :func:`ahead_words` says at which sizes top-20 % is ahead of all (none: "never ahead").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from utils import stats

__all__ = ["ahead_words", "analyse", "between_model_test", "gap_table", "models_needed", "size_table"]


def _endpoint(run: dict[str, Any], budget: int) -> float:
    from utils.rlvr.readout import endpoint

    return endpoint(run, last=2, step=budget)


def gap_table(runs: Sequence[dict[str, Any]], budget: int, params: dict[str, int]) -> list[dict[str, Any]]:
    """One row per base model: ``rung``, ``model_seed``, ``params``, ``x`` (log10 parameters), ``seeds``, the per-seed
    paired gaps ``gaps`` (top20 - all at ``budget``), their mean ``gap`` and SD ``gap_sd``, the arms' per-seed and
    mean endpoints (``all_seeds``, ``top20_seeds``, ``all``, ``top20``), and the base model's pass@1 at step 0 (``base``). Runs are named
    ``06_<rung>_s<model seed>_<arm>`` (:func:`utils.ladder.design_jobs`); every seed must have both arms."""
    by: dict[tuple[str, int], dict[str, dict[int, dict[str, Any]]]] = {}
    for r in runs:
        _, rung, m, arm = r["name"].split("_", 3)
        by.setdefault((rung, int(m[1:])), {}).setdefault(arm, {})[int(r["seed"])] = r
    rows = []
    for (rung, m), arms in sorted(by.items(), key=lambda kv: (params[kv[0][0]], kv[0][1])):
        if set(arms) != {"all", "top20"} or set(arms["all"]) != set(arms["top20"]):
            raise ValueError(f"base model {rung} s{m}: every RL seed needs both arms (all, top20), got "
                             + ", ".join(f"{a}: {sorted(v)}" for a, v in arms.items()))
        seeds = sorted(arms["all"])
        top = np.array([_endpoint(arms["top20"][s], budget) for s in seeds])
        base = np.array([_endpoint(arms["all"][s], budget) for s in seeds])
        d = top - base
        rows.append({"rung": rung, "model_seed": m, "params": int(params[rung]), "x": math.log10(params[rung]),
                     "seeds": seeds, "gaps": d.tolist(), "gap": float(d.mean()), "gap_sd": float(d.std(ddof=1)),
                     "all": float(base.mean()), "top20": float(top.mean()), "all_seeds": base.tolist(),
                     "top20_seeds": top.tolist(),
                     "base": float(np.mean([arms["all"][s]["eval"]["pass1"][0] for s in seeds]))})
    return rows


def size_table(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size: the number of base models, the mean of their gaps with its 95 % t interval over models, the SD
    between the models' gaps, and the mean within-model SD over seeds."""
    out = []
    for rung in dict.fromkeys(r["rung"] for r in rows):
        mine = [r for r in rows if r["rung"] == rung]
        s = stats.seed_summary([r["gap"] for r in mine])
        if len(mine) < 2:  # one base model: no interval over models
            s["ci95_lo"] = s["ci95_hi"] = float("nan")
        out.append({"rung": rung, "params": mine[0]["params"], "models": len(mine), "gap": s["mean"],
                    "ci95": (s["ci95_lo"], s["ci95_hi"]), "sd_between_models": s["sd"],
                    "sd_within_model": float(np.mean([r["gap_sd"] for r in mine])),
                    "all": float(np.mean([r["all"] for r in mine])), "top20": float(np.mean([r["top20"] for r in mine])),
                    "base": float(np.mean([r["base"] for r in mine]))})
    return out


def models_needed(sd_between: float, sd_within: float, n_seeds: int, x_sizes: Sequence[float], target: float,
                  max_models: int = 1000) -> int | None:
    """The smallest number of base models per size for which the least-squares slope of model gaps detects a slope of
    ``target`` with 80 % power at alpha = 0.05: ``(t_0.975 + t_0.8) * sqrt((sd_between^2 + sd_within^2 / n_seeds) /
    (K * sum (x - mean x)^2)) <= target`` with ``df = K * sizes - 2``; ``None`` beyond ``max_models``."""
    xs = np.asarray(x_sizes, float)
    sxx = float(np.sum((xs - xs.mean()) ** 2))
    var_unit = sd_between**2 + sd_within**2 / n_seeds
    for k in range(2, max_models + 1):
        if stats.mde(math.sqrt(var_unit / (k * sxx)), k * xs.size - 2) <= target:
            return k
    return None


def analyse(rows: Sequence[dict[str, Any]], margin: float) -> dict[str, Any]:
    """The trend with the base model as the unit, and beside it the seed-level analysis.

    Returns ``model`` (least-squares slope of the per-model gaps, df = models - 2: the decision), ``mixed`` (random
    intercept per base model, REML, on every seed's gap: the check), ``seed_level`` (the same paired gaps with every RL seed
    treated as an independent point, df = seeds - 2 -- too narrow when base models differ, because it ignores
    that the seeds of one base model share its offset), ``sd_between`` / ``sd_within`` (from the mixed model), ``se_ratio``
    (model-level SE / seed-level SE), ``mds`` (the model-level design's minimum detectable slope at 80 % power),
    ``models_needed`` (per size, for an MDS of ``margin``) and ``verdict``."""
    xs = [r["x"] for r in rows]
    labels = ("top-20%", "all")
    model = stats.slope(xs, [r["gap"] for r in rows], margin=margin, labels=labels, unit="base model")
    mixed = stats.random_intercept_slope(xs, [r["gaps"] for r in rows], margin=margin, labels=labels, unit="base model")
    sizes = list(dict.fromkeys(r["rung"] for r in rows))
    x_size = [next(r["x"] for r in rows if r["rung"] == s) for s in sizes]
    # the same paired gaps with the wrong unit: every RL seed's gap as an independent point (df = seeds - 2)
    seed = stats.slope([r["x"] for r in rows for _ in r["gaps"]], [g for r in rows for g in r["gaps"]],
                       margin=margin, labels=labels, unit="RL seed")
    n_seeds = int(round(np.mean([len(r["gaps"]) for r in rows])))
    sd_b, sd_w = mixed.detail["sd_between"], mixed.detail["sd_within"]
    return {"model": model, "mixed": mixed, "seed_level": seed, "sd_between": sd_b, "sd_within": sd_w,
            "se_ratio": model.se / seed.se if seed.se > 0 else float("inf"), "mds": model.mde,
            "models_needed": models_needed(sd_b, sd_w, n_seeds, x_size, margin),
            "models_per_size": len(rows) / len(sizes), "verdict": stats.verdict(model, "grows"),
            "sizes": size_table(rows)}


def _side(r: dict[str, Any]) -> str:
    """Where one size's gap lies: "ahead" (its 95 % CI above 0), "behind" (below 0) or "level"."""
    lo, hi = r["ci95"]
    return "ahead" if lo > 0 else "behind" if hi < 0 else "level"


def ahead_words(sizes: Sequence[dict[str, Any]]) -> str:
    """Is top-20 % ahead of all at any size? From :func:`size_table`'s rows (each size's mean gap top20 - all over
    its base models, with its 95 % t interval): "ahead" where the interval lies above 0, "behind" below 0, "level"
    where it includes 0; "top-20% is never ahead of all" when no size is ahead."""
    per = "; ".join(f"{r['rung']} {r['gap']:+.4f} [95% CI {r['ci95'][0]:+.4f}, {r['ci95'][1]:+.4f}] ({_side(r)}, "
                    f"n = {r['models']} base models)" for r in sizes)
    ahead = [r["rung"] for r in sizes if _side(r) == "ahead"]
    head = (f"top-20% is ahead of all at {', '.join(ahead)}" if ahead else
            "top-20% is never ahead of all: at no size does its mean gap's 95% CI lie above 0")
    return f"{head} (gap top-20% - all per size, over base models: {per})"


def between_model_test(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Do base models of one size differ by more than RL-seed noise? A one-way analysis of variance of the per-seed
    gaps by base model, within each size (``per_size``: F and p of each) and pooled over sizes (``F``, ``df1``,
    ``df2``, ``p``). ``sd_model_means``: the SD of the models' mean gaps around their size's mean; ``sd_within``: the
    SD of one seed's gap around its model's mean; ``sd_predicted``: what ``sd_model_means`` would be from seed noise
    alone, ``sd_within / sqrt(seeds)``."""
    from scipy import stats as st

    per_size, ss_b, df_b, ss_w, df_w = [], 0.0, 0, 0.0, 0
    for rung in dict.fromkeys(r["rung"] for r in rows):
        groups = [np.asarray(r["gaps"], float) for r in rows if r["rung"] == rung]
        if len(groups) < 2:  # one base model of this size so far: nothing to compare it with
            continue
        f, p = st.f_oneway(*groups)
        per_size.append({"rung": rung, "models": len(groups), "F": float(f), "p": float(p)})
        grand = np.concatenate(groups).mean()
        ss_b += sum(g.size * (g.mean() - grand) ** 2 for g in groups)
        ss_w += sum(((g - g.mean()) ** 2).sum() for g in groups)
        df_b += len(groups) - 1
        df_w += sum(g.size - 1 for g in groups)
    if df_b == 0:
        nan = float("nan")
        return {"per_size": per_size, "F": nan, "df1": 0, "df2": df_w, "p": nan, "sd_model_means": nan,
                "sd_within": nan, "sd_predicted": nan}
    ms_b, ms_w = ss_b / df_b, ss_w / df_w
    n = float(np.mean([len(r["gaps"]) for r in rows]))
    f = ms_b / ms_w if ms_w > 0 else float("inf")
    return {"per_size": per_size, "F": f, "df1": df_b, "df2": df_w, "p": float(st.f.sf(f, df_b, df_w)),
            "sd_model_means": math.sqrt(ms_b / n), "sd_within": math.sqrt(ms_w), "sd_predicted": math.sqrt(ms_w / n)}


