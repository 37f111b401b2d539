"""Exercise checks for the notebooks: each says in one sentence what is wrong, or that all checks passed.

An exercise in a notebook is a markdown cell whose title starts with ``Exercise`` (difficulty, importance, minutes),
a stub cell that keeps its docstring and ``raise NotImplementedError``, the check called in the same cell
(``check_entropy_from_logits(entropy_from_logits)``), collapsed hints and a collapsed solution. A check:

* runs the learner's function on fixed edge cases and seeded random inputs and compares it with the series' own
  implementation (the tested library code);
* prints ``✓ <exercise>: all N checks passed`` or ``✗ <exercise>: <what is wrong>`` and returns nothing (so a
  notebook cell shows just that line) -- it never raises, so an untouched stub reads "not implemented yet" and the
  notebook goes on;
* ``tests/test_exercises.py`` runs every notebook's solution through its check, so exercises cannot rot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from utils.exercises.core import CHECKS, ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register
from utils.exercises.core import slips as _slips


# ============================================================================================ 01 token entropy


@_register
def check_entropy_from_logits(fn: Callable[..., torch.Tensor]) -> None:
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
        return run

    g = torch.Generator().manual_seed(0)
    masked = torch.randn(4, 9, generator=g)
    masked[:, 5:] = -math.inf
    masked[0, 1:] = -math.inf  # one row with a single allowed token: entropy 0
    cases = [case(torch.log(torch.tensor([0.7, 0.2, 0.1])), "nats", "the worked example 0.7 / 0.2 / 0.1"),
             case(torch.zeros(1000), "nats", "a uniform distribution over 1000 tokens (ln 1000)"),
             case(torch.randn(3, 5, 11, generator=g), "bits", "random logits of shape (3, 5, 11)"),
             case(masked, "nats", "rows with masked (-inf) entries"),
             case(torch.randn(2, 50, generator=g) * 200, "nats", "very large logits (exp overflows without log-softmax)"),
             case((torch.randn(4, 500, generator=g) * 8).half(), "bits", "float16 logits (the write-up's epsilon trick)")]
    run_check("entropy from logits", cases)


@_register
def check_find_forks(fn: Callable[..., list]) -> None:
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
                extra = [g for g in got if g not in want]
                why = ("position 0 has no entropy (None): skip it" if "tok0" in got else
                       "keep the tokens in text order" if sorted(got) == sorted(want) else
                       "tokens tied at the threshold count: keep entropy >= threshold" if not extra else
                       "the threshold is the q-th percentile of this text's own entropies (np.percentile)")
                raise ExerciseFailed(f"{what}, q={q}: expected {want}, got {got} -- {why}")
        return run

    rng = np.random.default_rng(0)
    cases = [case([None, 0.1, 3.0, 0.2, 0.0, 2.0], 80, "a six-token text (position 0 has no entropy)"),
             case([None, 1.0, 1.0, 1.0, 0.0], 80, "ties at the threshold (all tied tokens count)"),
             case([None] + rng.exponential(1.0, 40).tolist(), 90, "forty tokens, the top 10 %"),
             case([None] + rng.exponential(1.0, 40).tolist(), 50, "forty tokens, the top half")]
    run_check("find the forks", cases)


# ============================================================================================ 02 forking tokens


@_register
def check_fork_threshold(fn: Callable[..., tuple]) -> None:
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
                hint = (" (that is the mean of per-sequence percentiles: pool the tokens first)"
                        if abs(float(got[0]) - per_seq) < 1e-9 else
                        " (the q-th percentile of all tokens pooled: np.percentile(np.concatenate(seqs), q))")
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
    run_check("fork threshold", cases)


@_register
def check_fork_rate_by_kind(fn: Callable[..., dict]) -> None:
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
        return run

    rng = np.random.default_rng(1)
    lens = (12, 30, 7)
    rnd_ent = [rng.exponential(1.0, n) for n in lens]
    rnd_kinds = [rng.choice(TOKEN_KINDS[:5], n).tolist() for n in lens]
    cases = [case([np.array([2.0, 0.0, 1.0]), np.array([0.5])], [["word start", "word piece", "word start"], ["number"]],
                  1.0, "two short sequences (a tie at the threshold forks)"),
             case(rnd_ent, rnd_kinds, 1.0, "three random sequences"), case(rnd_ent, rnd_kinds, 0.2, "a low threshold")]
    run_check("fork rate by kind", cases)


# ============================================================================================ 03 dual temperature


@_register
def check_dual_temperature(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(logits [B, V], tau, t_fork, t_rest)``: each row divided by ``t_fork`` when the entropy (nats) of its
    *untempered* softmax is ``>= tau``, else by ``t_rest`` -- must equal ``DualTemperatureLogitsProcessor``."""
    from utils.entropy import token_entropy
    from utils.sampling import DualTemperatureLogitsProcessor

    def want(z: torch.Tensor, tau: float, tf: float, tr: float) -> torch.Tensor:
        return DualTemperatureLogitsProcessor(tau, tf, tr)(None, z.clone())

    def case(z: torch.Tensor, tau: float, tf: float, tr: float, what: str) -> Callable[[], None]:
        def run() -> None:
            given = z.clone()
            got = fn(given, tau, tf, tr)
            if not isinstance(got, torch.Tensor):
                raise ExerciseFailed(f"{what}: return a tensor of tempered logits, got {type(got).__name__}")
            if not torch.equal(given, z):
                raise ExerciseFailed(f"{what}: your function changed the logits it was given; return a new tensor")
            if torch.isnan(got).any():
                raise ExerciseFailed(f"{what}: NaN in your output -- a masked token (logit -inf) has p = 0, and "
                                     "0 * log 0 must count as 0 in the entropy")
            ref = want(z, tau, tf, tr)
            if got.shape != ref.shape:
                raise ExerciseFailed(f"{what}: expected shape {tuple(ref.shape)}, got {tuple(got.shape)}")
            h = token_entropy(z)
            for i in range(z.shape[0]):
                if not torch.allclose(got[i].double(), ref[i].double(), atol=1e-5, rtol=1e-4):
                    t_want = tf if h[i] >= tau else tr
                    ratio = (z[i] / got[i])[torch.isfinite(z[i]) & (z[i] != 0)]
                    t_got = f"{float(ratio[0]):.3g}" if ratio.numel() else "?"
                    hint = (" (a row exactly at the threshold forks: >=, not >)" if abs(float(h[i]) - tau) < 1e-6 else
                            " (a masked token, logit -inf, has p = 0: count 0 * log 0 as 0 in the entropy)"
                            if torch.isinf(z[i]).any() else "")
                    raise ExerciseFailed(f"{what}: row {i} has entropy {float(h[i]) + 0.0:.4f} nats (tau = {tau:.4f}), so it "
                                         f"should be divided by {t_want:g}; yours looks divided by {t_got}{hint}")
        return run

    g = torch.Generator().manual_seed(0)
    scale = torch.logspace(-1, 1, 64)[:, None]  # from nearly uniform rows to nearly one-hot rows
    z = torch.randn(64, 23, generator=g) * scale
    h = token_entropy(z).sort().values
    tau = float((h[31] + h[32]) / 2)  # half the rows fork, none sits on the threshold
    masked = torch.tensor([[3.0, -math.inf, -math.inf, -math.inf], [1.0, 2.0, -math.inf, 0.5]])
    cases = [
        case(z, tau, 2.0, 1.0, "64 random rows, the write-up's (2, 1)"),
        case(z, tau, 1.5, 0.5, "64 random rows, (1.5, 0.5)"),
        case(z[:5], tau, 0.7, 0.7, "equal temperatures (plain sampling at T = 0.7)"),
        case(z[:8], float(h[-1]) + 1.0, 2.0, 0.5, "a threshold above every row (nothing forks)"),
        case(masked, 0.0, 2.0, 0.5, "masked (-inf) logits and tau = 0: entropy 0 is >= 0, so every row forks"),
        case(masked, 0.5, 2.0, 0.5, "masked (-inf) logits and tau = 0.5"),
    ]
    run_check("dual-temperature rule", cases)


@_register
def check_pass_at_k(fn: Callable[[int, int, int], float]) -> None:
    """``fn(n, c, k)``: the unbiased pass@k of one problem with ``c`` correct among ``n`` samples,
    ``1 - C(n - c, k) / C(n, k)`` -- must equal ``utils.passk.pass_at_k``."""
    from utils.passk import pass_at_k

    def case(n: int, c: int, k: int, what: str) -> Callable[[], None]:
        def run() -> None:
            got = fn(n, c, k)
            if isinstance(got, torch.Tensor):
                got = got.item()
            if not isinstance(got, (int, float, np.floating, np.integer)):
                raise ExerciseFailed(f"{what}: return one number, got {type(got).__name__}")
            ref = float(pass_at_k(n, c, k))
            if not math.isclose(float(got), ref, rel_tol=1e-9, abs_tol=1e-12):
                g = float(got)
                why = ("that is pass@1, c / n: pass@k asks whether any of k samples is correct" if
                       math.isclose(g, c / n, abs_tol=1e-12) else
                       "that is 1 - (1 - c/n)^k, k draws with replacement; the k samples are drawn from the n "
                       "without replacement: 1 - C(n - c, k) / C(n, k)" if
                       math.isclose(g, 1 - (1 - c / n) ** k, rel_tol=1e-9, abs_tol=1e-12) else
                       "pass@k = 1 - C(n - c, k) / C(n, k), and C(n - c, k) = 0 when k > n - c")
                raise ExerciseFailed(f"{what} (n={n}, c={c}, k={k}): expected {ref:.6g}, got {g:.6g} -- {why}")
        return run

    rng = np.random.default_rng(0)
    rand = [(int(n), int(rng.integers(0, n + 1)), int(rng.integers(1, n + 1))) for n in rng.integers(1, 40, 12)]
    cases = [case(32, 1, 1, "pass@1 is the share of correct samples"), case(10, 0, 5, "no correct sample"),
             case(10, 10, 3, "all samples correct"), case(8, 5, 4, "fewer wrong samples than k: every draw holds a correct one"),
             case(32, 3, 32, "k = n: solved at least once"), case(200, 3, 100, "large n")]
    cases += [case(n, c, k, "random case") for n, c, k in rand]
    run_check("pass@k", cases)


@_register
def check_paired_cell_comparison(fn: Callable[..., Any]) -> None:
    """``fn(model, tokenizer, problems, tau, cell, seeds)``: run ``cell`` and the (1, 1) baseline for every seed,
    average each problem's pass@1 over the seeds, compare the two cells paired by problem -- must equal
    ``utils.toy_lm.decoding_grid.compare_cells`` on the same runs."""
    from utils import countdown as cd
    from utils.toy_lm import decoding_grid as dg
    from utils.notebook import quiet
    from utils.toy_lm import load_task_model, load_train_info

    with quiet():
        model, tok = load_task_model()
    problems = cd.load_eval_problems()[:30]
    tau = float(load_train_info()["metrics"]["entropy_seed0"]["p80"])

    def case(cell: tuple[float, float], seeds: list[int]) -> Callable[[], None]:
        def run() -> None:
            got = fn(model, tok, problems, tau, cell, list(seeds))
            runs = dg.run_grid(model, tok, problems, [], [], seeds, tau, cells=[cell, (1.0, 1.0)], fork_share=False)
            ref = dg.compare_cells(runs, cell, (1.0, 1.0))
            what = f"cell {cell} with seeds {seeds}"
            if not all(hasattr(got, a) for a in ("diff", "ci95", "n_a", "test")):
                raise ExerciseFailed(f"{what}: return the Evidence of utils.stats.compare, got {type(got).__name__}")
            if got.n_a != ref.n_a:
                raise ExerciseFailed(f"{what}: {got.n_a} units, expected {ref.n_a}: the unit is a problem -- average "
                                     "each problem's pass@1 over the seeds first")
            if got.test != "paired t":
                raise ExerciseFailed(f"{what}: {got.test!r} -- both cells ran on the same problems with the same "
                                     "seeds: pass paired=True")
            if math.isclose(got.diff, -ref.diff, abs_tol=1e-9) and abs(ref.diff) > 1e-9:
                raise ExerciseFailed(f"{what}: your difference has the wrong sign: a is `cell`, b the (1, 1) baseline")
            _close(torch.tensor([got.diff, *got.ci95]), torch.tensor([ref.diff, *ref.ci95]),
                   f"{what}: (diff, CI low, CI high)", atol=1e-9)
        return run

    run_check("paired cell comparison", [case((1.25, 1.0), [0, 1]), case((0.5, 1.0), [3])])


# ============================================================================================ 04 masked RLVR


@_register
def check_bottom_k_mask(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(entropies, completion_mask, rho)``: the bottom 1-rho tokens by entropy, i.e. everything the top-rho
    mask does not keep -- must equal ``entropy_mask(..., mode="bottom")``."""
    from utils.rlvr.losses import entropy_mask

    def case(B: int, T: int, rho: float, seed: int, ties: bool = False, equal: bool = False) -> Callable[[], None]:
        def run() -> None:
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
        return run

    cases = [case(4, 6, 0.2, 0), case(3, 10, 0.5, 1), case(5, 7, 0.1, 2, ties=True), case(2, 4, 0.2, 3),
             case(1, 10, 0.2, 4, equal=True)]
    run_check("bottom-k mask", cases)


_TRANSPOSED = ("the groups are transposed: `view(group_size, -1)` makes group_size rows of the wrong rewards; "
               "`view(-1, group_size)` gives one row per group of consecutive rewards")


def _transposed_advantages(r: torch.Tensor, g: int) -> list[tuple[str, torch.Tensor]]:
    """The usual slip of Exercise 4.1, ``r.view(g, -1)``, normalised along either dimension."""
    x = r.view(g, -1)
    return [(_TRANSPOSED, ((x - x.mean(d, keepdim=True)) / (x.std(d, keepdim=True) + 1e-4)).reshape(-1))
            for d in (1, 0)]


@_register
def check_group_advantages(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(rewards, group_size)``: GRPO's advantage, each reward minus its group's mean, divided by the group's
    standard deviation (TRL's default: unbiased std, plus 1e-4) -- groups are consecutive ``group_size`` blocks."""

    def ref(r: torch.Tensor, g: int) -> torch.Tensor:
        x = r.view(-1, g)
        return ((x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-4)).view(-1)

    def mistakes(r: torch.Tensor, g: int) -> list[tuple[str, torch.Tensor]]:
        x = r.view(-1, g)
        centred = x - x.mean(1, keepdim=True)
        return list({"std with ddof=0 (the population std); GRPO uses the unbiased std (ddof=1)":
                (centred / (x.std(1, unbiased=False, keepdim=True) + 1e-4)).view(-1),
                "missing the + 1e-4 in the denominator (a group whose rewards are all equal has std 0)":
                (centred / x.std(1, keepdim=True)).view(-1),
                "normalised over the whole batch; GRPO normalises within each group of group_size completions":
                ((r - r.mean()) / (r.std() + 1e-4))}.items()) + _transposed_advantages(r, g)

    def case(rewards: list[float], g: int, what: str) -> Callable[[], None]:
        def run() -> None:
            r = torch.tensor(rewards, dtype=torch.float32)   # rewards are 0.0 / 1.0 floats, as TRL passes them
            got, want = fn(r.clone(), g), ref(r, g)
            off = isinstance(got, torch.Tensor) and got.shape == want.shape and not torch.allclose(
                got.double(), want.double(), atol=1e-5, rtol=1e-4)
            if off:  # say why, when the answer is one of the usual mistakes
                for why, wrong in mistakes(r, g):
                    if torch.allclose(got.double(), wrong.double(), atol=1e-5, rtol=1e-4, equal_nan=True):
                        raise ExerciseFailed(f"{what}: {why}")
            _close(got, want, what)
        return run

    cases = [case([1, 0, 0, 1], 2, "two groups of two"), case([0, 0, 0, 0, 1, 0, 0, 0], 4, "one correct in a group of 4"),
             case([1, 1, 1, 1], 4, "all correct (zero advantage, no learning signal)"),
             case(torch.rand(64, generator=torch.Generator().manual_seed(0)).round().tolist(), 8, "random 0/1 rewards")]
    run_check("group advantages", cases)


# ============================================================================================ 05 entropy bonus


@_register
def check_psi(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(advantages (B,), entropies (B, T), alpha, kappa)``: psi = min(alpha * H, |A| / kappa) per token,
    detached from the entropies' graph -- must equal the psi of ``utils.rlvr.adv_plus_psi``."""
    from utils.rlvr.losses import adv_plus_psi

    def case(A: list[float], H: list[list[float]], alpha: float, kappa: float, what: str) -> Callable[[], None]:
        def run() -> None:
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
        return run

    g = torch.Generator().manual_seed(0)
    ra, rh = (torch.randn(16, generator=g) * 2).tolist(), (torch.rand(16, 5, generator=g) * 4).tolist()
    cases = [case([1.0, -1.0], [[0.05, 2.0], [0.05, 2.0]], 0.4, 2.0, "one correct, one wrong completion"),
             case([0.0], [[3.0, 0.1]], 0.4, 2.0, "a zero-advantage group (psi must be 0)"),
             case([-1.0], [[10.0]], 0.4, 1.0, "kappa = 1 (the cap is |A|)"), case(ra, rh, 1.5, 2.0, "random batch")]
    run_check("psi", cases)


# ============================================================================================ 06 scale ladder


def _gap_ci_slip(a: list[float], b: list[float], slip: str) -> tuple[float, float]:
    """Exercise 6.1's usual slips: the normal quantile, Student's pooled df, or the ddof=0 variance."""
    from scipy.stats import t

    x, y = np.asarray(a, float), np.asarray(b, float)
    ddof = 0 if slip == "ddof0" else 1
    va, vb = x.var(ddof=ddof) / x.size, y.var(ddof=ddof) / y.size
    df = x.size + y.size - 2 if slip == "pooled" else (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    h = (1.959964 if slip == "z" else float(t.ppf(0.975, df))) * float(np.sqrt(va + vb))
    d = float(x.mean() - y.mean())
    return d - h, d + h


@_register
def check_gap_ci(fn: Callable[..., tuple[float, float]]) -> None:
    """``fn(top, all_)``: the 95 % confidence interval of mean(top) - mean(all_) by Welch's t (two floats) --
    must equal ``utils.stats.compare(top, all_).ci95``."""
    from utils.stats import compare

    def case(a: list[float], b: list[float], what: str) -> Callable[[], None]:
        def run() -> None:
            got = fn(list(a), list(b))
            if not (isinstance(got, (tuple, list)) and len(got) == 2):
                raise ExerciseFailed("return the interval as two numbers (low, high)")
            got_t = torch.tensor([float(got[0]), float(got[1])], dtype=torch.float64)
            slips = {"z": "1.96 (the normal quantile): Welch's interval uses t.ppf(0.975, df)",
                     "pooled": ("the pooled (Student) degrees of freedom n_a + n_b - 2: Welch's df comes from the "
                                "Welch-Satterthwaite formula"),
                     "ddof0": "var with ddof=0: the sample variance divides by n - 1"}
            want = torch.tensor(compare(a, b).ci95, dtype=torch.float64)
            _slips(got_t, want, {f"the half-width uses {why}": torch.tensor(_gap_ci_slip(a, b, k), dtype=torch.float64)
                                 for k, why in slips.items()}, what, atol=1e-6)
            _close(got_t, torch.tensor(compare(a, b).ci95), what, atol=1e-6)
        return run

    rng = np.random.default_rng(0)
    cases = [case([0.20, 0.22, 0.19, 0.21, 0.23], [0.25, 0.24, 0.26, 0.25, 0.27], "five seeds each"),
             case([0.1, 0.3], [0.2, 0.2, 0.21, 0.19], "unequal sizes and spreads (Welch's degrees of freedom)"),
             case(rng.normal(0.2, 0.05, 8).tolist(), rng.normal(0.2, 0.01, 8).tolist(), "eight seeds each")]
    run_check("gap CI", cases)


@_register
def check_trend_slope(fn: Callable[..., float]) -> None:
    """``fn(x, gaps)``: the least-squares slope of the per-size gaps against x (e.g. log10 parameters) -- must equal
    the slope ``utils.stats.trend`` reports."""
    from utils.stats import trend

    def case(x: list[float], seed: int, what: str) -> Callable[[], None]:
        def run() -> None:
            rng = np.random.default_rng(seed)
            a = [rng.normal(0.2 + 0.01 * i, 0.02, 5) for i in range(len(x))]
            b = [rng.normal(0.22, 0.02, 5) for _ in x]
            gaps = [float(ai.mean() - bi.mean()) for ai, bi in zip(a, b)]
            got = fn(list(x), gaps)
            if not isinstance(got, (float, int, np.floating)):
                raise ExerciseFailed(f"return one number (the slope), got {type(got).__name__}")
            want = trend(x, a, b).diff
            if abs(float(got) - want) > 1e-9:
                raise ExerciseFailed(f"{what}: expected a slope of {want:.5f}, got {float(got):.5f}")
        return run

    run_check("trend slope", [case([4.95, 5.54, 6.13, 6.61], 0, "four rungs"), case([0.0, 1.0], 1, "two sizes"),
                              case([1.0, 2.0, 4.0], 2, "unevenly spaced x")])


from utils.exercises.nb05 import check_cap_trim, check_score  # noqa: E402,F401  (notebook 05's mechanism checks)

__all__ = ["CHECKS", "ExerciseFailed", "run_check", *sorted(CHECKS)]
