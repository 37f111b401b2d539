"""Reading run results back for comparisons: endpoints fixed in advance, curves, per-step evidence, precomputed runs.

* :func:`endpoint` -- a run's held-out pass@1 at its end, as the mean of its last ``last`` evaluations (one
  evaluation jumps by a few points between checkpoints; the mean of two is the endpoint notebooks 04-06 fix before
  their runs);
* :func:`by_name` -- runs grouped by config name, sorted by seed;
* :func:`curve` -- (steps, matrix seeds x evaluations) of one group;
* :func:`evidence_by_step` -- ``utils.stats.compare`` of two groups' endpoints at every evaluation step;
* :func:`load_jobs` -- the results of a list of jobs from their files (for sections that show precomputed runs),
  failing with one line that names the command that makes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.results import ResultsError, load_json
from utils.stats import Evidence, compare

__all__ = ["by_name", "curve", "endpoint", "evidence_by_step", "load_jobs", "values"]


def endpoint(run: dict[str, Any], last: int = 2, step: int | None = None) -> float:
    """Mean held-out pass@1 of the ``last`` evaluations up to ``step`` (default: the run's end)."""
    steps, p = run["eval"]["step"], run["eval"]["pass1"]
    if step is not None:
        if step not in steps:
            raise ValueError(f"run {run['name']} seed {run['seed']} has no evaluation at step {step}")
        p = p[: steps.index(step) + 1]
    if len(p) < last:
        raise ValueError(f"run {run['name']} seed {run['seed']} has {len(p)} evaluations, fewer than {last}")
    return float(np.mean(p[-last:]))


def by_name(runs: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Runs grouped by their config name (in first-seen order), each group sorted by seed."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        out.setdefault(r["name"], []).append(r)
    return {k: sorted(v, key=lambda r: r["seed"]) for k, v in out.items()}


def values(runs: Sequence[dict[str, Any]], last: int = 2, step: int | None = None) -> np.ndarray:
    """:func:`endpoint` of every run, in order."""
    return np.array([endpoint(r, last, step) for r in runs])


def curve(runs: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, P)`` with ``P[i, j]`` the held-out pass@1 of run ``i`` at ``steps[j]`` (all runs share steps)."""
    steps = runs[0]["eval"]["step"]
    if any(r["eval"]["step"] != steps for r in runs):
        raise ValueError("the runs were evaluated at different steps")
    return np.array(steps), np.array([r["eval"]["pass1"] for r in runs])


def evidence_by_step(
    a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], labels: tuple[str, str], margin: float | None = None,
    last: int = 2,
) -> dict[int, Evidence]:
    """``{step: compare(endpoint of a at step, endpoint of b at step)}`` for every step where both groups have
    ``last`` evaluations."""
    steps, _ = curve(a)
    steps_b, _ = curve(b)
    out = {}
    for i, s in enumerate(steps.tolist()):
        if i + 1 < last or s not in steps_b.tolist():
            continue
        out[s] = compare(values(a, last, s), values(b, last, s), margin=margin, labels=labels)
    return out


def load_jobs(jobs: Sequence[Any], regenerate: str) -> list[dict[str, Any]]:
    """The results written by ``jobs`` (each a :class:`utils.rlvr.run.Job` with ``out`` set), read from their files.
    A missing or broken file raises :class:`utils.results.ResultsError` naming it and ``regenerate``."""
    from utils.rlvr.run import RESULTS_SCHEMA

    out = []
    for j in jobs:
        if j.out is None:
            raise ValueError("load_jobs needs jobs with an explicit out path")
        r = load_json(Path(j.out), schema=RESULTS_SCHEMA, regenerate=regenerate)
        if r.get("seed") != j.seed or r.get("name") != j.cfg.name:
            raise ResultsError(f"{j.out} holds {r.get('name')} seed {r.get('seed')}, not {j.cfg.name} seed {j.seed}; "
                               f"regenerate it with: {regenerate}")
        out.append(r)
    return out
