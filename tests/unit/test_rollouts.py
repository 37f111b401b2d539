"""utils.toy_lm.rollouts: sampling the task model, scoring its completions, their token entropy, and the shipped model's
recorded pass@1."""

from __future__ import annotations

import math

import pytest

from utils import countdown as cd
from utils import toy_lm
from utils.toy_lm import rollouts
from utils.sampling import DualTemperatureLogitsProcessor

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def shipped() -> tuple:
    return toy_lm.load_task_model()


def test_sampling_helpers(shipped: tuple) -> None:
    model, tok = shipped
    prompts = ["8 5 7>33:", "6 3 9>18:", "12 5 7>9:"]  # different lengths: left padding must not matter
    batched = rollouts.sample_completions(model, tok, prompts, temperature=0)
    single = [rollouts.sample_completions(model, tok, [p], temperature=0)[0] for p in prompts]
    assert batched == single
    assert all("<eos>" not in c and "<pad>" not in c for c in batched)
    a = rollouts.sample_completions(model, tok, prompts, n=4, temperature=1.0, seed=1)
    assert a == rollouts.sample_completions(model, tok, prompts, n=4, temperature=1.0, seed=1)
    assert len(a) == 12
    ents = rollouts.token_entropies(model, tok, prompts, batched)
    assert [len(e) for e in ents] == [len(c) + 1 for c in batched]
    assert [len(r) for r in map(cd.token_roles, batched)] == [len(c) + 1 for c in batched]


def test_sample_completions_rejects_temperature_with_dual_processor(shipped: tuple) -> None:
    model, tok = shipped
    proc = DualTemperatureLogitsProcessor(threshold=0.5, t_fork=2.0, t_rest=1.0)
    for t in (0.0, 0.7, 2.0):
        with pytest.raises(ValueError, match="multiply"):
            rollouts.sample_completions(model, tok, ["8 5 7>33:"], temperature=t, logits_processor=[proc])
        with pytest.raises(ValueError, match="multiply"):
            rollouts.evaluate_pass1(model, tok, [{"numbers": [8, 5, 7], "target": 33}], temperature=t,
                                    logits_processor=[proc])
    assert len(rollouts.sample_completions(model, tok, ["8 5 7>33:"], temperature=1.0, logits_processor=[proc])) == 1


def test_entropy_summary_roles() -> None:
    import numpy as np

    s = rollouts.entropy_summary([np.array([0.0, 1.0, 0.005]), np.array([2.0])], [["operand1", "operator", "eos"], ["operator"]])
    assert s["n_tokens"] == 4 and s["share_below_0.01"] == pytest.approx(0.5)
    assert list(s["by_role"])[0] == "operator" and s["by_role"]["operator"]["n"] == 2


def test_shipped_model_reaches_recorded_pass1(shipped: tuple) -> None:
    model, tok = shipped
    metrics = toy_lm.load_train_info()["metrics"]
    p = metrics["pass1"]["mean"]
    problems = cd.load_eval_problems()
    res = rollouts.evaluate_pass1(model, tok, problems, n_samples=1, temperature=1.0, seed=7)
    assert len(res["correct_counts"]) == len(problems)
    sd = max(metrics["pass1"]["sd"], math.sqrt(p * (1 - p) / len(problems)))
    assert abs(res["pass1"] - p) <= 3 * sd, (res["pass1"], p, sd)
    assert 0.10 <= res["pass1"] <= 0.40  # an imperfect planner: RL has signal
    assert res["arithmetic"] >= 0.8


@pytest.mark.parametrize("t", [-1.0, math.nan, math.inf, -0.5, "1", True])
def test_temperature_must_be_finite_and_positive(shipped: tuple, t: object) -> None:
    """A negative or NaN temperature used to sample greedily (``temperature > 0`` was False), and token_entropies
    divided the logits by it. 0 stays greedy for sampling, and is no temperature for an entropy."""
    model, tok = shipped
    with pytest.raises(ValueError, match="temperature must be"):
        rollouts.sample_completions(model, tok, ["8 5 7>33:"], temperature=t)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="temperature must be"):
        rollouts.token_entropies(model, tok, ["8 5 7>33:"], ["8*5=40"], temperature=t)  # type: ignore[arg-type]


def test_zero_is_greedy_and_numpy_temperatures_work(shipped: tuple) -> None:
    import numpy as np

    model, tok = shipped
    greedy = rollouts.sample_completions(model, tok, ["8 5 7>33:"], n=3, temperature=0, seed=None)
    assert len(set(greedy)) == 1
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        rollouts.token_entropies(model, tok, ["8 5 7>33:"], greedy[:1], temperature=0)
    a = rollouts.token_entropies(model, tok, ["8 5 7>33:"], greedy[:1], temperature=np.float64(0.7))
    b = rollouts.token_entropies(model, tok, ["8 5 7>33:"], greedy[:1], temperature=0.7)
    assert (a[0] == b[0]).all()


def test_counts_and_lengths_are_checked(shipped: tuple) -> None:
    model, tok = shipped
    for kw, msg in [(dict(n=2.7), "n \\(samples per prompt\\) must be a whole number"), (dict(n=0), "must be >= 1"),
                    (dict(max_new_tokens=0), "max_new_tokens"), (dict(batch_size=0), "batch_size")]:
        with pytest.raises(ValueError, match=msg):
            rollouts.sample_completions(model, tok, ["8 5 7>33:"], **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 prompts but 1 completions"):  # zip used to drop the extra prompt
        rollouts.token_entropies(model, tok, ["8 5 7>33:", "6 3 9>18:"], ["8*5=40"])
    with pytest.raises(ValueError, match="n_samples"):
        rollouts.evaluate_pass1(model, tok, [{"numbers": [8, 5, 7], "target": 33}], n_samples=0)
