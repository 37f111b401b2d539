"""Notebook 04's verdict rules (utils.rlvr.verdicts, utils.stats.holm, utils.rlvr.readout.compare_runs) and the
margins file they read: paired by seed, every budget, Holm over pre-specified contrasts, margins with reasons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from utils import stats
from utils.config import margins
from utils.rlvr import readout as R
from utils.rlvr import verdicts as V

REPO = Path(__file__).resolve().parents[2]


def _run(name: str, seed: int, end: float, reward: list[float] | None = None) -> dict:
    return {"name": name, "seed": seed, "eval": {"step": [0, 50, 100], "pass1": [0.178, end, end]},
            "train": {"step": [1, 2, 3], "reward": reward or [0.1, 0.2, 0.3], "entropy": [0.3, 0.3, 0.3]}}


def test_compare_runs_pairs_by_seed_whatever_the_order() -> None:
    a = [_run("a", s, 0.2 + 0.01 * s) for s in (3, 0, 2, 1)]
    b = [_run("b", s, 0.19 + 0.01 * s + 0.001 * (s % 2)) for s in range(4)]
    ev = R.compare_runs(a, b, labels=("a", "b"))
    va = np.array([0.2 + 0.01 * s for s in range(4)])
    vb = np.array([0.19 + 0.01 * s + 0.001 * (s % 2) for s in range(4)])
    ref = st.ttest_rel(va, vb)
    assert ev.test == "paired t" and ev.detail["seeds"] == [0, 1, 2, 3]
    assert ev.p == pytest.approx(ref.pvalue, rel=1e-9)
    assert ev.detail["correlation"] == pytest.approx(np.corrcoef(va, vb)[0, 1], rel=1e-9)


def test_compare_runs_refuses_unmatched_seeds() -> None:
    with pytest.raises(ValueError, match="same seeds"):
        R.compare_runs([_run("a", s, 0.2) for s in range(3)], [_run("b", s, 0.2) for s in range(4)], labels=("a", "b"))


def test_holm_matches_the_step_down_rule_and_its_intervals_agree() -> None:
    rng = np.random.default_rng(1)
    evs = [stats.compare(rng.normal(mu, 1, 8), rng.normal(0, 1, 8), paired=True) for mu in (2.0, 0.9, 0.1)]
    raw = np.array([e.p for e in evs])
    order = np.argsort(raw)
    want = np.empty(3)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[i]))
        want[i] = running
    out = stats.holm(evs)
    for e, w, r in zip(out, want, evs):
        assert e.p == pytest.approx(w, rel=1e-12)
        assert e.detail["p_raw"] == pytest.approx(r.p)
        assert (e.ci95[0] > 0 or e.ci95[1] < 0) == (e.p < 0.05)   # the interval decides as Holm does
        assert e.ci95[1] - e.ci95[0] >= r.ci95[1] - r.ci95[0] - 1e-12
        assert e.test.endswith("Holm (m = 3)")


def test_holm_can_turn_a_raw_win_into_inconclusive() -> None:
    d = np.array([0.02, 0.005, 0.012, -0.004, 0.015, 0.001, 0.009, 0.0])
    ev = stats.compare(d, np.zeros_like(d), paired=True)
    assert 0.0167 < ev.p < 0.05 and stats.verdict(ev, "greater") == "reproduced"
    out = stats.holm([ev, ev, ev])   # three such contrasts: each is adjusted to 3 p > 0.05
    assert all(e.p == pytest.approx(3 * ev.p) for e in out)
    assert all(stats.verdict(e, "greater") == "inconclusive" for e in out)
    with pytest.raises(ValueError):
        stats.holm([])


def test_budget_verdicts_use_every_budget() -> None:
    ok = stats.compare([0.0, 0.001, -0.001, 0.0005], [0.0, 0.0, 0.0, 0.0], paired=True, margin=0.02)
    wide = stats.compare([0.0, 0.05, -0.05, 0.03], [0.0] * 4, paired=True, margin=0.02)
    at, changes = V.budget_verdicts({300: wide, 100: ok, 200: ok})
    assert list(at) == [100, 200, 300] and changes
    assert V.verdict_runs(at) == "reproduced at 100-200, inconclusive at 300"
    assert V.budget_verdicts({100: ok})[1] is False


def test_first_steps_identical() -> None:
    short = [_run("s", 0, 0.2)]
    long = [dict(_run("l", 0, 0.2), train={"step": [1, 2, 3, 4], "reward": [0.1, 0.2, 0.3, 0.9],
                                            "entropy": [0.3] * 4})]
    long[0]["eval"] = {"step": [0, 50, 100, 150], "pass1": [0.178, 0.2, 0.2, 0.3]}
    assert V.first_steps_identical(long, short)
    long[0]["train"]["reward"][1] = 0.25
    assert not V.first_steps_identical(long, short)
    assert not V.first_steps_identical(long, [_run("s", 7, 0.2)])


def test_every_04_margin_has_a_reason_and_the_design_names_its_source() -> None:
    sec = margins("04")
    for key, entry in sec.items():
        assert len(str(entry.get("reason", ""))) > 80, key
    assert V.margin("top20_matches_full") == pytest.approx(0.02)
    line = V.margin_line()
    assert line.startswith("margin ±0.02 (configs/margins.yaml, 04.top20_matches_full)") and "pilot" in line
    ev = stats.compare([0.2, 0.21, 0.22], [0.2, 0.2, 0.23], paired=True, margin=0.02)
    d = V.design(ev, "top20_matches_full")
    assert "paired t" in d and "unit: seed" in d and "n = 3/3" in d and "04.top20_matches_full" in d
    assert "unpaired" in V.design(stats.compare([1, 2, 3], [2, 3, 4]))
    for key in ("p80", "half_below_001"):
        assert margins("02")[key]["margin"] is None and "descriptive" in margins("02")[key]["reason"]


def test_the_margin_rule_stated_in_margins_yaml_holds_on_the_committed_sweep() -> None:
    """0.02 is kept because half of `all`'s gain on the lr-selection runs (notebook 06's sweep, d96, lr 1e-4, seeds
    100-101) is wider: recompute that number from the committed runs."""
    sweep = sorted((REPO / "data/results/full/06_scale_ladder/lr_sweep").glob("06_d96_lrsweep_0.0001_seed*.json"))
    if not sweep:
        pytest.skip("the lr sweep runs are not committed")
    runs = [json.loads(p.read_text()) for p in sweep]
    base = runs[0]["eval"]["pass1"][0]
    gain = float(np.mean(R.values(runs))) - base
    rule = margins("04")["top20_matches_full"]["rule_fraction_of_sweep_gain"] * gain
    assert rule == pytest.approx(0.027, abs=0.001)
    assert V.margin() <= rule
    assert margins("04")["learning_rate"]["value"] == pytest.approx(1e-4)


def test_rho_contrasts_are_the_prespecified_family() -> None:
    rng = np.random.default_rng(0)
    by = {r: [_run(f"r{r}", s, 0.2 + 0.01 * r + rng.normal(0, 0.003)) for s in range(6)] for r in (0.1, 0.2, 0.5, 1.0)}
    evs = V.rho_contrasts(by)
    assert [e.labels[1] for e in evs] == ["rho 0.1", "rho 0.5", "rho 1"]
    assert all(e.detail["family_size"] == 3 and e.test.startswith("paired t") for e in evs)


def test_first_steps_relation_tells_bits_from_rewards() -> None:
    short = [_run("s", 0, 0.2)]
    long = [_run("l", 0, 0.2)]
    assert str(V.first_steps_relation(long, short)) == "bit for bit"
    long[0]["train"]["entropy"] = [0.3 + 1e-8, 0.3, 0.3]   # another reduction order: same rewards, last bits differ
    same = V.first_steps_relation(long, short)
    assert (same.kind, str(same)) == ("same rewards", "the same training rewards")
    long[0]["train"]["reward"] = [0.1, 0.2, 0.35]   # drift: the trajectories part after two steps
    drift = V.first_steps_relation(long, short)
    assert (drift.kind, drift.shared_steps, drift.drifting, drift.n_seeds) == ("drift", 2, 1, 1)
    assert str(drift) == "the same training rewards for the first 2 steps, then drift"   # one seed
    assert str(V.Relation("drift", shared_steps=77, drifting=1, n_seeds=6)) == (
        "the same training rewards for the first 77 steps (1 of 6 seeds then drift)")
    long[0]["train"]["reward"] = [0.5, 0.25, 0.3]
    different = V.first_steps_relation(long, short)
    assert different.kind == "different"
    assert V.first_steps_relation(long, []).kind == "different"   # no shared seed
    assert V.weakest_relation([V.Relation("bit for bit"), drift, same]) == drift
    assert V.weakest_relation([V.Relation("bit for bit"), different]) == different
    # the fewer shared steps, the weaker
    assert V.weakest_relation([drift, V.Relation("drift", shared_steps=1, drifting=1, n_seeds=6)]).shared_steps == 1
    with pytest.raises(ValueError):
        V.Relation("almost")


def test_live_against_committed_names_the_versions_that_differ() -> None:
    short = [_run("s", 0, 0.2)]
    live = [_run("l", 0, 0.2)]
    for r in short + live:
        r["versions"] = {"torch": "2.13.0", "transformers": "5.25.0"}
    assert V.live_against_committed(live, short) == "bit for bit"
    short[0]["versions"] = {"torch": "2.13.0", "transformers": "5.24.0"}
    live[0]["train"]["reward"] = [0.1, 0.2, 0.35]
    assert V.live_against_committed(live, short) == (
        "the same training rewards for the first 2 steps, then drift (committed with transformers 5.24.0; now 5.25.0)")
    assert V.live_against_committed(live, []) == "different"   # no committed run of that seed
