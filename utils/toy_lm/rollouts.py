"""Rollouts of a Countdown task model: sample completions, score them, and measure their token entropy.

* :func:`sample_completions` -- batched sampling with a KV cache, cut at EOS (temperature, or any logits processor
  such as :class:`utils.sampling.DualTemperatureLogitsProcessor`);
* :func:`evaluate_pass1` -- pass@1, arithmetic accuracy, failure reasons and per-problem correct counts (for pass@k);
* :func:`token_entropies` -- the entropy (nats) of the distribution that produced each completion character;
* :func:`entropy_summary` and :func:`measure` -- the numbers ``data/README.md`` and ``train_info.json`` record.

The model itself (architecture, training, checkpoints) is :mod:`utils.toy_lm`; the task is :mod:`utils.countdown`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from utils import countdown as cd
from utils.entropy import check_entropies, token_entropy
from utils.infra.prefill import shared_prefill

__all__ = ["entropy_summary", "evaluate_pass1", "measure", "sample_completions", "token_entropies"]


@torch.no_grad()
def sample_completions(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    n: int = 1,
    temperature: float = 1.0,
    max_new_tokens: int = 48,
    seed: int | None = 0,
    batch_size: int = 1024,
    logits_processor: Any = None,
) -> list[str]:
    """Sample ``n`` completions per prompt (output order: prompt 0's n samples, then prompt 1's, ...).

    Pure sampling at ``temperature`` (no top-k/top-p); ``temperature == 0`` is greedy decoding, a negative, NaN or
    infinite temperature is a ``ValueError`` (as are ``n``, ``max_new_tokens`` and ``batch_size`` that are not
    whole numbers >= 1). Batched with a KV
    cache; each completion is cut at its first EOS and returned without it. Other special tokens the model
    might emit stay in the text (so they make the completion fail ``verify``). ``logits_processor``: a
    ``transformers.LogitsProcessorList`` (or a list of processors) applied before sampling; with a
    ``utils.sampling.DualTemperatureLogitsProcessor`` among them ``temperature`` must be 1 (``ValueError``
    otherwise: the scalings would multiply). The result depends on ``seed`` and ``batch_size``.
    """
    from transformers import LogitsProcessorList

    from utils import checks
    from utils.sampling import DualTemperatureLogitsProcessor

    temperature = checks.temperature(temperature, allow_zero=True)
    n = checks.positive_int(n, "n (samples per prompt)")
    max_new_tokens = checks.positive_int(max_new_tokens, "max_new_tokens")
    batch_size = checks.positive_int(batch_size, "batch_size")
    if isinstance(prompts, str):
        raise ValueError("prompts must be a list of strings, not one string")
    if temperature != 1.0 and any(isinstance(p, DualTemperatureLogitsProcessor) for p in (logits_processor or ())):
        raise ValueError(
            f"temperature={temperature} with a DualTemperatureLogitsProcessor would multiply the two scalings "
            "(or, at 0, ignore it): pass temperature=1.0 and set t_fork/t_rest on the processor"
        )
    if seed is not None:
        torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    expanded = [p for p in prompts for _ in range(n)]
    eos_id = tokenizer.eos_token_id
    procs = None
    if logits_processor is not None:
        procs = logits_processor if isinstance(logits_processor, LogitsProcessorList) else LogitsProcessorList(
            list(logits_processor)
        )
    gen_kwargs = _generate_kwargs(tokenizer, temperature, max_new_tokens)
    out: list[str] = []
    for start in range(0, len(expanded), batch_size):
        chunk = expanded[start : start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
        with shared_prefill(model):  # the n copies of a prompt are prefilled once (the same samples, sooner)
            gen = model.generate(**enc, logits_processor=procs, **gen_kwargs)
        new = gen[:, enc["input_ids"].shape[1] :].tolist()
        for row in new:
            if eos_id in row:
                row = row[: row.index(eos_id)]
            out.append(tokenizer.decode(row, skip_special_tokens=False, clean_up_tokenization_spaces=False))
    model.train(was_training)
    return out


def _generate_kwargs(tokenizer: Any, temperature: float, max_new_tokens: int) -> dict[str, Any]:
    """``model.generate``'s arguments for :func:`sample_completions`: pure sampling at ``temperature`` (no
    top-k/top-p), greedy at 0, with a KV cache."""
    gen_kwargs: dict[str, Any] = dict(
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        use_cache=True,
    )
    if temperature > 0:
        gen_kwargs.update(do_sample=True, temperature=float(temperature), top_k=0, top_p=1.0)
    else:
        gen_kwargs.update(do_sample=False)
    return gen_kwargs


def _rows(problems: Iterable[Any]) -> list[dict[str, Any]]:
    rows = []
    for r in problems:
        numbers, target = list(r["numbers"]), int(r["target"])
        rows.append({"numbers": numbers, "target": target, "prompt": r.get("prompt") or cd.format_prompt(numbers, target)})
    return rows


def evaluate_pass1(
    model: Any,
    tokenizer: Any,
    problems: Iterable[Any] | None = None,
    n_samples: int = 1,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 1024,
    max_new_tokens: int = 48,
    logits_processor: Any = None,
    return_completions: bool = False,
) -> dict[str, Any]:
    """Sample ``n_samples`` completions per problem and score them with ``countdown.verify``.

    Returns a dict: ``pass1`` (mean per-sample correctness), ``arithmetic`` (share of samples with at least
    one well-formed step and all well-formed steps' arithmetic right), ``step_arithmetic`` (share of all
    well-formed steps that are right), ``well_formed`` (share whose every step parses), ``reasons``
    (``countdown.diagnose`` reason counts), ``correct_counts`` (per problem, for pass@k), ``n_samples``,
    ``temperature``, ``seed``, ``n_problems``, and ``completions`` (per problem lists) if asked.
    ``problems`` defaults to the shipped held-out set; rows need ``numbers`` and ``target``.
    """
    from utils.checks import positive_int

    n_samples = positive_int(n_samples, "n_samples")
    rows = _rows(cd.load_eval_problems() if problems is None else problems)
    comps = sample_completions(
        model,
        tokenizer,
        [r["prompt"] for r in rows],
        n=n_samples,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        seed=seed,
        batch_size=batch_size,
        logits_processor=logits_processor,
    )
    counts, reasons = [], Counter()
    n_arith = n_formed = steps_ok = steps_total = 0
    for i, r in enumerate(rows):
        c = 0
        for comp in comps[i * n_samples : (i + 1) * n_samples]:
            d = cd.diagnose(r["numbers"], r["target"], comp)
            reasons[d.reason] += 1
            c += d.ok
            n_arith += cd.arithmetic_ok(comp)
            n_formed += cd.parse_steps(comp) is not None
            ok, tot = cd.step_arithmetic(comp)
            steps_ok, steps_total = steps_ok + ok, steps_total + tot
        counts.append(c)
    total = len(rows) * n_samples
    result: dict[str, Any] = {
        "pass1": sum(counts) / total if total else float("nan"),
        "arithmetic": n_arith / total if total else float("nan"),
        "step_arithmetic": steps_ok / steps_total if steps_total else float("nan"),
        "well_formed": n_formed / total if total else float("nan"),
        "reasons": dict(reasons),
        "correct_counts": counts,
        "n_samples": n_samples,
        "n_problems": len(rows),
        "temperature": temperature,
        "seed": seed,
    }
    if return_completions:
        result["completions"] = [comps[i * n_samples : (i + 1) * n_samples] for i in range(len(rows))]
    return result


# ------------------------------------------------------------------------------------- token entropy


@torch.no_grad()
def token_entropies(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str],
    temperature: float = 1.0,
    batch_size: int = 512,
) -> list[np.ndarray]:
    """Entropy (nats) of the model's next-token distribution at each completion token, EOS included.

    For completion ``c`` the array has ``len(c) + 1`` entries: entry ``j`` is the entropy of the
    distribution that produced character ``j`` (the last one is the step that produced EOS). Logits are
    divided by ``temperature`` first (a finite number > 0: an entropy needs a distribution). Positions are computed
    from the attention mask, as in ``generate``. ``ValueError`` for a bad temperature or batch size, and when the
    numbers of prompts and completions differ.
    """
    from utils import checks

    temperature = checks.temperature(temperature)
    batch_size = checks.positive_int(batch_size, "batch_size")
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions: pass one prompt per completion")
    model.eval()
    out: list[np.ndarray] = []
    eos = tokenizer.eos_token_id
    for start in range(0, len(prompts), batch_size):
        ps, cs = prompts[start : start + batch_size], completions[start : start + batch_size]
        seqs, n_prompt = [], []
        for p, c in zip(ps, cs):
            p_ids = tokenizer(p, add_special_tokens=False)["input_ids"]
            c_ids = tokenizer(c, add_special_tokens=False)["input_ids"] if c else []
            seqs.append(p_ids + c_ids + [eos])
            n_prompt.append(len(p_ids))
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(seqs):
            ids[i, width - len(s) :] = torch.tensor(s)
            mask[i, width - len(s) :] = 1
        pos = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float() / temperature
        ent = token_entropy(logits)  # (B, T): entropy of the prediction made at each position
        for i, (s, k) in enumerate(zip(seqs, n_prompt)):
            offset = width - len(s)
            # the token at index t is predicted at index t-1
            out.append(ent[i, offset + k - 1 : offset + len(s) - 1].numpy().copy())
    return out


def entropy_summary(entropies: Sequence[np.ndarray], roles: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
    """Percentiles of pooled token entropies (nats), share below 0.01, and per-role means if roles are given."""
    flat = check_entropies(np.concatenate([np.asarray(e, float).ravel() for e in entropies]) if len(entropies) else [])
    summary: dict[str, Any] = {
        "n_tokens": int(flat.size),
        "median": float(np.median(flat)),
        "p80": float(np.percentile(flat, 80)),
        "p95": float(np.percentile(flat, 95)),
        "mean": float(flat.mean()),
        "share_below_0.01": float((flat < 0.01).mean()),
    }
    if roles is not None:
        by_role: dict[str, list[float]] = {}
        top = np.percentile(flat, 80)
        in_top: Counter[str] = Counter()
        for e, rs in zip(entropies, roles):
            for h, r in zip(np.asarray(e).tolist(), rs):
                by_role.setdefault(r, []).append(h)
                in_top[r] += h >= top
        summary["by_role"] = {
            r: {"mean": float(np.mean(v)), "n": len(v), "share_in_top20": in_top[r] / max(1, sum(in_top.values()))}
            for r, v in sorted(by_role.items(), key=lambda kv: -np.mean(kv[1]))
        }
    return summary


def measure(
    model: Any,
    tokenizer: Any,
    problems: Sequence[dict[str, Any]] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    temperature: float = 1.0,
) -> dict[str, Any]:
    """Held-out pass@1 and arithmetic (mean and sd over sampling seeds, one sample per problem per seed),
    plus the token-entropy summary of the first seed's samples. ``seeds`` must be distinct (``ValueError``)."""
    from utils import checks

    seeds = checks.seeds(seeds)
    temperature = checks.temperature(temperature)
    rows = _rows(cd.load_eval_problems() if problems is None else problems)
    runs = [evaluate_pass1(model, tokenizer, rows, 1, temperature, s, return_completions=True) for s in seeds]
    comps = [c[0] for c in runs[0]["completions"]]
    ents = token_entropies(model, tokenizer, [r["prompt"] for r in rows], comps, temperature)
    ent = entropy_summary(ents, [cd.token_roles(c) for c in comps])

    return {
        "n_problems": len(rows),
        "temperature": temperature,
        "seeds": list(seeds),
        "pass1": _over_seeds(runs, "pass1"),
        "arithmetic": _over_seeds(runs, "arithmetic"),
        "step_arithmetic": _over_seeds(runs, "step_arithmetic"),
        "well_formed": _over_seeds(runs, "well_formed"),
        "reasons_seed0": runs[0]["reasons"],
        "entropy_seed0": ent,
    }


def _over_seeds(runs: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    """Mean, sd (ddof=1; 0 for one seed) and per-seed values of ``key`` over :func:`measure`'s runs."""
    v = np.array([r[key] for r in runs])
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "per_seed": v.tolist()}
