"""utils.rlvr.trainers: the loss each trainer computes, checked against the same loss built by hand from the public
pieces (a batch from ``sample_batches``, entropies from one forward pass, ``entropy_advantage``)."""

from __future__ import annotations

import pytest
import torch

from utils.config import BUILD_DIR
from utils.rlvr import RunConfig, build_trainer, entropy_advantage, sample_batches
from utils.rlvr.gradients import policy_logps_and_entropies

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

CFG = RunConfig(task="standin", model="standin", steps=1, prompts_per_step=2, num_generations=4, train_size=16,
                max_completion_length=8, eval_n=0)


def _inputs(batch: dict) -> dict:
    return dict(batch["trl_inputs"], advantages=torch.tensor([1.0, -1.0, 0.5, -0.5, 0.0, 0.0, 2.0, -2.0]))


def _trainer(cfg: RunConfig, name: str):
    t, _ = build_trainer(cfg, 0, standin=True, output_dir=BUILD_DIR / "test" / name)
    t.model.train()
    t.current_gradient_accumulation_steps = 1
    return t


def test_entropy_trainer_loss_is_grpo_loss_with_shaped_advantages() -> None:
    batch = sample_batches(CFG, 1, seed=0)[0]
    plain, shaped = _trainer(CFG, "plain"), _trainer(CFG.replace(advantage="entropy"), "shaped")
    shaped.model.load_state_dict(plain.model.state_dict())
    inputs = _inputs(batch)
    with torch.no_grad():
        _, ent = policy_logps_and_entropies(plain.model, batch, CFG.temperature)
        loss_shaped = shaped.compute_loss(shaped.model, dict(inputs))
        manual = dict(inputs, advantages=entropy_advantage(inputs["advantages"], ent, batch["completion_mask"]))
        loss_manual = plain.compute_loss(plain.model, manual)
        loss_plain = plain.compute_loss(plain.model, dict(inputs))
    assert torch.allclose(loss_shaped, loss_manual, atol=1e-5)
    assert not torch.allclose(loss_shaped, loss_plain)
    assert inputs["advantages"].dim() == 1  # the caller's batch is not modified


@pytest.mark.parametrize("condition", ["top", "bottom", "random", "role"])
def test_masked_trainer_loss_equals_masked_sum(condition: str) -> None:
    """With normaliser 'all', a masked condition's loss is the full loss restricted to its tokens: the loss of 'top'
    plus that of 'bottom' is the loss of 'all' (on-policy, so every ratio is 1)."""
    batch = sample_batches(CFG, 1, seed=1)[0]
    inputs = _inputs(batch)
    losses = {}
    for cond in ("all", "top", "bottom", condition):
        t = _trainer(CFG.replace(condition=cond, rho=0.2 if cond != "all" else 1.0), cond)
        with torch.no_grad():
            losses[cond] = float(t.compute_loss(t.model, dict(inputs)))
    assert losses["top"] + losses["bottom"] == pytest.approx(losses["all"], abs=1e-6)
    assert abs(losses[condition]) <= abs(losses["all"]) + 1.0


def test_selected_normaliser_scales_the_loss() -> None:
    batch = sample_batches(CFG, 1, seed=2)[0]
    inputs = _inputs(batch)
    out = {}
    for norm in ("all", "selected"):
        t = _trainer(CFG.replace(condition="top", rho=0.2, normaliser=norm), norm)
        with torch.no_grad():
            out[norm] = float(t.compute_loss(t.model, dict(inputs)))
    n = int(batch["completion_mask"].sum())
    k = -(-n // 5)  # ceil(0.2 n)
    assert out["selected"] == pytest.approx(out["all"] * n / k, rel=1e-4)


def test_role_condition_needs_a_ranker() -> None:
    from utils.rlvr.trainers import TokenSelectGRPOTrainer

    with pytest.raises(ValueError, match="role_ranker"):
        TokenSelectGRPOTrainer(condition="role")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_process_run(tmp_path) -> None:
    """The distributed path: one short Countdown run per mask rule on two CPU processes (gloo), launched with
    accelerate (tests/integration/launch_distributed.py). Both ranks end with the same weights (and training changed them), only
    the main process writes the results file, the ``count`` rule keeps ceil(rho * N) of each rank's own N tokens (its
    local top), and TRL's ``quantile`` rule thresholds at the quantile of the entropies gathered from both ranks."""
    import json
    import math
    import os
    import subprocess
    import sys
    from pathlib import Path

    from utils.config import REPO_ROOT

    accelerate = Path(sys.executable).with_name("accelerate")
    launcher = [str(accelerate)] if accelerate.exists() else [sys.executable, "-m", "accelerate.commands.accelerate_cli"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT),
           "HF_HUB_OFFLINE": "1", "FORKING_TOKENS_PROFILE": "ci"}
    cmd = [*launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision",
           "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
           str(REPO_ROOT / "tests" / "integration" / "launch_distributed.py"), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    for rule in ("count", "quantile"):
        r0, r1 = ranks[0][rule], ranks[1][rule]
        assert r0["distributed_type"] == "DistributedType.MULTI_CPU" and r0["backend"] == "gloo"
        assert r0["before"] == r1["before"] and r0["after"] == r1["after"]  # one model, the same on both ranks
        assert r0["after"] != r0["before"]  # and it was trained
        assert r0["saved"] == [str(tmp_path / f"result_{rule}.json")] and r1["saved"] == []
        result = json.loads((tmp_path / f"result_{rule}.json").read_text())
        assert result["config"]["mask_rule"] == rule and result["train"]["step"] == [1, 2]
        assert len(r0["selections"]) == len(r1["selections"]) == 2
        for i, (s0, s1) in enumerate(zip(r0["selections"], r1["selections"], strict=True)):
            gathered = torch.tensor(s0["entropies"] + s1["entropies"])
            for s in (s0, s1):
                h, kept = torch.tensor(s["entropies"]), torch.tensor(s["kept"])
                if rule == "count":  # per rank: exactly ceil(rho N_rank) of its own tokens, its highest ones
                    assert int(kept.sum()) == math.ceil(s["rho"] * len(h) - 1e-9), i
                    assert h[kept].min() >= h[~kept].max(), i
                else:  # TRL: one threshold for all ranks, from the gathered entropies
                    assert kept.tolist() == (h >= torch.quantile(gathered, 1 - s["rho"])).tolist(), i
