"""utils.ledgers: a notebook's rows, built by one function from the notebook's results (issue 22, part 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from utils import claims, config
from utils.ledgers import diff_ci, mean_ci, record_02
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
    assert [r["verdict"] for r in rows.values()] == ["not testable here", "not testable here", "inconclusive", "reproduced"]
    assert rows["wang.half_below_001"]["measured"].startswith("share of tokens below 0.01 nats, 95% CI over units: "
                                                             "task model on Countdown (T = 1): 0.600 [95% CI")
    assert list(rows["wang.p80"]["numbers"]) == ["task", "lm", "lm07"] and rows["wang.p80"]["measured"].endswith("the paper: 0.672 nats")
    assert "paired by trace (both rates from the same trace)" in rows["wang.fork_words"]["measured"]
    assert "pooled fork rates: word start 0.28, word piece 0.40; at T = 0.7: " in rows["wang.fork_words"]["measured"]
    low = rows["seed.fork_then_low_run"]
    assert "paired by completion (a fork and a random token of the same completion)" in low["measured"]
    assert "SmolLM2 at T = 1: +" in low["measured"] and low["n"] == "4/4 completions" and low["figure"] == "02_after_forks"
    assert "descriptive row" in rows["wang.p80"]["why"]  # the reason comes from configs/margins.yaml
    assert out["seed.fork_then_low_run"] is after["task"] and capsys.readouterr().out.count("[claim ") == 4
