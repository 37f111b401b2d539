"""Exercise checks of notebook 02 (forking tokens): the corpus threshold and share, and the fork rate by kind."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import register as _register

__all__ = ["check_fork_rate_by_kind", "check_fork_threshold"]


def _threshold_case(fn: Callable[..., tuple], seqs: list[np.ndarray], q: float, what: str) -> None:
    """One case of :func:`check_fork_threshold`."""
    from utils.entropy import percentile_threshold
    from utils.forking import share_above

    got = fn([s.copy() for s in seqs], q)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise ExerciseFailed("return two numbers: (threshold, share)")
    thr = percentile_threshold(np.concatenate(seqs), q)
    if abs(float(got[0]) - thr) > 1e-9:
        per_seq = float(np.mean([np.percentile(s, q) for s in seqs]))
        hint = (" (that is the mean of per-sequence percentiles: pool the tokens first)"
                if abs(float(got[0]) - per_seq) < 1e-9 else
                " (the q-th percentile of all tokens pooled: np.percentile(np.concatenate(seqs), q))")
        raise ExerciseFailed(f"{what}, q={q}: expected threshold {thr:.6g}, got {float(got[0]):.6g}{hint}")
    share = share_above(seqs, thr)
    if abs(float(got[1]) - share) > 1e-9:
        raise ExerciseFailed(f"{what}, q={q}: expected share {share:.4f} of tokens at or above the threshold, "
                             f"got {float(got[1]):.4f} (count ties: >=)")


@_register
def check_fork_threshold(fn: Callable[..., tuple]) -> None:
    """``fn(seqs, q)``: ``(threshold, share)`` for a corpus given as one entropy array per sequence -- the ``q``-th
    percentile of all tokens pooled (``utils.entropy.percentile_threshold``) and the share of all tokens at or above
    it (``utils.forking.share_above``)."""
    case = partial(_threshold_case, fn)
    rng = np.random.default_rng(0)
    long_short = [rng.exponential(1.0, 200), rng.exponential(0.1, 10), rng.exponential(3.0, 5)]
    ties = [np.r_[np.zeros(90), rng.exponential(1.0, 10)], np.zeros(50)]  # a near-certain corpus: ties at 0
    cases = [partial(case, long_short, 80, "sequences of different lengths"),
             partial(case, long_short, 90, "the 90th percentile"),
             partial(case, ties, 80, "most tokens exactly 0 (the threshold is 0, and every token is at or above it)"),
             partial(case, [rng.exponential(0.5, n) for n in (30, 40, 50)], 95, "the 95th percentile")]
    run_check("fork threshold", cases)


def _rate_case(fn: Callable[..., dict], ent: list[np.ndarray], kinds: list[list[str]], thr: float,
               what: str) -> None:
    """One case of :func:`check_fork_rate_by_kind`."""
    from utils.forking import group_table

    got = fn([e.copy() for e in ent], [list(k) for k in kinds], thr)
    want = group_table(ent, kinds, thr)["share_high"].to_dict()
    if not isinstance(got, dict):
        raise ExerciseFailed(f"return a dict {{kind: rate}}, got {type(got).__name__}")
    if set(got) != set(want):
        raise ExerciseFailed(f"{what}: expected the kinds {sorted(want)}, got {sorted(got)}")
    flat_h, flat_k = np.concatenate(ent), [k for ks in kinds for k in ks]
    forks = [k for h, k in zip(flat_h, flat_k) if h >= thr]
    for k, v in want.items():
        if abs(float(got[k]) - v) > 1e-9:
            share_of_forks = forks.count(k) / len(forks) if forks else math.nan
            strict = np.mean([h > thr for h, kk in zip(flat_h, flat_k) if kk == k])
            why = ("that is the share of forks that are this kind; the fork rate is the share of this "
                   "kind's tokens that fork" if abs(float(got[k]) - share_of_forks) < 1e-9 else
                   "a token exactly at the threshold forks: count entropy >= threshold"
                   if abs(float(got[k]) - strict) < 1e-9 else
                   "pool the kind's tokens over all sequences, then take the share at or above the threshold")
            raise ExerciseFailed(f"{what}: fork rate of {k!r} should be {v:.4f}, got {float(got[k]):.4f} "
                                 f"-- {why}")


@_register
def check_fork_rate_by_kind(fn: Callable[..., dict]) -> None:
    """``fn(entropies, kinds, threshold)``: ``{kind: fork rate}`` -- for each kind, the share of its tokens (pooled
    over all sequences) at or above ``threshold``; must equal ``utils.forking.group_table(...)["share_high"]``."""
    from utils.forking import TOKEN_KINDS

    case = partial(_rate_case, fn)
    rng = np.random.default_rng(1)
    lens = (12, 30, 7)
    rnd_ent = [rng.exponential(1.0, n) for n in lens]
    rnd_kinds = [rng.choice(TOKEN_KINDS[:5], n).tolist() for n in lens]
    cases = [partial(case, [np.array([2.0, 0.0, 1.0]), np.array([0.5])],
                     [["word start", "word piece", "word start"], ["number"]],
                     1.0, "two short sequences (a tie at the threshold forks)"),
             partial(case, rnd_ent, rnd_kinds, 1.0, "three random sequences"),
             partial(case, rnd_ent, rnd_kinds, 0.2, "a low threshold")]
    run_check("fork rate by kind", cases)
