"""utils.reproduce.claims: a row's verdict comes from its evidence (never typed), gated by a positive control; rows without
evidence must say their basis; the ledger table."""

from __future__ import annotations

from pathlib import Path

import pytest

from utils import config
from utils.reproduce import claim_store, claims
from utils.stats import compare


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> claims.Ledger:
    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    return claims.Ledger("04_masked_rlvr.ipynb")


def test_verdict_comes_from_evidence(ledger: claims.Ledger) -> None:
    ev = compare([0.20, 0.21, 0.19, 0.20], [0.25, 0.26, 0.24, 0.25], labels=("top-20%", "all"))
    ledger.record("wang.top20_matches_full", section="2. Training", evidence=ev, direction="greater",
                  budget="100 steps")
    ledger.record("wang.top20_matches_full", section="2. Training", evidence=ev, direction="less", budget="100 steps")
    rows = claims.load_claims("ci")
    assert len(rows) == 1  # same id: replaced, not duplicated
    r = rows[0]
    assert r["verdict"] == "reproduced" and r["numbers"]["direction"] == "less" and r["n"] == "4/4 seeds"
    assert r["numbers"]["evidence"]["ci95"][1] < 0 and r["profile"] == "ci" and r["source"] == "Wang et al. 2025"
    assert "95% CI" in r["measured"] and "lies below 0" in r["why"]
    with pytest.raises(ValueError, match="do not pass verdict"):
        ledger.record("wang.top20_matches_full", section="2", evidence=ev, direction="less", verdict="reproduced")
    with pytest.raises(ValueError, match="direction"):
        ledger.record("wang.top20_matches_full", section="2", evidence=ev)


def test_control_gates_the_verdict(ledger: claims.Ledger) -> None:
    ev = compare([0.30, 0.31, 0.32], [0.20, 0.21, 0.22])
    idle = compare([0.11, 0.10, 0.12], [0.11, 0.12, 0.10])
    ledger.record("entbonus.passk_large_k", section="6", evidence=ev, direction="greater", control=idle,
                  control_label="the bonus raised entropy")
    r = claims.load_claims("ci")[0]
    assert r["verdict"] == "inconclusive" and "the bonus raised entropy was not shown" in r["why"]
    assert r["numbers"]["control"]["acted"] is False


def test_rows_without_evidence_state_their_basis(ledger: claims.Ledger) -> None:
    with pytest.raises(ValueError, match="basis"):
        ledger.record("seed.qwen_aime", section="3", verdict="not testable here", why="needs 14B models")
    with pytest.raises(ValueError, match="must come from evidence"):
        ledger.record("seed.qwen_aime", section="3", verdict="reproduced", why="x", basis="experiment")
    with pytest.raises(ValueError, match="verdict must be one of"):
        ledger.record("seed.qwen_aime", section="3", verdict="great", why="x", basis="documented")
    with pytest.raises(ValueError, match="not in utils.reproduce.claims.PUBLISHED"):
        ledger.record("new.claim", section="3", verdict="corrected", why="x", basis="documented")
    ledger.record("seed.qwen_aime", section="3", verdict="corrected", why="'Quinn 332B' is Qwen3-32B", basis="documented",
                  measured="a | b")
    md = claims.build_ledger("ci").read_text()
    assert "- **measured:** a | b" in md and "**corrected** (documented)" in md  # details: a list, no table


def test_a_claim_of_several_parts_needs_all(ledger: claims.Ledger) -> None:
    behind = compare([0.10, 0.11, 0.09], [0.20, 0.21, 0.19])   # clearly lower
    ahead = compare([0.50, 0.52, 0.51], [0.40, 0.41, 0.39])    # clearly higher
    ledger.record("entbonus.seed_crossover_32", section="6", evidence=[behind, ahead], direction=["less", "greater"])
    assert claims.load_claims("ci")[0]["verdict"] == "reproduced"
    ledger.record("entbonus.seed_crossover_32", section="6", evidence=[behind, behind], direction=["less", "greater"])
    r = claims.load_claims("ci")[0]
    assert r["verdict"] == "not reproduced" and r["why"].startswith("all parts must hold")
    with pytest.raises(ValueError, match="one direction per"):
        ledger.record("entbonus.seed_crossover_32", section="6", evidence=[behind, ahead], direction=["less"])


def test_a_claim_belongs_to_one_notebook(ledger: claims.Ledger) -> None:
    """Issue 18, finding 13: the same claim id recorded by two notebooks gave two contradicting ledger rows."""
    from utils.results import ResultsError, save_json

    ev = compare([0.20, 0.21, 0.19, 0.20], [0.25, 0.26, 0.24, 0.25])
    ledger.record("wang.top20_matches_full", section="2", evidence=ev, direction="less")
    with pytest.raises(ValueError, match="already recorded by notebook 04"):
        claims.Ledger("05_entropy_bonus.ipynb").record("wang.top20_matches_full", section="x", evidence=ev,
                                                        direction="greater")
    ledger.record("wang.top20_matches_full", section="2", evidence=ev, direction="greater")  # its own notebook: fine
    # a file written around the check (an old run, a hand edit) is caught when the ledger is built
    rows = claims.load_claims("ci")
    save_json({"rows": {rows[0]["id"]: {**rows[0], "notebook": "05_entropy_bonus.ipynb"}}},
              claim_store._claims_dir("ci") / "05.json", schema=claims.SCHEMA)
    with pytest.raises(ResultsError, match="recorded by two notebooks"):
        claims.load_claims("ci")


def test_claims_of_our_own_hold_or_fail(ledger: claims.Ledger) -> None:
    """Issue 29: "reproduced" is for a published claim that held; a claim derived here holds or fails, from the same
    evidence and rule, and the vocabulary is checked in both directions."""
    up = compare([0.30, 0.31, 0.32], [0.20, 0.21, 0.22], paired=True)
    down = compare([0.20, 0.21, 0.22], [0.30, 0.31, 0.32], paired=True)
    ledger.record("wang.top20_lr_dependence", section="4", evidence=up, direction="greater")
    ledger.record("wang.entropy_pattern_beyond_null", section="8", evidence=down, direction="greater")
    ledger.record("wang.random20_control", section="3", evidence=up, direction="greater")
    rows = {r["id"]: r for r in claims.load_claims("ci")}
    assert rows["wang.top20_lr_dependence"]["verdict"] == "holds"
    assert rows["wang.entropy_pattern_beyond_null"]["verdict"] == "fails"
    assert rows["wang.random20_control"]["verdict"] == "reproduced"
    assert claims.verdict_word("inconclusive", "derived here") == "inconclusive"
    assert set(claims.OWN_WORDS.values()) <= set(claims.VERDICTS)
    with pytest.raises(ValueError, match="holds or fails"):
        ledger.record("entbonus.passk_entreg", section="8", basis="descriptive", verdict="reproduced", why="x")
    with pytest.raises(ValueError, match="reproduced or not"):
        ledger.record("seed.qwen_aime", section="3", basis="descriptive", verdict="holds", why="x")
    with pytest.raises(ValueError, match="must come from evidence"):
        ledger.record("entbonus.passk_entreg", section="8", basis="experiment", verdict="holds", why="x")


def test_one_equivalence_rule_for_a_directional_claim_with_a_margin(ledger: claims.Ledger) -> None:
    """entbonus.psi_entropy (issue 29): a 90% CI inside the pre-registered margin is a verdict -- no effect of a size
    that matters -- not "inconclusive", by the same rule the equivalence rows use (utils.stats.within_margin)."""
    b = [0.109 + 0.001 * i for i in range(8)]
    a = [x - 0.003 + d for x, d in zip(b, (0.004, -0.004, 0.003, -0.003, 0.005, -0.005, 0.0, 0.0))]
    ev = compare(a, b, paired=True, margin=0.01, labels=("psi", "GRPO"))
    assert ev.ci95[0] < 0 < ev.ci95[1] and -0.01 < ev.ci90[0] and ev.ci90[1] < 0.01
    ledger.record("entbonus.psi_entropy", section="8", evidence=ev, direction="greater")
    r = claims.load_claims("ci")[0]
    assert r["verdict"] == "not reproduced" and "lies inside ±0.01" in r["why"] and "size that matters" in r["why"]


def test_the_ledger_keeps_this_sessions_rows(ledger: claims.Ledger) -> None:
    """A notebook's summary reads the rows it just recorded (under staging, load_claims has the previous run's)."""
    ev = compare([0.30, 0.31, 0.32], [0.20, 0.21, 0.22], paired=True)
    ledger.record("wang.random20_control", section="3", evidence=ev, direction="greater")
    assert list(ledger.rows) == ["wang.random20_control"] and ledger.rows["wang.random20_control"]["verdict"] == "reproduced"
