"""Exercise checks of notebook 05's mechanism (the baseline identity and the cap), registered in
:data:`utils.exercises.core.CHECKS` like every other check (``utils.exercises`` imports this module at its end and
re-exports its checks)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register
from utils.exercises.core import slips as _slips

__all__ = ["check_cap_trim", "check_score"]


@_register
def check_score(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(logits (V,), a)``: the score ``grad_logits log softmax(logits)[a]`` (V,) -- must equal
    ``onehot(a) - softmax(logits)``; then the baseline identity ``sum_a pi(a) * b * score(a) = 0`` must hold with it."""

    def case(seed: int, scale: float) -> Callable[[], None]:
        def run() -> None:
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
        return run

    run_check("score function and the baseline identity", [case(0, 1.0), case(1, 5.0), case(2, 0.1)])


@_register
def check_cap_trim(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(advantages (B,), entropies (B, T), alpha, kappa)``: the part of psi that depends on the outcome,
    ``alpha * H - psi = max(alpha * H - |A| / kappa, 0)`` per token (no gradient through H)."""
    from utils.rlvr.losses import adv_plus_psi

    def case(alpha: float, kappa: float, seed: int) -> Callable[[], None]:
        def run() -> None:
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
        return run

    run_check("cap trim", [case(0.4, 2.0, 0), case(4.0, 2.0, 1), case(0.0, 2.0, 2), case(1.0, 1.0, 3)])
