"""utils.interventions: pairing by seed, the pre-registered coefficient rule, the margins file, the arms."""

from __future__ import annotations

import numpy as np
import pytest

from utils import interventions as I


def _run(seed: int, entropy: float, pass1: float = 0.2) -> dict:
    return {"seed": seed, "train": {"entropy": [entropy] * 12}, "eval": {"pass1": [pass1, pass1]}}


def test_paired_aligns_by_seed_and_drops_unmatched() -> None:
    a = [_run(2, 0.3), _run(0, 0.1), _run(5, 0.9)]
    b = [_run(0, 0.0), _run(2, 0.2)]
    va, vb, seeds = I.paired(a, b, I.final_entropy)
    assert seeds == [0, 2]
    np.testing.assert_allclose(va - vb, [0.1, 0.1])


def test_choose_entropy_coef_takes_the_smallest_that_qualifies() -> None:
    grpo = [_run(s, 0.10) for s in range(3)]
    sweep = {0.3: [_run(s, 0.15) for s in range(3)], 0.1: [_run(s, 0.11) for s in range(3)]}
    coef, rises = I.choose_entropy_coef(sweep, grpo, min_rise=0.03)
    assert coef == 0.3 and rises[0.1] == pytest.approx(0.01) and rises[0.3] == pytest.approx(0.05)
    coef, _ = I.choose_entropy_coef({0.1: sweep[0.1], 0.3: sweep[0.1]}, grpo, min_rise=0.03)
    assert coef == 0.3  # none qualifies: the largest


def test_margins_file_and_arms() -> None:
    m = I.margins("05")
    assert m["pass1"]["margin"] > 0 and m["entropy"]["margin"] > 0 and m["passk"]["k"] == 64
    assert all(v.get("reason") for v in m.values())  # every margin and choice says why
    assert I.ARMS[I.CH].baseline == I.GRPO_MU2 and all(a.baseline in I.ARMS for a in I.ARMS.values() if a.baseline)
    from utils.rlvr import load_config

    for a in I.ARMS.values():  # every arm's config exists and loads
        load_config(a.config, profile="full")


def test_arm_evidence_is_paired() -> None:
    groups = {I.GRPO: [_run(s, 0.1 + 0.01 * s) for s in range(4)],
              I.ER: [_run(s, 0.15 + 0.01 * s + 0.001 * (s % 2)) for s in range(4)]}
    ev = I.arm_evidence(groups, I.ER, I.final_entropy, "entropy")
    assert ev.test == "paired t" and ev.n_a == 4 and ev.diff == pytest.approx(0.0505)


def test_coverage_evidence_is_pass_at_k_per_problem_paired() -> None:
    from utils.interventions import coverage_evidence

    base = {"samples": 4, "correct": [4, 2, 0, 1, 3]}
    runs = [{"final": {"correct": [4, 0, 0, 0, 1]}}, {"final": {"correct": [4, 2, 0, 0, 1]}}]
    at1 = coverage_evidence(runs, base, 1)
    # pass@1 = correct / n: GRPO mean (1, .25, 0, 0, .25) against (1, .5, 0, .25, .75), paired by problem
    assert at1.diff == pytest.approx(np.mean([0, -0.25, 0, -0.25, -0.5])) and at1.n_a == 5 and at1.unit == "problem"
    at4 = coverage_evidence(runs, base, 4)     # pass@n = 1 if any sample is right
    assert at4.diff == pytest.approx(np.mean([0, -0.5, 0, -1, 0]))
    assert at4.labels == ("pass@4 after GRPO", "pass@4 of the base model")
