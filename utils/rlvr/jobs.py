"""The jobs of :func:`utils.rlvr.run.run_many`: :class:`Job` (a config, a seed, where its results go),
:func:`finished_run` (a job's results already written, checked: what resuming reads back instead of training again),
the check that no two jobs write the same file, and the line printed per finished job. Re-exported by
:mod:`utils.rlvr.run` and :mod:`utils.rlvr`."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.config import get_profile, results_dir
from utils.results import check_target, load_json, repo_relative
from utils.rlvr.config import RunConfig
from utils.rlvr.readout import RESULTS_SCHEMA, run_problem

__all__ = ["Job", "finished_run"]


@dataclass
class Job:
    """One training run for :func:`utils.rlvr.run.run_many`: a config, a seed, where its JSON goes (``None``: the
    default ``results_dir()/<name>_seed<seed>.json``) and optionally a folder to save the trained model into."""

    cfg: RunConfig
    seed: int
    out: str | None = None
    save_model: str | None = None


def finished_run(job: Job, threads: int = 1, *, any_profile: bool = False) -> dict[str, Any] | None:
    """The results a job already wrote, if its file holds a complete, sane run of the same config (as
    :func:`utils.rlvr.run.run_many` runs it with ``threads``), seed and profile
    (:func:`utils.rlvr.readout.run_problem`: the whole config, the schema, the evaluation schedule, the numbers'
    ranges, no stand-in) and its saved model exists, else None (the job is run again).

    ``any_profile``: accept a run of any profile that may stand for the active one (``default`` or ``full``; ``ci``
    too while the active profile is ``ci``) instead of the active profile only -- for readers of precomputed runs."""
    if job.out is None or not Path(job.out).exists():
        return None
    try:
        r = load_json(job.out, schema=RESULTS_SCHEMA)
    except Exception:  # noqa: BLE001 - a broken file is simply not a finished run
        return None
    if run_problem(r, job, threads=threads, profile=None if any_profile else get_profile()) is not None:
        return None
    saved = job.save_model is None or (Path(job.save_model) / "config.json").exists()
    return r if saved else None


def _check_distinct_outputs(jobs: Sequence[Job]) -> None:
    """:class:`~utils.errors.UsageError` if two jobs would write the same results file or model folder, however the
    path is spelled (paths are compared resolved, ``os.path.realpath``: a symlinked folder, ``..``, ``./``), and
    :class:`utils.results.TargetError` if one would write where it may not (:func:`utils.results.check_target`)."""
    from utils.errors import UsageError

    seen: dict[tuple[str, Path], int] = {}
    for i, j in enumerate(jobs):
        out = Path(j.out) if j.out is not None else results_dir() / f"{j.cfg.name}_seed{j.seed}.json"
        check_target(out, "file")  # a folder, link or device where a result goes fails before any work
        if j.save_model is not None:
            check_target(j.save_model, "checkpoint")  # never a folder this project did not write
        for what, p in (("results file", out), ("model folder", j.save_model)):
            key = (what, Path(os.path.realpath(p))) if p is not None else None
            if key is not None and key in seen:
                raise UsageError(f"jobs {seen[key]} and {i} would both write the {what} {repo_relative(p)}")
            if key is not None:
                seen[key] = i


def _report(results: list[dict[str, Any] | None], i: int, r: dict[str, Any], t0: float, verbose: bool) -> None:
    """Keep job ``i``'s results ``r`` in ``results``; print one line about it (``verbose``; ``t0``: the sweep's
    start, ``time.perf_counter()``)."""
    results[i] = r
    if verbose:
        done = sum(x is not None for x in results)
        p1 = r["final"].get("pass1")
        p1s = "n/a" if p1 is None else f"{p1:.3f}"
        print(f"[{done:2d}/{len(results)}] {r['name']} seed {r['seed']}: final held-out pass@1 {p1s}, "
              f"{r['timing']['total_s']:.0f} s (median step {r['timing']['median_step_s'] or 0:.2f} s)  "
              f"[{time.perf_counter() - t0:.0f} s elapsed]", flush=True)


#END
