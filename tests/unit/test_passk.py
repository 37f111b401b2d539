"""pass@k: the unbiased estimator against brute-force enumeration of all k-subsets."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.passk import coverage, mean_pass_at_k, pass_at_k, pass_at_k_curve, solved_at_least_once


def brute_force(n: int, c: int, k: int) -> float:
    samples = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_matches_enumeration(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12)


def test_vectorised_equals_scalar() -> None:
    n = np.array([10, 10, 7, 20, 5])
    c = np.array([0, 3, 7, 1, 4])
    got = pass_at_k(n, c, 4)
    assert got.shape == (5,)
    assert np.allclose(got, [pass_at_k(int(a), int(b), 4) for a, b in zip(n, c)])
    assert mean_pass_at_k(n, c, 4) == pytest.approx(float(np.mean(got)))


def test_closed_forms_and_stability() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 = c/n
    assert pass_at_k(10, 0, 5) == pytest.approx(0.0, abs=1e-12)
    assert pass_at_k(10, 6, 5) == pytest.approx(1.0)  # n - c < k
    # large n: binomials overflow float64, the product form does not
    val = pass_at_k(2000, 7, 1000)
    exact = 1 - math.comb(1993, 1000) / math.comb(2000, 1000)
    assert val == pytest.approx(exact, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.data())
def test_monotone_in_k_and_c(n: int, data: st.DataObject) -> None:
    c = data.draw(st.integers(0, n))
    vals = [pass_at_k(n, c, k) for k in range(1, n + 1)]
    assert all(0.0 <= v <= 1.0 for v in vals)
    assert all(b >= a - 1e-12 for a, b in zip(vals, vals[1:]))
    if c < n:
        assert pass_at_k(n, c + 1, 1) >= pass_at_k(n, c, 1)


def test_curve_and_coverage() -> None:
    c = [0, 1, 8, 2]
    curve = pass_at_k_curve(8, c)
    assert list(curve) == [1, 2, 4, 8]
    assert curve[8] == pytest.approx(coverage(c)) == pytest.approx(0.75)
    assert solved_at_least_once(c).tolist() == [False, True, True, True]


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 0)


def test_counts_must_be_whole_numbers() -> None:
    """pass_at_k(10, 2.7, 1) used to truncate c to 2; counts that are not whole numbers are now an error (whole
    floats such as 2.0 are their integers)."""
    assert pass_at_k(10.0, 2.0, 1) == pass_at_k(10, 2, 1) == pytest.approx(0.2)
    assert pass_at_k(np.int64(10), np.array([2.0, 3.0]), 2).tolist() == pass_at_k(10, [2, 3], 2).tolist()
    for args, name in [((10, 2.7, 1), "c"), ((10.5, 2, 1), "n"), ((10, [1, 2.5], 1), "c"), ((10, float("nan"), 1), "c"),
                       ((10, "2", 1), "c"), ((10, True, 1), "c")]:
        with pytest.raises(ValueError, match=f"{name} must be whole numbers"):
            pass_at_k(*args)
    for k in (1.5, True, "2"):
        with pytest.raises(ValueError, match="k must be a whole number"):
            pass_at_k(10, 2, k)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be a whole number"):
        pass_at_k_curve(8, [1, 2], ks=[1, 2.5])
