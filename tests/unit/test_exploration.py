"""utils.entropy_bonus.exploration (notebook 05): pass@k curves against enumeration, per-run read-outs, the checkpoints' own task
difficulty, the 4-number model and the hard problem set."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from utils import countdown as cd
from utils.entropy_bonus import exploration as X
from utils import toy_lm
from utils.toy_lm import rollouts
from utils.config import DATA_DIR
from utils.passk import coverage, pass_at_k
from utils.rlvr import RunConfig, load_policy, load_task

MODEL_4NUM = DATA_DIR / "task_model_4num"
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_curves_match_enumeration_and_coverage() -> None:
    n, correct = 6, [0, 1, 3, 6]
    brute = []
    for k in range(1, n + 1):
        vals = []
        for c in correct:
            outcomes = [1] * c + [0] * (n - c)
            subsets = list(itertools.combinations(range(n), k))
            vals.append(sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets))
        brute.append(np.mean(vals))
    assert np.allclose(X.curves(correct, n), brute)
    assert X.curves(correct, n)[-1] == pytest.approx(coverage(correct))  # pass@n is the share solved at least once
    assert X.curves(correct, n, [2])[0] == pytest.approx(float(np.mean(pass_at_k(n, correct, 2))))


def test_run_readouts() -> None:
    run = {"name": "a", "seed": 0, "final": {"samples": 4, "correct": [0, 4, 2]}, "train": {"entropy": [1.0] * 5 + [0.2] * 10}}
    assert X.passk_of_run(run, 1) == pytest.approx(0.5)
    assert X.passk_of_run(run, 4) == pytest.approx(2 / 3)
    assert X.final_entropy(run) == pytest.approx(0.2) and X.final_entropy(run, last=15) == pytest.approx(7 / 15)
    assert X.solved_sets([0, 2, 0, 1], [1, 0, 0, 3]) == {"kept": 1, "lost": 1, "gained": 1, "neither": 1}
    with pytest.raises(ValueError):
        X.solved_sets([0, 1], [0, 1, 2])
    ks = [1, 2, 4, 8]
    assert X.crossover_k([-0.1, -0.01, 0.02, 0.05], ks) == 4
    assert X.crossover_k([0.1, 0.2, 0.3, 0.4], ks) == 1
    assert X.crossover_k([0.1, 0.2, 0.3, -0.1], ks) is None


@pytest.mark.skipif(not (MODEL_4NUM / "train_info.json").exists(), reason="4-number task model not trained")
def test_loaders_use_the_checkpoints_own_difficulty() -> None:
    spec = toy_lm.task_spec(MODEL_4NUM)
    assert spec.n_numbers == 4 and spec.eval_path == cd.default_eval_path(4)
    cfg = RunConfig(model="data/task_model_4num", max_completion_length=40, eval_n=12, train_size=64)
    train, held, reward = load_task(cfg, 0)
    model, tok = load_policy(cfg)
    assert all(len(r["numbers"]) == 4 for r in held) and len(held) == cfg.eval_n
    assert all(len(r["numbers"]) == 4 for r in train)
    assert not cd.eval_keys(train) & cd.eval_keys(cd.load_eval_problems(spec.eval_path))
    assert tok.padding_side == "left" and model.config.n_layer == 3
    assert reward is cd.countdown_reward
    train3, held3, _ = load_task(RunConfig(model="task_model", eval_n=5, train_size=16), 0)  # the shipped one
    assert all(len(r["numbers"]) == 3 for r in list(train3) + held3)


@pytest.mark.skipif(not (MODEL_4NUM / "train_info.json").exists(), reason="4-number task model not trained")
def test_4num_model_reaches_recorded_pass1() -> None:
    info = toy_lm.load_train_info(MODEL_4NUM)
    assert info["n_numbers"] == 4 and {"command", "seed", "steps", "metrics"} <= set(info)
    model, tok = toy_lm.load_task_model(MODEL_4NUM)
    problems = cd.load_eval_problems(cd.default_eval_path(4))
    p = info["metrics"]["pass1"]["mean"]
    res = rollouts.evaluate_pass1(model, tok, problems, n_samples=1, temperature=1.0, seed=7)
    sd = max(info["metrics"]["pass1"]["sd"], math.sqrt(p * (1 - p) / len(problems)))
    assert abs(res["pass1"] - p) <= 3 * sd, (res["pass1"], p, sd)
    assert res["pass1"] < 0.05  # notebook 05 shows it: too hard for this recipe, GRPO groups would see no reward


def test_an_eval_path_must_be_held_out(tmp_path) -> None:
    from utils.results import write_jsonl

    train_like = cd.generate_problems(3, seed=1, exclude=cd.eval_keys())  # not in the held-out set
    write_jsonl(train_like, tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="not held out"):
        load_task(RunConfig(model="task_model", eval_path=str(tmp_path / "bad.jsonl"), train_size=8), 0)


def test_the_hard_subset_is_held_out() -> None:
    hard = cd.load_eval_problems(X.HARD_PATH)
    assert len(hard) == 67  # data/README.md: python -m utils.entropy_bonus.exploration hard-set --samples 256 --seed 7 --max-correct 8
    assert cd.eval_keys(hard) <= cd.eval_keys()  # a subset of the held-out set: never a training problem
