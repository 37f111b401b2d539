"""Exercise checks of notebook 05 (entropy bonus): psi, and the mechanism behind it -- the score function with the
baseline identity, and the cap's trim."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register
from utils.exercises.core import slips as _slips

__all__ = ["check_cap_trim", "check_psi", "check_score"]


def _psi_case(fn: Callable[..., torch.Tensor], A: list[float], H: list[list[float]], alpha: float, kappa: float,
              what: str) -> None:
    """One case of :func:`check_psi`."""
    from utils.rlvr.losses import adv_plus_psi

    a, h = torch.tensor(A), torch.tensor(H, requires_grad=True)
    got = fn(a.clone(), h, alpha, kappa)
    if isinstance(got, torch.Tensor) and got.requires_grad:
        raise ExerciseFailed("psi must not carry a gradient: use H.detach()")
    hd, cap = h.detach(), a[:, None].abs() / kappa
    want = adv_plus_psi(a, hd, None, alpha, kappa)[1]
    _slips(got, want, {"the cap is |A|/kappa: take advantages.abs() (a wrong answer's A is negative)":
                 torch.minimum(alpha * hd, a[:, None] / kappa),
                 "min, not max: psi is the smaller of alpha*H and the cap": torch.maximum(alpha * hd, cap),
                 "the cap is |A| divided by kappa, not multiplied": torch.minimum(alpha * hd, cap * kappa**2)},
           what)
    _close(got, adv_plus_psi(a, h.detach(), None, alpha, kappa)[1], what)


@_register
def check_psi(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(advantages (B,), entropies (B, T), alpha, kappa)``: psi = min(alpha * H, |A| / kappa) per token,
    detached from the entropies' graph -- must equal the psi of ``utils.rlvr.adv_plus_psi``."""
    case = partial(_psi_case, fn)
    g = torch.Generator().manual_seed(0)
    ra, rh = (torch.randn(16, generator=g) * 2).tolist(), (torch.rand(16, 5, generator=g) * 4).tolist()
    cases = [partial(case, [1.0, -1.0], [[0.05, 2.0], [0.05, 2.0]], 0.4, 2.0, "one correct, one wrong completion"),
             partial(case, [0.0], [[3.0, 0.1]], 0.4, 2.0, "a zero-advantage group (psi must be 0)"),
             partial(case, [-1.0], [[10.0]], 0.4, 1.0, "kappa = 1 (the cap is |A|)"),
             partial(case, ra, rh, 1.5, 2.0, "random batch")]
    run_check("psi", cases)


def _score_case(fn: Callable[..., torch.Tensor], seed: int, scale: float) -> None:
    """One case of :func:`check_score`: six actions with random logits of scale ``scale``."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, generator=g) * scale
    pi = torch.softmax(logits, -1)
    for a in range(6):
        got = fn(logits.clone(), a)
        if not isinstance(got, torch.Tensor):
            raise ExerciseFailed(f"return a tensor of shape (6,), got {type(got).__name__}")
        onehot = torch.nn.functional.one_hot(torch.tensor(a), 6).float()
        _slips(got, onehot - pi, {
            "the sign is flipped: d log softmax(z)_a / dz_j = 1[j = a] - pi_j": pi - onehot,
            "missing the - softmax(logits) term (the log-sum-exp's gradient)": onehot,
            "that is the gradient of softmax(z)_a, not of log softmax(z)_a (divide by pi_a)":
                pi[a] * (onehot - pi)}, f"score of action {a}")
        _close(got, onehot - pi, f"score of action {a}")
    b = float(torch.rand(1, generator=g) * 3)
    expect = sum(pi[a] * b * fn(logits.clone(), a).detach() for a in range(6))
    if float(expect.abs().max()) > 1e-5:
        raise ExerciseFailed(f"sum_a pi(a) * b * score(a) should be 0, got max {float(expect.abs().max()):.2e}")


@_register
def check_score(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(logits (V,), a)``: the score ``grad_logits log softmax(logits)[a]`` (V,) -- must equal
    ``onehot(a) - softmax(logits)``; then the baseline identity ``sum_a pi(a) * b * score(a) = 0`` must hold with it."""
    case = partial(_score_case, fn)
    run_check("score function and the baseline identity", [partial(case, 0, 1.0), partial(case, 1, 5.0),
                                                           partial(case, 2, 0.1)])


def _trim_case(fn: Callable[..., torch.Tensor], alpha: float, kappa: float, seed: int) -> None:
    """One case of :func:`check_cap_trim`."""
    from utils.rlvr.losses import adv_plus_psi

    g = torch.Generator().manual_seed(seed)
    a, h = torch.randn(16, generator=g), (torch.rand(16, 5, generator=g) * 3).requires_grad_()
    got = fn(a.clone(), h, alpha, kappa)
    if isinstance(got, torch.Tensor) and got.requires_grad:
        raise ExerciseFailed("the trim must not carry a gradient: use H.detach()")
    hd, what = h.detach(), f"alpha={alpha}, kappa={kappa}"
    want = alpha * hd - adv_plus_psi(a, hd, None, alpha, kappa)[1]
    _slips(got, want, {
        "the trim is never negative: clamp(min=0) -- where alpha*H is under the cap nothing is trimmed":
            alpha * hd - a[:, None].abs() / kappa,
        "the cap is |A|/kappa: take advantages.abs() (a wrong answer's A is negative)":
            (alpha * hd - a[:, None] / kappa).clamp(min=0.0)}, what)
    _close(got, want, what)


@_register
def check_cap_trim(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(advantages (B,), entropies (B, T), alpha, kappa)``: the part of psi that depends on the outcome,
    ``alpha * H - psi = max(alpha * H - |A| / kappa, 0)`` per token (no gradient through H)."""
    case = partial(_trim_case, fn)
    run_check("cap trim", [partial(case, 0.4, 2.0, 0), partial(case, 4.0, 2.0, 1), partial(case, 0.0, 2.0, 2),
                           partial(case, 1.0, 1.0, 3)])
