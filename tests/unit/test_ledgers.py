"""utils.reproduce.ledgers: a notebook's rows, built by one function from the notebook's results (issue 22, part 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from utils import config, stats
from utils.reproduce import claims
from utils.reproduce import ledgers
from utils.reproduce.claims import load_claims
from utils.reproduce.ledgers import record_02
from utils.stats import diff_ci, mean_ci
from utils.rlvr.verdicts import Relation
from utils.stats import compare, compare_to


@pytest.fixture
def ci_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    return tmp_path


def test_mean_ci_and_diff_ci_read_an_interval() -> None:
    ev = compare_to([0.60, 0.59, 0.61], 0.5, labels=("share", "half"))
    assert mean_ci(ev).startswith("0.600 [95% CI 0.5") and diff_ci(ev).startswith("+0.100 [95% CI +0.0")


def test_record_02_records_the_four_rows(ci_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpora = {"task": "task model on Countdown (T = 1)", "lm": "SmolLM2 at T = 1", "lm07": "SmolLM2 at T = 0.7"}
    half = {"task": compare_to([0.59, 0.60, 0.61], 0.5, unit="seed"), "lm": compare_to([0.01, 0.02, 0.015], 0.5, unit="problem"),
            "lm07": compare_to([0.12, 0.13, 0.14], 0.5, unit="problem")}
    p80 = {k: compare_to([0.6, 0.62, 0.64], 0.672, unit=ev.unit) for k, ev in half.items()}
    words = compare([0.30, 0.25, 0.40, 0.20], [0.28, 0.30, 0.33, 0.22], paired=True, labels=("word pieces", "word starts"), unit="trace")
    after = {"task": compare([0.10, 0.12, 0.11, 0.09], [0.18, 0.17, 0.19, 0.18], paired=True, unit="completion"),
             "lm": compare([2.5, 2.4, 2.6], [2.0, 2.1, 2.1], paired=True, unit="trace"),
             "lm07": compare([0.7, 0.8, 0.75], [0.6, 0.7, 0.66], paired=True, unit="trace")}
    out = record_02(half=half, p80=p80, corpora=corpora, budget="3 seeds", words=words, words_t07=words, t07=0.7, n_traces=4,
                    kind_rates={"word start": 0.28, "word piece": 0.40}, role_rates={"operator": 0.83, "result digit": 0.07},
                    after_forks=after)
    rows = {r["id"]: r for r in claims.load_claims("ci")}
    assert list(rows) == ["wang.half_below_001", "wang.p80", "wang.fork_words", "seed.fork_then_low_run"]
    # the fork claim must hold on every corpus (none decides alone): lower on the task model, higher on both SmolLM2
    assert [r["verdict"] for r in rows.values()] == ["not testable here", "not testable here", "inconclusive", "not reproduced"]
    assert rows["wang.half_below_001"]["measured"].startswith("share of tokens below 0.01 nats, 95% CI over units: "
                                                             "task model on Countdown (T = 1): 0.600 [95% CI")
    assert list(rows["wang.p80"]["numbers"]) == ["task", "lm", "lm07"] and rows["wang.p80"]["measured"].endswith("the paper: 0.672 nats")
    assert "paired by trace (both rates from the same trace)" in rows["wang.fork_words"]["measured"]
    assert "pooled fork rates: word start 0.28, word piece 0.40; at T = 0.7: " in rows["wang.fork_words"]["measured"]
    low = rows["seed.fork_then_low_run"]
    assert "a fork and a random token of the same completion or trace" in low["measured"]
    assert "SmolLM2 at T = 1: next-5" not in low["measured"] and "SmolLM2 at T = 1: a 2.500 vs b" in low["measured"]
    assert low["n"] == "4/4 completions" and low["figure"] == "02_after_forks"
    assert "no corpus was fixed in advance" in low["why"]
    assert "lower after a fork on task model on Countdown (T = 1); higher after a fork on SmolLM2 at T = 1 and" in low["why"]
    assert len(low["numbers"]["evidence"]) == 3 and low["numbers"]["corpora"] == list(corpora.values())
    assert "descriptive row" in rows["wang.p80"]["why"]  # the reason comes from configs/margins.yaml
    assert out["seed.fork_then_low_run"][0] is after["task"] and capsys.readouterr().out.count("[claim ") == 4


def test_bands_are_a_documented_correction_decided_by_the_arithmetic(ci_build: Path) -> None:
    """Issue 29: no test against an invented 0.95 share; the entropy range p_max = 0.9 allows decides the row, and
    the per-text shares are described (unit: text), every number from the arguments."""
    h2 = lambda p: -(p * np.log2(p) + (1 - p) * np.log2(1 - p))  # noqa: E731
    lo, hi = h2(0.9), h2(0.9) + 0.1 * np.log2(49152 - 1)
    shares = [0.97, 0.6, 0.96, 0.8, 0.9, 0.78]
    out = ledgers.record_01(writeup_top=["a"], right_top=["b"], share_nats=0.8, share_bits=0.9,
                            dtype_rows=[{"dtype": "float16", "write-up: NaN tokens": 2,
                                         "token_entropy: max error (bits)": 0.01}], n_sharp_tokens=9,
                            band_shares=shares, band_range_bits=(lo, hi), vocab_size=49152, model_name="m",
                            n_tokens=500, n_texts=6)
    row = {r["id"]: r for r in load_claims("ci")}["seed.bands"]
    assert row["verdict"] == "corrected" and row["basis"] == "documented" and "evidence" not in row["numbers"]
    assert "allows 0.47-2.03 bits (V = 49,152, m)" in row["measured"] and "from 0.47 bits" in row["why"]
    assert f"is {np.mean(shares):.3f} [95% CI" in row["measured"] and "(n = 6 texts)" in row["measured"]
    assert "0.95" not in row["measured"] + row["why"] and "p = " not in row["measured"]
    assert out["seed.bands"]["n"] == 6 and row["numbers"]["range_bits"] == pytest.approx([lo, hi])


def _ev(a: list[float], b: list[float], margin: float | None = None) -> stats.Evidence:
    return stats.compare(a, b, paired=True, labels=("a", "b"), unit="seed", margin=margin)


def test_record_04_writes_its_eleven_rows(ci_build: Path) -> None:
    rng = np.random.default_rng(0)
    base = list(0.2 + rng.normal(0, 0.01, 8))
    near = [x + rng.normal(0, 0.002) for x in base]
    low = [x - 0.05 + rng.normal(0, 0.005) for x in base]
    gap = {lr: {s: _ev(near[:6], base[:6], margin=0.02) for s in (25, 50, 400)} for lr in ("1e-4", "3e-4")}
    null = {"seed": [0, 1, 2], "overlap": [0.7, 0.71, 0.69], "high_minus_rest": [0.05, 0.06, 0.055]}
    out = ledgers.record_04(
        budget="100 steps", pre_budget="100 steps, lr 0.0001", base=0.18, ev_bot=_ev(low, base),
        below_base=stats.compare_to(low, 0.18), ev_rnd=_ev(base, low), ev_top=_ev(near, base, margin=0.02), gap_ev=gap,
        same_start={"1e-4": Relation("bit for bit"), "3e-4": Relation("drift", shared_steps=77, drifting=1, n_seeds=6)}, ev_lr=_ev(low, base, margin=0.02),
        lr3_budget="100 steps at 3e-4", ev_role=_ev(near, base), ev_rho=[_ev(base, low), _ev(near, base), _ev(base, low)],
        rho_summary={"0.2": stats.seed_summary(base)}, ev_norm=_ev(near, base), ev_sgd=_ev(low, base),
        first_step_ratio={"adam": 1.0, "sgd": 5.0}, norm_budget="lr 3e-4", ev_ov=stats.compare([0.8] * 4 + [0.81] * 4, null["overlap"]),
        ev_ov_paper=stats.compare_to([0.8] * 4 + [0.81] * 4, 0.86), overlap_summary={}, null=null, chance=0.2,
        ev_hi=stats.compare([0.4, 0.42, 0.41, 0.39], null["high_minus_rest"]),
        ev_hi_vs0=stats.compare_to([0.4, 0.42, 0.41, 0.39], 0.0),
        flops={"masked": 1.0, "sparse_head_task": 0.98, "sparse_head_smollm2": 0.8})
    rows = {r["id"]: r for r in load_claims("ci") if r["notebook"] == "04_masked_rlvr.ipynb"}
    assert len(rows) == 11 and set(out) <= set(rows)
    assert rows["wang.top20_matches_full"]["verdict"] == "reproduced"        # equivalent within the margin
    assert "14B/32B" not in rows["wang.top20_matches_full"]["claim"].split(";")[0]  # not tested by this row
    assert rows["wang.bottom80_hurts"]["verdict"] == "reproduced"            # bottom-80 % lower
    lr = rows["wang.top20_lr_dependence"]                                  # a claim of our own: holds / fails
    assert lr["source"] == "derived here" and lr["verdict"] == "fails" and "reproduced" not in lr["measured"]
    # the normaliser rests on the trained experiment (AdamW with clipping, equivalence), SGD as the control
    norm = rows["wang.normaliser"]
    assert norm["basis"] == "experiment" and norm["verdict"] == "reproduced" and norm["numbers"]["control"]["acted"]
    assert "by construction" not in norm["why"] + norm["measured"] and "gradient clipping" in norm["measured"]
    # the paper's 0.86 is the published row; "more than a matched random change" is a derived row of its own
    ov, beyond = rows["wang.entropy_pattern_overlap"], rows["wang.entropy_pattern_beyond_null"]
    assert ov["verdict"] == "not reproduced" and ov["numbers"]["evidence"]["mean_b"] == pytest.approx(0.86)
    assert beyond["source"] == "derived here" and beyond["verdict"] == "holds"
    assert "every budget 25-400 steps" in rows["wang.top20_matches_full"]["measured"]
    assert "does not change with the budget" in rows["wang.top20_matches_full"]["measured"]
    assert rows["wang.top20_matches_full"]["numbers"]["budget_runs_repeat_headline"] == {
        "1e-4": "bit for bit", "3e-4": "the same training rewards for the first 77 steps (1 of 6 seeds then drift)"}


def test_rho_words_from_the_holm_contrasts() -> None:
    """The committed rho sweep (Holm 95% CIs, seed-level numbers of data/results/claims/04.json): rho 0.2 beats only
    rho 0.1 and ties 0.5 and 1."""
    def ev(other: str, diff: float, lo: float, hi: float, p: float) -> stats.Evidence:
        return stats.Evidence("paired t, Holm (m = 3)", 8, 8, 0.225, 0.225 - diff, diff, 0.005, 7, (lo, hi),
                              (lo, hi), p, 0.01, labels=("rho 0.2", other))
    w = ledgers.rho_words([ev("rho 0.1", 0.026, 0.011, 0.040, 0.003), ev("rho 0.5", -0.002, -0.010, 0.007, 1.0),
                           ev("rho 1", -0.001, -0.010, 0.007, 1.0)])
    assert w.startswith("rho 0.2 beats only rho 0.1 (+0.026 [95% CI +0.011, +0.040], Holm p = 0.003); it ties rho 0.5")
    assert "and rho 1 (-0.001" in w and "trails" not in w
