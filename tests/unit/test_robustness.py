"""utils.reproduce.robustness: notebook 04's headline verdicts decided from a folder of runs, compared with a re-made copy, and
the note the ledger prints from the committed check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from utils.reproduce import robustness as rb
from utils.results import save_json
from utils.rlvr.run import RESULTS_SCHEMA

ARMS = {"04_all": 0.21, "04_top20": 0.205, "04_bottom80": 0.09, "04_random20": 0.13}


#: The committed runs the fixtures are made from (complete runs: the check refuses anything less as a re-made run).
STORED = rb.DATA_DIR / "results" / "04_masked_rlvr"


def _set_endpoint(run: dict, end: float) -> None:
    """The last two evaluations (the endpoint) at ``end``, the final entry agreeing with the curve."""
    n = len(run["eval"]["pass1"])
    run["eval"]["pass1"] = [0.178] * (n - 2) + [end, end]
    run["final"]["pass1"] = end


def _write_runs(folder: Path, shift: float = 0.0, diverge_at: int | None = None) -> None:
    rng = np.random.default_rng(0)
    for name, mean in ARMS.items():
        for seed in range(6):
            run = json.loads((STORED / f"{name}_seed{seed}.json").read_text(encoding="utf-8"))
            run.pop("schema")
            _set_endpoint(run, mean + rng.normal(0, 0.005) + shift)
            k = len(run["train"]["reward"])
            run["train"]["reward"] = [0.1] * k
            if diverge_at is not None:
                run["train"]["reward"][diverge_at] = 0.2
            run["train"]["entropy"] = [0.3 * (1 + 1e-7 * (shift != 0))] * k
            save_json(run, folder / f"{name}_seed{seed}.json", schema=RESULTS_SCHEMA)


def test_verdicts_follow_the_notebook_rules(tmp_path: Path) -> None:
    _write_runs(tmp_path)
    v = rb.verdicts(tmp_path)
    assert v["wang.bottom80_hurts"]["verdict"] == "reproduced"
    assert v["wang.random20_control"]["verdict"] == "reproduced"
    assert v["wang.top20_matches_full"]["verdict"] == "reproduced"  # -0.005 within the margin 0.02
    assert v["wang.top20_matches_full"]["evidence"]["margin"] == pytest.approx(0.02)
    assert v["wang.bottom80_hurts"]["seeds"] == list(range(6))


def test_check_reports_holding_and_fragile_verdicts(tmp_path: Path) -> None:
    stored, moved = tmp_path / "a", tmp_path / "b"
    _write_runs(stored)
    _write_runs(moved, shift=0.0, diverge_at=4)
    # make the top-20% arm fall well behind in the re-made runs: the equivalence verdict must flip
    for f in moved.glob("04_top20_seed*.json"):
        run = json.loads(f.read_text(encoding="utf-8"))
        _set_endpoint(run, 0.15)
        save_json({k: v for k, v in run.items() if k != "schema"}, f, schema=RESULTS_SCHEMA)
    res = rb.check(stored, moved, "a test perturbation")
    assert res["claims"]["wang.bottom80_hurts"]["holds"]
    assert not res["claims"]["wang.top20_matches_full"]["holds"]
    assert res["claims"]["wang.top20_matches_full"]["perturbed"]["verdict"] == "not reproduced"
    assert res["arms"]["04_all"]["first_reward_step_median"] == pytest.approx(5)  # index 4: step 5 (steps start at 1)
    assert res["arms"]["04_all"]["identical_runs"] == 0
    out = tmp_path / "robust"
    save_json(res, out / "04.json", schema=rb.SCHEMA)
    assert rb.ledger_note("wang.bottom80_hurts", out).startswith("verdict unchanged when re-run with a test perturbation")
    assert rb.ledger_note("wang.top20_matches_full", out).startswith("FRAGILE: not reproduced when re-run")
    assert rb.ledger_note("wang.p80", out) is None


def test_identical_runs_never_diverge(tmp_path: Path) -> None:
    _write_runs(tmp_path)
    res = rb.check(tmp_path, tmp_path, "nothing")
    assert all(c["holds"] for c in res["claims"].values())
    assert all(a["identical_runs"] == a["seeds"] and a["first_reward_step_median"] is None for a in res["arms"].values())


def test_missing_runs_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="holds no run files"):
        rb.verdicts(tmp_path)
    with pytest.raises(NotADirectoryError, match="is not a folder of runs"):
        rb.verdicts(tmp_path / "nothing")
    _write_runs(tmp_path / "half")
    _write_runs(tmp_path)
    (tmp_path / "half" / "04_all_seed5.json").unlink()  # a re-make still under way: refuse, do not compare 5 seeds with 6
    with pytest.raises(ValueError, match=r"has 04_all seeds \[0, 1, 2, 3, 4\]"):
        rb.check(tmp_path, tmp_path / "half", "x")
    for f in tmp_path.glob("04_random20_*.json"):
        f.unlink()
    with pytest.raises(FileNotFoundError, match="has no runs of 04_random20"):
        rb.verdicts(tmp_path)


def test_cli_writes_build_and_guards_committed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_runs(tmp_path / "a")
    out = tmp_path / "r.json"
    assert rb.main(["check", "--stored", str(tmp_path / "a"), "--perturbed", str(tmp_path / "a"),
                    "--perturbation", "none", "--out", str(out)]) == 0
    assert "wang.top20_matches_full: reproduced -> reproduced (holds)" in capsys.readouterr().out
    assert rb.main(["check", "--stored", str(tmp_path / "a"), "--perturbed", str(tmp_path / "nothing"),
                    "--perturbation", "none", "--out", str(tmp_path / "x.json")]) == 2
    assert "is not a folder of runs" in capsys.readouterr().err


def test_committed_checks_cover_the_runs_they_were_made_for() -> None:
    """Two checks are committed: ``04.json`` on the runs at lr 3e-4 (the headline before it moved to the tuned 1e-4)
    and ``04_headline.json`` on the headline runs at 1e-4. Every contrast of both has its ledger note, and each
    check's verdicts on the stored runs are what the committed runs give today (the check was made for them)."""
    from utils.config import REPO_ROOT
    from utils.results import load_json

    committed = sorted(rb.ROBUSTNESS_DIR.glob("*.json"))
    if not committed:
        pytest.skip("no committed robustness check")
    for c in (*rb.LR3E4_04, *rb.HEADLINE_04):
        assert rb.ledger_note(c.claim) is not None, c.claim
    for p in committed:
        data = load_json(p, schema=rb.SCHEMA)
        contrasts = [c for c in (*rb.HEADLINE_04, *rb.LR3E4_04) if c.claim in data["claims"]]
        assert len(contrasts) == len(data["claims"]) == 3, p.name
        now = rb.verdicts(REPO_ROOT / data["stored"], contrasts)
        for claim, v in data["claims"].items():
            assert now[claim]["verdict"] == v["stored"]["verdict"], (p.name, claim)


def test_the_checks_margin_is_the_notebooks() -> None:
    from utils.rlvr.verdicts import margin

    assert all(c.margin == pytest.approx(margin("top20_matches_full"))
               for c in (*rb.HEADLINE_04, *rb.LR3E4_04) if c.direction == "equivalent")
