"""The loss maths of entropy-guided RLVR: token masks, loss normalisers, advantage shaping.

Pure tensor functions (no TRL import), unit-tested without a trainer; :mod:`utils.rlvr.trainers` wires them
into TRL's ``GRPOTrainer``.

* **Wang et al.** keep the policy-gradient loss only on the top-rho share of tokens by entropy
  (:func:`entropy_mask`, rho = 0.2); :func:`role_mask` is the syntax-only control (operators, then operands, as
  many tokens as the top-rho mask keeps, chosen without looking at entropy).
* :func:`masked_policy_loss` aggregates a per-token loss over the kept tokens with either normaliser (all
  completion tokens: the paper's formula and TRL; selected tokens: the authors' code).
* **Cheng et al.** add ``psi(H_t) = min(alpha * H_t.detach(), |A_t| / kappa)`` to each token's advantage
  (:func:`entropy_advantage`); :func:`entropy_advantage_seed_variant` is the popular write-up's different reading.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

__all__ = [
    "CONDITIONS",
    "NORMALISERS",
    "adv_plus_psi",
    "broadcast_advantages",
    "entropy_advantage",
    "entropy_advantage_seed_variant",
    "entropy_mask",
    "masked_policy_loss",
    "n_selected",
    "normaliser_comparison",
    "role_mask",
]

#: Which tokens keep their loss: every token, the top-rho by entropy, the bottom 1-rho, as many as top at random,
#: or as many as top chosen by role only (operators first, then operands).
CONDITIONS = ("all", "top", "bottom", "random", "role")
NORMALISERS = ("all", "selected")
MaskMode = Literal["top", "bottom", "random"]


def n_selected(n_valid: int, rho: float) -> int:
    """Tokens the ``top``/``random`` selections keep out of ``n_valid``: ``ceil(rho * n_valid)`` (the authors'
    code keeps the top ``ceil(rho * N)``), at least 1 when there is any token, and computed with a small tolerance
    so that e.g. ``0.2 * 10`` gives 2, not 3, despite floating point."""
    if not 0.0 < rho <= 1.0:
        raise ValueError(f"rho must be in (0, 1], got {rho}")
    if n_valid <= 0:
        return 0
    return min(n_valid, max(1, math.ceil(rho * n_valid - 1e-9)))


def _valid_positions(values: torch.Tensor, completion_mask: torch.Tensor, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(valid, flat_valid_idx)``: the completion mask as bools and the flat indices of its valid positions
    (row-major), after checking that ``values`` has the mask's shape."""
    if values.shape != completion_mask.shape:
        raise ValueError(f"shape mismatch: {what} {tuple(values.shape)} vs mask {tuple(completion_mask.shape)}")
    valid = completion_mask.bool()
    return valid, valid.reshape(-1).nonzero(as_tuple=True)[0]


def entropy_mask(
    entropies: torch.Tensor,
    completion_mask: torch.Tensor,
    rho: float,
    mode: MaskMode = "top",
    generator: torch.Generator | None = None,
    rule: Literal["count", "quantile"] = "count",
) -> torch.Tensor:
    """Which completion tokens keep their policy-gradient loss.

    Args:
        entropies: (B, T) per-token entropies (any unit; only the order matters).
        completion_mask: (B, T), 1/True for real completion tokens, 0 for padding.
        rho: share kept by ``top`` (and, in count, by ``random``); ``bottom`` keeps the rest (1 - rho).
        mode: ``"top"`` highest-entropy tokens; ``"bottom"`` the exact complement of ``top`` among valid tokens;
            ``"random"`` as many tokens as ``top`` keeps, uniformly at random among valid tokens (``generator``
            seeds it).
        rule: ``"count"`` (default) keeps exactly ``n_selected(N, rho)`` tokens, ties broken deterministically
            by flat position (earlier wins), as the authors' code does per micro-batch. ``"quantile"`` is TRL's
            ``get_high_entropy_mask``: keep ``H >= torch.quantile(H_valid, 1 - rho)`` (ties at the threshold all
            kept, so the share can exceed rho); ``bottom`` is then ``H < threshold``, disjoint from ``top`` by
            construction.

    Returns:
        Bool tensor (B, T). Padding is never selected; ``top | bottom`` equals the valid tokens and
        ``top & bottom`` is empty. Empty or all-padding batches give an all-False mask.
    """
    if mode not in ("top", "bottom", "random"):
        raise ValueError(f"mode must be top, bottom or random, got {mode!r}")
    valid, flat_valid_idx = _valid_positions(entropies, completion_mask, "entropies")
    out = torch.zeros_like(valid)
    n_valid = int(flat_valid_idx.numel())
    if n_valid == 0:
        return out
    k = n_selected(n_valid, rho)
    if mode == "random":
        if rule == "quantile":
            k = int(entropy_mask(entropies, completion_mask, rho, "top", rule="quantile").sum())
        perm = torch.randperm(n_valid, generator=generator, device="cpu")[:k].to(flat_valid_idx.device)
        out.view(-1)[flat_valid_idx[perm]] = True
        return out
    vals = entropies.detach().reshape(-1)[flat_valid_idx].float()
    if rule == "quantile":
        threshold = torch.quantile(vals, 1.0 - rho) if rho < 1.0 else vals.min()
        top = valid & (entropies.detach().float() >= threshold)
    elif rule == "count":
        # stable sort on -H: equal entropies keep their flat order, so earlier positions win ties
        order = torch.sort(-vals, stable=True).indices
        top = torch.zeros_like(valid)
        top.view(-1)[flat_valid_idx[order[:k]]] = True
    else:
        raise ValueError(f"rule must be count or quantile, got {rule!r}")
    return top if mode == "top" else valid & ~top


def role_mask(
    priority: torch.Tensor,
    completion_mask: torch.Tensor,
    rho: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The syntax-only control: as many tokens as the top-rho entropy mask keeps, chosen by role, not entropy.

    Args:
        priority: (B, T) integer rank of each token's role, lower first (e.g. 0 = operator, 1 = operand,
            2 = anything else; :func:`utils.countdown.role_priority` builds it for Countdown).
        completion_mask: (B, T) valid completion tokens.
        rho: the share of the top-rho mask whose count is matched (``n_selected(N, rho)`` tokens).
        generator: seeds the random choice *within* a priority level.

    Returns:
        Bool (B, T) mask: whole priority levels in order, then a uniformly random subset of the level that does
        not fit entirely. Padding is never selected.
    """
    valid, flat_valid_idx = _valid_positions(priority, completion_mask, "priority")
    out = torch.zeros_like(valid)
    n_valid = int(flat_valid_idx.numel())
    if n_valid == 0:
        return out
    k = n_selected(n_valid, rho)
    pri = priority.reshape(-1)[flat_valid_idx].to("cpu", torch.float64)
    # random order within a level, levels in order: sort by (priority, random key)
    key = torch.rand(n_valid, generator=generator, dtype=torch.float64)
    order = torch.sort(pri * 2.0 + key, stable=True).indices[:k].to(flat_valid_idx.device)
    out.view(-1)[flat_valid_idx[order]] = True
    return out


def masked_policy_loss(
    per_token_loss: torch.Tensor,
    completion_mask: torch.Tensor,
    selected: torch.Tensor | None,
    normaliser: Literal["all", "selected"] = "all",
) -> torch.Tensor:
    """Token-level (DAPO-style) aggregate of a per-token loss restricted to ``selected`` tokens.

    ``"all"`` divides the sum over selected tokens by the number of *all* completion tokens (Wang et al.'s formula
    and TRL); ``"selected"`` divides by the number of selected tokens (the authors' released code), which makes the
    loss about ``1/rho`` times larger for a top-rho selection. Under Adam-type optimisers a constant loss scale
    largely cancels (notebook 04 measures it). ``selected=None`` keeps every token.
    """
    m = completion_mask.to(per_token_loss.dtype)
    sel = m if selected is None else m * selected.to(per_token_loss.dtype)
    total = (per_token_loss * sel).sum()
    if normaliser == "all":
        return total / m.sum().clamp(min=1.0)
    if normaliser == "selected":
        return total / sel.sum().clamp(min=1.0)
    raise ValueError(f"normaliser must be all or selected, got {normaliser!r}")


def normaliser_comparison(
    logps: torch.Tensor,
    advantages: torch.Tensor,
    completion_mask: torch.Tensor,
    entropies: torch.Tensor,
    rho: float = 0.2,
    mode: MaskMode = "top",
) -> dict[str, float]:
    """Gradient size of one condition under both normalisers, on the same batch.

    ``logps`` is a (B, T) tensor standing in for the policy's log-probs; the loss is the on-policy GRPO surrogate
    ``-A * logp``. Returns the gradient norms for ``"all"`` and ``"selected"``, their ratio, and
    ``n_valid / n_selected`` (the ratio the formulas predict).
    """
    sel = entropy_mask(entropies, completion_mask, rho, mode)
    adv = broadcast_advantages(advantages, logps)
    out: dict[str, float] = {}
    for norm in NORMALISERS:
        lp = logps.detach().clone().requires_grad_(True)
        masked_policy_loss(-adv * lp, completion_mask, sel, norm).backward()
        out[f"grad_norm_{norm}"] = float(lp.grad.norm())
    out["ratio"] = out["grad_norm_selected"] / max(out["grad_norm_all"], 1e-30)
    out["n_valid_over_n_selected"] = float(completion_mask.bool().sum()) / max(float(sel.sum()), 1.0)
    out["share_selected"] = float(sel.sum()) / max(float(completion_mask.bool().sum()), 1.0)
    return out


# ====================================================================================== advantage shaping


def broadcast_advantages(adv: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) per-sequence advantages expanded to ``like``'s (B, T); (B, T) ones are checked and returned."""
    if adv.dim() == 1:
        return adv[:, None].expand_as(like)
    if adv.shape != like.shape:
        raise ValueError(f"advantages {tuple(adv.shape)} do not match entropies {tuple(like.shape)}")
    return adv


def adv_plus_psi(
    adv: torch.Tensor,
    entropy: torch.Tensor,
    mask: torch.Tensor | None = None,
    alpha: float = 0.4,
    kappa: float = 2.0,
    baseline: float | None = None,
    cap: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cheng et al.'s shaping with its parts: returns ``(A + psi, psi, cap_binds)``.

    ``baseline=None`` is the paper's rule ``psi = min(alpha * H.detach(), |A| / kappa)``; a float gives the
    write-up's variant ``min(alpha * max(H - b, 0), |A| / kappa)``. ``cap_binds`` marks the tokens where
    ``|A| / kappa`` is the smaller term. ``cap=False`` drops the cap (NOT the paper's rule): ``psi = alpha * H``,
    a function of the state alone, i.e. a baseline whose expected policy gradient is zero (notebook 05's
    control); ``cap_binds`` is then all False.
    """
    if kappa <= 0:
        raise ValueError("kappa must be > 0 (and > 1 to keep the sign)")
    a = broadcast_advantages(adv, entropy).to(entropy.dtype if entropy.is_floating_point() else torch.float32)
    h = entropy.detach().to(a.dtype)
    raw = alpha * (h if baseline is None else (h - baseline).clamp(min=0.0))
    ceiling = a.abs() / kappa
    psi = torch.minimum(raw, ceiling) if cap else raw
    binds = raw > ceiling if cap else torch.zeros_like(raw, dtype=torch.bool)
    if mask is not None:
        m = mask.bool()
        psi = psi * m
        binds = binds & m
    return a + psi, psi, binds


def entropy_advantage(
    adv: torch.Tensor,
    entropy: torch.Tensor,
    mask: torch.Tensor | None = None,
    alpha: float = 0.4,
    kappa: float = 2.0,
) -> torch.Tensor:
    """Cheng et al.'s shaped advantage ``A_t + psi(H_t)``, ``psi = min(alpha * H_t.detach(), |A_t| / kappa)``.

    Args:
        adv: (B,) per-sequence GRPO advantages or (B, T) per-token ones.
        entropy: (B, T) token entropies of the current policy (nats); detached here, no gradient flows through it.
        mask: optional (B, T) completion mask; psi is 0 on padding.
        alpha, kappa: the paper's defaults with GRPO (0.4, 2). ``kappa > 1`` keeps ``sign(A_t + psi) == sign(A_t)``
            for ``A_t < 0`` since ``psi <= |A_t| / kappa < |A_t|``; a zero-advantage group gets psi = 0.

    Returns:
        (B, T) shaped advantages. psi is always >= 0 (entropy is non-negative).
    """
    return adv_plus_psi(adv, entropy, mask, alpha, kappa)[0]


def entropy_advantage_seed_variant(
    adv: torch.Tensor,
    entropy: torch.Tensor,
    mask: torch.Tensor | None,
    baseline: float,
    alpha: float = 0.4,
    kappa: float = 2.0,
) -> torch.Tensor:
    """NOT the paper's rule. The popular write-up's reading, "a bonus for tokens whose entropy rises above a moving
    baseline": ``psi = min(alpha * max(H_t - b, 0), |A_t| / kappa)`` with ``b`` an exponential moving average of
    the batch-mean entropy (kept by :class:`utils.rlvr.trainers.EntropyAdvantageGRPOTrainer` with
    ``variant="seed"``). Same cap, so the sign is kept as well. Cheng et al. publish no baseline."""
    return adv_plus_psi(adv, entropy, mask, alpha, kappa, baseline=baseline)[0]
