"""Notebook 06's ledger row: the scale trend, with the base model as the unit."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from utils.ladder.analysis import ahead_words


def record_06(ledger: Any, res: dict[int, dict[str, Any]], primary: int, figure: str, profile: str | None = None,
           runs_done: tuple[int, int] | None = None) -> None:
    """The notebook's one ledger row, ``wang.scale_trend``: decided by the model-level slope at the ``primary``
    budget (claim "grows": the four outcomes of ``configs/margins.yaml`` 06.scale_trend_rule, the slope margin fixed
    in advance), and saying at which sizes top-20 % is ahead (:func:`ahead_words`, from each size's gap and its CI); the other budgets, the random-intercept check, the
    seed-level analysis, the SDs and the power go into its text and numbers. ``runs_done = (finished, planned)``:
    while the pre-registered design is incomplete the row is not decided -- it says "inconclusive", gives the
    interim numbers and how far the runs are (deciding on part of a design would be peeking)."""
    main = res[primary]
    m, sl = main["model"], main["seed_level"]
    others = "; ".join(f"at {b} steps {r['model'].diff:+.4f} [{r['model'].ci95[0]:+.4f}, {r['model'].ci95[1]:+.4f}] "
                       f"({r['verdict']})" for b, r in res.items() if b != primary)
    ahead = f"{ahead_words(main['sizes'])}; " if main.get("sizes") else ""
    measured = (f"{ahead}unit: base model (n = {m.n_a}, {main['models_per_size']:.0f} per size; paired RL seeds averaged "
                f"within each); slope of the gap top-20% - all per 10x parameters at {primary} steps (primary budget, "
                f"fixed in configs/margins.yaml before the runs; verdict by the four outcomes of 06.scale_trend_rule, "
                f"written after a seed-level pilot and this design's slope had been seen); {others}; random-intercept check "
                f"{main['mixed'].diff:+.4f} [{main['mixed'].ci95[0]:+.4f}, {main['mixed'].ci95[1]:+.4f}]; seed-level "
                f"analysis (RL seeds as units, the wrong unit) [{sl.ci95[0]:+.4f}, {sl.ci95[1]:+.4f}]; SD between base "
                f"models {main['sd_between']:.4f}, within {main['sd_within']:.4f}; models per size to detect a slope of "
                f"the margin: {main['models_needed'] or '> 1000'}; caveat: 0.09-1.35 M-parameter models on a toy task "
                "are not 8-32 B models")
    decided: dict[str, Any] = {"evidence": m, "direction": "grows"}
    if runs_done is not None and runs_done[0] < runs_done[1]:
        decided = {"verdict": "inconclusive", "basis": "descriptive",
                   "why": (f"the pre-registered design is not complete ({runs_done[0]} of {runs_done[1]} runs; "
                           f"{m.n_a} base models analysed): interim slope {m.diff:+.4f} [95% CI {m.ci95[0]:+.4f}, "
                           f"{m.ci95[1]:+.4f}]; `python -m utils.ladder models && python -m utils.ladder runs` resumes")}
    ledger.record("wang.scale_trend", section="6. The trend, with the base model as the unit", **decided,
                  figure=figure, profile=profile, measured=measured,
                  budget=f"gap read at {', '.join(str(b) for b in res)} GRPO steps (primary {primary}); endpoint: mean "
                         "of the evaluations at b - 50 and b (500 problems x 4 samples)",
                  numbers={str(b): {"model": r["model"].as_dict(), "mixed": r["mixed"].as_dict(),
                                    "seed_level": r["seed_level"].as_dict(), "sd_between": r["sd_between"],
                                    "sd_within": r["sd_within"], "mds": r["mds"], "models_needed": r["models_needed"],
                                    "verdict": r["verdict"], "sizes": _json_sizes(r.get("sizes", []))} for b, r in res.items()})


def _json_sizes(sizes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`size_table`'s rows for JSON: an interval that does not exist (one base model: NaN) becomes None."""
    fin = lambda v: v if not isinstance(v, float) or math.isfinite(v) else None  # noqa: E731
    return [{k: [fin(x) for x in v] if isinstance(v, (list, tuple)) else fin(v) for k, v in r.items()} for r in sizes]


def record_06_per_arm(ledger: Any, pa: dict[str, Any], figure: str = "06_per_arm_gaps") -> dict[str, Any]:
    """The ladder's best-vs-best row, ``wang.top20_matches_full_ladder`` (``pa``: :func:`utils.tuning.nb06.per_arm_06`,
    ``configs/margins.yaml`` 06.per_arm_lr): top-20 % and all each at the rate one rule chose per size, on every base
    model (unit: the base model, its RL seeds averaged), judged as equivalence within a quarter of all's selection
    gain, with the share of all's gain that top-20 % recovers and how its gap moves at its second rate beside it.
    While stage 2 is incomplete the row says "inconclusive" and how far the runs are. Returns the evidence by id."""
    from utils.rlvr import verdicts as V
    from utils.tuning import share_words, sizes

    ch = pa["chosen"]
    picks = "; ".join(f"{s} all {ch[(s, 'all')]['lr']:g} / top-20% {ch[(s, 'top20')]['lr']:g}"
                      for s in sizes(ch))
    budget = (f"200 GRPO steps, 8x8 samples per step, each arm at its size's chosen rate; gap read at {pa['budget']} "
              "steps (mean of the evaluations at b - 50 and b, 500 problems x 4 samples)")
    sec = "6b. Both arms at their own learning rate"
    if not pa.get("complete") or "evidence" not in pa:
        ledger.record("wang.top20_matches_full_ladder", section=sec, verdict="inconclusive", basis="descriptive",
                      figure=figure, profile="full (precomputed)", budget=budget,
                      why=(f"stage 2 is not complete ({pa['models']} of {pa['models_total']} base models): "
                           "`python -m utils.tuning compare --notebook 06` resumes"))
        return {}
    ev, inter = pa["evidence"]["top20_vs_all"], pa["evidence"]["second_vs_chosen"]
    ledger.record(
        "wang.top20_matches_full_ladder", section=sec, evidence=ev, direction="equivalent", figure=figure,
        profile="full (precomputed)", budget=budget,
        measured=(f"{V.design(dataclasses.replace(ev, margin=None))}; margin +/-{pa['margin']:.4f} fixed in "
                  "configs/margins.yaml 06.per_arm_lr before the runs (a quarter of all's mean selection gain over the "
                  "three sizes); RL seeds averaged within each base model; "
                  f"{_behind_words(ev)}stage 1 chose {picks}; "
                  f"{share_words(pa['gain_share'], 'base models')}; top-20% at its second rate minus at its chosen rate "
                  f"{inter.diff:+.4f} [95% CI {inter.ci95[0]:+.4f}, {inter.ci95[1]:+.4f}] (the arm x rate interaction, "
                  "measured on every base model); caveat: 0.09-1.35 M-parameter models on a toy task"),
        numbers={"gain_share": pa["gain_share"], "margin": pa["margin"], "second_vs_chosen": inter.as_dict(),
                 "rates": {f"{s}/{a}": c["lr"] for (s, a), c in ch.items()},
                 "selection": {f"{s}/{a}": {f"{x:g}": m for x, m in c["means"].items()} for (s, a), c in ch.items()}})
    return {"wang.top20_matches_full_ladder": ev}


def _behind_words(ev: Any) -> str:
    """Where the equivalence holds but one arm is reliably behind (95 % CI below 0), say so: "matches within the
    margin" is then not "the same"."""
    if ev.ci95[1] < 0:
        return (f"top-20% is behind all ({ev.diff:+.4f} [95% CI {ev.ci95[0]:+.4f}, {ev.ci95[1]:+.4f}]) by less than "
                "the margin: it matches within the margin fixed in advance, not exactly; ")
    return ""
