"""Exploration under RLVR (notebook 05): entropy-shaped advantages on a harder Countdown, pass@k at large k.

Cheng et al. 2025 add ``psi(H_t) = min(alpha * H_t.detach(), |A_t| / kappa)`` to each token's advantage
(:func:`utils.rlvr.entropy_advantage`, trained by :class:`utils.rlvr.EntropyAdvantageGRPOTrainer`). This module
only adds what notebook 05 needs around those runs:

* **Task difficulty from the checkpoint.** The shipped 3-number task saturates pass@k early, so notebook 05
  uses a 4-number task model (``data/task_model_4num``). A config says ``model: data/task_model_4num``; the
  difficulty (``n_numbers``, number and target ranges, held-out file) is read from that checkpoint's
  ``train_info.json`` (:func:`utils.toy_lm.task_spec`) by ``utils.rlvr``'s own loaders, so
  ``python -m utils.rlvr run --config ...`` trains and evaluates such a checkpoint on its own task.
* **Parallel seeds.** :func:`run_grid` runs condition x seed jobs through :func:`utils.rlvr.run_many`.
* **pass@k bookkeeping.** :func:`base_pass_at_k` (the untrained model, sampled exactly like the runs' final
  evaluation), :func:`curves` (pass@k for every k from the per-problem correct counts), :func:`summarize`
  (mean and sd over seeds), :func:`solved_sets` (problems gained/lost against the base model) and
  :func:`crossover_k`.

Command line: ``python -m utils.rlvr run --config configs/countdown_entadv.yaml --seed 0``.
"""

from __future__ import annotations

import contextlib
import json
import statistics
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import get_profile, results_dir
from utils.passk import coverage, pass_at_k_curve
from utils.toy_lm import TaskSpec, task_spec  # noqa: F401  (re-exported for notebook 05)

__all__ = [
    "TaskSpec",
    "base_pass_at_k",
    "crossover_k",
    "curves",
    "mean_sd",
    "paired_difference",
    "quiet",
    "run_grid",
    "solved_sets",
    "summarize",
    "task_spec",
]


# ============================================================================================ task variant


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence transformers' progress bars, info/warning logs and Python warnings (restored on exit), so that
    notebook cells that load checkpoints or train in workers do not fill their outputs."""
    import warnings

    from transformers.utils import logging as hf_logging

    verbosity, bars_off = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled() is False
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if not bars_off:
            hf_logging.enable_progress_bar()


def run_grid(
    configs: Sequence[str | Path],
    seeds: Sequence[int],
    workers: int = 2,
    profile: str | None = None,
    **overrides: Any,
) -> list[dict[str, Any]]:
    """Run every config x seed with :func:`utils.rlvr.run_many` (results JSON in ``results_dir()``), ``workers``
    at a time in spawned processes with one torch thread each. Returns the results dicts in job order."""
    import utils.rlvr as R

    prof = profile or get_profile()
    jobs = [R.Job(R.load_config(str(c), profile=prof, **overrides), int(s)) for c in configs for s in seeds]
    with quiet():
        return R.run_many(jobs, workers=workers, threads=1, verbose=False)


def base_pass_at_k(
    cfg: Any, samples: int, seed: int = 99_991, out: str | Path | None = None
) -> dict[str, Any]:
    """pass@k of the untrained checkpoint named by ``cfg.model`` on ``cfg.eval_n`` held-out problems, sampled
    exactly like :func:`utils.rlvr.run_condition`'s final evaluation (same sampler, temperature, length, seed).

    Returns ``{"name", "pass1", "pass_at_k", "coverage", "correct", "samples", "n_problems"}`` and writes it to
    ``out`` (default ``results_dir()/<cfg.name>.json``)."""
    import utils.rlvr as R

    with quiet():
        model, tok = R._load_model(cfg)
        _, held, reward_fn = R._load_task(cfg, 0)
        temp = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
        r = R.evaluate_pass_rate(model, tok, held, reward_fn, samples=samples, temperature=temp,
                                 max_new_tokens=cfg.max_completion_length, seed=seed, batch_size=cfg.eval_batch_size,
                                 success_threshold=cfg.success_threshold)
    res = {
        "name": cfg.name, "profile": get_profile(), "model": cfg.model, "pass1": r["pass1"],
        "pass_at_k": {str(k): v for k, v in pass_at_k_curve(samples, r["correct"]).items()},
        "coverage": coverage(r["correct"]), "correct": r["correct"], "samples": samples, "n_problems": len(held),
        "temperature": temp, "max_new_tokens": cfg.max_completion_length, "seed": seed,
    }
    path = Path(out) if out is not None else results_dir() / f"{cfg.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1))
    res["path"] = str(path)
    return res


# ================================================================================================ pass@k


def curves(correct: Sequence[int], n: int, ks: Sequence[int] | None = None) -> np.ndarray:
    """Mean unbiased pass@k over problems for ``ks`` (default every k = 1..n), as an array aligned with ``ks``."""
    ks = list(range(1, n + 1)) if ks is None else list(ks)
    c = pass_at_k_curve(n, correct, ks)
    return np.array([c[k] for k in ks])


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    v = [float(x) for x in values]
    return statistics.fmean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)


def summarize(runs: Sequence[dict[str, Any]], ks: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Per run name: seeds, and mean/sd over seeds of pass@k for each k in ``ks`` and of coverage, from the
    final per-problem correct counts (``final.correct``, ``final.samples``)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by.setdefault(r["name"], []).append(r)
    out: dict[str, dict[str, Any]] = {}
    for name, rs in by.items():
        n = rs[0]["final"]["samples"]
        per_seed = np.stack([curves(r["final"]["correct"], n, ks) for r in rs])  # (seeds, ks)
        out[name] = {
            "seeds": [r["seed"] for r in rs],
            "samples": n,
            "pass_at_k": {int(k): mean_sd(per_seed[:, i]) for i, k in enumerate(ks)},
            "coverage": mean_sd([coverage(r["final"]["correct"]) for r in rs]),
            "per_seed": per_seed,
        }
    return out


def paired_difference(summary: dict[str, dict[str, Any]], a: str, b: str, k: int) -> dict[str, float]:
    """pass@k of run ``a`` minus run ``b``, paired by seed (same seed: same initial model and training prompts),
    from :func:`summarize`'s output: ``{"mean", "sd", "se", "n"}`` over the seeds both have (``se = sd / sqrt(n)``)."""
    sa, sb = summary[a], summary[b]
    ks = list(sa["pass_at_k"])
    if k not in ks or list(sb["pass_at_k"]) != ks:
        raise ValueError(f"k={k} must be among the summarized ks of both runs")
    i = ks.index(k)
    common = [s for s in sa["seeds"] if s in sb["seeds"]]
    if not common:
        raise ValueError(f"{a} and {b} share no seed; run both with the same seeds")
    d = [sa["per_seed"][sa["seeds"].index(s), i] - sb["per_seed"][sb["seeds"].index(s), i] for s in common]
    m, sd = mean_sd(d)
    return {"mean": m, "sd": sd, "se": sd / len(d) ** 0.5, "n": len(d)}


def solved_sets(base_correct: Sequence[int], run_correct: Sequence[int]) -> dict[str, int]:
    """Problems solved at least once by the base model and/or a trained model (same problems, same n):
    ``kept`` (both), ``lost`` (base only), ``gained`` (trained only), ``neither``."""
    b, r = np.asarray(base_correct) > 0, np.asarray(run_correct) > 0
    if b.shape != r.shape:
        raise ValueError(f"need the same problems for both: {b.shape} vs {r.shape}")
    return {"kept": int((b & r).sum()), "lost": int((b & ~r).sum()), "gained": int((~b & r).sum()),
            "neither": int((~b & ~r).sum())}


def crossover_k(diff: Sequence[float], ks: Sequence[int]) -> int | None:
    """The smallest k from which ``diff`` (e.g. bonus minus baseline pass@k, aligned with ``ks``) stays > 0 for
    every larger k; None if it is not > 0 at the last k."""
    d = np.asarray(diff, float)
    if d.size == 0 or d[-1] <= 0:
        return None
    i = d.size - 1
    while i > 0 and d[i - 1] > 0:
        i -= 1
    return int(ks[i])
