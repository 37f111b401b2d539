"""Entropy-guided RL with verifiable rewards, on top of TRL's ``GRPOTrainer``: a small package.

Two 2025 papers, reproduced at laptop scale:

* **Wang et al.** ("Beyond the 80/20 rule"): keep the policy-gradient loss only on the top-rho share of tokens by
  entropy (rho = 0.2). Conditions here: ``all`` (rho = 1), ``top`` (top-rho), ``bottom`` (the complement),
  ``random`` (as many tokens as ``top``, at random) and ``role`` (as many, chosen by Countdown role alone).
* **Cheng et al.** ("Reasoning with exploration"): add ``psi(H_t) = min(alpha * H_t.detach(), |A_t| / kappa)`` to
  each token's advantage (alpha = 0.4, kappa = 2 with GRPO).

Modules (each importable on its own; the names below are re-exported here):

* :mod:`~utils.rlvr.losses` -- masks, normalisers, advantage shaping: pure tensor functions, no TRL;
* :mod:`~utils.rlvr.trainers` -- the ``GRPOTrainer`` subclasses that apply them;
* :mod:`~utils.rlvr.config` -- :class:`RunConfig` and :func:`load_config` (YAML, run profiles, ``--set``);
* :mod:`~utils.rlvr.tasks` -- policies and tasks (Countdown checkpoints, GSM8K, the stand-in);
* :mod:`~utils.rlvr.build` -- the trainer for a config and a seed;
* :mod:`~utils.rlvr.run` -- one run, many runs in parallel, reading results back (with
  :mod:`~utils.rlvr.evaluation`: held-out pass rates; :mod:`~utils.rlvr.jobs`: a sweep's jobs, resuming);
* :mod:`~utils.rlvr.minimal` -- one GRPO step written out by hand (equal to the trainer's), training batches as
  the trainer builds them;
* :mod:`~utils.rlvr.gradients` -- per-mask policy gradients and optimiser step sizes (notebook 04);
* :mod:`~utils.rlvr.compute` -- FLOPs of one update (the write-up's compute claim).

Command line: ``python -m utils.rlvr run --config configs/countdown_top20.yaml --seed 0`` (see ``--help``).
"""

from utils.rlvr.config import ConfigError, RunConfig, config_path, load_config, parse_value
from utils.rlvr.losses import (
    CONDITIONS,
    NORMALISERS,
    adv_plus_psi,
    broadcast_advantages,
    entropy_advantage,
    entropy_advantage_seed_variant,
    entropy_mask,
    masked_policy_loss,
    n_selected,
    normaliser_comparison,
    role_mask,
)

__all__ = [
    "CONDITIONS",
    "NORMALISERS",
    "RESULTS_SCHEMA",
    "ConfigError",
    "EntropyAdvantageGRPOTrainer",
    "Job",
    "RunConfig",
    "TokenSelectGRPOTrainer",
    "adv_plus_psi",
    "broadcast_advantages",
    "build_trainer",
    "config_path",
    "entropy_advantage",
    "entropy_advantage_seed_variant",
    "entropy_mask",
    "evaluate_pass_rate",
    "load_config",
    "load_policy",
    "load_runs",
    "load_task",
    "masked_policy_loss",
    "n_selected",
    "normaliser_comparison",
    "parse_value",
    "role_mask",
    "run_condition",
    "run_many",
    "sample_batches",
]

_LAZY = {
    "EntropyAdvantageGRPOTrainer": "utils.rlvr.trainers",
    "TokenSelectGRPOTrainer": "utils.rlvr.trainers",
    "RESULTS_SCHEMA": "utils.rlvr.run",
    "Job": "utils.rlvr.run",
    "build_trainer": "utils.rlvr.build",
    "evaluate_pass_rate": "utils.rlvr.run",
    "load_runs": "utils.rlvr.run",
    "run_condition": "utils.rlvr.run",
    "run_many": "utils.rlvr.run",
    "sample_batches": "utils.rlvr.minimal",
    "load_policy": "utils.rlvr.tasks",
    "load_task": "utils.rlvr.tasks",
}


def __getattr__(name: str):  # the trainers import TRL (~10 s): only when asked for
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'utils.rlvr' has no attribute {name!r}")
