"""utils.ledgers: each notebook's ledger rows come from one builder; the rows carry their evidence and units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from utils import config, ledgers, stats
from utils.claims import load_claims


@pytest.fixture
def ci_results(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(config, "BUILD_DIR", tmp_path)
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    return tmp_path


def test_bands_are_tested_over_texts() -> None:
    ev = ledgers.bands_evidence([0.97, 0.99, 0.96, 1.0, 0.98, 0.95])
    assert ev.unit == "text" and ev.n_a == 6 and ev.test == "one-sample t"


def _ev(a: list[float], b: list[float], margin: float | None = None) -> stats.Evidence:
    return stats.compare(a, b, paired=True, labels=("a", "b"), unit="seed", margin=margin)


def test_record_04_writes_its_ten_rows(ci_results: Path) -> None:
    rng = np.random.default_rng(0)
    base = list(0.2 + rng.normal(0, 0.01, 8))
    near = [x + rng.normal(0, 0.002) for x in base]
    low = [x - 0.05 + rng.normal(0, 0.005) for x in base]
    gap = {lr: {s: _ev(near[:6], base[:6], margin=0.02) for s in (25, 50, 400)} for lr in ("1e-4", "3e-4")}
    null = {"seed": [0, 1, 2], "overlap": [0.7, 0.71, 0.69], "high_minus_rest": [0.05, 0.06, 0.055]}
    out = ledgers.record_04(
        budget="100 steps", pre_budget="100 steps, lr 0.0001", base=0.18, ev_bot=_ev(low, base),
        below_base=stats.compare_to(low, 0.18), ev_rnd=_ev(base, low), ev_top=_ev(near, base, margin=0.02), gap_ev=gap,
        same_start={"1e-4": "bit for bit", "3e-4": "the same training rewards"}, ev_lr=_ev(low, base, margin=0.02),
        lr3_budget="100 steps at 3e-4", ev_role=_ev(near, base), ev_rho=[_ev(base, low), _ev(near, base), _ev(base, low)],
        rho_summary={"0.2": stats.seed_summary(base)}, ev_norm=_ev(near, base), ev_sgd=_ev(low, base),
        first_step_ratio={"adam": 1.0, "sgd": 5.0}, norm_budget="lr 3e-4", ev_ov=stats.compare([0.8] * 4 + [0.81] * 4, null["overlap"]),
        ev_ov_paper=stats.compare_to([0.8] * 4 + [0.81] * 4, 0.86), overlap_summary={}, null=null, chance=0.2,
        ev_hi=stats.compare([0.4, 0.42, 0.41, 0.39], null["high_minus_rest"]),
        ev_hi_vs0=stats.compare_to([0.4, 0.42, 0.41, 0.39], 0.0),
        flops={"masked": 1.0, "sparse_head_task": 0.98, "sparse_head_smollm2": 0.8})
    rows = {r["id"]: r for r in load_claims("ci") if r["notebook"] == "04_masked_rlvr.ipynb"}
    assert len(rows) == 10 and set(out) <= set(rows)
    assert rows["wang.top20_matches_full"]["verdict"] == "reproduced"        # equivalent within the margin
    assert rows["wang.bottom80_hurts"]["verdict"] == "reproduced"            # bottom-80 % lower
    assert rows["wang.normaliser"]["basis"] == "documented"
    assert "every budget 25-400 steps" in rows["wang.top20_matches_full"]["measured"]
    assert "does not change with the budget" in rows["wang.top20_matches_full"]["measured"]
