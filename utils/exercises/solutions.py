"""The series' own version of each exercise's function, in the exercise's signature: what the cells after an
exercise use while the learner's version does not pass its check (:func:`utils.exercises.core.use`).

Each is a thin adapter over the tested library code (no second implementation), so the notebook's numbers are the
library's until the learner's function takes over -- and, once it passes its check, the same up to rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

__all__ = ["as_logits_processor", "bottom_mask", "cap_trim", "compare_with_baseline", "dual_temperature", "fork_rate_by_kind",
           "fork_threshold", "fork_tokens", "gap_ci", "group_advantages", "pass_at_k_one", "psi", "score", "slope"]


# --------------------------------------------------------------------------------------------- 01 token entropy


def fork_tokens(records: Sequence[Any], q: float = 80) -> list[str]:
    """Exercise 1.2's ``find_forks``: the tokens of :func:`utils.entropy.forks` (strings, in text order)."""
    from utils.entropy import forks

    return [r.token for r in forks(records, q)]


# -------------------------------------------------------------------------------------------- 02 forking tokens


def fork_threshold(seqs: Sequence[Any], q: float) -> tuple[float, float]:
    """Exercise 2.1: (:func:`utils.entropy.percentile_threshold` of all tokens pooled, :func:`utils.forking.share_above`)."""
    import numpy as np

    from utils.entropy import percentile_threshold
    from utils.forking import share_above

    thr = float(percentile_threshold(np.concatenate([np.asarray(s, float) for s in seqs]), q))
    return thr, float(share_above(seqs, thr))


def fork_rate_by_kind(entropies: Sequence[Any], kinds: Sequence[Sequence[str]], threshold: float) -> dict[str, float]:
    """Exercise 2.2: ``utils.forking.group_table(...)["share_high"]`` as ``{kind: rate}``."""
    from utils.forking import group_table

    return {str(k): float(v) for k, v in group_table(entropies, kinds, threshold)["share_high"].to_dict().items()}


# ------------------------------------------------------------------------------------------ 03 dual temperature


def dual_temperature(logits: torch.Tensor, tau: float, t_fork: float, t_rest: float) -> torch.Tensor:
    """Exercise 3.1: :class:`utils.sampling.DualTemperatureLogitsProcessor` applied to a batch ``[B, V]``."""
    from utils.sampling import DualTemperatureLogitsProcessor

    return DualTemperatureLogitsProcessor(tau, t_fork=t_fork, t_rest=t_rest)(None, logits)


def as_logits_processor(rule: Callable[..., torch.Tensor], tau: float, t_fork: float, t_rest: float) -> Any:
    """A transformers ``LogitsProcessor`` that applies ``rule(logits, tau, t_fork, t_rest)`` at every step, so that
    ``generate`` (through :func:`utils.toy_lm.rollouts.evaluate_pass1`) samples with a function written in a notebook."""
    from transformers import LogitsProcessor

    class _Rule(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
            return rule(scores, tau, t_fork, t_rest)

    return _Rule()


def pass_at_k_one(n: int, c: int, k: int) -> float:
    """Exercise 3.2: :func:`utils.passk.pass_at_k` for one problem."""
    from utils.passk import pass_at_k

    return float(pass_at_k(n, c, k))


def compare_with_baseline(model: Any, tok: Any, problems: Sequence[Any], tau: float, cell: tuple[float, float],
                          seeds: Sequence[int]) -> Any:
    """Exercise 3.3: run ``cell`` and (1, 1) for every seed (:func:`utils.toy_lm.decoding_grid.run_cell`) and compare them
    paired by problem (:func:`utils.toy_lm.decoding_grid.compare_cells`)."""
    from utils.toy_lm import decoding_grid as dg

    runs = [dg.run_cell(model, tok, problems, c[0], c[1], tau, seed=s, fork_share=False)
            for c in (tuple(cell), (1.0, 1.0)) for s in seeds]
    return dg.compare_cells(runs, tuple(cell), (1.0, 1.0))


# --------------------------------------------------------------------------------------------- 04 masked RLVR


def group_advantages(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """Exercise 4.1: GRPO's advantage as TRL computes it (unbiased std of each group of ``group_size``, plus 1e-4) --
    the formula :func:`utils.exercises.check_group_advantages` checks against."""
    x = rewards.view(-1, group_size)
    return ((x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-4)).view(-1)


def bottom_mask(entropies: torch.Tensor, completion_mask: torch.Tensor, rho: float) -> torch.Tensor:
    """Exercise 4.2: :func:`utils.rlvr.entropy_mask` with ``mode="bottom"``."""
    from utils.rlvr.losses import entropy_mask

    return entropy_mask(entropies, completion_mask, rho, mode="bottom")


# -------------------------------------------------------------------------------------------- 05 entropy bonus


def psi(advantages: torch.Tensor, entropies: torch.Tensor, alpha: float, kappa: float) -> torch.Tensor:
    """Exercise 5.1: the bonus of :func:`utils.rlvr.adv_plus_psi`, ``min(alpha H, |A| / kappa)`` (detached)."""
    from utils.rlvr.losses import adv_plus_psi

    return adv_plus_psi(advantages, entropies.detach(), None, alpha, kappa)[1]


def score(logits: torch.Tensor, a: int) -> torch.Tensor:
    """Exercise 5.2: ``grad_logits log softmax(logits)[a]`` by autograd."""
    z = logits.detach().clone().requires_grad_()
    return torch.autograd.grad(torch.log_softmax(z, -1)[a], z)[0]


def cap_trim(advantages: torch.Tensor, entropies: torch.Tensor, alpha: float, kappa: float) -> torch.Tensor:
    """Exercise 5.3: the cap's trim ``alpha H - psi`` with the library's psi (detached)."""
    return alpha * entropies.detach() - psi(advantages, entropies, alpha, kappa)


# --------------------------------------------------------------------------------------------- 06 scale ladder


def gap_ci(top: Sequence[float], all_: Sequence[float]) -> tuple[float, float]:
    """Exercise 6.1: ``utils.stats.compare(top, all_).ci95`` (Welch's t)."""
    from utils.stats import compare

    lo, hi = compare(list(top), list(all_)).ci95
    return float(lo), float(hi)


def slope(x: Sequence[float], gaps: Sequence[float]) -> float:
    """Exercise 6.2: the least-squares slope of ``gaps`` against ``x`` (the slope ``utils.stats.trend`` reports)."""
    import numpy as np

    xs, ys = np.asarray(x, float), np.asarray(gaps, float)
    return float(((xs - xs.mean()) * (ys - ys.mean())).sum() / ((xs - xs.mean()) ** 2).sum())
