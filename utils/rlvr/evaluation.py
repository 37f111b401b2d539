"""Held-out evaluation of a policy: :func:`evaluate_pass_rate` (sample ``n`` completions per problem, seeded, and
score them) and :func:`evaluation_key` (a digest of everything such a seeded result depends on, the key of
:func:`utils.rlvr.run.cached_evaluation`); re-exported by :mod:`utils.rlvr.run`."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from typing import Any

import torch

from utils.infra.prefill import shared_prefill

__all__ = ["evaluate_pass_rate", "evaluation_key"]


@torch.no_grad()
def evaluate_pass_rate(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    reward_fn: Callable[..., list[float]],
    samples: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 24,
    seed: int = 0,
    batch_size: int = 512,
    success_threshold: float = 1.0,
) -> dict[str, Any]:
    """Sample ``samples`` completions per held-out row (seeded, RNG state restored afterwards) and score them.

    Returns ``{"pass1": mean correctness, "correct": per-row counts, "n": samples}``; pass@k for k <= n follows
    from ``utils.passk.mean_pass_at_k(n, correct, k)``.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    prompts = [r["prompt"] for r in rows]
    texts = [
        tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) if isinstance(p, list) else p
        for p in prompts
    ]
    extra_keys = [k for k in (rows[0].keys() if rows else []) if k != "prompt"]
    correct = [0] * len(rows)
    old_side = getattr(tokenizer, "padding_side", "right")
    tokenizer.padding_side = "left"
    per_batch = max(1, batch_size // max(samples, 1))
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), shared_prefill(model):  # each prompt's prefill computed once
            torch.manual_seed(seed)
            for s in range(0, len(rows), per_batch):
                chunk = texts[s : s + per_batch]
                enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
                out = model.generate(
                    **enc, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                    max_new_tokens=max_new_tokens, num_return_sequences=samples,
                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                )
                comps = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
                idx = [s + i // samples for i in range(len(comps))]
                kw = {k: [rows[i][k] for i in idx] for k in extra_keys}
                rewards = reward_fn([prompts[i] for i in idx], comps, **kw)
                for i, r in zip(idx, rewards, strict=True):
                    correct[i] += int(r is not None and r >= success_threshold)
    finally:
        tokenizer.padding_side = old_side
        if was_training:
            model.train()
    total = len(rows) * samples
    return {"pass1": sum(correct) / total if total else float("nan"), "correct": correct, "n": samples}


def evaluation_key(model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], settings: dict[str, Any]) -> str:
    """A digest of everything a seeded :func:`evaluate_pass_rate` result depends on: the weights (every parameter
    and buffer, bit for bit), the tokenizer's vocabulary, the problems, the settings (sampling, seed, batch size,
    the reward's task and threshold) and the arithmetic (torch, transformers, threads, the CPU kernels)."""
    import hashlib
    import json

    import transformers

    h = hashlib.sha256()
    for name, t in list(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    meta = {
        "vocab": sorted(tokenizer.get_vocab().items()), "rows": list(rows), "settings": settings,
        "torch": torch.__version__, "transformers": transformers.__version__, "threads": torch.get_num_threads(),
        "cpu": torch.backends.cpu.get_cpu_capability(), "machine": platform.machine(),
        "aten": os.environ.get("ATEN_CPU_CAPABILITY", ""),
    }
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]
