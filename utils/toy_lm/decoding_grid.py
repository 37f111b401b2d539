"""Dual-temperature decoding experiments on the Countdown task model: a grid over (t_fork, t_rest).

Wang et al. (2025) decode with one temperature at high-entropy *forking* steps (entropy >= the 80th
percentile) and another at all other steps. This module runs that experiment on the task model:

* :func:`entropy_threshold` -- the model's own 80th percentile of token entropy on its T=1 samples;
* :func:`run_cell` / :func:`run_grid` -- pass@1 (and per-problem correct counts) for each
  ``(t_fork, t_rest)`` cell and sampling seed, with the share of steps that were treated as forking;
* :func:`cell_stats`, :func:`grid_table` -- mean ± sd over seeds, the heatmap matrix;
* :func:`axis_comparisons` -- each temperature on the lines through (1, 1) against (1, 1), paired by problem;
* :func:`compare_cells` -- two cells compared problem by problem (:func:`utils.stats.compare`, paired);
* :func:`compare_swings` -- does ``t_fork`` move pass@k more than ``t_rest`` over the same span (two paired tests);
* :func:`shape_parts` -- Wang et al.'s shape claim as four paired comparisons (every part must hold);
* :func:`passk_curves` -- pass@k for k = 1..n from the per-problem correct counts (``utils.passk``);
* :func:`save_grid` / :func:`load_grid` -- results JSON in ``results_dir()`` (:func:`compact_runs`: what they keep);
* :func:`plot_grid_heatmap` -- the heatmap with the uniform-temperature diagonal marked and, from :func:`diffs_to`,
  each cell's paired difference to a base cell with its 95 % CI (:func:`heatmap_key`: the legend of the outlines);
  :func:`plot_axis_comparisons` -- the lines through (1, 1) as differences with CIs;
  :func:`plot_passk` -- pass@k curves, and each cell's paired difference at the k where a claim is judged.

Every cell of one seed starts from the same torch seed (``evaluate_pass1`` seeds before sampling), so
cells are compared on common random numbers: differences between cells of the same seed are paired.
A diagonal cell ``(t, t)`` is plain sampling at temperature ``t`` (the processor divides every row by
``t``), so the diagonal is the uniform-temperature baseline.

Running the grid is here; reading it (statistics, comparisons, the results file) is in
:mod:`utils.toy_lm.grid_stats`, whose names are importable from here too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from utils import countdown as cd
from utils.toy_lm import rollouts
from utils.sampling import DualTemperatureLogitsProcessor
from utils.toy_lm.grid_stats import (  # noqa: F401 (read the grid: public here too)
    COLORBAR_LABELS,
    GRID_SCHEMA,
    Cell,
    axis_comparisons,
    cell_stats,
    compact_runs,
    compare_cells,
    compare_swings,
    diffs_to,
    grid_table,
    load_grid,
    passk_curves,
    per_problem,
    save_grid,
    shape_parts,
    swing_verdict,
)

__all__ = [
    "MAX_NEW_TOKENS",
    "entropy_threshold",
    "run_cell",
    "run_grid",
    "cell_stats",
    "grid_table",
    "compare_cells",
    "per_problem",
    "compare_swings",
    "shape_parts",
    "compact_runs",
    "swing_verdict",
    "axis_comparisons",
    "passk_curves",
    "save_grid",
    "load_grid",
    "diffs_to",
]

#: A correct 3-number solution has two steps of at most 15 characters in all (``9*9=81,81*9=729``);
#: 24 new tokens leave room for that plus EOS and stray whitespace, and keep high-temperature cells
#: (whose rows rarely stop early) from paying for 48 steps.
MAX_NEW_TOKENS = 24


def _problems(problems: Iterable[Any] | None) -> list[dict[str, Any]]:
    rows = cd.load_eval_problems() if problems is None else list(problems)
    if not rows:
        raise ValueError("no problems given: pass a non-empty list of Countdown problems (or None for the held-out set)")
    return [
        {"numbers": list(r["numbers"]), "target": int(r["target"]),
         "prompt": r.get("prompt") or cd.format_prompt(r["numbers"], r["target"])}
        for r in rows
    ]


def entropy_threshold(
    model: Any,
    tokenizer: Any,
    problems: Iterable[Any] | None = None,
    q: float = 80.0,
    seed: int = 0,
    n_samples: int = 1,
    max_new_tokens: int = MAX_NEW_TOKENS,
    batch_size: int = 1024,
) -> dict[str, Any]:
    """The ``q``-th percentile of token entropy (nats) over the model's own T=1 samples.

    Samples ``n_samples`` completions per problem at temperature 1 and pools the entropy of every
    completion token, EOS step included (``rollouts.token_entropies``, untempered: what the
    dual-temperature processor measures). Returns ``threshold``, ``q``, ``n_tokens``, ``share_below_0.01``
    and ``median``.
    """
    if not 0 < q < 100:
        raise ValueError(f"q must be a percentile strictly between 0 and 100, got {q}")
    rows = _problems(problems)
    prompts = [r["prompt"] for r in rows]
    comps = rollouts.sample_completions(
        model, tokenizer, prompts, n=n_samples, temperature=1.0, max_new_tokens=max_new_tokens,
        seed=seed, batch_size=batch_size,
    )
    expanded = [p for p in prompts for _ in range(n_samples)]
    ents = np.concatenate(rollouts.token_entropies(model, tokenizer, expanded, comps))
    return {
        "threshold": float(np.percentile(ents, q)),
        "q": float(q),
        "n_tokens": int(ents.size),
        "median": float(np.median(ents)),
        "share_below_0.01": float((ents < 0.01).mean()),
        "seed": seed,
        "n_problems": len(rows),
    }


def run_cell(
    model: Any,
    tokenizer: Any,
    problems: Iterable[Any] | None,
    t_fork: float,
    t_rest: float,
    threshold: float,
    seed: int,
    n_samples: int = 1,
    max_new_tokens: int = MAX_NEW_TOKENS,
    batch_size: int = 1024,
    fork_share: bool = True,
) -> dict[str, Any]:
    """One cell and seed: sample ``n_samples`` completions per problem with dual-temperature decoding.

    Returns ``t_fork``, ``t_rest``, ``seed``, ``pass1``, ``arithmetic``, ``well_formed``, ``reasons``,
    ``correct_counts`` (per problem), ``n_samples``, ``n_problems``, ``seconds`` and, if ``fork_share``,
    ``fork_share``: the share of generated steps (EOS step included) whose *untempered* entropy is
    >= ``threshold``, i.e. the steps the processor decoded at ``t_fork``. It is recomputed with one
    full forward pass over the finished completions (the processor saw the same distributions through
    the KV cache; float rounding can move a step sitting exactly on the threshold).
    """
    rows = _problems(problems)
    proc = DualTemperatureLogitsProcessor(threshold=threshold, t_fork=t_fork, t_rest=t_rest)
    t0 = time.perf_counter()
    res = rollouts.evaluate_pass1(
        model, tokenizer, rows, n_samples=n_samples, temperature=1.0, seed=seed, batch_size=batch_size,
        max_new_tokens=max_new_tokens, logits_processor=[proc], return_completions=fork_share,
    )
    out: dict[str, Any] = {
        "t_fork": float(t_fork),
        "t_rest": float(t_rest),
        "seed": int(seed),
        "threshold": float(threshold),
        "pass1": res["pass1"],
        "arithmetic": res["arithmetic"],
        "well_formed": res["well_formed"],
        "reasons": res["reasons"],
        "correct_counts": res["correct_counts"],
        "n_samples": n_samples,
        "n_problems": len(rows),
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
    }
    if fork_share:
        comps = [c for per in res["completions"] for c in per]
        prompts = [r["prompt"] for r in rows for _ in range(n_samples)]
        ents = np.concatenate(rollouts.token_entropies(model, tokenizer, prompts, comps))
        out["fork_share"] = float((ents >= threshold).mean())
    out["seconds"] = time.perf_counter() - t0
    return out


_GRID_WORKER: dict[str, Any] = {}


def _grid_worker_init(model: Any, tokenizer: Any, threads: int, parent_pid: int) -> None:
    from utils.infra.workers import quiet_worker

    quiet_worker(parent_pid, threads)  # the parent's thread count: the samples do not depend on who drew them
    _GRID_WORKER.update(model=model, tokenizer=tokenizer)


def _grid_worker_cell(cell: Cell, seed: int, rows: list[dict[str, Any]], threshold: float, kw: dict[str, Any]) -> dict[str, Any]:
    return run_cell(_GRID_WORKER["model"], _GRID_WORKER["tokenizer"], rows, cell[0], cell[1], threshold, seed, **kw)


def run_grid(
    model: Any,
    tokenizer: Any,
    problems: Iterable[Any] | None,
    t_forks: Sequence[float],
    t_rests: Sequence[float],
    seeds: Sequence[int],
    threshold: float,
    n_samples: int = 1,
    max_new_tokens: int = MAX_NEW_TOKENS,
    batch_size: int = 1024,
    fork_share: bool = True,
    cells: Sequence[Cell] | None = None,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    workers: int = 1,
) -> list[dict[str, Any]]:
    """:func:`run_cell` for every ``(t_fork, t_rest)`` in ``t_forks x t_rests`` (or in ``cells``) and seed.

    Returns one dict per (cell, seed) run, seeds innermost. ``on_run`` is called with each result, in that order
    (e.g. for a one-line progress print).

    ``workers > 1`` runs the (cell, seed) runs in that many spawned processes (each gets a copy of the model and
    uses this process's torch thread count): every run seeds its own sampling, so the results are the same numbers
    as with ``workers=1`` (``tests/integration/test_decoding_grid.py`` checks it), only sooner on a multi-core CPU. The workers
    end with this process (:func:`utils.infra.workers.die_with_parent`).
    """
    from utils import checks

    seeds = checks.seeds(seeds)  # non-empty, distinct: a repeated seed is not an independent sample
    workers = checks.positive_int(workers, "workers")
    rows = _problems(problems)
    todo = list(cells) if cells is not None else [(float(f), float(r)) for f in t_forks for r in t_rests]
    jobs = [(cell, s) for cell in todo for s in seeds]
    kw = dict(n_samples=n_samples, max_new_tokens=max_new_tokens, batch_size=batch_size, fork_share=fork_share)
    runs = []
    if workers == 1 or len(jobs) == 1:
        for (t_fork, t_rest), s in jobs:
            r = run_cell(model, tokenizer, rows, t_fork, t_rest, threshold, s, **kw)  # type: ignore[arg-type]
            runs.append(r)
            if on_run is not None:
                on_run(r)
        return runs
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    import torch

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx, initializer=_grid_worker_init,
                             initargs=(model, tokenizer, torch.get_num_threads(), os.getpid())) as ex:
        futures = [ex.submit(_grid_worker_cell, cell, s, rows, threshold, kw) for cell, s in jobs]
        try:
            for f in futures:  # in submission order: the same list, and the same on_run calls, as one process
                r = f.result()
                runs.append(r)
                if on_run is not None:
                    on_run(r)
        except KeyboardInterrupt:  # Ctrl-C: stop the workers, do not wait for the queue
            from utils.infra.workers import stop_pool

            stop_pool(ex)
            raise
    return runs
