"""Exercise checks of notebook 04 (masked RLVR): the bottom-k entropy mask and GRPO's group advantages."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register

__all__ = ["check_bottom_k_mask", "check_group_advantages"]


def _bottom_case(fn: Callable[..., torch.Tensor], B: int, T: int, rho: float, seed: int, ties: bool = False,
                 equal: bool = False) -> None:
    """One case of :func:`check_bottom_k_mask`: ``B`` random sequences of up to ``T`` tokens."""
    from utils.rlvr.losses import entropy_mask

    g = torch.Generator().manual_seed(seed)
    ent = torch.rand(B, T, generator=g) * 3
    if ties:
        ent = ent.round()
    if equal:  # every token the same entropy: a threshold keeps all or none, a ranking keeps N - ceil(rho N)
        ent = torch.ones(B, T)
    lengths = torch.full((B,), T) if equal else torch.randint(0, T + 1, (B,), generator=g)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).int()
    got = fn(ent.clone(), mask.clone(), rho)
    want = entropy_mask(ent, mask, rho, "bottom")
    if not isinstance(got, torch.Tensor) or got.dtype != torch.bool:
        raise ExerciseFailed(f"return a bool tensor, got {type(got).__name__} "
                             f"{getattr(got, 'dtype', '')}")
    if (got & ~mask.bool()).any():
        raise ExerciseFailed("a padding position was selected: restrict to completion_mask")
    if int(got.sum()) != int(want.sum()):
        why = (" -- all entropies are equal here, so a threshold (< or <= a quantile) keeps all or none: rank "
               "the tokens instead" if equal else "")
        raise ExerciseFailed(f"rho={rho}, {int(mask.sum())} valid tokens: expected {int(want.sum())} "
                             f"selected, got {int(got.sum())} (bottom keeps N - ceil(rho N)){why}")
    if not torch.equal(got, want):
        raise ExerciseFailed(f"rho={rho}: right count, wrong tokens (ties go to the earlier position in top)")


@_register
def check_bottom_k_mask(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(entropies, completion_mask, rho)``: the bottom 1-rho tokens by entropy, i.e. everything the top-rho
    mask does not keep -- must equal ``entropy_mask(..., mode="bottom")``."""
    case = partial(_bottom_case, fn)
    cases = [partial(case, 4, 6, 0.2, 0), partial(case, 3, 10, 0.5, 1), partial(case, 5, 7, 0.1, 2, ties=True),
             partial(case, 2, 4, 0.2, 3), partial(case, 1, 10, 0.2, 4, equal=True)]
    run_check("bottom-k mask", cases)


_TRANSPOSED = ("the groups are transposed: `view(group_size, -1)` makes group_size rows of the wrong rewards; "
               "`view(-1, group_size)` gives one row per group of consecutive rewards")


def _transposed_advantages(r: torch.Tensor, g: int) -> list[tuple[str, torch.Tensor]]:
    """The usual slip of Exercise 4.1, ``r.view(g, -1)``, normalised along either dimension."""
    x = r.view(g, -1)
    return [(_TRANSPOSED, ((x - x.mean(d, keepdim=True)) / (x.std(d, keepdim=True) + 1e-4)).reshape(-1))
            for d in (1, 0)]


def _group_advantages(r: torch.Tensor, g: int) -> torch.Tensor:
    """GRPO's advantage of the rewards ``r`` in consecutive groups of ``g`` (the reference of Exercise 4.1)."""
    x = r.view(-1, g)
    return ((x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-4)).view(-1)


def _advantage_mistakes(r: torch.Tensor, g: int) -> list[tuple[str, torch.Tensor]]:
    """The usual mistakes of Exercise 4.1, each with what it returns."""
    x = r.view(-1, g)
    centred = x - x.mean(1, keepdim=True)
    return list({"std with ddof=0 (the population std); GRPO uses the unbiased std (ddof=1)":
            (centred / (x.std(1, unbiased=False, keepdim=True) + 1e-4)).view(-1),
            "missing the + 1e-4 in the denominator (a group whose rewards are all equal has std 0)":
            (centred / x.std(1, keepdim=True)).view(-1),
            "normalised over the whole batch; GRPO normalises within each group of group_size completions":
            ((r - r.mean()) / (r.std() + 1e-4))}.items()) + _transposed_advantages(r, g)


def _advantages_case(fn: Callable[..., torch.Tensor], rewards: list[float], g: int, what: str) -> None:
    """One case of :func:`check_group_advantages`."""
    r = torch.tensor(rewards, dtype=torch.float32)   # rewards are 0.0 / 1.0 floats, as TRL passes them
    got, want = fn(r.clone(), g), _group_advantages(r, g)
    off = isinstance(got, torch.Tensor) and got.shape == want.shape and not torch.allclose(
        got.double(), want.double(), atol=1e-5, rtol=1e-4)
    if off:  # say why, when the answer is one of the usual mistakes
        for why, wrong in _advantage_mistakes(r, g):
            if torch.allclose(got.double(), wrong.double(), atol=1e-5, rtol=1e-4, equal_nan=True):
                raise ExerciseFailed(f"{what}: {why}")
    _close(got, want, what)


@_register
def check_group_advantages(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(rewards, group_size)``: GRPO's advantage, each reward minus its group's mean, divided by the group's
    standard deviation (TRL's default: unbiased std, plus 1e-4) -- groups are consecutive ``group_size`` blocks."""
    case = partial(_advantages_case, fn)
    cases = [partial(case, [1, 0, 0, 1], 2, "two groups of two"),
             partial(case, [0, 0, 0, 0, 1, 0, 0, 0], 4, "one correct in a group of 4"),
             partial(case, [1, 1, 1, 1], 4, "all correct (zero advantage, no learning signal)"),
             partial(case, torch.rand(64, generator=torch.Generator().manual_seed(0)).round().tolist(), 8,
                     "random 0/1 rewards")]
    run_check("group advantages", cases)
