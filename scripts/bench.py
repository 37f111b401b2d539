"""Benchmark (not a test) of the toy RL step: the trainer against a hand-written floor, and where a run's time goes.

``python scripts/bench.py steps`` -- steps per second of the toy GRPO step (notebook 04's ``countdown_top20``: task
model, 8 prompts x 8 completions, top-20 % mask) through the project's trainer (:func:`utils.rlvr.run.build_trainer`,
``trainer.train()``) and through :func:`utils.rlvr.minimal.grpo_step` in a plain loop (the floor: the same sampling,
scoring, loss, backward and AdamW step, nothing else), in the same process, interleaved (trainer, floor, trainer,
floor, ...) so that a change of the machine's load hits both alike; the medians and their ratio. Building the
trainer (model load, datasets, TRL's set-up) is outside the timed part; it is in the profile.

``python scripts/bench.py profile`` -- where the time of one 100-step toy run goes (``run_condition`` of
``countdown_top20`` in the default profile, written to ``build/``): generation, scoring, forward + loss, backward,
clipping + optimiser step, the periodic and final evaluations, the trainer's own overhead (the rest of
``trainer.train()``), the set-up before training, and a worker's start-up (a fresh interpreter importing TRL and
the run module, what :func:`utils.rlvr.run.run_many` pays once per worker).

``python scripts/bench.py ratios`` -- two overheads side by side, each as the median of per-repeat ratios of
interleaved timings with its quartiles and a bootstrap 95 % CI (:func:`utils.stats.ratio_summary`), measured once
at the CPU's native kernels and once under ``ATEN_CPU_CAPABILITY=avx2`` (each in a fresh interpreter, one torch
thread; the clock is the CPU time of that thread, so other processes' load shifts the numbers less than wall
time would): the entropy kernel :func:`utils.entropy.token_entropy` against the exp floor (:func:`exp_floor`:
one ``exp`` and one sum over the same logits), and Cheng et al.'s psi-shaped update against the plain GRPO update
on one identical batch (:func:`psi_times`).

``python scripts/bench.py`` runs ``steps`` and ``profile``. Timings depend on the machine's load: run it alone
(``make bench``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import torch

from utils.infra.cli import Parser, add_debug, run, whole_number
from utils.config import BUILD_DIR, REPO_ROOT

__all__ = ["cpu_model", "entropy_times", "exp_floor", "floor_steps", "profile_run", "psi_times", "ratios",
           "step_rates", "trainer_steps", "worker_startup_s"]

PROG = "python scripts/bench.py"
CONFIG = "countdown_top20"
#: The psi comparison's two configs (notebook 05): plain GRPO, and the same with Cheng et al.'s shaping (alpha 0.4,
#: kappa 2); tests/unit/test_rlvr_config.py checks that they differ in the shaping fields only.
PSI_CONFIGS = ("countdown_entadv_grpo", "countdown_entadv")
#: The kernels ``ratios`` measures: the CPU's own (no ``ATEN_CPU_CAPABILITY``) and AVX2.
CAPABILITIES = ("native", "avx2")


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


# ------------------------------------------------------------------------------ ratios measured side by side


def exp_floor(logits: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
    """The floor of any entropy kernel: one ``exp`` and one sum per row of ``logits`` (``[..., V]``), in chunks of
    ``chunk`` rows (default: those :func:`utils.entropy.token_entropy` takes, :func:`utils.entropy.auto_chunk_rows`).
    Not an entropy: every entropy needs at least this (one exponential per element, one reduction per row)."""
    from utils.entropy import auto_chunk_rows

    flat = logits.reshape(-1, logits.shape[-1])
    rows = chunk or auto_chunk_rows(flat.shape[1])
    out = torch.empty(flat.shape[0])
    for i in range(0, flat.shape[0], rows):
        out[i : i + rows] = flat[i : i + rows].exp().sum(-1)
    return out


def _interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """CPU seconds of the calling thread for each of ``fns``, ``repeats`` times, interleaved, the order reversed
    every other repeat (a-b, b-a, ...) so that neither side always runs first; one warm-up call each first."""
    for fn in fns.values():
        fn()
    names = list(fns)
    times: dict[str, list[float]] = {k: [] for k in names}
    for i in range(repeats):
        for k in names if i % 2 == 0 else names[::-1]:
            t0 = time.thread_time()
            fns[k]()
            times[k].append(time.thread_time() - t0)
    return times


def entropy_times(repeats: int = 21, shape: Sequence[int] = (4, 256, 50257), chunk: int | None = None,
                  seed: int = 0) -> dict[str, Any]:
    """Interleaved CPU times of :func:`utils.entropy.token_entropy` and :func:`exp_floor` on the same float32 logits
    (``shape``, N(0, 3^2) entries, seeded; default: 4 x 256 tokens over GPT-2's vocabulary).
    Returns ``{"times": {"token_entropy": [...], "floor": [...]}, "shape", "chunk"}``."""
    from utils.entropy import token_entropy

    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 3
    times = _interleaved({"token_entropy": lambda: token_entropy(x, chunk_size=chunk),
                          "floor": lambda: exp_floor(x, chunk)}, repeats)
    return {"times": times, "shape": list(shape), "chunk": chunk}


def psi_times(repeats: int = 41, seed: int = 0) -> dict[str, Any]:
    """Interleaved CPU times of one update (the trainer's ``compute_loss``, ``accelerator.backward``, gradient
    clipping, AdamW and scheduler step, ``zero_grad``: what ``Trainer`` runs per optimiser step after the batch is
    made) of plain GRPO and of Cheng et al.'s psi-shaped GRPO (:data:`PSI_CONFIGS`, the project's trainers built by
    :func:`utils.rlvr.run.build_trainer`), on one identical batch: 8 prompts x 8 completions sampled once by the
    plain trainer, fed to both. Both start every update from the same weights (restored before each, outside the
    clock), so each repeat is the same computation except psi. Returns ``{"times": {"psi": [...], "plain": [...]},
    "batch": [completions, tokens], "completion_tokens", "psi_mean", "cap_binds"}`` (psi's mean per completion token
    and the share of tokens where its cap binds, from the first update: that the shaping acted)."""
    from utils.rlvr.config import load_config
    from utils.rlvr.run import build_trainer

    torch.set_num_threads(1)
    trainers = {}
    for name, config in zip(("plain", "psi"), PSI_CONFIGS):
        cfg = load_config(config, profile="default").replace(eval_n=0, num_threads=1)
        trainers[name], _ = build_trainer(cfg, seed, output_dir=BUILD_DIR / "bench" / config)
    plain, psi = trainers["plain"], trainers["psi"]
    psi.model.load_state_dict(plain.model.state_dict())
    weights = {n: p.detach().clone() for n, p in plain.model.named_parameters()}
    torch.manual_seed(seed)
    inputs = plain._generate_and_score_completions(next(iter(plain.get_train_dataloader())))
    for t in trainers.values():
        t.model.train()
        t.create_optimizer_and_scheduler(num_training_steps=t.args.max_steps)
        t.current_gradient_accumulation_steps = t.args.gradient_accumulation_steps  # Trainer.train() sets it

    def update(t: Any) -> Callable[[], float]:
        params = dict(t.model.named_parameters())

        def timed() -> float:
            with torch.no_grad():  # the same starting weights every time, before the clock starts
                for n, p in params.items():
                    p.copy_(weights[n])
            t0 = time.thread_time()
            with t.compute_loss_context_manager():
                loss = t.compute_loss(t.model, inputs)
            t.accelerator.backward(loss)
            if t.args.max_grad_norm > 0:
                t._clip_grad_norm(t.model)
            t.optimizer.step()
            t.lr_scheduler.step()
            t.model.zero_grad()
            return time.thread_time() - t0

        return timed

    runs = {"psi": update(psi), "plain": update(plain)}
    for fn in runs.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {"psi": [], "plain": []}
    for i in range(repeats):  # interleaved, the order reversed every other repeat
        for k in ("psi", "plain") if i % 2 == 0 else ("plain", "psi"):
            times[k].append(runs[k]())
    metrics = psi._metrics["train"]
    return {"times": times, "batch": list(inputs["completion_ids"].shape),
            "completion_tokens": int(inputs["completion_mask"].sum()),
            "psi_mean": float(metrics["psi/mean"][0]), "cap_binds": float(metrics["psi/clip_frac"][0])}


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ratios_here(entropy_repeats: int, psi_repeats: int) -> dict[str, Any]:
    """Both measurements in this interpreter (its kernels, one thread), as one JSON-able dict."""
    from utils.stats import ratio_summary

    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    ent = entropy_times(entropy_repeats)
    psi = psi_times(psi_repeats)
    return {"capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
            "cpu": cpu_model(), "load": [load0, os.getloadavg()[0]],
            "entropy": {**ent, "ratio": ratio_summary(ent["times"]["token_entropy"], ent["times"]["floor"]),
                        "median_s": {k: statistics.median(v) for k, v in ent["times"].items()}},
            "psi": {**psi, "ratio": ratio_summary(psi["times"]["psi"], psi["times"]["plain"]),
                    "median_s": {k: statistics.median(v) for k, v in psi["times"].items()}}}


def ratios(capabilities: Sequence[str] = CAPABILITIES, entropy_repeats: int = 21, psi_repeats: int = 41
           ) -> dict[str, dict[str, Any]]:
    """:func:`_ratios_here` under each of ``capabilities`` (``"native"``: no ``ATEN_CPU_CAPABILITY``; else its
    value), each in a fresh interpreter (torch reads the variable once, at start-up), one torch thread."""
    out = {}
    for cap in capabilities:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        env.pop("ATEN_CPU_CAPABILITY", None)
        if cap != "native":
            env["ATEN_CPU_CAPABILITY"] = cap
        code = (f"import json, sys; sys.path.insert(0, 'scripts'); import bench as b; "
                f"print(json.dumps(b._ratios_here({int(entropy_repeats)}, {int(psi_repeats)})))")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                             cwd=REPO_ROOT, env=env, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"the {cap} measurement failed: {res.stderr.strip().splitlines()[-1:]}")
        out[cap] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _fmt_ratio(r: dict[str, Any]) -> str:
    return (f"{r['median']:.3f}x [IQR {r['q1']:.3f}-{r['q3']:.3f}; 95% CI {r['ci95_lo']:.3f}-{r['ci95_hi']:.3f}; "
            f"n {r['n']}]")


def _print_ratios(res: dict[str, dict[str, Any]]) -> None:
    first = next(iter(res.values()))
    print(f"\nratios of interleaved CPU times (one thread), median of per-repeat ratios [quartiles; bootstrap 95% CI "
          f"of the median; repeats]; {first['cpu']}, torch {first['torch']}")
    for cap, r in res.items():
        e, p = r["entropy"], r["psi"]
        label = f"ATEN_CPU_CAPABILITY={cap}" if cap != "native" else "native kernels"
        print(f"  {label} ({r['capability']}; load average {r['load'][0]:.1f} -> {r['load'][1]:.1f}):")
        print(f"    entropy: token_entropy / exp floor       {_fmt_ratio(e['ratio'])}   "
              f"medians {1e3 * e['median_s']['token_entropy']:.1f} / {1e3 * e['median_s']['floor']:.1f} ms, "
              f"logits {'x'.join(map(str, e['shape']))}")
        print(f"    psi: shaped / plain GRPO update           {_fmt_ratio(p['ratio'])}   "
              f"medians {1e3 * p['median_s']['psi']:.1f} / {1e3 * p['median_s']['plain']:.1f} ms, identical batch "
              f"{p['batch'][0]}x{p['batch'][1]} ({p['completion_tokens']} tokens; psi mean {p['psi_mean']:.3f}, "
              f"cap binds {100 * p['cap_binds']:.0f} %)")
    print("  goals: entropy <= 2x the floor, psi <= 1.10x")


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
    ap.add_argument("what", nargs="?", choices=("all", "steps", "profile", "ratios"), default="all",
                    help="all = steps and profile; ratios = entropy vs exp floor and psi vs plain, native and avx2")
    ap.add_argument("--steps", type=whole_number(2), default=20, help="steps per timed repeat (default 20)")
    ap.add_argument("--repeats", type=whole_number(1), default=3, help="interleaved repeats (default 3)")
    ap.add_argument("--profile-steps", type=whole_number(1), default=100, help="steps of the profiled run (100)")
    ap.add_argument("--entropy-repeats", type=whole_number(2), default=21, help="ratios: entropy repeats (21)")
    ap.add_argument("--psi-repeats", type=whole_number(2), default=41, help="ratios: psi repeats (41)")
    ap.add_argument("--capability", nargs="+", choices=("native", "avx2", "avx512", "default"),
                    default=list(CAPABILITIES), help="ratios: the kernels to measure under (native avx2)")
    add_debug(ap)
    a = ap.parse_args(argv)

    def body() -> None:
        if a.what == "ratios":
            _print_ratios(ratios(a.capability, a.entropy_repeats, a.psi_repeats))
            return
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
