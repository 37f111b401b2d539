"""Reading run results back for comparisons: endpoints fixed in advance, curves, per-step evidence, precomputed runs.

* :func:`endpoint` -- a run's held-out pass@1 at its end, as the mean of its last ``last`` evaluations (one
  evaluation jumps by a few points between checkpoints; the mean of two is the endpoint notebooks 04-06 fix before
  their runs);
* :func:`by_name` -- runs grouped by config name, sorted by seed;
* :func:`curve` -- (steps, matrix seeds x evaluations) of one group;
* :func:`evidence_by_step` -- ``utils.stats.compare`` of two groups' endpoints at every evaluation step;
* :func:`compare_runs` / :func:`paired_values` -- two arms compared as the design pairs them (paired t by seed);
* :func:`load_jobs` -- the results of a list of jobs from their files (for sections that show precomputed runs),
  failing with one line that names the command that makes them;
* :func:`run_problem` -- why a stored results file is not a complete, sane run of a job (``None`` when it is): the
  one check behind :func:`load_jobs` and resuming (:func:`utils.rlvr.jobs.finished_run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dataclasses
import math

import numpy as np

from utils.config import PROFILES, get_profile
from utils.results import ResultsError, load_json, repo_relative
from utils.stats import Evidence, compare

__all__ = ["RESULTS_SCHEMA", "by_name", "compare_runs", "curve", "endpoint", "eval_steps", "evidence_by_step", "load_jobs",
           "paired_values", "run_problem", "values"]

RESULTS_SCHEMA = "forking-tokens/rlvr-run/1"
_KEYS = ("name", "seed", "profile", "config", "versions", "device", "standin", "eval", "train", "final", "timing")


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
    last: int = 2, paired: bool = False,
) -> dict[int, Evidence]:
    """``{step: compare(endpoint of a at step, endpoint of b at step)}`` for every step where both groups have
    ``last`` evaluations (``paired=True``: :func:`compare_runs`' paired t over the seeds both groups ran)."""
    steps, _ = curve(a)
    steps_b, _ = curve(b)
    out = {}
    for i, s in enumerate(steps.tolist()):
        if i + 1 < last or s not in steps_b.tolist():
            continue
        if paired:
            out[s] = compare_runs(a, b, labels, margin=margin, last=last, step=s)
        else:
            out[s] = compare(values(a, last, s), values(b, last, s), margin=margin, labels=labels)
    return out


def paired_values(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], last: int = 2, step: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The endpoints of two groups of runs matched by seed: ``(a_values, b_values, seeds)``. Raises ``ValueError``
    when the groups ran different seeds (a pairing would then drop runs silently) or a group repeats a seed."""
    sa, sb = [r["seed"] for r in a], [r["seed"] for r in b]
    if len(set(sa)) != len(sa) or len(set(sb)) != len(sb):
        raise ValueError("a group of runs repeats a seed: it cannot be paired")
    if sorted(sa) != sorted(sb):
        raise ValueError(f"paired runs need the same seeds, got {sorted(sa)} and {sorted(sb)}")
    ra, rb = sorted(a, key=lambda r: r["seed"]), sorted(b, key=lambda r: r["seed"])
    return values(ra, last, step), values(rb, last, step), sorted(sa)


def compare_runs(
    a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], labels: tuple[str, str], margin: float | None = None,
    last: int = 2, step: int | None = None,
) -> Evidence:
    """Two arms' endpoints compared as the design pairs them: runs with the same seed share the base model, the
    training prompts (the seed draws them) and the evaluation samples (fixed seed), so the comparison is the paired
    t over seeds (:func:`utils.stats.compare` with ``paired=True``), and ``detail`` records the pairing and the
    per-seed correlation of the two arms."""
    va, vb, seeds = paired_values(a, b, last, step)
    ev = compare(va, vb, paired=True, margin=margin, labels=labels)
    r = float(np.corrcoef(va, vb)[0, 1]) if va.size > 2 and va.std() > 0 and vb.std() > 0 else float("nan")
    ev.detail = {"pairing": "seed (same base model, training prompts and evaluation samples)", "seeds": seeds,
                 "correlation": r}
    return ev


def load_jobs(jobs: Sequence[Any], regenerate: str) -> list[dict[str, Any]]:
    """The results written by ``jobs`` (each a :class:`utils.rlvr.jobs.Job` with ``out`` set), read from their files.
    A missing or broken file, or one that is not a complete, sane run of its job (:func:`run_problem`: the whole
    config, the schema, the evaluation schedule, the numbers' ranges, a real model and profile), raises
    :class:`utils.results.ResultsError` naming it and ``regenerate``."""
    out = []
    for j in jobs:
        if j.out is None:
            raise ValueError("load_jobs needs jobs with an explicit out path")
        r = load_json(Path(j.out), schema=RESULTS_SCHEMA, regenerate=regenerate)
        problem = run_problem(r, j)
        if problem is not None:
            raise ResultsError(f"{repo_relative(j.out)}: {problem}; regenerate it with: {regenerate}")
        out.append(r)
    return out


def eval_steps(cfg: Any) -> list[int]:
    """The steps :func:`utils.rlvr.run.run_condition` evaluates held-out pass@1 at: 0, every ``eval_every``-th step
    and the last one (0 and the last with ``eval_every = 0``; none with ``eval_n = 0``)."""
    if cfg.eval_n <= 0:
        return []
    between = range(cfg.eval_every, cfg.steps, cfg.eval_every) if cfg.eval_every > 0 else range(0)
    return [0, *between, cfg.steps]


def _unit(x: Any) -> bool:
    """A number in [0, 1] (not a bool, not NaN)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0.0 <= x <= 1.0


def _numbers(x: Any, n: int) -> bool:
    """A list of ``n`` finite numbers."""
    return isinstance(x, list) and len(x) == n and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in x)


def _config_problem(stored: Any, cfg: Any, threads: int | None) -> str | None:
    """How a stored config differs from ``cfg`` (``None``: the same). A field added to ``RunConfig`` after the run
    was written counts as its default (new fields keep old behaviour). ``threads``: the thread count
    :func:`utils.rlvr.run.run_many` gives a config without ``num_threads``; ``None``: any."""
    if not isinstance(stored, dict):
        return "its config is missing"
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    unknown = sorted(set(stored) - set(fields))
    if unknown:
        return f"its config has fields RunConfig does not: {', '.join(unknown)}"
    current = dataclasses.asdict(cfg)
    if cfg.num_threads is None:
        if threads is None:
            current.pop("num_threads")
        else:
            current["num_threads"] = threads
    default = {k: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
               for k, f in fields.items()}
    differ = [k for k, v in current.items() if stored.get(k, default[k]) != v]
    return f"its config differs in {', '.join(differ)}" if differ else None


def run_problem(r: Any, job: Any, threads: int | None = None, profile: str | None = None) -> str | None:
    """Why the stored results ``r`` are not a complete, sane run of ``job`` (a :class:`utils.rlvr.jobs.Job`), or
    ``None`` when they are: the schema tag and every top-level key; the job's name and seed; the whole config
    (:func:`_config_problem`); not a stand-in run; a profile that may stand for this one (``profile``, default: the
    ``default`` or ``full`` runs, and ``ci`` ones only while the active profile is ``ci``); held-out pass@1 at exactly
    the config's evaluation steps (:func:`eval_steps`), each in [0, 1]; a training history of every step; a final
    entry that agrees with the curve (and a pass@k curve with ``final_samples``); timing of the config's steps."""
    if not isinstance(r, dict) or r.get("schema") != RESULTS_SCHEMA:
        return f"it is not a {RESULTS_SCHEMA!r} file"
    missing = [k for k in _KEYS if k not in r]
    if missing:
        return f"it lacks {', '.join(missing)} (an incomplete run)"
    cfg = job.cfg
    if r["name"] != cfg.name or r["seed"] != job.seed or isinstance(r["seed"], bool):
        return f"it holds {r['name']} seed {r['seed']}, not {cfg.name} seed {job.seed}"
    problem = _config_problem(r["config"], cfg, threads)
    if problem:
        return problem
    if r["standin"] is not False:
        return "it is a stand-in run (tiny random model), not one of this config's model"
    allowed = (profile,) if profile is not None else PROFILES if get_profile() == "ci" else ("default", "full")
    if r["profile"] not in allowed:
        return f"it was run under profile {r['profile']!r}, not {' or '.join(map(repr, allowed))}"
    ev, want = r["eval"], eval_steps(cfg)
    if not isinstance(ev, dict) or ev.get("step") != want:
        got = ev.get("step") if isinstance(ev, dict) else None
        return f"its held-out curve is evaluated at steps {str(got):.60}, not the config's {str(want):.60}"
    p1 = ev.get("pass1")
    if not (isinstance(p1, list) and len(p1) == len(want) and all(_unit(x) for x in p1)):
        return f"its held-out pass@1 is not {len(want)} numbers in [0, 1]: {str(p1):.60}"
    eval_temp = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    if want and (ev.get("samples_per_problem") != cfg.eval_samples or ev.get("temperature") != eval_temp
                 or not isinstance(ev.get("n_problems"), int) or not 1 <= ev["n_problems"] <= cfg.eval_n):
        return "its evaluation's samples, temperature or problem count do not match the config"
    tr = r["train"]
    logged = list(range(1, cfg.steps + 1, int(cfg.grpo_overrides.get("num_iterations", 1))))  # TRL logs once per batch
    if not isinstance(tr, dict) or tr.get("step") != logged:
        return f"its training history does not cover steps 1-{cfg.steps} (a run that stopped early)"
    if not _numbers(tr.get("reward"), len(logged)) or not all(_unit(x) for x in tr["reward"]):
        return f"its training rewards are not {len(logged)} numbers in [0, 1]"
    fin = r["final"]
    if not isinstance(fin, dict) or fin.get("pass1") != (p1[-1] if p1 else None):
        return "its final pass@1 is not the last point of its held-out curve"
    if cfg.final_samples > 0:
        corr, pk = fin.get("correct"), fin.get("pass_at_k")
        if (fin.get("samples") != cfg.final_samples or not isinstance(corr, list) or not corr
                or fin.get("n_problems") != len(corr)
                or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= cfg.final_samples for c in corr)
                or not isinstance(pk, dict) or not pk or not all(_unit(v) for v in pk.values())
                or not _unit(fin.get("coverage"))):
            return f"its final pass@k evaluation is not a complete one of {cfg.final_samples} samples per problem"
    tm = r["timing"]
    if not isinstance(tm, dict) or tm.get("steps") != cfg.steps or not _numbers([tm.get("total_s")], 1):
        return "its timing does not record the config's steps"
    return None
