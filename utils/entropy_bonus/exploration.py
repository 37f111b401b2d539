"""Exploration under RLVR (notebook 05): the problem set, the base model's pass@k, and per-run read-outs.

Cheng et al. 2025 add ``psi(H_t) = min(alpha * H_t.detach(), |A_t| / kappa)`` to each token's advantage
(:func:`utils.rlvr.entropy_advantage`, trained by :class:`utils.rlvr.trainers.EntropyAdvantageGRPOTrainer`). This
module adds what notebook 05 needs around those runs:

* **A problem set where pass@k at large k can move.** The 3-number task model solves almost every held-out problem
  somewhere in 64 tries (pass@64 ~ 0.93), which leaves no room at the top. :func:`hard_problems` picks the held-out
  problems the base model rarely solves, from base samples drawn with their *own* seed, so that the evaluation
  samples (another seed) are independent of the selection: ``data/countdown_eval_hard.jsonl``, made by
  ``python -m utils.entropy_bonus.exploration hard-set``.
* **The base model's pass@k** (:func:`base_pass_at_k`), sampled exactly like the runs' final evaluation.
* **Per-run read-outs** for :mod:`utils.stats`: :func:`passk_of_run`, :func:`final_entropy`, :func:`solved_sets`,
  :func:`curves`, :func:`crossover_k`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import DATA_DIR, get_profile, results_dir
from utils.passk import coverage, mean_pass_at_k, pass_at_k_curve

__all__ = [
    "HARD_PATH",
    "base_pass_at_k",
    "crossover_k",
    "curves",
    "final_entropy",
    "hard_problems",
    "passk_of_run",
    "solved_sets",
]

HARD_PATH = DATA_DIR / "countdown_eval_hard.jsonl"
#: ``python -m utils.entropy_bonus.exploration hard-set`` defaults: base samples per held-out problem, their sampling seed, and
#: the most correct samples (out of those) a problem may have to count as hard.
HARD_SAMPLES, HARD_SEED, HARD_MAX_CORRECT = 256, 7, 8


def base_pass_at_k(cfg: Any, samples: int, seed: int = 99_991, out: str | Path | None = None) -> dict[str, Any]:
    """pass@k of the untrained checkpoint named by ``cfg.model`` on the problems of the runs' final evaluation
    (``cfg.final_eval_path``, else the ``cfg.eval_n`` held-out problems), sampled exactly like
    :func:`utils.rlvr.run.run_condition`'s final evaluation (same sampler, temperature, length, seed). Returns
    ``{"name", "pass1", "pass_at_k", "coverage", "correct", "samples", "n_problems", ...}`` and writes it to ``out``
    (default ``results_dir()/<cfg.name>.json``)."""
    from utils.notebook import quiet
    from utils.results import save_json
    from utils.rlvr.run import evaluate_pass_rate
    from utils.rlvr.tasks import load_final_problems, load_policy, load_task

    with quiet():
        model, tok = load_policy(cfg)
        _, held, reward_fn = load_task(cfg, 0)
        held = load_final_problems(cfg, held)
        temp = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
        r = evaluate_pass_rate(model, tok, held, reward_fn, samples=samples, temperature=temp,
                               max_new_tokens=cfg.max_completion_length, seed=seed, batch_size=cfg.eval_batch_size,
                               success_threshold=cfg.success_threshold)
    res = {
        "name": cfg.name, "profile": get_profile(), "model": cfg.model, "problems": cfg.final_eval_path or cfg.eval_path,
        "pass1": r["pass1"],
        "pass_at_k": {str(k): v for k, v in pass_at_k_curve(samples, r["correct"]).items()},
        "coverage": coverage(r["correct"]), "correct": r["correct"], "samples": samples, "n_problems": len(held),
        "temperature": temp, "max_new_tokens": cfg.max_completion_length, "seed": seed,
    }
    path = Path(out) if out is not None else results_dir() / f"{cfg.name}.json"
    save_json(res, path)
    return res


def hard_problems(
    model_dir: str = "task_model",
    samples: int = HARD_SAMPLES,
    seed: int = HARD_SEED,
    max_correct: int = HARD_MAX_CORRECT,
    max_new_tokens: int = 24,
) -> tuple[list[dict[str, Any]], list[int]]:
    """The held-out problems of ``model_dir``'s task that its base model solves at most ``max_correct`` times in
    ``samples`` samples at temperature 1 drawn with ``seed`` (a seed used for nothing else). Returns
    ``(problems, correct_counts_of_all_held_out)``."""
    from utils import countdown as cd
    from utils import toy_lm
    from utils.notebook import quiet
    from utils.rlvr.run import evaluate_pass_rate

    spec = toy_lm.task_spec(model_dir)
    rows = cd.load_eval_problems(spec.eval_path)
    with quiet():
        model, tok = toy_lm.load_task_model(spec.model_dir)
        r = evaluate_pass_rate(model, tok, rows, cd.countdown_reward, samples=samples, temperature=1.0,
                               max_new_tokens=max_new_tokens, seed=seed)
    hard = [row for row, c in zip(rows, r["correct"]) if c <= max_correct]
    return hard, r["correct"]


def curves(correct: Sequence[int], n: int, ks: Sequence[int] | None = None) -> np.ndarray:
    """Mean unbiased pass@k over problems for ``ks`` (default every k = 1..n), as an array aligned with ``ks``."""
    ks = list(range(1, n + 1)) if ks is None else list(ks)
    c = pass_at_k_curve(n, correct, ks)
    return np.array([c[k] for k in ks])


def passk_of_run(run: dict[str, Any], k: int) -> float:
    """A run's final pass@k (unbiased, over its ``final.samples`` samples per held-out problem)."""
    return mean_pass_at_k(run["final"]["samples"], run["final"]["correct"], k)


def final_entropy(run: dict[str, Any], last: int = 10) -> float:
    """Mean token entropy (nats) of a run's last ``last`` training batches (TRL's logged ``entropy``)."""
    e = run["train"]["entropy"]
    if not e:
        raise ValueError(f"run {run['name']} seed {run['seed']} logged no entropy")
    return float(np.mean(e[-last:]))


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


PROG = "python -m utils.entropy_bonus.exploration"


def parser() -> Any:
    from utils.infra.cli import Parser, add_debug, path_arg, seed_arg, whole_number
    from utils.config import BUILD_DIR

    ap = Parser(prog=PROG, description="Notebook 05's problem set.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hard-set", help="the held-out problems the base task model rarely solves (notebook 05)")
    h.add_argument("--model", type=lambda text: str(path_arg(text)), default="task_model",
                   help="a task-model checkpoint folder (default: the shipped one)")
    h.add_argument("--samples", type=whole_number(1), default=HARD_SAMPLES)
    h.add_argument("--seed", type=seed_arg, default=HARD_SEED)
    h.add_argument("--max-correct", type=whole_number(0), default=HARD_MAX_CORRECT)
    h.add_argument("--out", type=path_arg, default=BUILD_DIR / "countdown_eval_hard.jsonl")
    h.add_argument("--force", action="store_true", help="allow replacing the committed data/countdown_eval_hard.jsonl")
    add_debug(h)
    return ap


def _hard_set(a: Any) -> int:
    from utils import toy_lm
    from utils.infra.cli import UsageError
    from utils.results import guard_overwrite, repo_relative, write_jsonl

    if a.max_correct > a.samples:
        raise UsageError(f"--max-correct ({a.max_correct}) cannot exceed --samples ({a.samples})")
    spec = toy_lm.task_spec(a.model)  # a missing checkpoint or held-out file fails here, before anything loads
    if not (spec.model_dir / "config.json").exists():
        raise UsageError(f"--model {a.model}: no task-model checkpoint in {repo_relative(spec.model_dir)}")
    if not spec.eval_path.exists():
        raise UsageError(f"{repo_relative(spec.eval_path)} (the held-out set of --model {a.model}) is missing")
    guard_overwrite(a.out, a.force, kind="file")
    import torch

    torch.set_num_threads(1)
    hard, counts = hard_problems(a.model, a.samples, a.seed, a.max_correct)
    write_jsonl(({"numbers": r["numbers"], "target": r["target"], "prompt": r["prompt"]} for r in hard), a.out)
    print(f"wrote {len(hard)} of {len(counts)} held-out problems (base model correct <= {a.max_correct} of "
          f"{a.samples} samples, seed {a.seed}) to {repo_relative(a.out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m utils.entropy_bonus.exploration hard-set [--out PATH] [--force]``: write the hard held-out subset (default
    ``build/countdown_eval_hard.jsonl``; the committed ``data/countdown_eval_hard.jsonl`` needs ``--force``).
    Arguments are checked before the model loads: one line, exit code 2 (``--debug``: the traceback)."""
    from utils.infra.cli import run

    a = parser().parse_args(argv)
    return run(lambda: _hard_set(a), f"{PROG} {a.cmd}", a.debug)


if __name__ == "__main__":
    sys.exit(main())
