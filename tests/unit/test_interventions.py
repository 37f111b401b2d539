"""utils.entropy_bonus.arms: pairing by seed, the pre-registered coefficient rule, the margins file, the arms."""

from __future__ import annotations

import numpy as np
import pytest

from utils.entropy_bonus import arms as I
from utils.reproduce.ledgers import record_05


def _run(seed: int, entropy: float, pass1: float = 0.2) -> dict:
    return {"seed": seed, "train": {"entropy": [entropy] * 12}, "eval": {"step": [0, 25], "pass1": [pass1, pass1]}}


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
    from utils.entropy_bonus.arms import coverage_evidence

    base = {"samples": 4, "correct": [4, 2, 0, 1, 3]}
    runs = [{"final": {"correct": [4, 0, 0, 0, 1]}}, {"final": {"correct": [4, 2, 0, 0, 1]}}]
    at1 = coverage_evidence(runs, base, 1)
    # pass@1 = correct / n: GRPO mean (1, .25, 0, 0, .25) against (1, .5, 0, .25, .75), paired by problem
    assert at1.diff == pytest.approx(np.mean([0, -0.25, 0, -0.25, -0.5])) and at1.n_a == 5 and at1.unit == "problem"
    at4 = coverage_evidence(runs, base, 4)     # pass@n = 1 if any sample is right
    assert at4.diff == pytest.approx(np.mean([0, -0.5, 0, -1, 0]))
    assert at4.labels == ("pass@4 after GRPO", "pass@4 of the base model")


def _arm_runs(entropy: float, pass1: float, correct: int, grad: float, rng: np.random.Generator) -> list[dict]:
    """8 seeds of one arm: entropy, pass@1, hard-problem counts and gradient norms around the given values."""
    out = []
    for s in range(8):
        e = entropy + rng.normal(0, 0.001)
        out.append({"seed": s, "config": {"max_grad_norm": 1.0, "grpo_overrides": {"entropy_coef": 0.3}},
                    "train": {"entropy": [e] * 12, "psi_mean": [0.05] * 12, "psi_clip_frac": [0.2] * 12,
                              "grad_norm": list(grad + rng.normal(0, 0.3, 12))},
                    "eval": {"step": [0, 25], "pass1": [pass1 + rng.normal(0, 0.002)] * 2},
                    "final": {"samples": 128, "correct": list(np.clip(correct + rng.integers(-2, 3, 20), 0, 128))}})
    return out


def test_record_rows_says_what_was_measured(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Issue 29 on synthetic runs shaped like the committed ones: the uncapped term's two rows (the identity by
    Monte-Carlo; training equals GRPO at the alpha margins.yaml names, alpha 4's failure and its clipping stated),
    the regulariser's trade, clip-higher that did not raise entropy, psi's entropy judged by the equivalence rule."""
    from utils import config
    from utils.reproduce.claims import Ledger, load_claims

    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    rng = np.random.default_rng(0)
    spec = {I.GRPO: (0.109, 0.234, 6, 1.0), I.P04: (0.106, 0.236, 6, 1.0), I.P4: (0.107, 0.24, 6, 1.0),
            I.U04: (0.1075, 0.236, 6, 0.9), I.U4: (0.147, 0.194, 7, 2.6), I.ER: (0.174, 0.189, 9, 1.0),
            I.GRPO_MU2: (0.106, 0.225, 6, 1.0), I.CH: (0.1065, 0.221, 6, 1.0)}
    groups = {lab: _arm_runs(*v, rng) for lab, v in spec.items()}
    base_hard = {"samples": 128, "n_problems": 20, "correct": [8] * 20}
    mech = {"batches": 400, "alpha": 0.4, "sq_norm": {"psi": {"value": -6.3e-6, "ci": [-5.3e-5, 4.5e-5]},
                                                      "adv": {"value": 3.0e-2, "ci": [2.8e-2, 3.2e-2]}},
            "noise_ratio": {"value": 0.32, "ci": [0.31, 0.33]}}
    out = record_05(Ledger("05_entropy_bonus.ipynb"), groups, base_hard, mech, budget="150 steps")
    rows = {r["id"]: r for r in load_claims("ci")}
    ident, train = rows["entbonus.psi_uncapped_zero_gradient"], rows["entbonus.psi_uncapped_is_baseline"]
    assert ident["verdict"] == "holds" and "-6.3e-06 [95% CI -5.3e-05, +4.5e-05]" in ident["measured"]
    assert train["verdict"] == "holds" and train["source"] == "derived here"
    a4 = train["numbers"]["alpha_4"]
    assert a4["verdict"] == "fails" and a4["clip_share"][I.U4] > 0.9 and a4["clip_share"][I.GRPO] < 0.6
    assert f"scales {a4['clip_share'][I.U4]:.0%} of its steps down against {a4['clip_share'][I.GRPO]:.0%}" in train["measured"]
    assert "at alpha 4 it fails: final entropy +0.0" in train["measured"] and "05.uncapped_alpha" in train["measured"]
    assert len(train["numbers"]["evidence"]) == 2 and out["entbonus.psi_uncapped_is_baseline"][0].margin == 0.01
    er = rows["entbonus.passk_entreg"]
    e1 = er["numbers"]["pass1"]
    assert er["verdict"] == "holds" and f"the trade: pass@1 {e1['diff']:+.3f}" in er["measured"]
    ch = rows["entbonus.passk_cliphigh"]
    assert ch["verdict"] == "inconclusive" and not ch["numbers"]["control"]["acted"]
    assert "did not raise the final entropy" in ch["why"] and "did not test what it was meant to" in ch["why"]
    assert rows["entbonus.positive_control_entropy"]["verdict"] == "holds"
    psi = rows["entbonus.psi_entropy"]
    assert psi["numbers"]["evidence"]["margin"] == 0.01 and psi["verdict"] in ("not reproduced", "reproduced",
                                                                                "inconclusive")
    for r in rows.values():
        assert r["verdict"] not in ("reproduced", "not reproduced") or r["source"] != "derived here"
