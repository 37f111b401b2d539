"""Exercise checks for the notebooks: each says in one sentence what is wrong, or that all checks passed.

An exercise in a notebook is a markdown cell whose title starts with ``Exercise`` (difficulty, importance, minutes),
a stub cell that keeps its docstring and ``raise NotImplementedError``, the check called in the same cell
(``check_entropy_from_logits(entropy_from_logits)``), collapsed hints and a collapsed solution. A check:

* runs the learner's function on fixed edge cases and seeded random inputs and compares it with the series' own
  implementation (the tested library code);
* prints ``✓ <exercise>: all N checks passed`` and returns ``True``, or prints ``✗ <exercise>: <what is wrong>`` and
  returns ``False`` -- it never raises, so an untouched stub reads "not implemented yet" and the notebook goes on;
* ``tests/test_exercises.py`` runs every notebook's solution through its check, so exercises cannot rot.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

__all__ = ["CHECKS", "ExerciseFailed", "run_check"]


class ExerciseFailed(AssertionError):
    """Raised inside a check's body with the one sentence to show the learner."""


def _close(got: Any, want: Any, what: str, atol: float = 1e-5) -> None:
    g = torch.as_tensor(got, dtype=torch.float64) if not isinstance(got, torch.Tensor) else got.detach().double()
    w = torch.as_tensor(want, dtype=torch.float64) if not isinstance(want, torch.Tensor) else want.detach().double()
    if g.shape != w.shape:
        raise ExerciseFailed(f"{what}: expected shape {tuple(w.shape)}, got {tuple(g.shape)}")
    if not torch.allclose(g, w, atol=atol, rtol=1e-4, equal_nan=True):
        i = int((g - w).abs().nan_to_num(math.inf).flatten().argmax())
        raise ExerciseFailed(f"{what}: expected {w.flatten()[i].item():.6g}, got {g.flatten()[i].item():.6g} "
                             f"(first of the entries that differ)")


def run_check(name: str, cases: Iterable[Callable[[], None]]) -> bool:
    """Run ``cases`` (each raises :class:`ExerciseFailed` with a sentence, or returns); print one line."""
    n = 0
    try:
        for case in cases:
            case()
            n += 1
    except NotImplementedError:
        print(f"✗ {name}: not implemented yet -- replace `raise NotImplementedError` with your code")
        return False
    except ExerciseFailed as e:
        print(f"✗ {name}: {e}")
        return False
    except Exception as e:  # noqa: BLE001 - the learner's code may raise anything; say where, in one line
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"✗ {name}: your code raised {type(e).__name__}: {e} (line {where.lineno})")
        return False
    print(f"✓ {name}: all {n} checks passed")
    return True


#: Every check, by name (tests/test_exercises.py runs each notebook's solution through its check).
CHECKS: dict[str, Callable[..., bool]] = {}


def _register(fn: Callable[..., bool]) -> Callable[..., bool]:
    CHECKS[fn.__name__] = fn
    __all__.append(fn.__name__)
    return fn


# ============================================================================================ 01 token entropy


@_register
def check_entropy_from_logits(fn: Callable[..., torch.Tensor]) -> bool:
    """``fn(logits, unit="nats")``: the entropy of ``softmax(logits)`` over the last axis, in nats or bits, for any
    leading shape -- must equal ``utils.entropy.token_entropy``, including rows with masked (``-inf``) entries and
    very large logits."""
    from utils.entropy import token_entropy

    def case(logits: torch.Tensor, unit: str, what: str) -> Callable[[], None]:
        def run() -> None:
            got = fn(logits.clone(), unit=unit)
            if not isinstance(got, torch.Tensor):
                raise ExerciseFailed(f"{what}: return a tensor, got {type(got).__name__}")
            if torch.isnan(got.double()).any():
                raise ExerciseFailed(f"{what}: NaN in the result -- a masked entry has p = 0 and log p = -inf, and "
                                     "0 * -inf is NaN: count those terms as 0")
            _close(got, token_entropy(logits, unit=unit), f"{what} ({unit})", atol=1e-4)
        return run

    g = torch.Generator().manual_seed(0)
    masked = torch.randn(4, 9, generator=g)
    masked[:, 5:] = -math.inf
    masked[0, 1:] = -math.inf  # one row with a single allowed token: entropy 0
    cases = [case(torch.log(torch.tensor([0.7, 0.2, 0.1])), "nats", "the worked example 0.7 / 0.2 / 0.1"),
             case(torch.zeros(1000), "nats", "a uniform distribution over 1000 tokens (ln 1000)"),
             case(torch.randn(3, 5, 11, generator=g), "bits", "random logits of shape (3, 5, 11)"),
             case(masked, "nats", "rows with masked (-inf) entries"),
             case(torch.randn(2, 50, generator=g) * 200, "nats", "very large logits (exp overflows without log-softmax)")]
    return run_check("entropy from logits", cases)


@_register
def check_find_forks(fn: Callable[..., list]) -> bool:
    """``fn(records, q=80)``: the tokens (strings, in text order) of one scored text whose entropy is at or above the
    ``q``-th percentile of that text's entropies; records without an entropy (position 0) are skipped -- must equal
    ``[r.token for r in utils.entropy.forks(records, q)]``."""
    from utils.entropy import TokenRecord, forks

    def recs_of(hs: list[float | None]) -> list[TokenRecord]:
        return [TokenRecord(i, f"tok{i}", i, h, None, None) for i, h in enumerate(hs)]

    def case(hs: list[float | None], q: float, what: str) -> Callable[[], None]:
        def run() -> None:
            recs = recs_of(hs)
            got = fn(list(recs), q=q)
            want = [r.token for r in forks(recs, q)]
            if not isinstance(got, list):
                raise ExerciseFailed(f"{what}: return a list of token strings, got {type(got).__name__}")
            got = [g.token if isinstance(g, TokenRecord) else g for g in got]
            if got != want:
                raise ExerciseFailed(f"{what}, q={q}: expected {want}, got {got}")
        return run

    rng = np.random.default_rng(0)
    cases = [case([None, 0.1, 3.0, 0.2, 0.0, 2.0], 80, "a six-token text (position 0 has no entropy)"),
             case([None, 1.0, 1.0, 1.0, 0.0], 80, "ties at the threshold (all tied tokens count)"),
             case([None] + rng.exponential(1.0, 40).tolist(), 90, "forty tokens, the top 10 %"),
             case([None] + rng.exponential(1.0, 40).tolist(), 50, "forty tokens, the top half")]
    return run_check("find the forks", cases)


# ============================================================================================ 02 forking tokens


@_register
def check_fork_threshold(fn: Callable[..., tuple]) -> bool:
    """``fn(seqs, q)``: ``(threshold, share)`` for a corpus given as one entropy array per sequence -- the ``q``-th
    percentile of all tokens pooled (``utils.entropy.percentile_threshold``) and the share of all tokens at or above
    it (``utils.forking.share_above``)."""
    from utils.entropy import percentile_threshold
    from utils.forking import share_above

    def case(seqs: list[np.ndarray], q: float, what: str) -> Callable[[], None]:
        def run() -> None:
            got = fn([s.copy() for s in seqs], q)
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                raise ExerciseFailed("return two numbers: (threshold, share)")
            thr = percentile_threshold(np.concatenate(seqs), q)
            if abs(float(got[0]) - thr) > 1e-9:
                per_seq = float(np.mean([np.percentile(s, q) for s in seqs]))
                hint = " (that is the mean of per-sequence percentiles: pool the tokens first)" if abs(float(got[0]) - per_seq) < 1e-9 else ""
                raise ExerciseFailed(f"{what}, q={q}: expected threshold {thr:.6g}, got {float(got[0]):.6g}{hint}")
            share = share_above(seqs, thr)
            if abs(float(got[1]) - share) > 1e-9:
                raise ExerciseFailed(f"{what}, q={q}: expected share {share:.4f} of tokens at or above the threshold, "
                                     f"got {float(got[1]):.4f} (count ties: >=)")
        return run

    rng = np.random.default_rng(0)
    long_short = [rng.exponential(1.0, 200), rng.exponential(0.1, 10), rng.exponential(3.0, 5)]
    ties = [np.r_[np.zeros(90), rng.exponential(1.0, 10)], np.zeros(50)]  # a near-certain corpus: ties at 0
    cases = [case(long_short, 80, "sequences of different lengths"), case(long_short, 90, "the 90th percentile"),
             case(ties, 80, "most tokens exactly 0 (the threshold is 0, and every token is at or above it)"),
             case([rng.exponential(0.5, n) for n in (30, 40, 50)], 95, "the 95th percentile")]
    return run_check("fork threshold", cases)


@_register
def check_fork_rate_by_kind(fn: Callable[..., dict]) -> bool:
    """``fn(entropies, kinds, threshold)``: ``{kind: fork rate}`` -- for each kind, the share of its tokens (pooled
    over all sequences) at or above ``threshold``; must equal ``utils.forking.group_table(...)["share_high"]``."""
    from utils.forking import TOKEN_KINDS, group_table

    def case(ent: list[np.ndarray], kinds: list[list[str]], thr: float, what: str) -> Callable[[], None]:
        def run() -> None:
            got = fn([e.copy() for e in ent], [list(k) for k in kinds], thr)
            want = group_table(ent, kinds, thr)["share_high"].to_dict()
            if not isinstance(got, dict):
                raise ExerciseFailed(f"return a dict {{kind: rate}}, got {type(got).__name__}")
            if set(got) != set(want):
                raise ExerciseFailed(f"{what}: expected the kinds {sorted(want)}, got {sorted(got)}")
            for k, v in want.items():
                if abs(float(got[k]) - v) > 1e-9:
                    raise ExerciseFailed(f"{what}: fork rate of {k!r} should be {v:.4f}, got {float(got[k]):.4f}")
        return run

    rng = np.random.default_rng(1)
    lens = (12, 30, 7)
    rnd_ent = [rng.exponential(1.0, n) for n in lens]
    rnd_kinds = [rng.choice(TOKEN_KINDS[:5], n).tolist() for n in lens]
    cases = [case([np.array([2.0, 0.0, 1.0]), np.array([0.5])], [["word start", "word piece", "word start"], ["number"]],
                  1.0, "two short sequences (a tie at the threshold forks)"),
             case(rnd_ent, rnd_kinds, 1.0, "three random sequences"), case(rnd_ent, rnd_kinds, 0.2, "a low threshold")]
    return run_check("fork rate by kind", cases)


# ============================================================================================ 03 dual temperature

# ============================================================================================ 04 masked RLVR


@_register
def check_bottom_k_mask(fn: Callable[..., torch.Tensor]) -> bool:
    """``fn(entropies, completion_mask, rho)``: the bottom 1-rho tokens by entropy, i.e. everything the top-rho
    mask does not keep -- must equal ``entropy_mask(..., mode="bottom")``."""
    from utils.rlvr.losses import entropy_mask

    def case(B: int, T: int, rho: float, seed: int, ties: bool = False) -> Callable[[], None]:
        def run() -> None:
            g = torch.Generator().manual_seed(seed)
            ent = torch.rand(B, T, generator=g) * 3
            if ties:
                ent = ent.round()
            lengths = torch.randint(0, T + 1, (B,), generator=g)
            mask = (torch.arange(T)[None, :] < lengths[:, None]).int()
            got = fn(ent.clone(), mask.clone(), rho)
            want = entropy_mask(ent, mask, rho, "bottom")
            if not isinstance(got, torch.Tensor) or got.dtype != torch.bool:
                raise ExerciseFailed(f"return a bool tensor, got {type(got).__name__} "
                                     f"{getattr(got, 'dtype', '')}")
            if (got & ~mask.bool()).any():
                raise ExerciseFailed("a padding position was selected: restrict to completion_mask")
            if int(got.sum()) != int(want.sum()):
                raise ExerciseFailed(f"rho={rho}, {int(mask.sum())} valid tokens: expected {int(want.sum())} "
                                     f"selected, got {int(got.sum())} (bottom keeps N - ceil(rho N))")
            if not torch.equal(got, want):
                raise ExerciseFailed(f"rho={rho}: right count, wrong tokens (ties go to the earlier position in top)")
        return run

    cases = [case(4, 6, 0.2, 0), case(3, 10, 0.5, 1), case(5, 7, 0.1, 2, ties=True), case(2, 4, 0.2, 3)]
    return run_check("bottom-k mask", cases)


@_register
def check_group_advantages(fn: Callable[..., torch.Tensor]) -> bool:
    """``fn(rewards, group_size)``: GRPO's advantage, each reward minus its group's mean, divided by the group's
    standard deviation (TRL's default: unbiased std, plus 1e-4) -- groups are consecutive ``group_size`` blocks."""

    def ref(r: torch.Tensor, g: int) -> torch.Tensor:
        x = r.view(-1, g)
        return ((x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-4)).view(-1)

    def case(rewards: list[float], g: int, what: str) -> Callable[[], None]:
        def run() -> None:
            r = torch.tensor(rewards)
            _close(fn(r.clone(), g), ref(r, g), what)
        return run

    cases = [case([1, 0, 0, 1], 2, "two groups of two"), case([0, 0, 0, 0, 1, 0, 0, 0], 4, "one correct in a group of 4"),
             case([1, 1, 1, 1], 4, "all correct (zero advantage, no learning signal)"),
             case(torch.rand(64, generator=torch.Generator().manual_seed(0)).round().tolist(), 8, "random 0/1 rewards")]
    return run_check("group advantages", cases)


# ============================================================================================ 05 entropy bonus


@_register
def check_psi(fn: Callable[..., torch.Tensor]) -> bool:
    """``fn(advantages (B,), entropies (B, T), alpha, kappa)``: psi = min(alpha * H, |A| / kappa) per token,
    detached from the entropies' graph -- must equal the psi of ``utils.rlvr.adv_plus_psi``."""
    from utils.rlvr.losses import adv_plus_psi

    def case(A: list[float], H: list[list[float]], alpha: float, kappa: float, what: str) -> Callable[[], None]:
        def run() -> None:
            a, h = torch.tensor(A), torch.tensor(H, requires_grad=True)
            got = fn(a.clone(), h, alpha, kappa)
            if isinstance(got, torch.Tensor) and got.requires_grad:
                raise ExerciseFailed("psi must not carry a gradient: use H.detach()")
            _close(got, adv_plus_psi(a, h.detach(), None, alpha, kappa)[1], what)
        return run

    g = torch.Generator().manual_seed(0)
    ra, rh = (torch.randn(16, generator=g) * 2).tolist(), (torch.rand(16, 5, generator=g) * 4).tolist()
    cases = [case([1.0, -1.0], [[0.05, 2.0], [0.05, 2.0]], 0.4, 2.0, "one correct, one wrong completion"),
             case([0.0], [[3.0, 0.1]], 0.4, 2.0, "a zero-advantage group (psi must be 0)"),
             case([-1.0], [[10.0]], 0.4, 1.0, "kappa = 1 (the cap is |A|)"), case(ra, rh, 1.5, 2.0, "random batch")]
    return run_check("psi", cases)


@_register
def check_cap_binds(fn: Callable[..., float]) -> bool:
    """``fn(advantages, entropies, alpha, kappa)``: the share of tokens where the cap |A|/kappa is the smaller term
    (over all tokens, ties count as not binding)."""
    from utils.rlvr.losses import adv_plus_psi

    def case(alpha: float, kappa: float, seed: int) -> Callable[[], None]:
        def run() -> None:
            g = torch.Generator().manual_seed(seed)
            a, h = torch.randn(32, generator=g), torch.rand(32, 6, generator=g) * 3
            want = float(adv_plus_psi(a, h, None, alpha, kappa)[2].float().mean())
            got = fn(a.clone(), h.clone(), alpha, kappa)
            if not isinstance(got, (float, int, np.floating)) and not (isinstance(got, torch.Tensor) and got.numel() == 1):
                raise ExerciseFailed(f"return one number (a share), got {type(got).__name__}")
            if abs(float(got) - want) > 1e-6:
                raise ExerciseFailed(f"alpha={alpha}, kappa={kappa}: expected a share of {want:.4f}, got {float(got):.4f}")
        return run

    return run_check("cap binds", [case(0.4, 2.0, 0), case(0.4, 1.0, 1), case(4.0, 2.0, 2), case(0.0, 2.0, 3)])


# ============================================================================================ 06 scale ladder


@_register
def check_gap_ci(fn: Callable[..., tuple[float, float]]) -> bool:
    """``fn(top, all_)``: the 95 % confidence interval of mean(top) - mean(all_) by Welch's t (two floats) --
    must equal ``utils.stats.compare(top, all_).ci95``."""
    from utils.stats import compare

    def case(a: list[float], b: list[float], what: str) -> Callable[[], None]:
        def run() -> None:
            got = fn(list(a), list(b))
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                raise ExerciseFailed("return the interval as two numbers (low, high)")
            _close(torch.tensor([float(got[0]), float(got[1])]), torch.tensor(compare(a, b).ci95), what, atol=1e-6)
        return run

    rng = np.random.default_rng(0)
    cases = [case([0.20, 0.22, 0.19, 0.21, 0.23], [0.25, 0.24, 0.26, 0.25, 0.27], "five seeds each"),
             case([0.1, 0.3], [0.2, 0.2, 0.21, 0.19], "unequal sizes and spreads (Welch's degrees of freedom)"),
             case(rng.normal(0.2, 0.05, 8).tolist(), rng.normal(0.2, 0.01, 8).tolist(), "eight seeds each")]
    return run_check("gap CI", cases)
