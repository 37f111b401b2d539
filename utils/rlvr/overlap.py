"""Does RLVR keep the base model's entropy pattern? Compare two models' token entropies on the same completions.

Wang et al. report that the top-20% entropy positions of the base and the RL-trained model overlap by > 86%
(Qwen3-14B, DAPO; unverified number) and that RL mainly changes the entropy of tokens that were already
high-entropy. The helpers here measure both on any pair of models that score the same completions:

* :func:`pad_ragged` turns per-completion entropy arrays into a padded (B, T) tensor and its mask;
* :func:`top_overlap` -- share of the base model's top-rho positions that are also the trained model's
  top-rho positions (pooled over all completion tokens, the selection rule of :func:`utils.rlvr.losses.entropy_mask`),
  next to the share a random selection of the same size would give (= k / N);
* :func:`delta_by_bucket` -- mean |Delta H| (and mean Delta H) per base-entropy decile;
* :func:`selected_by_role` -- for the Countdown task model, which kind of character a token mask selects
  (operand, operator, result, ...; roles from :func:`utils.countdown.token_roles`);
* :func:`high_minus_rest` -- mean |Delta H| over the base model's top-rho positions minus over the rest;
* :func:`perturbed_model` / :func:`matched_perturbation` -- the null a trained model is compared with: the base
  model with random Gaussian noise on every weight, its size chosen so the mean |Delta H| on the same completions
  matches the trained model's. Any change of the weights moves entropies; this asks whether RL moves them *where*
  a random change of the same size would not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from utils.rlvr.losses import entropy_mask

__all__ = ["delta_by_bucket", "high_minus_rest", "matched_perturbation", "mean_abs_delta", "pad_ragged", "perturbation_null",
           "perturbed_model",
           "selected_by_role", "top_overlap"]


def pad_ragged(arrays: Sequence[np.ndarray | Sequence[float]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-completion 1-D arrays -> ``(values (B, T) float64, mask (B, T) bool)``, right-padded with zeros."""
    lengths = [len(a) for a in arrays]
    width = max(lengths, default=0)
    vals = torch.zeros(len(arrays), width, dtype=torch.float64)
    mask = torch.zeros(len(arrays), width, dtype=torch.bool)
    for i, a in enumerate(arrays):
        if len(a):
            vals[i, : len(a)] = torch.as_tensor(np.asarray(a, dtype=np.float64))
            mask[i, : len(a)] = True
    return vals, mask


def _check_same_shape(base: Sequence[Any], new: Sequence[Any]) -> None:
    if len(base) != len(new) or any(len(a) != len(b) for a, b in zip(base, new)):
        raise ValueError("base and trained entropies must come from the same completions (same count and lengths)")


def top_overlap(
    base: Sequence[np.ndarray], new: Sequence[np.ndarray], rho: float = 0.2
) -> dict[str, float]:
    """Overlap of the top-``rho`` entropy positions of two models on the same completions.

    Both selections keep exactly ``k = n_selected(N, rho)`` of the ``N`` pooled completion tokens (ties broken by
    position, as in :func:`utils.rlvr.losses.entropy_mask`). Returns ``overlap = |top_base & top_new| / k``, ``chance =
    k / N`` (the expected overlap if ``new``'s selection were random), ``n_tokens = N`` and ``k``.
    """
    _check_same_shape(base, new)
    hb, mask = pad_ragged(base)
    hn, _ = pad_ragged(new)
    n = int(mask.sum())
    if n == 0:
        raise ValueError("no completion tokens to compare")
    tb = entropy_mask(hb, mask, rho, "top")
    tn = entropy_mask(hn, mask, rho, "top")
    k = int(tb.sum())
    return {"overlap": float((tb & tn).sum()) / k, "chance": k / n, "n_tokens": float(n), "k": float(k)}


def delta_by_bucket(base: Sequence[np.ndarray], new: Sequence[np.ndarray], n_buckets: int = 10) -> dict[str, list[float]]:
    """How much each model's entropy changed, grouped by the base model's entropy.

    Tokens are split into ``n_buckets`` equal-count buckets by base entropy (bucket 0 = lowest; ties broken by
    position). Returns lists (one value per bucket): ``base_mean`` (mean base entropy), ``new_mean``,
    ``abs_delta`` (mean |H_new - H_base|), ``delta`` (mean H_new - H_base) and ``n`` (tokens per bucket).
    """
    _check_same_shape(base, new)
    if n_buckets < 1:
        raise ValueError("n_buckets must be >= 1")
    hb = np.concatenate([np.asarray(a, dtype=np.float64) for a in base]) if base else np.zeros(0)
    hn = np.concatenate([np.asarray(a, dtype=np.float64) for a in new]) if new else np.zeros(0)
    if hb.size < n_buckets:
        raise ValueError(f"need at least n_buckets={n_buckets} tokens, got {hb.size}")
    order = np.argsort(hb, kind="stable")
    out: dict[str, list[float]] = {"base_mean": [], "new_mean": [], "abs_delta": [], "delta": [], "n": []}
    for idx in np.array_split(order, n_buckets):
        d = hn[idx] - hb[idx]
        out["base_mean"].append(float(hb[idx].mean()))
        out["new_mean"].append(float(hn[idx].mean()))
        out["abs_delta"].append(float(np.abs(d).mean()))
        out["delta"].append(float(d.mean()))
        out["n"].append(float(idx.size))
    return out


def selected_by_role(
    tokenizer: Any, completion_ids: torch.Tensor, completion_mask: torch.Tensor, selected: torch.Tensor
) -> dict[str, dict[str, float]]:
    """Per character role (char-level Countdown task model): how many completion tokens have it (``n``), the share
    of them the mask selects (``share_selected``) and the role's share of all selected tokens (``share_of_kept``).

    ``completion_ids`` (B, T) are right-padded completions ending with EOS, as TRL builds them; the role of each
    token comes from :func:`utils.countdown.token_roles` of the decoded text (its last role is ``"eos"``).
    """
    from utils.countdown import token_roles

    counts: dict[str, list[float]] = {}
    total_sel = float(selected.bool().sum()) or 1.0
    for i in range(completion_ids.shape[0]):
        m = completion_mask[i].bool()
        toks = tokenizer.convert_ids_to_tokens(completion_ids[i][m].tolist())
        text = "".join(t for t in toks if t != tokenizer.eos_token)
        roles = token_roles(text)
        if toks and toks[-1] != tokenizer.eos_token:
            roles = roles[:-1]  # truncated: no EOS token
        if len(roles) != len(toks):
            roles = ["other"] * len(toks)  # special tokens inside a completion: keep the counts right
        sel = selected[i][m].bool().tolist()
        for r, s_ in zip(roles, sel):
            c = counts.setdefault(r, [0.0, 0.0])
            c[0] += 1
            c[1] += s_
    return {r: {"n": n, "share_selected": k / n, "share_of_kept": k / total_sel} for r, (n, k) in counts.items()}


def _flat(arrays: Sequence[np.ndarray | Sequence[float]]) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays]) if len(arrays) else np.zeros(0)


def mean_abs_delta(base: Sequence[np.ndarray], new: Sequence[np.ndarray]) -> float:
    """Mean |H_new - H_base| over all completion tokens (the size of an entropy change, in nats)."""
    _check_same_shape(base, new)
    return float(np.abs(_flat(new) - _flat(base)).mean())


def high_minus_rest(base: Sequence[np.ndarray], new: Sequence[np.ndarray], rho: float = 0.2) -> float:
    """Mean |Delta H| over the base model's top-``rho`` entropy positions (pooled tokens, the 1 - rho percentile as
    the threshold) minus the mean over the other positions: > 0 when the change concentrates on high-entropy tokens."""
    _check_same_shape(base, new)
    hb, hn = _flat(base), _flat(new)
    top = hb >= np.percentile(hb, 100 * (1 - rho))
    if top.all() or not top.any():
        raise ValueError("the base entropies do not split into a top share and a rest")
    d = np.abs(hn - hb)
    return float(d[top].mean() - d[~top].mean())


def perturbed_model(model: torch.nn.Module, scale: float, seed: int) -> torch.nn.Module:
    """A copy of ``model`` with every floating-point weight tensor ``w`` replaced by ``w + scale * rms(w) * z``,
    ``z`` standard normal from ``torch.Generator().manual_seed(seed)`` (the same ``z`` for every ``scale``, so the
    change grows smoothly with ``scale``). ``rms(w)``: the tensor's root mean square (1 for a LayerNorm gain)."""
    if not (scale >= 0 and np.isfinite(scale)):
        raise ValueError(f"scale must be a finite number >= 0, got {scale}")
    out = copy.deepcopy(model)
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for _, w in sorted(out.named_parameters(), key=lambda kv: kv[0]):
            if not w.is_floating_point():
                continue
            z = torch.randn(w.shape, generator=g, dtype=torch.float32).to(w.dtype)
            rms = w.detach().float().pow(2).mean().sqrt().clamp_min(1e-8)
            w.add_(scale * float(rms) * z)
    return out


def matched_perturbation(
    model: torch.nn.Module, score: Callable[[torch.nn.Module], Sequence[np.ndarray]], base: Sequence[np.ndarray],
    target: float, seed: int, rel_tol: float = 0.03, max_iter: int = 20, lo: float = 1e-4, hi: float = 1.0,
) -> dict[str, Any]:
    """The random perturbation (:func:`perturbed_model`, noise seed ``seed``) whose mean |Delta H| on the scored
    completions matches ``target`` within ``rel_tol`` (bisection on log(scale) between ``lo`` and ``hi``).

    ``score(m)`` returns ``m``'s per-completion entropies on the completions ``base`` was scored on (pass a subset
    to make the search cheap and re-score the returned ``model`` on the full set). Returns ``{"model", "scale",
    "mean_abs_delta", "entropies", "iterations"}``; raises ``ValueError`` when even ``hi`` stays below ``target``."""
    if not target > 0:
        raise ValueError(f"target mean |dH| must be > 0, got {target}")
    lo_, hi_ = float(np.log(lo)), float(np.log(hi))
    m_hi = perturbed_model(model, hi, seed)
    h_hi = score(m_hi)
    if mean_abs_delta(base, h_hi) < target:
        raise ValueError(f"a perturbation of scale {hi} changes the entropy by less than the target {target:.3g}")
    best = {"model": m_hi, "scale": hi, "mean_abs_delta": mean_abs_delta(base, h_hi), "entropies": h_hi}
    for it in range(1, max_iter + 1):
        mid = 0.5 * (lo_ + hi_)
        m = perturbed_model(model, float(np.exp(mid)), seed)
        h = score(m)
        d = mean_abs_delta(base, h)
        if abs(d - target) < abs(best["mean_abs_delta"] - target):
            best = {"model": m, "scale": float(np.exp(mid)), "mean_abs_delta": d, "entropies": h}
        if abs(d - target) <= rel_tol * target:
            break
        lo_, hi_ = (mid, hi_) if d < target else (lo_, mid)
    best["iterations"] = it
    return best


def perturbation_null(
    model: torch.nn.Module, score: Callable[[torch.nn.Module], Sequence[np.ndarray]], base: Sequence[np.ndarray],
    target: float, seeds: Sequence[int], n_search: int | None = None, rel_tol: float = 0.03, rho: float = 0.2,
) -> list[dict[str, Any]]:
    """One matched random perturbation per noise seed (:func:`matched_perturbation`), searched on the first
    ``n_search`` completions (all with ``None``) and measured on all of them: per seed ``{"seed", "scale",
    "mean_abs_delta", "overlap", "high_minus_rest"}`` -- what a change of the weights of the trained model's size,
    in no direction in particular, does to the entropy pattern, plus ``"abs_delta_by_decile"`` (mean |ΔH| per decile of
    base entropy, :func:`delta_by_bucket`). ``score(m, n=None)`` scores the first ``n``."""
    k = len(base) if n_search is None else min(int(n_search), len(base))
    out = []
    for s in seeds:
        found = matched_perturbation(model, lambda m: score(m, k), list(base)[:k], target, int(s), rel_tol=rel_tol)
        h = score(found["model"], None)
        out.append({"seed": int(s), "scale": float(found["scale"]), "mean_abs_delta": mean_abs_delta(base, h),
                    "overlap": top_overlap(base, h, rho)["overlap"], "high_minus_rest": high_minus_rest(base, h, rho),
                    "abs_delta_by_decile": [float(x) for x in delta_by_bucket(base, h, 10)["abs_delta"]]})
    return out
