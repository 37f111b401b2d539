"""utils.rlvr.compute: masking saves no FLOPs; the sparse-head variant does; depth extrapolation is exact."""

from __future__ import annotations

import pytest
import torch

from utils.rlvr import load_config, normaliser_comparison
from utils.rlvr.compute import extrapolated_update_flops, llama_like, policy_batch, update_cost
from utils.rlvr.losses import entropy_mask
from utils.rlvr.tasks import make_standin

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_update_cost_masking_saves_no_flops() -> None:
    model, _ = make_standin(extra_vocab=200)
    ids = torch.randint(4, 20, (4, 16))
    att = torch.ones_like(ids)
    cm = torch.ones(4, 8, dtype=torch.int)
    sel = entropy_mask(torch.rand(4, 8), cm, 0.2, "top")
    adv = torch.randn(4)
    full = update_cost(model, ids, att, cm, adv, None, "full", repeats=1)
    masked = update_cost(model, ids, att, cm, adv, sel, "masked", repeats=1)
    sparse = update_cost(model, ids, att, cm, adv, sel, "sparse_head", repeats=1)
    assert masked["flops"] == full["flops"]
    assert sparse["flops"] < full["flops"]


def test_extrapolated_flops_exact() -> None:
    shape = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=2,
                 num_key_value_heads=1, vocab_size=300)
    ids = torch.randint(0, 300, (2, 10))
    att, cm = torch.ones_like(ids), torch.ones(2, 6, dtype=torch.int)
    sel = entropy_mask(torch.rand(2, 6), cm, 0.2, "top")
    adv = torch.randn(2)
    est = extrapolated_update_flops(lambda n: llama_like(n, shape), 3, ids, att, cm, adv, sel)
    model = llama_like(3, shape)
    for v in ("full", "sparse_head"):
        assert est[v] == update_cost(model, ids, att, cm, adv, sel, v, repeats=0)["flops"]  # type: ignore[arg-type]
    assert est["sparse_head"] < est["full"]


def test_policy_batch_and_normaliser_ratio() -> None:
    cfg = load_config("countdown_top20", profile="ci").replace(
        prompts_per_step=2, num_generations=4, train_size=32, max_completion_length=8, steps=1, eval_every=0)
    b = policy_batch(cfg, 0, standin=True)
    cm = b["completion_mask"]
    assert b["entropies"].shape == cm.shape == b["logps"].shape and b["advantages"].shape == (8,)
    assert (b["entropies"] >= 0).all() and (b["logps"] <= 1e-6).all()  # log-probabilities: <= 0 up to float32 rounding
    res = normaliser_comparison(b["logps"], b["advantages"], cm, b["entropies"], 0.2)
    assert res["ratio"] == pytest.approx(res["n_valid_over_n_selected"], rel=1e-4) or res["grad_norm_all"] == 0


def test_gpu_memory_estimate_counts_the_real_models_parameters() -> None:
    """The estimate's parameter count is the real architecture's (built on the meta device: no weights), and its
    parts follow from the stated arithmetic."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    from utils.rlvr.compute import QWEN25_05B_SHAPE, SMOLLM2_135M_SHAPE, gpu_memory_estimate, n_params
    from utils.rlvr.config import load_config

    shape = {k: v for k, v in QWEN25_05B_SHAPE.items() if k != "qkv_bias"}
    with torch.device("meta"):
        qwen = Qwen2ForCausalLM(Qwen2Config(**shape, tie_word_embeddings=True))
        smol = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M_SHAPE, tie_word_embeddings=True))
    assert n_params(QWEN25_05B_SHAPE) == sum(p.numel() for p in qwen.parameters()) == 494_032_768
    assert n_params(SMOLLM2_135M_SHAPE) == sum(p.numel() for p in smol.parameters()) == 134_515_008
    cfg = load_config("configs/scaleup_qwen_gsm8k.yaml", profile="default")
    est = gpu_memory_estimate(cfg, QWEN25_05B_SHAPE, prompt_tokens=200)
    assert est["weights_and_adamw"] == pytest.approx(16 * 494_032_768 / 1e9, rel=1e-9)
    assert est["logits_per_copy"] == pytest.approx(16 * 513 * 151_936 * 4 / 1e9, rel=1e-9)  # 16 completions a micro-batch
    assert est["total_low"] < est["total_high"] < 40  # fits a 40 GB GPU even at the high end
