"""Exercise checks of notebook 01 (token entropy): entropy from logits, and the forks of one text."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np
import torch

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register

__all__ = ["check_entropy_from_logits", "check_find_forks"]


def _entropy_case(fn: Callable[..., torch.Tensor], logits: torch.Tensor, unit: str, what: str) -> None:
    """One case of :func:`check_entropy_from_logits`."""
    from utils.entropy import token_entropy

    got = fn(logits.clone(), unit=unit)
    if not isinstance(got, torch.Tensor):
        raise ExerciseFailed(f"{what}: return a tensor, got {type(got).__name__}")
    if torch.isnan(got.double()).any():
        why = ("in float16, p underflows to 0 and 1e-10 rounds to 0 too, so log(p + 1e-10) is -inf: compute in "
               "float32 (logits.float()) with log_softmax" if logits.dtype == torch.float16 else
               "a masked entry has p = 0 and log p = -inf, and 0 * -inf is NaN: count those terms as 0")
        raise ExerciseFailed(f"{what}: NaN in the result -- {why}")
    nats = token_entropy(logits).double()
    slips = {"bits": [(nats * math.log(2), "bits are nats divided by ln 2, not multiplied by it"),
                      (nats, "unit='bits' must return bits: divide the nats by ln 2")],
             "nats": [(nats / math.log(2), "unit='nats' (the default) must return nats: the natural log, "
                                           "not log2")]}[unit]
    for wrong, why in slips:
        if got.shape == nats.shape and torch.allclose(got.double(), wrong, atol=1e-4, rtol=1e-4) and \
                not torch.allclose(wrong, token_entropy(logits, unit=unit).double(), atol=1e-4):
            raise ExerciseFailed(f"{what} ({unit}): {why}")
    _close(got, token_entropy(logits, unit=unit), f"{what} ({unit})", atol=1e-4)


@_register
def check_entropy_from_logits(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(logits, unit="nats")``: the entropy of ``softmax(logits)`` over the last axis, in nats or bits, for any
    leading shape -- must equal ``utils.entropy.token_entropy``, including rows with masked (``-inf``) entries and
    very large logits."""
    case = partial(_entropy_case, fn)
    g = torch.Generator().manual_seed(0)
    masked = torch.randn(4, 9, generator=g)
    masked[:, 5:] = -math.inf
    masked[0, 1:] = -math.inf  # one row with a single allowed token: entropy 0
    cases = [partial(case, torch.log(torch.tensor([0.7, 0.2, 0.1])), "nats", "the worked example 0.7 / 0.2 / 0.1"),
             partial(case, torch.zeros(1000), "nats", "a uniform distribution over 1000 tokens (ln 1000)"),
             partial(case, torch.randn(3, 5, 11, generator=g), "bits", "random logits of shape (3, 5, 11)"),
             partial(case, masked, "nats", "rows with masked (-inf) entries"),
             partial(case, torch.randn(2, 50, generator=g) * 200, "nats",
                     "very large logits (exp overflows without log-softmax)"),
             partial(case, (torch.randn(4, 500, generator=g) * 8).half(), "bits",
                     "float16 logits (the write-up's epsilon trick)")]
    run_check("entropy from logits", cases)


def _forks_case(fn: Callable[..., list], hs: list[float | None], q: float, what: str) -> None:
    """One case of :func:`check_find_forks`: a text whose tokens have the entropies ``hs``."""
    from utils.entropy import TokenRecord, forks

    recs = [TokenRecord(i, f"tok{i}", i, h, None, None) for i, h in enumerate(hs)]
    got = fn(list(recs), q=q)
    want = [r.token for r in forks(recs, q)]
    if not isinstance(got, list):
        raise ExerciseFailed(f"{what}: return a list of token strings, got {type(got).__name__}")
    got = [g.token if isinstance(g, TokenRecord) else g for g in got]
    if got != want:
        extra = [g for g in got if g not in want]
        why = ("position 0 has no entropy (None): skip it" if "tok0" in got else
               "keep the tokens in text order" if sorted(got) == sorted(want) else
               "tokens tied at the threshold count: keep entropy >= threshold" if not extra else
               "the threshold is the q-th percentile of this text's own entropies (np.percentile)")
        raise ExerciseFailed(f"{what}, q={q}: expected {want}, got {got} -- {why}")


@_register
def check_find_forks(fn: Callable[..., list]) -> None:
    """``fn(records, q=80)``: the tokens (strings, in text order) of one scored text whose entropy is at or above the
    ``q``-th percentile of that text's entropies; records without an entropy (position 0) are skipped -- must equal
    ``[r.token for r in utils.entropy.forks(records, q)]``."""
    rng = np.random.default_rng(0)
    cases = [partial(_forks_case, fn, [None, 0.1, 3.0, 0.2, 0.0, 2.0], 80,
                     "a six-token text (position 0 has no entropy)"),
             partial(_forks_case, fn, [None, 1.0, 1.0, 1.0, 0.0], 80, "ties at the threshold (all tied tokens count)"),
             partial(_forks_case, fn, [None] + rng.exponential(1.0, 40).tolist(), 90, "forty tokens, the top 10 %"),
             partial(_forks_case, fn, [None] + rng.exponential(1.0, 40).tolist(), 50, "forty tokens, the top half")]
    run_check("find the forks", cases)
