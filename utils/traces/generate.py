"""Sampling traces of a real LM on the word problems of :mod:`utils.traces`."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from utils.traces.problems import Problem, chat_prompt, extract_answer


def generate_traces(
    model: Any,
    tokenizer: Any,
    problems: Sequence[Problem],
    samples: int = 1,
    seed: int = 0,
    max_new_tokens: int = 160,
    batch_size: int = 16,
    temperature: float = 1.0,
    on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Sample ``samples`` completions per problem (full distribution at ``temperature``: no top-k/top-p).

    Batched with left padding; batch ``b`` is seeded with ``seed * 100_003 + b`` so a run repeats
    bit-for-bit on the same machine with the same ``batch_size`` (on a GPU the samples differ from the CPU's).
    Each row records the sampling ``temperature`` (score it at that temperature to get the entropy of the
    distribution each token was drawn from). ``on_batch`` gets each batch's rows (e.g. to append them to a file as
    they come). ``temperature`` must be a finite number > 0; ``samples``, ``batch_size`` and ``max_new_tokens``
    whole numbers >= 1 (``ValueError`` otherwise).
    """
    import torch

    from utils import checks
    from utils.config import seed_everything

    samples = checks.positive_int(samples, "samples")
    batch_size = checks.positive_int(batch_size, "batch_size")
    max_new_tokens = checks.positive_int(max_new_tokens, "max_new_tokens")
    temperature = checks.temperature(temperature)
    jobs = [(p, s) for p in problems for s in range(samples)]
    device = next(model.parameters()).device  # a GPU when load_lm put the model there
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    rows: list[dict[str, Any]] = []
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    try:
        for b, start in enumerate(range(0, len(jobs), batch_size)):
            batch = jobs[start : start + batch_size]
            prompts = [chat_prompt(tokenizer, p.question) for p, _ in batch]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            seed_everything(seed * 100_003 + b)
            with torch.no_grad():
                out = model.generate(
                    **enc,
                    do_sample=True,
                    temperature=temperature,
                    top_k=0,
                    top_p=1.0,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=pad,
                    eos_token_id=eos,
                )
            new = out[:, enc["input_ids"].shape[1] :].tolist()
            batch_rows = [_trace_row(tokenizer, p, s, prompt, ids, eos, temperature)
                          for (p, s), prompt, ids in zip(batch, prompts, new)]
            rows.extend(batch_rows)
            if on_batch is not None:
                on_batch(batch_rows)
    finally:
        tokenizer.padding_side = old_side
    return rows


def _trace_row(tokenizer: Any, p: Problem, s: int, prompt: str, ids: list[int], eos: Any, temperature: float
               ) -> dict[str, Any]:
    """One trace row (the module docstring of :mod:`utils.traces` lists its fields) from sampled ids, cut at EOS."""
    finished = eos in ids
    ids = ids[: ids.index(eos)] if finished else ids
    text = tokenizer.decode(ids, skip_special_tokens=True)
    got = extract_answer(text)
    return {
        "id": f"{p.id}-s{s}",
        "problem_id": p.id,
        "template": p.template,
        "question": p.question,
        "prompt": prompt,
        "completion": text,
        "completion_ids": ids,
        "finished": finished,
        "answer": p.answer,
        "extracted": got,
        "correct": got == p.answer,
        "temperature": temperature,
    }
