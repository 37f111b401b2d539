"""What one policy update costs (the write-up's compute claim, notebook 04 and ``scripts/bench_rlvr.py``).

* :func:`policy_batch` -- one batch exactly as TRL builds it, with the policy's log-probs and entropies on it;
* :func:`update_cost` -- FLOPs and wall time of one update with the full loss, the top-rho masked loss (the paper's
  method: same FLOPs) or a sparse-LM-head variant that really skips work (not the paper's method);
* :func:`llama_like` and :func:`extrapolated_update_flops` -- the same count at SmolLM2-135M's shape, from one- and
  two-layer models;
* :func:`gpu_memory_estimate` -- an *estimate*, from arithmetic alone, of a GPU run's peak memory (weights, AdamW,
  the loss's logits, checkpointed activations, the generation KV cache) for a config and a model shape, for
  stating what the scale-up config needs where no GPU could measure it.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch

from utils.entropy import token_entropy
from utils.rlvr.config import RunConfig
from utils.rlvr.losses import broadcast_advantages
from utils.rlvr.build import build_trainer

__all__ = ["QWEN25_05B_SHAPE", "SMOLLM2_135M_SHAPE", "extrapolated_update_flops", "gpu_memory_estimate", "llama_like",
           "n_params", "policy_batch", "update_cost"]


def policy_batch(cfg: RunConfig, seed: int = 0, standin: bool = False) -> dict[str, Any]:
    """One batch exactly as TRL's trainer builds it for ``cfg`` (sampled completions, rewards, group advantages),
    plus the policy's per-token log-probs and entropies (nats, at ``cfg.temperature``) on it.

    Returns ``{"model", "trainer", "input_ids", "attention_mask", "completion_mask", "advantages", "logps",
    "entropies", "rewards"}``; ``input_ids`` is prompt + completion, the completion being the last
    ``completion_mask.shape[1]`` tokens. For the normaliser and compute measurements.
    """
    trainer, ctx = build_trainer(cfg.replace(eval_n=0), seed, standin=standin)
    raw = next(iter(trainer.get_train_dataloader()))
    torch.manual_seed(seed)
    inputs = trainer._generate_and_score_completions(raw)
    model = ctx["model"]
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
    att = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
    cm = inputs["completion_mask"]
    T = cm.shape[1]
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=att).logits[:, -T - 1 : -1].float() / cfg.temperature
        logp_all = torch.log_softmax(logits, dim=-1)
        ent = token_entropy(logits)
        logps = logp_all.gather(-1, inputs["completion_ids"][..., None]).squeeze(-1)
    return {
        "model": model, "trainer": trainer, "input_ids": ids, "attention_mask": att, "completion_mask": cm,
        "advantages": inputs["advantages"], "logps": logps, "entropies": ent,
        "rewards": inputs.get("rewards"),
    }


def _surrogate_update(model: Any, head: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      labels: torch.Tensor, adv: torch.Tensor, sel: torch.Tensor, cm: torch.Tensor, T: int,
                      variant: str) -> torch.Tensor:
    """:func:`update_cost`'s unit of work: one forward + backward of the on-policy GRPO surrogate ``-A * logp`` on
    the completion (its last ``T`` tokens, ``labels``; ``cm``: its mask, ``sel``: the tokens kept); the loss,
    detached."""
    model.zero_grad(set_to_none=True)
    if variant == "sparse_head":
        hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        h = hidden[:, -T - 1 : -1][sel]
        logp = torch.log_softmax(head(h).float(), dim=-1).gather(-1, labels[sel][:, None]).squeeze(-1)
        loss = -(adv[sel] * logp).sum() / cm.sum().clamp(min=1)
    else:
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, -T - 1 : -1]
        logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, labels[..., None]).squeeze(-1)
        w = sel.float() if variant == "masked" else cm.float()
        loss = -(adv * logp * w).sum() / cm.sum().clamp(min=1)
    loss.backward()
    return loss.detach()


def update_cost(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    completion_mask: torch.Tensor,
    advantages: torch.Tensor,
    selected: torch.Tensor | None = None,
    variant: Literal["full", "masked", "sparse_head"] = "masked",
    repeats: int = 5,
) -> dict[str, float]:
    """FLOPs and median wall time of one policy update (forward + backward of the on-policy GRPO surrogate
    ``-A * logp``) on the batch ``input_ids`` whose last ``T = completion_mask.shape[1]`` tokens are the completion.

    * ``"full"``: every completion token keeps its loss.
    * ``"masked"``: the loss is multiplied by ``selected`` (Wang et al., TRL). This is what the paper and its code
      do, and it saves **nothing**: the mask zeroes per-token losses *after* a full forward pass over all positions
      and the full vocabulary, and the backward pass still runs through every layer (the zero rows only make the
      gradient of the LM-head input sparse; dense kernels do not skip them). Same FLOPs as ``"full"``.
    * ``"sparse_head"``: a variant that really saves work (not the paper's code): the backbone runs as usual but the
      LM head (logits, softmax, log-prob) is evaluated, with grad, only at the selected positions. The entropies
      needed for the selection are assumed to come for free from the sampling step (the logits the sampler already
      computed); they are not recomputed here. Saving ~ (1 - rho) of the LM-head cost, which matters when the vocab
      is large (Qwen2.5-0.5B: the 151,936 x 896 head is ~25% of the FLOPs per token) and is ~0 for a char model.

    Returns ``{"flops", "median_s", "loss"}`` (FLOPs counted by ``torch.utils.flop_counter.FlopCounterMode``,
    matmul-type ops only; ``median_s`` over ``repeats`` timed updates after the counted one, NaN if ``repeats=0``).
    """
    from torch.utils.flop_counter import FlopCounterMode

    T = completion_mask.shape[1]
    cm = completion_mask.bool()
    sel = cm if (selected is None or variant == "full") else (selected.bool() & cm)
    adv = broadcast_advantages(advantages, completion_mask.float()).float()
    labels = input_ids[:, -T:]
    head = model.get_output_embeddings()

    step = functools.partial(_surrogate_update, model, head, input_ids, attention_mask, labels, adv, sel, cm, T,
                             variant)
    with FlopCounterMode(display=False) as fc:
        loss = step()
    flops = float(fc.get_total_flops())
    times = []
    for _ in range(max(0, repeats)):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    model.zero_grad(set_to_none=True)
    return {"flops": flops, "median_s": statistics.median(times) if times else float("nan"), "loss": float(loss)}


# SmolLM2-135M's shape (read from the offline GGUF's metadata: llama.block_count, embedding_length, ...)
SMOLLM2_135M_SHAPE: dict[str, int] = dict(
    hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
    vocab_size=49152,
)


def llama_like(n_layers: int, shape: dict[str, int] | None = None, seed: int = 0) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` with ``shape`` (default SmolLM2-135M's) but ``n_layers`` layers,
    for counting FLOPs (tied embeddings, as SmolLM2)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = dict(SMOLLM2_135M_SHAPE if shape is None else shape)
    cfg["num_hidden_layers"] = n_layers
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**cfg, tie_word_embeddings=True, max_position_embeddings=2048))


def extrapolated_update_flops(
    build: Callable[[int], Any],
    n_layers: int,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    completion_mask: torch.Tensor,
    advantages: torch.Tensor,
    selected: torch.Tensor,
    variants: Sequence[str] = ("full", "sparse_head"),
) -> dict[str, float]:
    """FLOPs of one policy update (:func:`update_cost`) of an ``n_layers``-deep model without building it: count on
    ``build(1)`` and ``build(2)`` and extrapolate linearly in depth. Exact for a stack of identical layers
    (every layer costs the same; embeddings and LM head are counted once in both)."""
    per_depth = {}
    for depth in (1, 2):
        m = build(depth)
        per_depth[depth] = {
            v: update_cost(m, input_ids, attention_mask, completion_mask, advantages, selected, v, repeats=0)["flops"]  # type: ignore[arg-type]
            for v in variants
        }
        del m
    return {v: per_depth[1][v] + (n_layers - 1) * (per_depth[2][v] - per_depth[1][v]) for v in variants}


#: Qwen2.5-0.5B(-Instruct)'s shape (its config.json; q/k/v projections with biases, tied embeddings).
QWEN25_05B_SHAPE: dict[str, int] = dict(
    hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
    vocab_size=151936, qkv_bias=1,
)

GB = 1e9


def n_params(shape: dict[str, int]) -> int:
    """Parameters of a Llama/Qwen2-style decoder of ``shape`` with tied embeddings (``qkv_bias=1``: Qwen2's biases
    on the q, k and v projections)."""
    h, i, v = shape["hidden_size"], shape["intermediate_size"], shape["vocab_size"]
    kv = shape["num_key_value_heads"] * h // shape["num_attention_heads"]
    attn = h * h + 2 * h * kv + h * h + (h + 2 * kv) * int(shape.get("qkv_bias", 0))
    layer = attn + 3 * h * i + 2 * h
    return v * h + shape["num_hidden_layers"] * layer + h


def gpu_memory_estimate(cfg: RunConfig, shape: dict[str, int], prompt_tokens: int) -> dict[str, float]:
    """An estimate (arithmetic, not a measurement) of the peak memory, in GB (1e9 bytes), of training ``cfg`` on one
    GPU with a model of ``shape`` and prompts of up to ``prompt_tokens`` tokens.

    * ``weights_and_adamw``: float32 weights, gradients and AdamW's two moments, 16 bytes per parameter (the
      policy's weights are float32 even with ``bf16``: mixed precision);
    * ``logits_per_copy``: one float32 copy of the loss forward's completion logits, micro-batch x (completion
      length + 1) x vocabulary x 4 bytes; between one and three such copies (logits, log-softmax, their gradient)
      are alive at the peak, hence ``total_low`` / ``total_high``;
    * ``activations``: the layer inputs gradient checkpointing keeps (float32 residual stream) plus one layer's
      recomputed MLP (bf16);
    * ``kv_cache``: the generation batch's (``prompts_per_step * num_generations`` sequences) keys and values, float32;
    * ``update_tracking``: with ``track_updates``, the float32 copy of the weights taken before each step to log the
      update's norm (on the GPU, like the weights).

    CUDA context, allocator fragmentation and the evaluation's generation are not counted."""
    b = cfg.prompts_per_step * cfg.num_generations // cfg.gradient_accumulation_steps
    seq = prompt_tokens + cfg.max_completion_length
    h, v, layers = shape["hidden_size"], shape["vocab_size"], shape["num_hidden_layers"]
    kv = shape["num_key_value_heads"] * h // shape["num_attention_heads"]
    states = 16 * n_params(shape) / GB
    logits = b * (cfg.max_completion_length + 1) * v * 4 / GB
    checkpointed = bool(cfg.grpo_overrides.get("gradient_checkpointing", False))
    per_layer_saved = b * seq * h * 4 if checkpointed else b * seq * (10 * h + 3 * shape["intermediate_size"]) * 2
    activations = (layers * per_layer_saved + b * seq * 3 * shape["intermediate_size"] * 2) / GB
    kv_cache = layers * 2 * kv * seq * cfg.prompts_per_step * cfg.num_generations * 4 / GB
    tracking = 4 * n_params(shape) / GB if cfg.track_updates else 0.0
    fixed = states + activations + kv_cache + tracking
    return {"n_params": float(n_params(shape)), "weights_and_adamw": states, "logits_per_copy": logits,
            "activations": activations, "kv_cache": kv_cache, "update_tracking": tracking,
            "total_low": fixed + logits, "total_high": fixed + 3 * logits}
