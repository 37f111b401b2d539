"""Running RL: build a trainer for a :class:`RunConfig`, train one run, many runs in parallel, evaluate, read back.

* :func:`build_trainer` -- the TRL trainer for a config and seed (policy and task from :mod:`utils.rlvr.tasks`;
  defined in :mod:`utils.rlvr.build`);
* :func:`run_condition` -- one run: held-out pass@1 every ``eval_every`` steps, the training logs (reward, entropy,
  tokens kept, update norms, psi), an optional pass@k curve at the end; writes one results JSON;
* :func:`run_many` -- independent runs in parallel worker processes (one torch thread each; :class:`Job`,
  :func:`finished_run` and the checks of a sweep are defined in :mod:`utils.rlvr.jobs`);
* :func:`evaluate_pass_rate` -- sample ``n`` completions per held-out problem and score them (defined in
  :mod:`utils.rlvr.evaluation`), :func:`cached_evaluation` -- the same, kept on disk;
* :func:`load_runs` -- the results JSONs of a folder, checked.

Results schema (``"schema": "forking-tokens/rlvr-run/1"``)::

    schema, name, seed, profile, config (RunConfig as dict), versions, device, standin,
    policy: {model (the real name, e.g. HuggingFaceTB/SmolLM2-135M-Instruct), source, where, n_params},
    eval:  {step: [...], pass1: [...], n_problems, samples_per_problem, temperature}
    train: {step: [...], reward: [...], entropy: [...], tokens_kept: [...], grad_norm: [...], update_norm: [...],
            step_time: [...], psi_mean: [...], psi_clip_frac: [...]}      (psi_* only for advantage="entropy")
    final: {pass1, pass_at_k: {k: value}, coverage, samples, correct, n_problems}   (pass@k only when final_samples > 0;
            on final_eval_path's problems when the config names one)
    timing: {total_s, train_s, eval_s, cpu_s, median_step_s, mean_step_s, steps}
    path, model_dir                                                    (repository-relative)
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from utils.config import BUILD_DIR, get_profile, results_dir
from utils.results import atomic_dir, check_target, load_json, repo_relative, save_json
from utils.rlvr.build import build_trainer
from utils.rlvr.config import RunConfig
from utils.rlvr.evaluation import evaluate_pass_rate, evaluation_key
from utils.rlvr.jobs import Job, _check_distinct_outputs, _report, finished_run
from utils.rlvr.readout import RESULTS_SCHEMA
from utils.rlvr.tasks import load_final_problems

__all__ = [
    "RESULTS_SCHEMA",
    "Job",
    "build_trainer",
    "cached_evaluation",
    "evaluate_pass_rate",
    "load_runs",
    "run_condition",
    "finished_run",
    "run_many",
]


def cached_evaluation(model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], reward_fn: Callable[..., list[float]],
                      key_settings: dict[str, Any], cache_dir: str | Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """:func:`evaluate_pass_rate` with its result kept in ``cache_dir`` (default ``build/eval_cache``, never
    committed) under a digest of everything it depends on (:func:`~utils.rlvr.evaluation.evaluation_key`: weights,
    vocabulary, problems, ``kwargs``, ``key_settings`` -- what ``reward_fn`` is -- and the arithmetic). A seeded
    evaluation of the same weights is the same numbers, so a cached one is returned as it is: every run of a notebook
    starts from the same base model, and its step-0 evaluation is made once, by whichever run gets there first (the
    others wait for it on a file lock, then read it)."""
    from utils.results import save_json

    key = evaluation_key(model, tokenizer, rows, {**kwargs, **key_settings})
    d = Path(cache_dir) if cache_dir is not None else BUILD_DIR / "eval_cache"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{key}.json"
    lock = None
    try:
        import fcntl

        lock = open(d / f"{key}.lock", "w", encoding="utf-8")  # noqa: SIM115 - held until the result is written
        fcntl.flock(lock, fcntl.LOCK_EX)
    except (ImportError, OSError):  # no POSIX locks here: at worst two runs evaluate the same thing
        lock = None
    try:
        if path.exists():
            try:
                r = load_json(path)
                if isinstance(r, dict) and {"pass1", "correct", "n"} <= set(r) and len(r["correct"]) == len(rows):
                    return r
            except Exception:  # noqa: BLE001 - a broken cache file is evaluated again and replaced
                pass
        r = evaluate_pass_rate(model, tokenizer, rows, reward_fn, **kwargs)
        save_json(r, path)
        return r
    finally:
        if lock is not None:
            lock.close()  # releases the lock


def _versions() -> dict[str, str]:
    import accelerate
    import datasets
    import transformers
    import trl

    return {
        "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
        "trl": trl.__version__, "datasets": datasets.__version__, "accelerate": accelerate.__version__,
    }


def _series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    steps, vals = [], []
    for h in history:
        if key in h and "step" in h:
            steps.append(int(h["step"]))
            vals.append(float(h[key]))
    return steps, vals


def _train_logs(history: list[dict[str, Any]], update_norms: list[float]) -> dict[str, Any]:
    """The results' ``train`` block: TRL's logged series (``history``: ``trainer.state.log_history``) under the
    results' names, and the update norms when tracked."""
    train: dict[str, Any] = {}
    steps, train["reward"] = _series(history, "reward")
    train["step"] = steps
    for key, name in [("entropy", "entropy"), ("tokens_kept", "tokens_kept"), ("grad_norm", "grad_norm"),
                      ("step_time", "step_time"), ("psi/mean", "psi_mean"), ("psi/clip_frac", "psi_clip_frac"),
                      ("psi/baseline", "psi_baseline"), ("completions/mean_length", "mean_length")]:
        _, vals = _series(history, key)
        if vals:
            train[name] = vals
    if update_norms:
        train["update_norm"] = update_norms
    return train


class _HeldOutEval:
    """:func:`run_condition`'s held-out evaluations of ``trainer``'s policy (main process only): pass@1 at a step
    (calling the object; step 0 from the cache, :func:`cached_evaluation`), the final pass@k curve
    (:meth:`final`), the steps and values so far (``evals``) and the seconds spent (``seconds``)."""

    def __init__(self, cfg: RunConfig, seed: int, trainer: Any, ctx: dict[str, Any], verbose: bool) -> None:
        self.cfg, self.seed, self.trainer, self.verbose = cfg, seed, trainer, verbose
        self.tok, self.held, self.reward_fn = ctx["tokenizer"], ctx["held_out"], ctx["reward_fn"]
        self.temperature = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
        self.is_main = trainer.accelerator.is_main_process
        self.evals: dict[str, list[Any]] = {"step": [], "pass1": []}
        self.seconds = 0.0

    def __call__(self, step: int) -> None:
        cfg = self.cfg
        if not self.is_main or cfg.eval_n <= 0:
            return
        t0 = time.perf_counter()
        m = self.trainer.accelerator.unwrap_model(self.trainer.model)
        kw = dict(samples=cfg.eval_samples, temperature=self.temperature, max_new_tokens=cfg.max_completion_length,
                  seed=10_000 + step, batch_size=cfg.eval_batch_size, success_threshold=cfg.success_threshold)
        if step == 0:  # the base model: the same in every run of its config, evaluated once
            r = cached_evaluation(m, self.tok, self.held, self.reward_fn,
                                  {"task": cfg.task, "eval_path": cfg.eval_path}, **kw)
        else:
            r = evaluate_pass_rate(m, self.tok, self.held, self.reward_fn, **kw)
        self.evals["step"].append(step)
        self.evals["pass1"].append(r["pass1"])
        self.seconds += time.perf_counter() - t0
        if self.verbose:
            print(f"[{cfg.name} seed {self.seed}] step {step:4d}  held-out pass@1 {r['pass1']:.3f}", flush=True)

    def final(self) -> dict[str, Any]:
        """The results' ``final`` block: the last pass@1, and the pass@k curve of ``final_samples`` samples per
        problem (of ``final_eval_path``'s problems when the config names one) when ``final_samples > 0``."""
        cfg, evals = self.cfg, self.evals
        final: dict[str, Any] = {"pass1": evals["pass1"][-1] if evals["pass1"] else None}
        if cfg.final_samples > 0 and self.is_main:
            from utils.passk import coverage, pass_at_k_curve

            t0 = time.perf_counter()
            final_rows = load_final_problems(cfg, self.held)
            r = evaluate_pass_rate(
                self.trainer.accelerator.unwrap_model(self.trainer.model), self.tok, final_rows, self.reward_fn,
                samples=cfg.final_samples, temperature=self.temperature, max_new_tokens=cfg.max_completion_length,
                seed=99_991, batch_size=cfg.eval_batch_size, success_threshold=cfg.success_threshold,
            )
            self.seconds += time.perf_counter() - t0
            final.update(
                pass_at_k={str(k): v for k, v in pass_at_k_curve(cfg.final_samples, r["correct"]).items()},
                coverage=coverage(r["correct"]), samples=cfg.final_samples, correct=r["correct"],
                n_problems=len(final_rows),
            )
        return final


class _EvalCallback(TrainerCallback):
    """Calls ``evaluate`` (a :class:`_HeldOutEval`) at the start of training and after every ``eval_every``-th step
    but the last, and appends each optimiser step's parameter-update norm to ``update_norms`` (``track_updates``)."""

    def __init__(self, cfg: RunConfig, model: Any, evaluate: _HeldOutEval, update_norms: list[float]) -> None:
        self.cfg, self.model, self.evaluate, self.update_norms = cfg, model, evaluate, update_norms
        self.before: list[torch.Tensor] = []

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.evaluate(0)

    def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self.cfg.track_updates:
            self.before = [p.detach().clone() for p in self.model.parameters()]

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        cfg = self.cfg
        if cfg.track_updates and self.before:
            sq = sum(float((p.detach() - b).float().pow(2).sum())
                     for p, b in zip(self.model.parameters(), self.before))
            self.update_norms.append(sq**0.5)
            self.before = []
        s = state.global_step
        if cfg.eval_every > 0 and s % cfg.eval_every == 0 and s != cfg.steps:
            self.evaluate(s)


def _timing(cfg: RunConfig, step_times: list[float], t_start: float, cpu_start: float, train_s: float,
            eval_s: float) -> dict[str, Any]:
    """The results' ``timing`` block (``t_start``/``cpu_start``: the run's start, ``time.perf_counter()`` and
    ``time.process_time()``)."""
    st = step_times
    return {
        "total_s": time.perf_counter() - t_start, "train_s": train_s, "eval_s": eval_s,
        "cpu_s": time.process_time() - cpu_start,
        "median_step_s": statistics.median(st) if st else None, "mean_step_s": statistics.fmean(st) if st else None,
        "steps": cfg.steps,
    }


def run_condition(
    cfg: RunConfig,
    seed: int,
    out: str | Path | None = None,
    standin: bool = False,
    dry_run: bool = False,
    verbose: bool = True,
    save_model: str | Path | None = None,
) -> dict[str, Any]:
    """Train one condition with one seed, evaluate held-out pass@1 every ``cfg.eval_every`` steps, write JSON.

    ``out``: the results file (default ``results_dir() / f"{cfg.name}_seed{seed}.json"``, a stand-in run's
    ``build/rlvr/<profile>/standin/<name>_seed<seed>.json``; written atomically, replacing an earlier run's).
    ``save_model``: a folder to ``save_pretrained`` the trained policy (and its tokenizer) into, e.g. for comparing
    its entropies with the base model's afterwards (``result["model_dir"]``); it must be new, empty or a checkpoint
    this project wrote. Both are checked before the model loads (:func:`utils.results.check_target`).
    ``dry_run=True`` builds the trainer and returns without training or writing. Schema: see the module docstring.
    """
    if out is None and standin:  # a smoke test of a tiny random model never lands on a real run's file
        out = BUILD_DIR / "rlvr" / get_profile() / "standin" / f"{cfg.name}_seed{seed}.json"
    if not dry_run:
        if out is not None:
            check_target(out, "file")
        if save_model is not None:
            check_target(save_model, "checkpoint")
    t_start, cpu_start = time.perf_counter(), time.process_time()
    trainer, ctx = build_trainer(cfg, seed, standin=standin)
    if dry_run:
        return {"name": cfg.name, "dry_run": True, "trainer": type(trainer).__name__, "config": asdict(cfg)}
    tok, held = ctx["tokenizer"], ctx["held_out"]
    evaluate = _HeldOutEval(cfg, seed, trainer, ctx, verbose)
    is_main = evaluate.is_main
    update_norms: list[float] = []
    trainer.add_callback(_EvalCallback(cfg, ctx["model"], evaluate, update_norms))
    t_train = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t_train
    if trainer.state.global_step != cfg.steps:  # never write a run that did not train as configured
        raise RuntimeError(f"{cfg.name} seed {seed} stopped at step {trainer.state.global_step} of {cfg.steps} "
                           f"(training set of {len(trainer.train_dataset)} prompts, {cfg.prompts_per_step} per step)")
    evaluate(cfg.steps)
    final = evaluate.final()
    train = _train_logs(trainer.state.log_history, update_norms)
    result: dict[str, Any] = {
        "name": cfg.name,
        "seed": seed,
        "profile": get_profile(),
        "config": asdict(cfg),
        "versions": _versions(),
        "device": str(trainer.accelerator.device),
        "standin": standin,
        "policy": ctx["policy"],
        "eval": {"step": evaluate.evals["step"], "pass1": evaluate.evals["pass1"], "n_problems": len(held),
                 "samples_per_problem": cfg.eval_samples, "temperature": evaluate.temperature},
        "train": train,
        "final": final,
        "timing": _timing(cfg, train.get("step_time", []), t_start, cpu_start, train_s, evaluate.seconds),
    }
    if is_main and save_model is not None:
        with atomic_dir(save_model) as tmp:
            trainer.accelerator.unwrap_model(trainer.model).save_pretrained(str(tmp), safe_serialization=True)
            tok.save_pretrained(str(tmp))
        result["model_dir"] = repo_relative(save_model)
    if is_main:
        path = Path(out) if out is not None else results_dir() / f"{cfg.name}_seed{seed}.json"
        result["path"] = repo_relative(path)
        save_json(result, path, schema=RESULTS_SCHEMA)
    return result


def load_runs(pattern: str = "*.json", directory: str | Path | None = None) -> list[dict[str, Any]]:
    """The run results (schema ``forking-tokens/rlvr-run/1``) matching ``pattern`` in ``directory`` (default
    ``results_dir()``), sorted by name and seed. A truncated or foreign file matching the pattern is an error
    (:class:`utils.results.ResultsError` naming it), not silently skipped."""
    d = Path(directory) if directory is not None else results_dir()
    runs = [load_json(p, schema=RESULTS_SCHEMA, regenerate="the notebook or `python -m utils.rlvr run` that wrote it")
            for p in sorted(d.glob(pattern))]
    return sorted(runs, key=lambda r: (r["name"], r["seed"]))


def _run_job(job: Job, threads: int) -> dict[str, Any]:
    cfg = job.cfg if job.cfg.num_threads else job.cfg.replace(num_threads=threads)
    return run_condition(cfg, job.seed, out=job.out, verbose=False, save_model=job.save_model)


def _worker_init(threads: int, profile: str, parent_pid: int) -> None:
    from utils.infra.workers import quiet_worker

    quiet_worker(parent_pid, threads)
    os.environ["FORKING_TOKENS_PROFILE"] = profile  # results record the parent's profile


def run_many(jobs: Sequence[Job], workers: int = 2, threads: int = 1, verbose: bool = True,
             resume: bool = False) -> list[dict[str, Any]]:
    """Run independent training jobs, ``workers`` at a time in fresh (spawned) processes with ``threads`` torch
    threads each; returns the results dicts in the order of ``jobs``.

    On a small shared CPU several 1-thread processes beat one multi-threaded run for a model this small. Each
    worker imports TRL once (~10 s) and then takes jobs from the queue. ``workers <= 1`` runs in this process.
    A job's config keeps its own ``num_threads`` if it sets one. Prints one line per finished job. The workers end
    with this process, even when it is killed (:func:`utils.infra.workers.die_with_parent`).
    ``resume=True`` reads back the jobs whose results file already holds a complete run of the same config and
    seed (:func:`finished_run`) instead of training them again, so an interrupted sweep loses no work.
    Two jobs that would write the same results file or model folder are refused before any work.
    """
    jobs = list(jobs)
    _check_distinct_outputs(jobs)
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    t0 = time.perf_counter()
    if resume:
        for i, j in enumerate(jobs):
            results[i] = finished_run(j, threads)
        if verbose and any(r is not None for r in results):
            print(f"resuming: {sum(r is not None for r in results)} of {len(jobs)} runs already finished", flush=True)

    todo = [i for i, r in enumerate(results) if r is None]
    if workers <= 1:
        for i in todo:
            _report(results, i, _run_job(jobs[i], threads), t0, verbose)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(threads, get_profile(), os.getpid())) as ex:
            try:
                futures = {ex.submit(_run_job, jobs[i], threads): i for i in todo}
                for f in as_completed(futures):
                    _report(results, futures[f], f.result(), t0, verbose)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM (utils.infra.cli.Terminated): stop the workers, do not wait
                from utils.infra.workers import stop_pool

                stop_pool(ex)
                raise
    return [r for r in results if r is not None]
