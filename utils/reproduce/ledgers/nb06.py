"""Notebook 06's ledger row: the scale trend, with the base model as the unit."""

from __future__ import annotations

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
