"""utils.lessons: the sentences notebooks 01-03 show are built from the numbers they are given (a verdict changes
the words; the interval is the one passed), and the data helpers return what the notebooks read."""

from __future__ import annotations

import numpy as np

from utils import lessons
from utils.stats import Evidence


def _ev(diff: float, lo: float, hi: float, n: int = 6, mean_a: float = 0.835, unit: str = "text") -> Evidence:
    return Evidence("one-sample t", n, 0, mean_a, mean_a - diff, diff, (hi - lo) / 4, n - 1, (lo, hi), (lo, hi),
                    0.05, 0.1, unit=unit)


_BANDS = {"mean": 0.835, "sd": 0.11, "n": 6, "ci95_lo": 0.721, "ci95_hi": 0.950}


def test_bands_sentence_describes_and_states_the_arithmetic() -> None:
    s = lessons.bands_sentence(_BANDS, 149, (0.47, 2.03), 49152)
    assert "0.47 to 2.03 bits" in s and "**84%**" in s and "72% to 95%" in s and "6 texts" in s
    assert "not a rule" in s and "holds" not in s


def test_entropy_by_text_sentence_describes_the_shares() -> None:
    s = lessons.entropy_by_text_sentence({"prose": [3.0, 2.0], "code": [0.5, 0.7]}, _BANDS)
    assert "code has the lowest median" in s and "0.83 on average [95 % CI 0.72, 0.95]" in s and "n = 6 texts" in s


def test_distribution_sentence_lists_every_corpus_over_half() -> None:
    pooled = {"a": np.r_[np.zeros(60), np.ones(40)], "b": np.r_[np.zeros(70), np.ones(30)], "c": np.ones(10)}
    s = lessons.distribution_sentence(pooled, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert "paper's picture: a, b." in s and "most near-certain corpus is the b" in s


def test_grid_sentence_names_the_extremes() -> None:
    table = {"mean": np.array([[0.1, 0.2], [0.3, 0.05]]), "t_forks": [1.0, 2.0], "t_rests": [0.5, 1.0]}
    s = lessons.grid_sentence(table, table, _ev(0.02, -0.01, 0.05, n=500, unit="problem"), (2.0, 1.0), (1.0, 1.0))
    assert "from 0.050 at (2, 1) to 0.300 at (2, 0.5)" in s and "cannot tell" in s


def test_sample_texts_leave_out_notes() -> None:
    texts = lessons.sample_texts()
    assert {"prose", "math", "code"} <= set(texts) and not any(k.startswith("_") for k in texts)
