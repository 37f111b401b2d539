"""Scoring completions given prompts: the entropy of the distribution that produced each completion token."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from utils.entropy import TokenRecord, token_entropy, unit_scale


@torch.no_grad()
def score_completions_at(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str | Sequence[int]],
    temperatures: Sequence[float],
    batch_size: int = 8,
    unit: str = "nats",
    append_eos: bool = False,
) -> dict[float, list[list[TokenRecord]]]:
    """:func:`score_completions` at several temperatures from one forward pass per batch:
    ``{temperature: records}`` (e.g. a corpus sampled at 0.7, scored at 0.7 and at 1). Each temperature must be a
    finite number > 0, ``batch_size`` a whole number >= 1 (``ValueError`` otherwise)."""
    from utils import checks

    scale = unit_scale(unit)
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions: pass one prompt per completion.")
    temps = [checks.temperature(t) for t in temperatures]
    if not temps:
        raise ValueError("temperatures is empty: pass at least one temperature > 0.")
    batch_size = checks.positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    eos = tokenizer.eos_token_id
    results: dict[float, list[list[TokenRecord]]] = {t: [] for t in temps}
    for start in range(0, len(prompts), batch_size):
        ids, att, spans = _encode_batch(tokenizer, prompts[start : start + batch_size],
                                        completions[start : start + batch_size], eos, append_eos)
        logits = model(input_ids=ids.to(device), attention_mask=att.to(device)).logits
        # the rows that produced completion tokens: index k-1 .. k-1+len(c)-1 for a prompt of length k
        rows = [logits[i, k - 1 : k - 1 + len(c)] for i, (k, c) in enumerate(spans)]
        raw = torch.cat(rows).float() if rows else logits.new_zeros((0, logits.shape[-1])).float()
        if raw.shape[0] == 0:
            for t in temps:
                results[t].extend([[] for _ in spans])
            continue
        targets = torch.tensor([t for _, c in spans for t in c], device=raw.device)
        for temp in temps:
            results[temp].extend(_records_at(tokenizer, raw / temp, targets, spans, scale))
    return results


def _encode_batch(tokenizer: Any, ps: Sequence[str], cs: Sequence[str | Sequence[int]], eos: Any,
                  append_eos: bool) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, list[int]]]]:
    """Right-padded ``input_ids`` and ``attention_mask`` of prompt + completion, and per row ``(prompt length,
    completion ids)``."""
    seqs, spans = [], []
    for p, c in zip(ps, cs):
        p_ids = tokenizer(p, add_special_tokens=False)["input_ids"]
        if not p_ids:
            raise ValueError("a prompt encodes to zero tokens: the first completion token needs a context.")
        c_ids = list(tokenizer(c, add_special_tokens=False)["input_ids"]) if isinstance(c, str) else [int(i) for i in c]
        if append_eos:
            c_ids = c_ids + [eos]
        seqs.append(p_ids + c_ids)
        spans.append((len(p_ids), c_ids))
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    att = torch.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        att[i, : len(s)] = 1
    return ids, att, spans


def _records_at(tokenizer: Any, flat: torch.Tensor, targets: torch.Tensor, spans: Sequence[tuple[int, list[int]]],
                scale: float) -> list[list[TokenRecord]]:
    """One list of records per completion of a batch, from its completion rows of logits already divided by the
    temperature (``flat``) and the sampled ids (``targets``)."""
    ent_l = (token_entropy(flat) * scale).tolist()
    tok_logp = (flat.gather(-1, targets[:, None]).squeeze(-1) - torch.logsumexp(flat, dim=-1)).tolist()
    out = []
    j = 0
    for _, c in spans:
        recs = []
        for t, tid in enumerate(c):
            lp = tok_logp[j]
            recs.append(TokenRecord(t, tokenizer.decode([tid]), int(tid), ent_l[j], math.exp(lp), -lp * scale))
            j += 1
        out.append(recs)
    return out


def score_completions(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str | Sequence[int]],
    batch_size: int = 8,
    unit: str = "nats",
    temperature: float = 1.0,
    append_eos: bool = False,
) -> list[list[TokenRecord]]:
    """Per-token records of each completion, scored given its prompt.

    Args:
        prompts: the exact texts the completions were sampled after (tokenized without added special
            tokens, as in generation).
        completions: texts, or -- better -- the sampled token ids (re-tokenizing decoded text can give
            different ids than the ones sampled).
        temperature: logits are divided by it (the sampling temperature gives the distribution each token was
            drawn from; 1.0: the model's own distribution).
        append_eos: also score the step that produced EOS (its record's token is the EOS string).

    Returns:
        one list of :class:`~utils.entropy.TokenRecord` per completion; ``position`` counts from 0 at
        the first completion token, and every record has an entropy (the prompt gives each one a
        predicting distribution).

    Sequences are right-padded, so positions start at 0 for every row and padding never reaches a record. Inputs
    go to the model's device (a GPU when :func:`utils.models.load_lm` put the model there).
    """
    (scored,) = score_completions_at(model, tokenizer, prompts, completions, [temperature], batch_size=batch_size,
                                     unit=unit, append_eos=append_eos).values()
    return scored
