"""utils.ladder and utils.ladder.analysis: the base-model design of notebook 06 and its model-level analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils import ladder, stats
from utils.ladder import analysis as LA


def test_design_is_fixed_in_the_margins_file() -> None:
    d = ladder.design()
    assert set(d["widths"]) == set(ladder.RUNGS)
    assert len(d["base_model_seeds"]) >= 4 and 0 not in d["base_model_seeds"]  # seed 0 chose the lr
    assert len(d["rl_seeds"]) >= 4 and set(d["arms"]) == {"all", "top20"}
    assert d["primary_budget"] in d["budgets"] and d["slope_margin"] > 0
    assert "before" in d["reason"]


def test_design_jobs_swap_in_each_base_model_and_keep_the_chosen_lr() -> None:
    d = ladder.design()
    jobs = ladder.design_jobs()
    assert len(jobs) == len(ladder.RUNGS) * len(d["base_model_seeds"]) * len(d["arms"]) * len(d["rl_seeds"])
    assert len({j.out for j in jobs}) == len(jobs)
    j = next(j for j in jobs if j.cfg.name == "06_d48_s2_top20" and j.seed == 3)
    assert j.cfg.model == "data/ladder/d48_s2" and j.cfg.steps == d["steps"] and j.cfg.eval_every == d["eval_every"]
    assert j.cfg.learning_rate == ladder.rung_configs("d48", "full")["top20"].learning_rate
    assert j.cfg.condition == "top" and j.out.endswith("06_d48_s2_top20_seed3.json")
    assert ladder.base_model_dir("d96", 0) == "data/task_model"  # the lr model is the shipped task model


def test_lr_sweep_keeps_its_committed_sizes() -> None:
    """The sweep ran at 100 steps with an evaluation every 25 before the design moved the comparison to 200 steps."""
    for j in ladder.lr_sweep_jobs("d192", ladder.SWEEP_DIR):
        assert (j.cfg.steps, j.cfg.eval_every) == (100, 25)


def test_model_jobs_are_the_task_model_recipe_at_each_width() -> None:
    jobs = ladder.model_jobs(["d192"])
    assert [s for _, s, _ in jobs] == ladder.design()["base_model_seeds"]
    _, s, args = jobs[0]
    assert args[:3] == ["train", "--out", f"data/ladder/d192_s{s}"]
    assert args[args.index("--n-embd") + 1] == "192" and args[args.index("--steps") + 1] == "1200"


def _run(rung: str, m: int, arm: str, seed: int, end: float) -> dict:
    return {"name": f"06_{rung}_s{m}_{arm}", "seed": seed,
            "eval": {"step": [0, 50, 100, 150, 200], "pass1": [0.17, end - 0.01, end, end - 0.005, end + 0.005]}}


def _runs(effect: dict[str, float], sd_between: float = 0.0, sd_within: float = 0.004, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for rung, eff in effect.items():
        for m in (1, 2, 3, 4):
            u = rng.normal(0, sd_between)
            for s in range(4):
                a = 0.24 + rng.normal(0, 0.005)
                out += [_run(rung, m, "all", s, a), _run(rung, m, "top20", s, a + eff + u + rng.normal(0, sd_within))]
    return out


PARAMS = {"d48": 89_088, "d96": 344_064, "d192": 1_351_680}


def test_gap_table_pairs_the_arms_by_seed_and_reads_the_budget() -> None:
    rows = LA.gap_table(_runs({"d48": 0.0, "d96": 0.01, "d192": 0.02}, sd_within=0.0), 200, PARAMS)
    assert [(r["rung"], r["model_seed"]) for r in rows][:2] == [("d48", 1), ("d48", 2)] and len(rows) == 12
    assert rows[-1]["gap"] == pytest.approx(0.02) and rows[0]["gap_sd"] == pytest.approx(0.0, abs=1e-12)
    assert rows[0]["x"] == pytest.approx(math.log10(89_088))
    # at 100 steps the endpoint is the mean of the evaluations at 50 and 100
    r100 = LA.gap_table(_runs({"d48": 0.0, "d96": 0.0, "d192": 0.0}), 100, PARAMS)
    assert r100[0]["base"] == pytest.approx(0.17)
    broken = [r for r in _runs({"d48": 0, "d96": 0, "d192": 0}) if not (r["name"] == "06_d96_s2_top20" and r["seed"] == 1)]
    with pytest.raises(ValueError, match="d96 s2: every RL seed needs both arms"):
        LA.gap_table(broken, 200, PARAMS)


def test_the_seed_level_analysis_is_too_narrow_when_base_models_differ() -> None:
    """With a real spread between base models of one size, treating RL seeds as independent gives a far smaller
    standard error than the model-level slope; the mixed model agrees with the model-level one."""
    rows = LA.gap_table(_runs({"d48": 0.0, "d96": 0.0, "d192": 0.0}, sd_between=0.015, seed=4), 200, PARAMS)
    out = LA.analyse(rows, margin=0.02)
    assert out["se_ratio"] > 1.5
    assert out["mixed"].diff == pytest.approx(out["model"].diff, abs=1e-9)
    assert out["model"].df == 10 and out["model"].unit == "base model" and out["seed_level"].unit == "RL seed"
    assert out["sd_between"] > out["sd_within"] / 2
    assert out["models_needed"] is None or out["models_needed"] >= 2
    assert LA.size_table(rows)[0]["models"] == 4


def test_trend_verdict_follows_the_preregistered_rule() -> None:
    def ev(lo95: float, hi95: float, lo90: float, hi90: float) -> stats.Evidence:
        mid = (lo95 + hi95) / 2
        return stats.Evidence("x", 12, 0, 0, 0, mid, 0.01, 10, (lo95, hi95), (lo90, hi90), 0.5, 0.03, margin=0.02)

    # the claim "the gap grows with size" (analyse's verdict) is stats.verdict with direction "grows": the four
    # outcomes of configs/margins.yaml 06.scale_trend_rule
    assert stats.verdict(ev(0.01, 0.05, 0.014, 0.046), "grows") == "reproduced"            # above 0, slope >= margin
    assert stats.verdict(ev(0.001, 0.017, 0.003, 0.015), "grows") == "below the margin"   # above 0, 90% CI < margin
    assert stats.verdict(ev(0.001, 0.03, 0.004, 0.027), "grows") == "inconclusive"        # above 0, size unknown
    assert stats.verdict(ev(-0.03, -0.001, -0.027, -0.004), "grows") == "not reproduced"  # below 0
    assert stats.verdict(ev(-0.015, 0.016, -0.012, 0.013), "grows") == "not reproduced"   # inside the margin
    # the committed lr-1e-4 ladder: 95% CI [-0.001, +0.019], 90% CI [+0.001, +0.017]: inside the margin, not "flat"
    committed = ev(-0.001, 0.019, 0.001, 0.017)
    assert stats.verdict(committed, "grows") == "not reproduced"
    from utils.reproduce.claims import _why
    why = _why(committed, "grows", "not reproduced")
    assert "flat" not in why and "inside ±0.02" in why and "includes 0" in why
    assert stats.verdict(ev(-0.03, 0.04, -0.02, 0.03), "grows") == "inconclusive"


def test_ahead_words_say_where_top20_is_ahead() -> None:
    sizes = [{"rung": "d48", "gap": -0.012, "ci95": (-0.02, -0.004), "models": 4},
             {"rung": "d96", "gap": -0.008, "ci95": (-0.016, 0.0005), "models": 4},
             {"rung": "d192", "gap": 0.002, "ci95": (-0.006, 0.01), "models": 4}]
    w = LA.ahead_words(sizes)
    assert w.startswith("top-20% is never ahead of all") and "d48 -0.0120 [95% CI -0.0200, -0.0040] (behind" in w
    assert "d192 +0.0020" in w and "(level, n = 4 base models)" in w
    sizes[2]["ci95"] = (0.001, 0.01)
    assert LA.ahead_words(sizes).startswith("top-20% is ahead of all at d192")


def test_models_needed_shrinks_with_less_noise() -> None:
    x = [math.log10(v) for v in PARAMS.values()]
    many = LA.models_needed(0.01, 0.01, 4, x, 0.02)
    few = LA.models_needed(0.002, 0.004, 4, x, 0.02)
    assert few is not None and many is not None and few < many
    assert LA.models_needed(1.0, 1.0, 4, x, 0.02, max_models=50) is None


def test_cli_refuses_runs_without_their_base_models(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from utils.config import REPO_ROOT

    if all((REPO_ROOT / ladder.base_model_dir(r, s)).is_dir() for r in ladder.RUNGS for s in ladder.design()["base_model_seeds"]):
        pytest.skip("every base model is here")
    assert ladder.main(["runs", "--out-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "base models missing" in err[0] and "python -m utils.ladder models" in err[0]


def test_cli_rejects_an_unknown_rung(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        ladder.main(["runs", "--rungs", "d999"])
    assert e.value.code == 2
