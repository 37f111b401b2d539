"""Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1).

Draw ``n`` samples per problem, count the ``c`` correct ones; the probability that at least one of ``k``
samples drawn *without replacement* from those ``n`` is correct is

    pass@k = 1 - C(n - c, k) / C(n, k)

which is an unbiased estimate of the true pass@k of the sampler. The binomials overflow quickly, so the ratio is
computed in product form, ``C(n-c, k)/C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)``, as in the paper's code.

``coverage`` is the plain empirical share of problems solved at least once in ``n`` samples (= pass@n).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from utils.checks import whole

__all__ = ["pass_at_k", "mean_pass_at_k", "pass_at_k_curve", "coverage", "solved_at_least_once"]


def _counts(x: object, name: str) -> np.ndarray:
    """Sample counts as an int64 array; ``ValueError`` for anything that is not a whole number."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as e:  # ragged input
        raise ValueError(f"{name} must be whole numbers: {e}") from None
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} must be whole numbers (counts of samples), got {x!r:.80}")
    ok = np.isfinite(arr) & (arr == np.floor(arr))
    if not np.all(ok):
        raise ValueError(f"{name} must be whole numbers (counts of samples), got {float(arr[~ok].ravel()[0])!r}")
    return arr.astype(np.int64)


def pass_at_k(n: int | Sequence[int] | np.ndarray, c: int | Sequence[int] | np.ndarray, k: int) -> np.ndarray | float:
    """Unbiased pass@k per problem: ``1 - C(n-c, k) / C(n, k)``.

    Args:
        n: samples drawn per problem (scalar or one per problem).
        c: correct samples per problem (same shape as ``n`` or broadcastable).
        k: samples the metric allows (``1 <= k <= n``).

    Returns:
        A float for scalar input, else an array of per-problem estimates in [0, 1].

    Counts must be whole numbers (``2.0`` is 2; ``2.7`` is a ``ValueError``, never truncated).

    Numerically stable: uses the product ``prod_{i=n-c+1}^{n} (1 - k/i)`` (never forms a binomial). If
    ``n - c < k`` every k-subset holds a correct sample and the value is exactly 1.
    """
    scalar = np.isscalar(n) and np.isscalar(c)
    k = whole(k, "k")
    n_arr, c_arr = np.broadcast_arrays(_counts(n, "n"), _counts(c, "c"))
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if np.any(c_arr < 0) or np.any(c_arr > n_arr):
        raise ValueError("need 0 <= c <= n for every problem")
    if np.any(n_arr < k):
        raise ValueError(f"need n >= k for every problem (k={k}, min n={int(n_arr.min())})")
    flat_n, flat_c = n_arr.ravel().astype(np.float64), c_arr.ravel()
    out = np.ones(flat_n.shape, dtype=np.float64)
    todo = (n_arr.ravel() - flat_c) >= k  # otherwise every k-subset holds a correct sample: exactly 1
    if np.any(todo):
        nt, ct = flat_n[todo], flat_c[todo]
        width = int(ct.max()) if ct.size else 0
        j = np.arange(width, dtype=np.float64)[None, :]
        i = (nt - ct + 1)[:, None] + j  # i runs over n-c+1 .. n (one row per problem, padded)
        terms = np.where(j < ct[:, None], 1.0 - k / i, 1.0)
        out[todo] = 1.0 - np.prod(terms, axis=1)
    out = out.reshape(n_arr.shape)
    return float(out) if scalar else out


def mean_pass_at_k(n: int | Sequence[int] | np.ndarray, c: Sequence[int] | np.ndarray, k: int) -> float:
    """Mean over problems of the unbiased pass@k (the number papers report)."""
    vals = np.atleast_1d(pass_at_k(n, c, k))
    return float(vals.mean()) if vals.size else float("nan")


def pass_at_k_curve(n: int, c: Sequence[int] | np.ndarray, ks: Sequence[int] | None = None) -> dict[int, float]:
    """``{k: mean pass@k}`` for ``ks`` (default: powers of two up to ``n``, plus ``n``)."""
    if ks is None:
        ks = sorted({2**p for p in range(int(np.log2(max(n, 1))) + 1)} | {n})
    ks = [whole(k, "k") for k in ks]
    return {k: mean_pass_at_k(n, c, k) for k in ks if 1 <= k <= whole(n, "n")}


def solved_at_least_once(c: Sequence[int] | np.ndarray) -> np.ndarray:
    """Per-problem booleans: solved at least once (``c > 0``)."""
    return np.asarray(c) > 0


def coverage(c: Sequence[int] | np.ndarray) -> float:
    """Share of problems solved at least once among their samples (empirical pass@n)."""
    arr = np.asarray(c)
    return float((arr > 0).mean()) if arr.size else float("nan")
