"""utils.tuning: the per-arm learning-rate rule of configs/margins.yaml (issue 29), without training."""

from __future__ import annotations

import numpy as np
import pytest

from utils import tuning


def _run(name: str, lr: float, seed: int, curve: list[float]) -> dict:
    return {"name": name, "seed": seed, "config": {"learning_rate": lr},
            "eval": {"step": [0, 25, 50, 75, 100][: len(curve)], "pass1": curve}}


def test_spec_is_fixed_in_margins_yaml():
    for nb in tuning.NOTEBOOKS:
        d = tuning.spec(nb)
        assert len(d["grid"]) >= 4 and min(d["grid"]) < 1e-4, "the grid reaches below 1e-4"
        assert d["selection_seeds"] == [100, 101]
        assert 0 < d["margin_share_of_gain"] < 1
    assert set(tuning.spec("04")["arms"]) == {"all", "top20", "bottom80", "random20", "role20"}
    assert tuning.spec("06")["arms"] == ["all", "top20"]


def test_selection_jobs_cover_the_grid_on_models_no_comparison_uses():
    j4 = tuning.selection_jobs("04")
    assert len(j4) == 5 * 4 * 2
    assert {j.seed for j in j4} == {100, 101}
    assert {j.cfg.learning_rate for j in j4} == set(tuning.spec("04")["grid"])
    assert all(j.cfg.name.startswith("04_") and "_lrsel_" in j.cfg.name for j in j4)
    j6 = tuning.selection_jobs("06")
    assert len(j6) == 3 * 2 * 4 * 2
    assert {j.cfg.model for j in j6} == {"data/ladder/d48", "task_model", "data/ladder/d192"}
    assert {j.cfg.steps for j in j6} == {200} and {j.cfg.eval_every for j in j6} == {50}
    assert len({j.out for j in j4 + j6}) == len(j4) + len(j6)


def test_choose_takes_the_best_mean_endpoint_and_the_lower_rate_on_a_tie():
    runs = [_run("04_all_lrsel_3e-05", 3e-5, s, [0.2, 0.2, 0.2, 0.22, 0.22]) for s in (100, 101)]
    runs += [_run("04_all_lrsel_0.0001", 1e-4, s, [0.2, 0.2, 0.2, 0.22, 0.22]) for s in (100, 101)]
    runs += [_run("04_all_lrsel_0.0003", 3e-4, 100, [0.2, 0.2, 0.2, 0.25, 0.19]),
             _run("04_all_lrsel_0.0003", 3e-4, 101, [0.2, 0.2, 0.2, 0.19, 0.19])]
    runs += [_run("06_d48_top20_lrsel_0.001", 1e-3, s, [0.1, 0.0, 0.0, 0.0, 0.0]) for s in (100, 101)]
    runs += [_run("06_d48_top20_lrsel_0.0003", 3e-4, s, [0.1, 0.1, 0.1, 0.12, 0.14]) for s in (100, 101)]
    c = tuning.choose(runs)
    assert c[("d96", "all")]["lr"] == 3e-5  # 3e-5 and 1e-4 tie at 0.22 (3e-4: 0.205): the lower rate
    assert c[("d96", "all")]["gain"] == pytest.approx(0.02)
    assert c[("d48", "top20")]["lr"] == 3e-4
    assert c[("d48", "top20")]["n"] == {3e-4: 2, 1e-3: 2}


def test_second_rate_is_the_next_higher_or_the_next_lower_at_the_top():
    assert tuning.second_rate("06", 1e-4) == 3e-4
    assert tuning.second_rate("06", 3e-5) == 1e-4
    assert tuning.second_rate("06", 1e-3) == 3e-4


def test_comparison_jobs_reuse_committed_runs_at_their_rate():
    chosen = {(r, a): {"lr": lr} for r in ("d48", "d96", "d192") for a, lr in (("all", 1e-4), ("top20", 3e-5))}
    jobs = tuning.comparison_jobs("06", chosen)
    names = {j.cfg.name for j in jobs}
    assert "06_d48_s1_all" in names  # all at 1e-4: the committed design run, read back
    assert "06_d48_s1_top20_lr3e-05" in names and "06_d48_s1_top20" in names  # top20 at 3e-5, and 1e-4 second
    assert len(jobs) == 12 * 4 * 3 and len({j.out for j in jobs}) == len(jobs)
    c4 = {("d96", a): {"lr": 1e-4} for a in tuning.spec("04")["arms"]} | {("d96", "bottom80"): {"lr": 3e-5}}
    j4 = tuning.comparison_jobs("04", c4)
    assert {j.cfg.name for j in j4} == {"04_bottom80_lr3e-05"} and len(j4) == 8


def test_bad_notebook_is_one_line():
    from utils.rlvr.config import ConfigError

    with pytest.raises(ConfigError, match="notebooks 04, 06"):
        tuning.spec("05")


def test_per_arm_row_says_what_its_numbers_show(tmp_path, monkeypatch):
    """Notebook 04's best-vs-best row and words from the committed runs: the rates the rule chose, the margin from
    margins.yaml (a quarter of all's selection gain), the recovered share, each 2-seed choice checked on seeds 0-7;
    and wang.bottom80_hurts judged at both readings."""
    from utils.reproduce import claim_store, claims
    from utils.reproduce.ledgers import nb04 as ledgers
    from utils.stats import verdict

    monkeypatch.setattr(claim_store, "_claims_dir", lambda profile=None: tmp_path)
    pa = tuning.per_arm_04()
    ev = pa["evidence"]["top20_vs_all"]
    assert pa["margin"] == pytest.approx(0.25 * pa["chosen"][("d96", "all")]["gain"])
    assert ev.margin == pytest.approx(pa["margin"]) and ev.n_a == 8
    words = tuning.per_arm_04_words(pa)
    assert f"**{verdict(ev, 'equivalent')}**" in words and f"{ev.diff:+.3f}" in words
    assert f"all {pa['lr']['all']:g}" in words and "hold on the 8 comparison seeds" in words
    ledger = claims.Ledger("04_masked_rlvr.ipynb")
    ledgers._record_04_per_arm(ledger, pa)
    row = ledger.rows["wang.top20_matches_full_per_arm"]
    assert row["verdict"] == verdict(ev, "equivalent")
    assert "fixed in configs/margins.yaml, 04.per_arm_lr" in row["measured"] and "stated in" not in row["measured"]
    assert f"{pa['gain_share']['share']:.0%}" in row["measured"]


def test_per_arm_06_row_and_words_say_what_the_numbers_show(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Notebook 06's best-vs-best reading (utils.tuning.nb06): stage 1's choice from the committed runs, and, once
    stage 2 has at least 3 complete base models, the row wang.top20_matches_full_ladder judged by equivalence within
    the pre-registered share of all's gain, with the recovered share and the arm x rate interaction in its text."""
    from utils.reproduce import claim_store, claims
    from utils.reproduce.ledgers import record_06_per_arm
    from utils.stats import verdict
    from utils.tuning import nb06

    monkeypatch.setattr(claim_store, "_claims_dir", lambda profile=None: tmp_path)
    pa = nb06.per_arm_06()
    sizes = {s for s, _ in pa["chosen"]}
    assert sizes == {"d48", "d96", "d192"} and pa["models_total"] == 12
    assert pa["margin"] == pytest.approx(0.25 * np.mean([pa["chosen"][(s, "all")]["gain"] for s in sizes]))
    assert "The rule chose d48: all" in nb06.stage1_words(pa)
    ledger = claims.Ledger("06_scale_ladder.ipynb")
    record_06_per_arm(ledger, pa)
    row = ledger.rows["wang.top20_matches_full_ladder"]
    if "evidence" not in pa:
        assert row["verdict"] == "inconclusive" and "stage 2 is not complete" in row["why"]
        return
    ev = pa["evidence"]["top20_vs_all"]
    assert ev.unit == "base model" and ev.n_a == pa["models"] and ev.margin == pytest.approx(pa["margin"])
    assert row["verdict"] == verdict(ev, "equivalent")
    words = nb06.per_arm_06_words(pa)
    assert f"{ev.diff:+.4f}" in words and "recovers" in words and "instead of its chosen rate" in words
    assert "recovers" in row["measured"] and "interaction" in row["measured"]
