"""Notebook 05 (entropy-shaped advantages): the psi parts not covered by tests/test_rlvr.py, the trainer wiring,
utils.exploration (task difficulty from a checkpoint, pass@k bookkeeping) and the 4-number task model."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import countdown as cd
from utils import exploration as X
from utils import toy_lm
from utils.passk import coverage, pass_at_k
from utils.rlvr import RunConfig, adv_plus_psi, entropy_advantage, entropy_advantage_seed_variant, load_config

REPO = Path(__file__).resolve().parent.parent
MODEL_4NUM = REPO / "data" / "task_model_4num"


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# ------------------------------------------------------------------------------------------------- psi


def test_psi_per_token_advantages_and_clip() -> None:
    adv = torch.tensor([[2.0, -2.0, 0.4], [-0.2, 0.0, 1.0]])  # (B, T) advantages are accepted as they are
    ent = torch.tensor([[1.0, 1.0, 3.0], [5.0, 5.0, 0.0]])
    shaped, psi, binds = adv_plus_psi(adv, ent, None, alpha=0.4, kappa=2.0)
    # alpha*H: 0.4 0.4 1.2 / 2.0 2.0 0.0 ; |A|/kappa: 1.0 1.0 0.2 / 0.1 0.0 0.5
    assert torch.allclose(psi, torch.tensor([[0.4, 0.4, 0.2], [0.1, 0.0, 0.0]]))
    assert binds.tolist() == [[False, False, True], [True, True, False]]
    assert torch.allclose(shaped, adv + psi)


def test_psi_zero_on_padding_and_kappa_checks() -> None:
    adv = torch.tensor([1.0, -1.0])
    ent = torch.full((2, 3), 2.0)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    shaped, psi, binds = adv_plus_psi(adv, ent, mask)
    assert (psi[mask == 0] == 0).all() and not binds[mask == 0].any()
    assert torch.allclose(shaped[mask == 0], torch.tensor([1.0, -1.0, -1.0]))
    with pytest.raises(ValueError, match="kappa"):
        entropy_advantage(adv, ent, kappa=0.0)
    # why kappa > 1: with kappa < 1 the cap |A|/kappa exceeds |A| and a negative advantage can turn positive
    flipped = entropy_advantage(torch.tensor([-1.0]), torch.tensor([[10.0]]), alpha=0.4, kappa=0.5)
    assert flipped.item() > 0
    assert entropy_advantage(torch.tensor([-1.0]), torch.tensor([[10.0]]), alpha=0.4, kappa=2.0).item() == -0.5


def test_seed_variant_only_rewards_entropy_above_baseline() -> None:
    adv = torch.tensor([1.0, 1.0])
    ent = torch.tensor([[0.2, 0.9, 1.5], [0.0, 1.0, 4.0]])
    b = 1.0
    out = entropy_advantage_seed_variant(adv, ent, None, baseline=b, alpha=0.4, kappa=2.0)
    psi = out - 1.0
    assert (psi[ent <= b] == 0).all() and (psi[ent > b] > 0).all()
    assert torch.allclose(entropy_advantage_seed_variant(adv, ent, None, baseline=0.0), entropy_advantage(adv, ent))
    # the bonus never exceeds the paper rule's
    assert (out <= entropy_advantage(adv, ent) + 1e-7).all()


def test_trainer_loss_uses_shaped_advantages() -> None:
    """EntropyAdvantageGRPOTrainer's loss == plain GRPO's loss fed A + psi(H) with H from the same forward pass."""
    import utils.rlvr as R

    cfg = RunConfig(task="standin", model="standin", steps=1, prompts_per_step=2, num_generations=4, train_size=16,
                    max_completion_length=8, eval_n=0)
    plain, _ = R.build_trainer(cfg, 0, standin=True, output_dir=REPO / "build" / "test_eb_plain")
    shaped, _ = R.build_trainer(cfg.replace(advantage="entropy"), 0, standin=True, output_dir=REPO / "build" / "test_eb")
    shaped.model.load_state_dict(plain.model.state_dict())
    raw = next(iter(plain.get_train_dataloader()))
    torch.manual_seed(0)
    inputs = plain._generate_and_score_completions(raw)
    inputs["advantages"] = torch.tensor([1.0, -1.0, 0.5, -0.5, 0.0, 0.0, 2.0, -2.0])[: inputs["completion_ids"].shape[0]]
    for t in (plain, shaped):
        t.model.train()
        t.current_gradient_accumulation_steps = 1
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
    att = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
    with torch.no_grad():
        _, ent, _ = plain._get_per_token_logps_and_entropies(
            plain.model, ids, att, inputs["completion_ids"].shape[1], compute_entropy=True)
        loss_shaped = shaped.compute_loss(shaped.model, dict(inputs))
        manual = dict(inputs)
        manual["advantages"] = entropy_advantage(inputs["advantages"], ent, inputs["completion_mask"])
        loss_manual = plain.compute_loss(plain.model, manual)
        loss_plain = plain.compute_loss(plain.model, dict(inputs))
    assert torch.allclose(loss_shaped, loss_manual, atol=1e-6)
    assert not torch.allclose(loss_shaped, loss_plain)
    assert inputs["advantages"].dim() == 1  # the caller's batch is not modified
    assert shaped._metrics["train"]["psi/mean"] and shaped._metrics["train"]["psi/clip_frac"]


# ------------------------------------------------------------------------------------------------ pass@k


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
    assert np.all(np.diff(X.curves(correct, n)) >= 0)
    assert X.curves(correct, n, [2])[0] == pytest.approx(float(np.mean(pass_at_k(n, correct, 2))))


def test_summary_helpers() -> None:
    assert X.mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert X.mean_sd([0.5]) == (0.5, 0.0)
    assert X.solved_sets([0, 2, 0, 1], [1, 0, 0, 3]) == {"kept": 1, "lost": 1, "gained": 1, "neither": 1}
    with pytest.raises(ValueError):
        X.solved_sets([0, 1], [0, 1, 2])
    ks = [1, 2, 4, 8]
    assert X.crossover_k([-0.1, -0.01, 0.02, 0.05], ks) == 4
    assert X.crossover_k([0.1, -0.01, 0.02, 0.05], ks) == 4
    assert X.crossover_k([0.1, 0.2, 0.3, 0.4], ks) == 1
    assert X.crossover_k([0.1, 0.2, 0.3, -0.1], ks) is None
    runs = [{"name": "a", "seed": s, "final": {"samples": 4, "correct": c}} for s, c in enumerate([[0, 4], [2, 0]])]
    summ = X.summarize(runs, [1, 4])["a"]
    assert summ["seeds"] == [0, 1]
    assert summ["pass_at_k"][1][0] == pytest.approx(np.mean([0.5, 0.25]))
    assert summ["coverage"] == (0.5, 0.0)
    runs_b = [{"name": "b", "seed": s, "final": {"samples": 4, "correct": c}} for s, c in enumerate([[0, 0], [4, 0]])]
    summ2 = X.summarize(runs + runs_b, [1, 4])
    d = X.paired_difference(summ2, "a", "b", 1)  # seed 0: 0.5 - 0; seed 1: 0.25 - 0.5
    assert d["n"] == 2 and d["mean"] == pytest.approx(0.125) and d["se"] == pytest.approx(d["sd"] / math.sqrt(2))
    with pytest.raises(ValueError):
        X.paired_difference(summ2, "a", "b", 2)


# ------------------------------------------------------------------------------------------ task variant


def test_configs_05_parse_and_differ_only_in_shaping() -> None:
    files = {"grpo": "countdown_entadv_grpo", "paper": "countdown_entadv", "seed": "countdown_entadv_seed"}
    for prof in ("ci", "default", "full"):
        cfgs = {k: load_config(REPO / "configs" / f"{f}.yaml", profile=prof) for k, f in files.items()}
        assert all(c.name == f"05_{files[k]}" for k, c in cfgs.items())  # notebook 05's results: 05_ prefix
        assert cfgs["grpo"].advantage == "grpo" and cfgs["paper"].variant == "paper" and cfgs["seed"].variant == "seed"
        assert cfgs["paper"].advantage == cfgs["seed"].advantage == "entropy"
        strip = lambda c: {k: v for k, v in vars(c).items() if k not in ("name", "advantage", "variant")}  # noqa: E731
        assert strip(cfgs["grpo"]) == strip(cfgs["paper"]) == strip(cfgs["seed"])
        assert cfgs["grpo"].final_samples >= 8


@pytest.mark.skipif(not (MODEL_4NUM / "train_info.json").exists(), reason="4-number task model not trained")
def test_rlvr_loaders_use_the_checkpoints_own_difficulty() -> None:
    import utils.rlvr as R

    spec = X.task_spec(MODEL_4NUM)
    assert spec.n_numbers == 4 and spec.eval_path == cd.default_eval_path(4)
    cfg = RunConfig(model="data/task_model_4num", max_completion_length=40, eval_n=12, train_size=64)
    train, held, reward = R._load_task(cfg, 0)
    model, tok = R._load_model(cfg)
    assert all(len(r["numbers"]) == 4 for r in held) and len(held) == cfg.eval_n
    assert all(len(r["numbers"]) == 4 for r in train)
    assert not cd.eval_keys(train) & cd.eval_keys(cd.load_eval_problems(spec.eval_path))
    assert tok.padding_side == "left" and model.config.n_layer == 3
    assert reward is cd.countdown_reward
    train3, held3, _ = R._load_task(RunConfig(model="task_model", eval_n=5, train_size=16), 0)  # the shipped one
    assert all(len(r["numbers"]) == 3 for r in list(train3) + held3)


@pytest.mark.skipif(not (MODEL_4NUM / "train_info.json").exists(), reason="4-number task model not trained")
def test_4num_model_reaches_recorded_pass1() -> None:
    info = toy_lm.load_train_info(MODEL_4NUM)
    assert info["n_numbers"] == 4 and {"command", "seed", "steps", "metrics"} <= set(info)
    assert sum(f.stat().st_size for f in MODEL_4NUM.iterdir()) < 5_000_000
    model, tok = toy_lm.load_task_model(MODEL_4NUM)
    problems = cd.load_eval_problems(cd.default_eval_path(4))
    p = info["metrics"]["pass1"]["mean"]
    res = toy_lm.evaluate_pass1(model, tok, problems, n_samples=1, temperature=1.0, seed=7)
    sd = max(info["metrics"]["pass1"]["sd"], math.sqrt(p * (1 - p) / len(problems)))
    assert abs(res["pass1"] - p) <= 3 * sd, (res["pass1"], p, sd)
    assert res["pass1"] < 0.05  # notebook 05 shows it: too hard for this recipe, GRPO groups would see no reward
    a = info["metrics"]["arithmetic"]["mean"]
    assert abs(res["arithmetic"] - a) <= 3 * math.sqrt(a * (1 - a) / len(problems)) + 0.01


def test_cli_smoke(tmp_path: Path) -> None:
    import utils.rlvr as R

    out = tmp_path / "r.json"
    sets = ["task=standin", "model=standin", "steps=2", "eval_n=4", "eval_samples=1", "prompts_per_step=2",
            "num_generations=4", "train_size=16", "max_completion_length=8", "final_samples=4"]
    assert R.main(["run", "--config", "configs/countdown_entadv_seed.yaml", "--profile", "ci", "--out", str(out),
                   "--set", *sets]) == 0
    r = json.loads(out.read_text())
    assert r["name"] == "05_countdown_entadv_seed" and len(r["train"]["psi_baseline"]) == 2
    assert set(r["final"]["pass_at_k"]) == {"1", "2", "4"}
