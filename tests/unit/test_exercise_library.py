"""utils.exercises.solutions: the series' version of every exercise's function passes that exercise's check, and
utils.exercises.core.use returns the learner's function only when it passes (else the library's, with one line)."""

from __future__ import annotations

import pytest

from utils.exercises import solutions as lib
from utils import exercises
from utils.entropy import token_entropy
from utils.exercises.core import use

#: check name -> the library version the notebooks fall back to
FALLBACKS = {
    "check_entropy_from_logits": token_entropy, "check_find_forks": lib.fork_tokens,
    "check_fork_threshold": lib.fork_threshold, "check_fork_rate_by_kind": lib.fork_rate_by_kind,
    "check_dual_temperature": lib.dual_temperature, "check_pass_at_k": lib.pass_at_k_one,
    "check_paired_cell_comparison": lib.compare_with_baseline, "check_group_advantages": lib.group_advantages,
    "check_bottom_k_mask": lib.bottom_mask, "check_psi": lib.psi, "check_score": lib.score,
    "check_cap_trim": lib.cap_trim, "check_gap_ci": lib.gap_ci, "check_trend_slope": lib.slope,
}


def test_every_check_has_a_fallback() -> None:
    assert set(FALLBACKS) == set(exercises.CHECKS)


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_the_fallback_passes_its_check(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    exercises.CHECKS[name](FALLBACKS[name])
    out = capsys.readouterr().out
    assert out.startswith("✓"), out


def test_use_keeps_a_passing_function_and_falls_back_otherwise(capsys: pytest.CaptureFixture[str]) -> None:
    def stub(*args, **kwargs):
        raise NotImplementedError

    def wrong(seqs, q):
        return 0.0, 0.0

    assert use(lib.fork_threshold, exercises.check_fork_threshold, stub, "Exercise 2.1") is lib.fork_threshold
    out = capsys.readouterr().out.splitlines()  # the check's ✓ line, then where the function is used
    assert len(out) == 2 and out[0].startswith("✓")
    assert out[1] == "→ Exercise 2.1 done: the next cells use your `fork_threshold`"
    assert use(stub, exercises.check_fork_threshold, lib.fork_threshold, "Exercise 2.1") is lib.fork_threshold
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "→ Exercise 2.1 not done yet: the next cells use the series' utils.exercises.solutions.fork_threshold"
    assert use(wrong, exercises.check_fork_threshold, lib.fork_threshold, "Exercise 2.1") is lib.fork_threshold
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("✗") and out[1].startswith("→ Exercise 2.1 does not pass its check yet")
