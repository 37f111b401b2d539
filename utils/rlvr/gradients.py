"""Where each token mask points the policy gradient, and how big a step the optimiser then takes.

Notebook 04's "gradient story": on real GRPO batches, the policy gradient of each condition's masked loss (top-rho,
bottom, random, role; normaliser "all") compared with the full gradient -- its norm ratio and cosine. Then the
optimiser: Adam divides each coordinate by a running estimate of its own scale, so multiplying the loss by a
constant (all a normaliser does within one step) leaves the update almost unchanged, while plain SGD's update grows
with it. :func:`first_step_update` measures both on the same gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from utils.entropy import token_entropy
from utils.rlvr.losses import broadcast_advantages, entropy_mask, masked_policy_loss, role_mask

__all__ = ["alignment", "condition_masks", "first_step_update", "mask_gradients", "policy_logps_and_entropies"]


def policy_logps_and_entropies(model: Any, batch: dict[str, Any], temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The policy's log-probabilities of the sampled completion tokens (with grad) and its token entropies (nats,
    detached), both (B, T), from one forward pass over ``batch`` (see :func:`utils.rlvr.minimal.sample_batches`)."""
    T = batch["completion_mask"].shape[1]
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, -T - 1 : -1]
    logits = logits.float() / temperature
    logp = torch.log_softmax(logits, dim=-1).gather(-1, batch["completion_ids"][..., None]).squeeze(-1)
    return logp, token_entropy(logits.detach())


def condition_masks(
    batch: dict[str, Any], entropies: torch.Tensor, rho: float = 0.2, seed: int = 0
) -> dict[str, torch.Tensor | None]:
    """The token selections of notebook 04's conditions on one batch: ``all`` (None: every token), ``top``,
    ``bottom``, ``random`` and ``role`` (Countdown operators, then operands; as many tokens as ``top``)."""
    from utils.countdown import role_priority

    cm = batch["completion_mask"]
    tok = batch["tokenizer"]
    ranks = torch.tensor([role_priority(tok.convert_ids_to_tokens(r.tolist())) for r in batch["completion_ids"]])
    g = torch.Generator().manual_seed(seed)
    return {
        "all": None,
        "top": entropy_mask(entropies, cm, rho, "top"),
        "bottom": entropy_mask(entropies, cm, rho, "bottom"),
        "random": entropy_mask(entropies, cm, rho, "random", generator=g),
        "role": role_mask(ranks, cm, rho, generator=g),
    }


def mask_gradients(
    model: Any,
    batch: dict[str, Any],
    masks: dict[str, torch.Tensor | None],
    normaliser: str = "all",
    temperature: float = 1.0,
) -> dict[str, torch.Tensor]:
    """The gradient (flattened over all parameters) of the on-policy GRPO surrogate ``-A * logp``, aggregated by
    :func:`~utils.rlvr.losses.masked_policy_loss` over each mask's tokens, from one shared forward pass."""
    params = [p for p in model.parameters() if p.requires_grad]
    logp, _ = policy_logps_and_entropies(model, batch, temperature)
    adv = broadcast_advantages(batch["advantages"], logp).float()
    out = {}
    names = list(masks)
    for i, name in enumerate(names):
        loss = masked_policy_loss(-adv * logp, batch["completion_mask"], masks[name], normaliser)  # type: ignore[arg-type]
        grads = torch.autograd.grad(loss, params, retain_graph=i < len(names) - 1, allow_unused=True)
        out[name] = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)])
    return out


def alignment(grads: dict[str, torch.Tensor], reference: str = "all") -> dict[str, dict[str, float]]:
    """Per gradient: ``norm_ratio`` (its norm over the reference's) and ``cosine`` with the reference.

    The cosine is clamped to [-1, 1] here, where it is computed: the dot product and the two norms are separate
    floating-point reductions, so a gradient's cosine with itself can come out as 1 + 1e-15 on one CPU's vectorised
    kernels and 1 - 1e-15 on another's."""
    ref = grads[reference].double()
    rn = float(ref.norm())
    out = {}
    for name, g in grads.items():
        g = g.double()
        gn = float(g.norm())
        cos = min(1.0, max(-1.0, float(torch.dot(g, ref)) / (gn * rn))) if gn > 0 and rn > 0 else float("nan")
        out[name] = {"norm_ratio": gn / rn if rn > 0 else float("nan"), "cosine": cos}
    return out


def first_step_update(grad: torch.Tensor, optimizer: str, lr: float, scales: Sequence[float] = (1.0, 5.0)) -> dict[float, float]:
    """Norm of the first optimiser step taken from ``scale * grad`` (a fresh optimiser on a copy of zeros), for each
    scale: Adam's step barely moves with the scale (it divides by the gradient's own size), SGD's grows with it.
    ``optimizer``: ``"adamw"`` (betas 0.9/0.999, eps 1e-8, no weight decay) or ``"sgd"``."""
    out = {}
    for s in scales:
        p = torch.zeros_like(grad, requires_grad=True)
        opt = torch.optim.AdamW([p], lr=lr, weight_decay=0.0) if optimizer == "adamw" else torch.optim.SGD([p], lr=lr)
        p.grad = grad.detach() * s
        opt.step()
        out[float(s)] = float(p.detach().norm())
    return out
