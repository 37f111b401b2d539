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
  (operand, operator, result, ...; roles from :func:`utils.countdown.token_roles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from utils.rlvr.losses import entropy_mask

__all__ = ["delta_by_bucket", "pad_ragged", "selected_by_role", "top_overlap"]


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
