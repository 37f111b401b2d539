"""Running RL: build a trainer for a :class:`RunConfig`, train one run, many runs in parallel, evaluate, read back.

* :func:`build_trainer` -- the TRL trainer for a config and seed (policy and task from :mod:`utils.rlvr.tasks`);
* :func:`run_condition` -- one run: held-out pass@1 every ``eval_every`` steps, the training logs (reward, entropy,
  tokens kept, update norms, psi), an optional pass@k curve at the end; writes one results JSON;
* :func:`run_many` -- independent runs in parallel worker processes (one torch thread each);
* :func:`evaluate_pass_rate` -- sample ``n`` completions per held-out problem and score them;
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from utils.config import BUILD_DIR, get_profile, results_dir, seed_everything
from utils.results import atomic_dir, check_target, load_json, repo_relative, save_json
from utils.infra.prefill import install_shared_prefill, shared_prefill
from utils.rlvr.config import ConfigError, RunConfig
from utils.rlvr.readout import RESULTS_SCHEMA, run_problem
from utils.rlvr.tasks import load_final_problems, load_policy_info, load_task
from utils.rlvr.trainers import EntropyAdvantageGRPOTrainer, TokenSelectGRPOTrainer, reference_from_policy

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


@torch.no_grad()
def evaluate_pass_rate(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    reward_fn: Callable[..., list[float]],
    samples: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 24,
    seed: int = 0,
    batch_size: int = 512,
    success_threshold: float = 1.0,
) -> dict[str, Any]:
    """Sample ``samples`` completions per held-out row (seeded, RNG state restored afterwards) and score them.

    Returns ``{"pass1": mean correctness, "correct": per-row counts, "n": samples}``; pass@k for k <= n follows
    from ``utils.passk.mean_pass_at_k(n, correct, k)``.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    prompts = [r["prompt"] for r in rows]
    texts = [
        tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) if isinstance(p, list) else p
        for p in prompts
    ]
    extra_keys = [k for k in (rows[0].keys() if rows else []) if k != "prompt"]
    correct = [0] * len(rows)
    old_side = getattr(tokenizer, "padding_side", "right")
    tokenizer.padding_side = "left"
    per_batch = max(1, batch_size // max(samples, 1))
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), shared_prefill(model):  # each prompt's prefill computed once
            torch.manual_seed(seed)
            for s in range(0, len(rows), per_batch):
                chunk = texts[s : s + per_batch]
                enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
                out = model.generate(
                    **enc, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                    max_new_tokens=max_new_tokens, num_return_sequences=samples,
                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                )
                comps = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
                idx = [s + i // samples for i in range(len(comps))]
                kw = {k: [rows[i][k] for i in idx] for k in extra_keys}
                rewards = reward_fn([prompts[i] for i in idx], comps, **kw)
                for i, r in zip(idx, rewards, strict=True):
                    correct[i] += int(r is not None and r >= success_threshold)
    finally:
        tokenizer.padding_side = old_side
        if was_training:
            model.train()
    total = len(rows) * samples
    return {"pass1": sum(correct) / total if total else float("nan"), "correct": correct, "n": samples}


def _eval_key(model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], settings: dict[str, Any]) -> str:
    """A digest of everything a seeded :func:`evaluate_pass_rate` result depends on: the weights (every parameter
    and buffer, bit for bit), the tokenizer's vocabulary, the problems, the settings (sampling, seed, batch size,
    the reward's task and threshold) and the arithmetic (torch, transformers, threads, the CPU kernels)."""
    import hashlib
    import json

    import transformers

    h = hashlib.sha256()
    for name, t in list(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    meta = {
        "vocab": sorted(tokenizer.get_vocab().items()), "rows": list(rows), "settings": settings,
        "torch": torch.__version__, "transformers": transformers.__version__, "threads": torch.get_num_threads(),
        "cpu": torch.backends.cpu.get_cpu_capability(), "machine": platform.machine(),
        "aten": os.environ.get("ATEN_CPU_CAPABILITY", ""),
    }
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def cached_evaluation(model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], reward_fn: Callable[..., list[float]],
                      key_settings: dict[str, Any], cache_dir: str | Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """:func:`evaluate_pass_rate` with its result kept in ``cache_dir`` (default ``build/eval_cache``, never
    committed) under a digest of everything it depends on (:func:`_eval_key`: weights, vocabulary, problems,
    ``kwargs``, ``key_settings`` -- what ``reward_fn`` is -- and the arithmetic). A seeded evaluation of the same
    weights is the same numbers, so a cached one is returned as it is: every run of a notebook starts from the same
    base model, and its step-0 evaluation is made once, by whichever run gets there first (the others wait for it on
    a file lock, then read it)."""
    from utils.results import save_json

    key = _eval_key(model, tokenizer, rows, {**kwargs, **key_settings})
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


def build_trainer(
    cfg: RunConfig, seed: int, standin: bool = False, output_dir: str | Path | None = None, stock_trl: bool = False
) -> tuple[Any, dict[str, Any]]:
    """Build the TRL trainer for ``cfg`` (model, data and reward from ``cfg.task``/``cfg.model``; ``standin=True``
    swaps in the tiny random model and the stand-in task, e.g. to dry-run a GPU config on CPU).

    ``stock_trl=True`` builds TRL's own ``GRPOTrainer`` instead, with ``GRPOConfig(top_entropy_quantile=rho)`` and
    the same settings otherwise: TRL's route to the top-rho mask, for ``condition: top`` with the ``all``
    normaliser and the GRPO advantage only (:class:`ConfigError` otherwise).

    Returns ``(trainer, ctx)`` with ``ctx = {"model", "tokenizer", "held_out", "reward_fn", "policy"}`` (``policy``:
    what was loaded, :func:`utils.rlvr.tasks.load_policy_info`).
    """
    from trl import GRPOConfig

    use_cpu = not torch.cuda.is_available()
    grpo_kwargs: dict[str, Any] = dict(
        output_dir=str(output_dir or (BUILD_DIR / "rlvr_tmp" / cfg.name)),
        per_device_train_batch_size=cfg.prompts_per_step * cfg.num_generations // cfg.gradient_accumulation_steps,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="constant",
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        beta=cfg.beta,
        temperature=cfg.temperature,
        loss_type=cfg.loss_type,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high,
        max_steps=cfg.steps,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=use_cpu,
        bf16=cfg.bf16,
        dataloader_num_workers=0,
        disable_dropout=True,
        gradient_checkpointing=False,  # TRL's default is True: an extra forward per backward, pointless on CPU
        seed=seed,
        data_seed=seed,
    )
    if cfg.optimizer == "sgd":
        grpo_kwargs["optim"] = "sgd"  # torch.optim.SGD, no momentum: the update is lr x gradient
    if stock_trl:
        if (cfg.condition, cfg.normaliser, cfg.advantage) != ("top", "all", "grpo"):
            raise ConfigError(f"{cfg.name}: TRL's own trainer implements condition top, normaliser all, advantage "
                              f"grpo only, got {cfg.condition}, {cfg.normaliser}, {cfg.advantage}")
        grpo_kwargs["top_entropy_quantile"] = cfg.rho
    if "top_entropy_quantile" in cfg.grpo_overrides:  # the trainer sets it from condition and rho
        raise ConfigError(f"{cfg.name}: grpo_overrides may not set top_entropy_quantile: the token selection is the "
                          f"config's condition and rho (here {cfg.condition}, rho {cfg.rho:g})")
    grpo_kwargs.update(cfg.grpo_overrides)
    try:  # before the model loads: a bad grpo_overrides entry is a config error, not a crash after loading
        args = GRPOConfig(**grpo_kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{cfg.name}: TRL's GRPOConfig refuses these settings (grpo_overrides?): "
                          f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
    seed_everything(seed)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    model, tok, policy = load_policy_info(cfg, standin)
    train, held, reward_fn = load_task(cfg, seed, standin)
    if stock_trl:
        from trl import GRPOTrainer

        with reference_from_policy(model):  # beta > 0: the KL reference is a frozen copy of the loaded policy
            trainer = GRPOTrainer(model=model, reward_funcs=reward_fn, args=args, train_dataset=train,
                                  processing_class=tok)
        return trainer, {"model": model, "tokenizer": tok, "held_out": held, "reward_fn": reward_fn, "policy": policy}
    role_ranker = None
    if cfg.condition == "role":
        from utils.countdown import role_priority

        role_ranker = role_priority
    common = dict(
        model=model, reward_funcs=reward_fn, args=args, train_dataset=train, processing_class=tok,
        condition=cfg.condition, rho=cfg.rho, normaliser=cfg.normaliser, mask_rule=cfg.mask_rule, mask_seed=seed,
        role_ranker=role_ranker,
    )
    with reference_from_policy(model):  # beta > 0: the KL reference is a frozen copy of the loaded policy
        if cfg.advantage == "entropy":
            trainer = EntropyAdvantageGRPOTrainer(alpha=cfg.alpha, kappa=cfg.kappa, variant=cfg.variant, ema=cfg.ema,
                                                  cap=cfg.psi_cap, **common)
        else:
            trainer = TokenSelectGRPOTrainer(**common)
    # TRL samples each prompt num_generations times in one batch: prefill each prompt once (the same tokens, sooner)
    install_shared_prefill(model)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # logs are read from state.log_history instead of printed
    return trainer, {"model": model, "tokenizer": tok, "held_out": held, "reward_fn": reward_fn, "policy": policy}


def _series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    steps, vals = [], []
    for h in history:
        if key in h and "step" in h:
            steps.append(int(h["step"]))
            vals.append(float(h[key]))
    return steps, vals


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
    from transformers import TrainerCallback

    model, tok, held, reward_fn = ctx["model"], ctx["tokenizer"], ctx["held_out"], ctx["reward_fn"]
    eval_temp = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    is_main = trainer.accelerator.is_main_process
    evals: dict[str, list[Any]] = {"step": [], "pass1": []}
    eval_time = [0.0]
    update_norms: list[float] = []

    def do_eval(step: int) -> None:
        if not is_main or cfg.eval_n <= 0:
            return
        t0 = time.perf_counter()
        m = trainer.accelerator.unwrap_model(trainer.model)
        kw = dict(samples=cfg.eval_samples, temperature=eval_temp, max_new_tokens=cfg.max_completion_length,
                  seed=10_000 + step, batch_size=cfg.eval_batch_size, success_threshold=cfg.success_threshold)
        if step == 0:  # the base model: the same in every run of its config, evaluated once
            r = cached_evaluation(m, tok, held, reward_fn, {"task": cfg.task, "eval_path": cfg.eval_path}, **kw)
        else:
            r = evaluate_pass_rate(m, tok, held, reward_fn, **kw)
        evals["step"].append(step)
        evals["pass1"].append(r["pass1"])
        eval_time[0] += time.perf_counter() - t0
        if verbose:
            print(f"[{cfg.name} seed {seed}] step {step:4d}  held-out pass@1 {r['pass1']:.3f}", flush=True)

    class EvalCallback(TrainerCallback):
        def __init__(self) -> None:
            self.before: list[torch.Tensor] = []

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            do_eval(0)

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if cfg.track_updates:
                self.before = [p.detach().clone() for p in model.parameters()]

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if cfg.track_updates and self.before:
                sq = sum(float((p.detach() - b).float().pow(2).sum()) for p, b in zip(model.parameters(), self.before))
                update_norms.append(sq**0.5)
                self.before = []
            s = state.global_step
            if cfg.eval_every > 0 and s % cfg.eval_every == 0 and s != cfg.steps:
                do_eval(s)

    trainer.add_callback(EvalCallback())
    t_train = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t_train
    if trainer.state.global_step != cfg.steps:  # never write a run that did not train as configured
        raise RuntimeError(f"{cfg.name} seed {seed} stopped at step {trainer.state.global_step} of {cfg.steps} "
                           f"(training set of {len(trainer.train_dataset)} prompts, {cfg.prompts_per_step} per step)")
    do_eval(cfg.steps)
    final: dict[str, Any] = {"pass1": evals["pass1"][-1] if evals["pass1"] else None}
    if cfg.final_samples > 0 and is_main:
        from utils.passk import coverage, pass_at_k_curve

        t0 = time.perf_counter()
        final_rows = load_final_problems(cfg, held)
        r = evaluate_pass_rate(
            trainer.accelerator.unwrap_model(trainer.model), tok, final_rows, reward_fn, samples=cfg.final_samples,
            temperature=eval_temp, max_new_tokens=cfg.max_completion_length, seed=99_991,
            batch_size=cfg.eval_batch_size, success_threshold=cfg.success_threshold,
        )
        eval_time[0] += time.perf_counter() - t0
        final.update(
            pass_at_k={str(k): v for k, v in pass_at_k_curve(cfg.final_samples, r["correct"]).items()},
            coverage=coverage(r["correct"]), samples=cfg.final_samples, correct=r["correct"], n_problems=len(final_rows),
        )
    hist = trainer.state.log_history
    train: dict[str, Any] = {}
    steps, train["reward"] = _series(hist, "reward")
    train["step"] = steps
    for key, name in [("entropy", "entropy"), ("tokens_kept", "tokens_kept"), ("grad_norm", "grad_norm"),
                      ("step_time", "step_time"), ("psi/mean", "psi_mean"), ("psi/clip_frac", "psi_clip_frac"),
                      ("psi/baseline", "psi_baseline"), ("completions/mean_length", "mean_length")]:
        _, vals = _series(hist, key)
        if vals:
            train[name] = vals
    if update_norms:
        train["update_norm"] = update_norms
    st = train.get("step_time", [])
    result: dict[str, Any] = {
        "name": cfg.name,
        "seed": seed,
        "profile": get_profile(),
        "config": asdict(cfg),
        "versions": _versions(),
        "device": str(trainer.accelerator.device),
        "standin": standin,
        "policy": ctx["policy"],
        "eval": {"step": evals["step"], "pass1": evals["pass1"], "n_problems": len(held),
                 "samples_per_problem": cfg.eval_samples, "temperature": eval_temp},
        "train": train,
        "final": final,
        "timing": {
            "total_s": time.perf_counter() - t_start, "train_s": train_s, "eval_s": eval_time[0],
            "cpu_s": time.process_time() - cpu_start,
            "median_step_s": statistics.median(st) if st else None, "mean_step_s": statistics.fmean(st) if st else None,
            "steps": cfg.steps,
        },
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


@dataclass
class Job:
    """One training run for :func:`run_many`: a config, a seed, where its JSON goes (``None``: the default
    ``results_dir()/<name>_seed<seed>.json``) and optionally a folder to save the trained model into."""

    cfg: RunConfig
    seed: int
    out: str | None = None
    save_model: str | None = None


def _run_job(job: Job, threads: int) -> dict[str, Any]:
    cfg = job.cfg if job.cfg.num_threads else job.cfg.replace(num_threads=threads)
    return run_condition(cfg, job.seed, out=job.out, verbose=False, save_model=job.save_model)


def _worker_init(threads: int, profile: str, parent_pid: int) -> None:
    from utils.infra.workers import quiet_worker

    quiet_worker(parent_pid, threads)
    os.environ["FORKING_TOKENS_PROFILE"] = profile  # results record the parent's profile


def finished_run(job: Job, threads: int = 1, *, any_profile: bool = False) -> dict[str, Any] | None:
    """The results a job already wrote, if its file holds a complete, sane run of the same config (as
    :func:`run_many` runs it with ``threads``), seed and profile (:func:`utils.rlvr.readout.run_problem`: the whole
    config, the schema, the evaluation schedule, the numbers' ranges, no stand-in) and its saved model exists, else
    None (the job is run again).

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

    def report(i: int, r: dict[str, Any]) -> None:
        results[i] = r
        if verbose:
            done = sum(x is not None for x in results)
            p1 = r["final"].get("pass1")
            p1s = "n/a" if p1 is None else f"{p1:.3f}"
            print(f"[{done:2d}/{len(jobs)}] {r['name']} seed {r['seed']}: final held-out pass@1 {p1s}, "
                  f"{r['timing']['total_s']:.0f} s (median step {r['timing']['median_step_s'] or 0:.2f} s)  "
                  f"[{time.perf_counter() - t0:.0f} s elapsed]", flush=True)

    todo = [i for i, r in enumerate(results) if r is None]
    if workers <= 1:
        for i in todo:
            report(i, _run_job(jobs[i], threads))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(threads, get_profile(), os.getpid())) as ex:
            try:
                futures = {ex.submit(_run_job, jobs[i], threads): i for i in todo}
                for f in as_completed(futures):
                    report(futures[f], f.result())
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM (utils.infra.cli.Terminated): stop the workers, do not wait
                from utils.infra.workers import stop_pool

                stop_pool(ex)
                raise
    return [r for r in results if r is not None]

