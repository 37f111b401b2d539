"""Benchmark (not a test) of the toy RL step: the trainer against a hand-written floor, and where a run's time goes.

``python -m utils.bench steps`` -- steps per second of the toy GRPO step (notebook 04's ``countdown_top20``: task
model, 8 prompts x 8 completions, top-20 % mask) through the project's trainer (:func:`utils.rlvr.run.build_trainer`,
``trainer.train()``) and through :func:`utils.rlvr.minimal.grpo_step` in a plain loop (the floor: the same sampling,
scoring, loss, backward and AdamW step, nothing else), in the same process, interleaved (trainer, floor, trainer,
floor, ...) so that a change of the machine's load hits both alike; the medians and their ratio. Building the
trainer (model load, datasets, TRL's set-up) is outside the timed part; it is in the profile.

``python -m utils.bench profile`` -- where the time of one 100-step toy run goes (``run_condition`` of
``countdown_top20`` in the default profile, written to ``build/``): generation, scoring, forward + loss, backward,
clipping + optimiser step, the periodic and final evaluations, the trainer's own overhead (the rest of
``trainer.train()``), the set-up before training, and a worker's start-up (a fresh interpreter importing TRL and
the run module, what :func:`utils.rlvr.run.run_many` pays once per worker).

``python -m utils.bench`` runs both. Timings depend on the machine's load: run it alone (``make bench``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import torch

from utils.cli import Parser, add_debug, run, whole_number
from utils.config import BUILD_DIR, REPO_ROOT

__all__ = ["floor_steps", "profile_run", "step_rates", "trainer_steps", "worker_startup_s"]

PROG = "python -m utils.bench"
CONFIG = "countdown_top20"


def _config(steps: int) -> Any:
    from utils.rlvr.config import load_config

    return load_config(CONFIG, profile="default").replace(steps=steps, eval_n=0, num_threads=1)


def trainer_steps(cfg: Any, seed: int = 0) -> tuple[float, list[float]]:
    """``(seconds of trainer.train(), seconds of each of its steps)`` for ``cfg.steps`` steps (the trainer is built
    before the clock starts; a step runs from the callbacks' ``on_step_begin`` to ``on_step_end``)."""
    from transformers import TrainerCallback

    from utils.rlvr.run import build_trainer

    trainer, _ = build_trainer(cfg, seed, output_dir=BUILD_DIR / "bench" / "trainer")
    times: list[float] = []

    class Clock(TrainerCallback):
        t0 = 0.0

        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self.t0 = time.perf_counter()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            times.append(time.perf_counter() - self.t0)

    trainer.add_callback(Clock())
    t0 = time.perf_counter()
    trainer.train()
    return time.perf_counter() - t0, times


def floor_steps(cfg: Any, seed: int = 0) -> tuple[float, list[float]]:
    """``(seconds, seconds of each step)`` of ``cfg.steps`` calls of :func:`utils.rlvr.minimal.grpo_step` on the
    config's policy and training prompts, ``cfg.prompts_per_step`` at a time (policy, data and optimiser are built
    before the clock starts)."""
    from utils.config import seed_everything
    from utils.rlvr.minimal import grpo_step, hand_optimizer
    from utils.rlvr.tasks import load_policy, load_task

    seed_everything(seed)
    model, tok = load_policy(cfg)
    train, _, reward_fn = load_task(cfg, seed)
    rows = [dict(r) for r in train.select(range(cfg.steps * cfg.prompts_per_step))]
    opt = hand_optimizer(model, cfg.learning_rate, cfg.weight_decay)
    model.train()
    times: list[float] = []
    t0 = time.perf_counter()
    for s in range(cfg.steps):
        t = time.perf_counter()
        grpo_step(model, tok, opt, rows[s * cfg.prompts_per_step : (s + 1) * cfg.prompts_per_step],
                  num_generations=cfg.num_generations, rho=cfg.rho, temperature=cfg.temperature,
                  max_new_tokens=cfg.max_completion_length, max_grad_norm=cfg.max_grad_norm, reward_fn=reward_fn)
        times.append(time.perf_counter() - t)
    return time.perf_counter() - t0, times


def step_rates(steps: int = 20, repeats: int = 3, seed: int = 0, verbose: bool = True) -> dict[str, Any]:
    """Steps per second of the trainer and of the floor, measured interleaved ``repeats`` times (``steps`` steps
    each). Returns ``{"rate": {"trainer": [...], "floor": [...]}`` (steps/s of each repeat, the trainer's including
    the fixed cost of a ``train()`` call), ``"median_rate"``, ``"ratio"`` (median floor rate over median trainer
    rate: how many times longer a trainer step takes; 1.0 is no overhead), ``"median_step_s"`` (the median single
    step of all repeats, fixed costs left out) and ``"step_ratio"`` (their ratio)}``."""
    cfg = _config(steps)
    torch.set_num_threads(1)
    floor_steps(cfg.replace(steps=2), seed)  # warm-up: first-call costs (kernels, imports) hit neither side
    rate: dict[str, list[float]] = {"trainer": [], "floor": []}
    step_s: dict[str, list[float]] = {"trainer": [], "floor": []}
    for i in range(repeats):
        for name, fn in (("trainer", trainer_steps), ("floor", floor_steps)):
            total, times = fn(cfg, seed)
            rate[name].append(steps / total)
            step_s[name] += times
            if verbose:
                print(f"  repeat {i + 1}/{repeats}: {name:7s} {rate[name][-1]:6.2f} steps/s "
                      f"(median step {1e3 * statistics.median(times):.0f} ms)", flush=True)
    med = {k: statistics.median(v) for k, v in rate.items()}
    med_step = {k: statistics.median(v) for k, v in step_s.items()}
    return {"rate": rate, "median_rate": med, "ratio": med["floor"] / med["trainer"], "median_step_s": med_step,
            "step_ratio": med_step["trainer"] / med_step["floor"], "steps": steps, "repeats": repeats}


def worker_startup_s() -> float:
    """Seconds a fresh interpreter takes to import TRL and :mod:`utils.rlvr.run` (a worker's start-up)."""
    code = "import time; t = time.perf_counter(); import trl, utils.rlvr.run; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", check=True,
                         cwd=REPO_ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return float(out.stdout.strip().splitlines()[-1])


def _timed(totals: dict[str, float], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - t0

    return wrapper


def profile_run(steps: int = 100, seed: int = 0) -> dict[str, Any]:
    """Where the time of one ``steps``-step toy run (``run_condition`` of ``countdown_top20``, default profile,
    evaluations included) goes: ``{"parts": {name: seconds}, "total_s", "steps"}``. The trainer's hooks are timed
    by wrapping them (generation: ``_generate_single_turn``; scoring: ``_calculate_rewards``; forward + loss:
    ``compute_loss``; backward: ``accelerator.backward``; optimiser: gradient clipping to the optimiser step);
    ``trainer overhead`` is what is left of ``trainer.train()``."""
    from transformers import TrainerCallback

    from utils.rlvr import run as run_mod
    from utils.rlvr.config import load_config

    cfg = load_config(CONFIG, profile="default").replace(steps=steps, num_threads=1)
    totals: dict[str, float] = defaultdict(float)
    build = run_mod.build_trainer

    class OptimiserClock(TrainerCallback):
        t0 = 0.0

        def on_pre_optimizer_step(self, *a: Any, **k: Any) -> None:
            self.t0 = time.perf_counter()

        def on_optimizer_step(self, *a: Any, **k: Any) -> None:
            totals["optimiser step"] += time.perf_counter() - self.t0

    def instrumented(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        trainer, ctx = build(*args, **kwargs)
        totals["set-up (model, data, trainer)"] += time.perf_counter() - t0
        trainer._generate_single_turn = _timed(totals, "generation", trainer._generate_single_turn)
        trainer._calculate_rewards = _timed(totals, "scoring (verifier)", trainer._calculate_rewards)
        trainer.compute_loss = _timed(totals, "forward + loss", trainer.compute_loss)
        trainer.accelerator.backward = _timed(totals, "backward", trainer.accelerator.backward)
        trainer._clip_grad_norm = _timed(totals, "gradient clipping", trainer._clip_grad_norm)
        trainer.train = train(trainer.train)
        trainer.add_callback(OptimiserClock())
        return trainer, ctx

    inside = [False]  # whether trainer.train() is running (evaluations at steps 0, 25, ... run inside it)

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return evaluate_pass_rate(*args, **kwargs)
        finally:
            totals["evaluation (held-out pass@1)"] += time.perf_counter() - t0
            totals["evaluation inside train()"] += (time.perf_counter() - t0) * inside[0]

    def train(train_fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            inside[0] = True
            try:
                return train_fn(*args, **kwargs)
            finally:
                inside[0] = False
        return _timed(totals, "trainer.train", wrapper)

    torch.set_num_threads(1)
    evaluate_pass_rate = run_mod.evaluate_pass_rate
    run_mod.build_trainer, run_mod.evaluate_pass_rate = instrumented, evaluate
    try:
        t0 = time.perf_counter()
        res = run_mod.run_condition(cfg, seed, out=BUILD_DIR / "bench" / f"{cfg.name}_seed{seed}.json", verbose=False)
        total = time.perf_counter() - t0
    finally:
        run_mod.build_trainer, run_mod.evaluate_pass_rate = build, evaluate_pass_rate
    in_train = totals.pop("trainer.train") - totals.pop("evaluation inside train()")
    parts = dict(totals)
    parts["trainer overhead (rest of train())"] = in_train - sum(v for k, v in totals.items()
                                                                 if not k.startswith(("set-up", "evaluation")))
    parts["results (pass@k, logs, JSON)"] = total - sum(parts.values())
    return {"parts": parts, "total_s": total, "steps": steps, "median_step_s": res["timing"]["median_step_s"]}


def _print_profile(p: dict[str, Any], startup: float | None) -> None:
    total = p["total_s"]
    print(f"\nwhere one {p['steps']}-step toy run's {total:.1f} s go ({CONFIG}, default profile, one thread):")
    for k, v in sorted(p["parts"].items(), key=lambda kv: -kv[1]):
        print(f"  {k:38s} {v:7.2f} s  {100 * v / total:5.1f} %   {1e3 * v / p['steps']:7.1f} ms/step")
    if startup is not None:
        print(f"  {'worker start-up (import TRL; once per worker, not in the total)':38s} {startup:7.2f} s")


def main(argv: Sequence[str] | None = None) -> int:
    ap = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("what", nargs="?", choices=("all", "steps", "profile"), default="all")
    ap.add_argument("--steps", type=whole_number(2), default=20, help="steps per timed repeat (default 20)")
    ap.add_argument("--repeats", type=whole_number(1), default=3, help="interleaved repeats (default 3)")
    ap.add_argument("--profile-steps", type=whole_number(1), default=100, help="steps of the profiled run (100)")
    add_debug(ap)
    a = ap.parse_args(argv)

    def body() -> None:
        print(f"torch {torch.__version__}, 1 thread; {CONFIG}: task model, 8 prompts x 8 completions, top-20 % mask")
        if a.what in ("all", "steps"):
            r = step_rates(a.steps, a.repeats)
            print(f"\ntoy GRPO step, {a.steps} steps x {a.repeats} interleaved repeats (medians):")
            m, ms = r["median_rate"], r["median_step_s"]
            print(f"  trainer (TRL subclass, trainer.train())  {m['trainer']:6.2f} steps/s   median step "
                  f"{1e3 * ms['trainer']:5.0f} ms")
            print(f"  floor (utils.rlvr.minimal.grpo_step)     {m['floor']:6.2f} steps/s   median step "
                  f"{1e3 * ms['floor']:5.0f} ms")
            print(f"  ratio trainer / floor                    {r['ratio']:6.2f}x (steps/s)   {r['step_ratio']:.2f}x "
                  f"(median step)   goal <= 1.5x")
        if a.what in ("all", "profile"):
            _print_profile(profile_run(a.profile_steps), worker_startup_s())

    return run(body, PROG, a.debug)


if __name__ == "__main__":
    sys.exit(main())
