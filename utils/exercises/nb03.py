"""Exercise checks of notebook 03 (dual temperature): the dual-temperature rule, pass@k, and the paired comparison
of a decoding cell with the (1, 1) baseline."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch

from utils.exercises.core import ExerciseFailed, run_check
from utils.exercises.core import close as _close
from utils.exercises.core import register as _register

__all__ = ["check_dual_temperature", "check_paired_cell_comparison", "check_pass_at_k"]


def _dual_case(fn: Callable[..., torch.Tensor], z: torch.Tensor, tau: float, tf: float, tr: float,
               what: str) -> None:
    """One case of :func:`check_dual_temperature`."""
    from utils.entropy import token_entropy
    from utils.sampling import DualTemperatureLogitsProcessor

    given = z.clone()
    got = fn(given, tau, tf, tr)
    if not isinstance(got, torch.Tensor):
        raise ExerciseFailed(f"{what}: return a tensor of tempered logits, got {type(got).__name__}")
    if not torch.equal(given, z):
        raise ExerciseFailed(f"{what}: your function changed the logits it was given; return a new tensor")
    if torch.isnan(got).any():
        raise ExerciseFailed(f"{what}: NaN in your output -- a masked token (logit -inf) has p = 0, and "
                             "0 * log 0 must count as 0 in the entropy")
    ref = DualTemperatureLogitsProcessor(tau, tf, tr)(None, z.clone())
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


@_register
def check_dual_temperature(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(logits [B, V], tau, t_fork, t_rest)``: each row divided by ``t_fork`` when the entropy (nats) of its
    *untempered* softmax is ``>= tau``, else by ``t_rest`` -- must equal ``DualTemperatureLogitsProcessor``."""
    from utils.entropy import token_entropy

    case = partial(_dual_case, fn)
    g = torch.Generator().manual_seed(0)
    scale = torch.logspace(-1, 1, 64)[:, None]  # from nearly uniform rows to nearly one-hot rows
    z = torch.randn(64, 23, generator=g) * scale
    h = token_entropy(z).sort().values
    tau = float((h[31] + h[32]) / 2)  # half the rows fork, none sits on the threshold
    masked = torch.tensor([[3.0, -math.inf, -math.inf, -math.inf], [1.0, 2.0, -math.inf, 0.5]])
    cases = [
        partial(case, z, tau, 2.0, 1.0, "64 random rows, the write-up's (2, 1)"),
        partial(case, z, tau, 1.5, 0.5, "64 random rows, (1.5, 0.5)"),
        partial(case, z[:5], tau, 0.7, 0.7, "equal temperatures (plain sampling at T = 0.7)"),
        partial(case, z[:8], float(h[-1]) + 1.0, 2.0, 0.5, "a threshold above every row (nothing forks)"),
        partial(case, masked, 0.0, 2.0, 0.5, "masked (-inf) logits and tau = 0: entropy 0 is >= 0, so every row forks"),
        partial(case, masked, 0.5, 2.0, 0.5, "masked (-inf) logits and tau = 0.5"),
    ]
    run_check("dual-temperature rule", cases)


def _pass_at_k_case(fn: Callable[[int, int, int], float], n: int, c: int, k: int, what: str) -> None:
    """One case of :func:`check_pass_at_k`."""
    from utils.passk import pass_at_k

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


@_register
def check_pass_at_k(fn: Callable[[int, int, int], float]) -> None:
    """``fn(n, c, k)``: the unbiased pass@k of one problem with ``c`` correct among ``n`` samples,
    ``1 - C(n - c, k) / C(n, k)`` -- must equal ``utils.passk.pass_at_k``."""
    case = partial(_pass_at_k_case, fn)
    rng = np.random.default_rng(0)
    rand = [(int(n), int(rng.integers(0, n + 1)), int(rng.integers(1, n + 1))) for n in rng.integers(1, 40, 12)]
    cases = [partial(case, 32, 1, 1, "pass@1 is the share of correct samples"),
             partial(case, 10, 0, 5, "no correct sample"), partial(case, 10, 10, 3, "all samples correct"),
             partial(case, 8, 5, 4, "fewer wrong samples than k: every draw holds a correct one"),
             partial(case, 32, 3, 32, "k = n: solved at least once"), partial(case, 200, 3, 100, "large n")]
    cases += [partial(case, n, c, k, "random case") for n, c, k in rand]
    run_check("pass@k", cases)


def _paired_case(fn: Callable[..., Any], model: Any, tok: Any, problems: list[Any], tau: float,
                 cell: tuple[float, float], seeds: list[int]) -> None:
    """One case of :func:`check_paired_cell_comparison`."""
    from utils.toy_lm import decoding_grid as dg

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


@_register
def check_paired_cell_comparison(fn: Callable[..., Any]) -> None:
    """``fn(model, tokenizer, problems, tau, cell, seeds)``: run ``cell`` and the (1, 1) baseline for every seed,
    average each problem's pass@1 over the seeds, compare the two cells paired by problem -- must equal
    ``utils.toy_lm.decoding_grid.compare_cells`` on the same runs."""
    from utils import countdown as cd
    from utils.notebook import quiet
    from utils.toy_lm import load_task_model, load_train_info

    with quiet():
        model, tok = load_task_model()
    problems = cd.load_eval_problems()[:30]
    tau = float(load_train_info()["metrics"]["entropy_seed0"]["p80"])
    case = partial(_paired_case, fn, model, tok, problems, tau)
    run_check("paired cell comparison", [partial(case, (1.25, 1.0), [0, 1]), partial(case, (0.5, 1.0), [3])])
