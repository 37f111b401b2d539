"""What one policy update costs (the write-up's compute claim, notebook 04 and ``scripts/bench_rlvr.py``).

* :func:`policy_batch` -- one batch exactly as TRL builds it, with the policy's log-probs and entropies on it;
* :func:`update_cost` -- FLOPs and wall time of one update with the full loss, the top-rho masked loss (the paper's
  method: same FLOPs) or a sparse-LM-head variant that really skips work (not the paper's method);
* :func:`llama_like` and :func:`extrapolated_update_flops` -- the same count at SmolLM2-135M's shape, from one- and
  two-layer models.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch

from utils.entropy import token_entropy
from utils.rlvr.config import RunConfig
from utils.rlvr.losses import broadcast_advantages
from utils.rlvr.run import build_trainer

__all__ = ["SMOLLM2_135M_SHAPE", "extrapolated_update_flops", "llama_like", "policy_batch", "update_cost"]


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

    def step() -> torch.Tensor:
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
