"""The task model: a tiny character-level GPT-2 that half-solves Countdown.

The shipped checkpoint (``data/task_model``) is a ``GPT2LMHeadModel`` (3 layers, 96 wide, 4 heads,
~0.35 M parameters) trained from scratch on a CPU by ``train_task_model``:

    python -m utils.toy_lm train --out data/task_model --seed 0 --steps 1200

Its SFT data mixes correct solutions (probability ``p_correct``) with random legal traces that ignore the
target (the prompt still shows the real target). So it learns the format and the arithmetic well and the
planning only partly: an imperfect planner whose pass@1 leaves room for RL. Only completion tokens are in
the loss; training prompts never overlap the held-out set (``utils.countdown.eval_keys``).

The tokenizer is a real ``transformers.PreTrainedTokenizerFast`` (one token per character, plus
``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``), left-padding, usable as TRL's ``processing_class``.

Helpers: ``load_task_model``, ``sample_completions`` (batched, KV cache, stops at EOS),
``evaluate_pass1`` (pass@1, arithmetic accuracy, per-problem correct counts for pass@k),
``token_entropies`` and ``token_roles`` (per-token entropy of completions, and each character's role).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from utils import countdown as cd
from utils.config import DATA_DIR, REPO_ROOT, seed_everything
from utils.entropy import token_entropy

TASK_MODEL_DIR = DATA_DIR / "task_model"
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
CHARS = "0123456789+-*/=,>: "
VOCAB = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + tuple(CHARS))}
INFO_FILE = "train_info.json"


# ------------------------------------------------------------------------------------------- tokenizer


def build_tokenizer() -> Any:
    """The character-level tokenizer (``PreTrainedTokenizerFast``, left padding, pad/bos/eos/unk)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel(vocab=dict(VOCAB), unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=64,
    )
    return tok


def _encode(text: str) -> list[int]:
    """Fast path for training data: the same ids the tokenizer gives for plain task text."""
    return [VOCAB[c] for c in text]


# --------------------------------------------------------------------------------------------- model


def build_model(n_embd: int = 96, n_layer: int = 3, n_head: int = 4, n_positions: int = 64) -> Any:
    """A fresh ``GPT2LMHeadModel`` over the character vocabulary (no dropout)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(VOCAB),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=VOCAB[BOS],
        eos_token_id=VOCAB[EOS],
        pad_token_id=VOCAB[PAD],
    )
    return GPT2LMHeadModel(config)


@dataclass(frozen=True)
class TaskSpec:
    """The Countdown difficulty a task-model checkpoint was trained for, and its held-out file."""

    model_dir: Path
    n_numbers: int
    number_range: tuple[int, int]
    target_range: tuple[int, int]
    eval_path: Path


def resolve_model_dir(path: str | Path) -> Path:
    """A checkpoint path as given, or relative to the repository root; ``"task_model"`` is the shipped one."""
    if str(path) == "task_model":
        return TASK_MODEL_DIR
    p = Path(path)
    return p if p.is_absolute() or p.exists() else REPO_ROOT / p


def is_task_model_dir(path: str | Path) -> bool:
    """True for ``"task_model"`` and for any directory holding a ``train_info.json`` written by :func:`train_task_model`."""
    return str(path) == "task_model" or (resolve_model_dir(path) / "train_info.json").exists()


def task_spec(model_dir: str | Path) -> TaskSpec:
    """Read a checkpoint's Countdown difficulty from its ``train_info.json`` (3 numbers when absent)."""
    d = resolve_model_dir(model_dir)
    info_path = d / "train_info.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    if not info and str(model_dir) != "task_model":
        raise FileNotFoundError(
            f"{info_path} is missing: train the checkpoint with `python -m utils.toy_lm train --out {model_dir} ...`."
        )
    n = int(info.get("n_numbers", 3))
    held = info.get("held_out_file")
    eval_path = REPO_ROOT / held if held else cd.default_eval_path(n)
    return TaskSpec(d, n, tuple(info.get("number_range", (1, 9))), tuple(info.get("target_range", (10, 99))), eval_path)


def load_task_model(path: str | Path | None = None) -> tuple[Any, Any]:
    """Load the shipped task model and tokenizer offline, in eval mode: ``model, tokenizer = load_task_model()``."""
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    p = Path(path) if path is not None else TASK_MODEL_DIR
    if not (p / "config.json").exists():
        raise FileNotFoundError(
            f"No task model in {p}: train it with `python -m utils.toy_lm train --out {p} --seed 0` "
            "(about 5 minutes on 2 CPU cores)."
        )
    model = GPT2LMHeadModel.from_pretrained(p, local_files_only=True)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(p, local_files_only=True)
    tokenizer.padding_side = "left"
    model.eval()
    return model, tokenizer


def load_train_info(path: str | Path | None = None) -> dict[str, Any]:
    """The JSON saved next to a checkpoint: how it was made and what it measured."""
    p = Path(path) if path is not None else TASK_MODEL_DIR
    return json.loads((p / INFO_FILE).read_text())


# ------------------------------------------------------------------------------------------ training


class _TraceSampler:
    """Draws SFT examples: a problem (not held out), then a correct solution or a random legal trace."""

    def __init__(
        self,
        seed: int,
        n_numbers: int,
        number_range: tuple[int, int],
        target_range: tuple[int, int],
        p_correct: float,
        exclude: set[tuple[tuple[int, ...], int]],
    ) -> None:
        self.rng = random.Random(seed)
        self.n_numbers, self.number_range, self.target_range = n_numbers, number_range, target_range
        self.p_correct = p_correct
        self.exclude = exclude
        self._solutions: dict[tuple[tuple[int, ...], int], list[str]] = {}

    def example(self) -> tuple[str, str]:
        numbers, target = cd.sample_problem(
            self.rng, self.n_numbers, self.number_range, self.target_range, self.exclude
        )
        if self.rng.random() < self.p_correct:
            key = cd.problem_key(numbers, target)
            if key not in self._solutions:
                self._solutions[key] = cd.solve(numbers, target)
            completion = self.rng.choice(self._solutions[key])
        else:
            completion = self.rng.choice(cd.all_traces(numbers))[0]
        return cd.format_prompt(numbers, target), completion

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 on prompt and padding)."""
        seqs, n_prompt = [], []
        for _ in range(size):
            prompt, completion = self.example()
            p_ids = _encode(prompt)
            seqs.append(p_ids + _encode(completion) + [VOCAB[EOS]])
            n_prompt.append(len(p_ids))
        width = max(len(s) for s in seqs)
        ids = torch.full((size, width), VOCAB[PAD], dtype=torch.long)
        mask = torch.zeros((size, width), dtype=torch.long)
        labels = torch.full((size, width), -100, dtype=torch.long)
        for i, (s, k) in enumerate(zip(seqs, n_prompt)):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
            labels[i, k : len(s)] = torch.tensor(s[k:])
        return ids, mask, labels


def train_task_model(
    out: str | Path | None = None,
    seed: int = 0,
    steps: int = 1200,
    batch_size: int = 256,
    lr: float = 3e-3,
    warmup: int = 50,
    n_numbers: int = 3,
    number_range: tuple[int, int] = (1, 9),
    target_range: tuple[int, int] = (10, 99),
    p_correct: float = 0.6,
    n_embd: int = 96,
    n_layer: int = 3,
    n_head: int = 4,
    eval_path: str | Path | None = None,
    log_every: int = 100,
    verbose: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train the task model from scratch (AdamW, linear warm-up then cosine decay to 10%, grad clip 1).

    Deterministic on CPU for a given seed and thread count. Training problems exclude the held-out keys of
    ``eval_path`` (default: the shipped held-out file for ``n_numbers``). If ``out`` is given, saves
    safetensors weights, config and tokenizer there. Returns ``(model, tokenizer, info)``.
    """
    seed_everything(seed)
    # seed_everything turns on torch's deterministic algorithms; on CPU they make this model's backward ~10x
    # slower and are not needed: CPU kernels repeat bit-for-bit at a fixed thread count (tests check it).
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    try:
        return _train(
            out, seed, steps, batch_size, lr, warmup, n_numbers, number_range, target_range, p_correct,
            n_embd, n_layer, n_head, eval_path, log_every, verbose,
        )
    finally:
        torch.use_deterministic_algorithms(deterministic_before, warn_only=True)


def _train(
    out: str | Path | None,
    seed: int,
    steps: int,
    batch_size: int,
    lr: float,
    warmup: int,
    n_numbers: int,
    number_range: tuple[int, int],
    target_range: tuple[int, int],
    p_correct: float,
    n_embd: int,
    n_layer: int,
    n_head: int,
    eval_path: str | Path | None,
    log_every: int,
    verbose: bool,
) -> tuple[Any, Any, dict[str, Any]]:
    path = Path(eval_path) if eval_path is not None else cd.default_eval_path(n_numbers)
    exclude = cd.eval_keys(cd.load_eval_problems(path)) if path.exists() else set()
    if not exclude and verbose:
        print(f"warning: no held-out file at {path}; training problems are not filtered", file=sys.stderr)
    tokenizer = build_tokenizer()
    model = build_model(n_embd, n_layer, n_head)
    model.train()
    sampler = _TraceSampler(seed, n_numbers, tuple(number_range), tuple(target_range), p_correct, exclude)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    losses: list[tuple[int, float]] = []
    t0 = time.time()
    running = 0.0
    for step in range(steps):
        ids, mask, labels = sampler.batch(batch_size)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            n = (step % log_every) + 1
            losses.append((step + 1, round(running / n, 4)))
            if verbose:
                print(f"step {step + 1:5d}  loss {running / n:.4f}  {time.time() - t0:.0f}s", flush=True)
            running = 0.0
    wall = time.time() - t0
    model.eval()
    info: dict[str, Any] = {
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "warmup": warmup,
        "schedule": "linear warm-up, cosine decay to 10%, AdamW(0.9, 0.98), weight decay 0.01, grad clip 1.0",
        "n_numbers": n_numbers,
        "number_range": list(number_range),
        "target_range": list(target_range),
        "p_correct": p_correct,
        "architecture": {"type": "GPT2LMHeadModel", "n_embd": n_embd, "n_layer": n_layer, "n_head": n_head},
        "n_params": sum(p.numel() for p in model.parameters()),
        "held_out_file": str(path.relative_to(cd.DATA_DIR.parent)) if exclude else None,
        "held_out_excluded_keys": len(exclude),
        "train_wall_time_s": round(wall, 1),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "loss_curve": losses,
    }
    if out is not None:
        save_task_model(model, tokenizer, out, info)
    return model, tokenizer, info


def save_task_model(model: Any, tokenizer: Any, out: str | Path, info: dict[str, Any] | None = None) -> None:
    """Save weights (safetensors), config, tokenizer and ``train_info.json`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    if info is not None:
        (out / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")


# ------------------------------------------------------------------------------------------ sampling


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

    Pure sampling at ``temperature`` (no top-k/top-p); ``temperature == 0`` is greedy. Batched with a KV
    cache; each completion is cut at its first EOS and returned without it. Other special tokens the model
    might emit stay in the text (so they make the completion fail ``verify``). ``logits_processor``: a
    ``transformers.LogitsProcessorList`` (or a list of processors) applied before sampling; with a
    ``utils.sampling.DualTemperatureLogitsProcessor`` among them ``temperature`` must be 1 (``ValueError``
    otherwise: the scalings would multiply). The result depends on ``seed`` and ``batch_size``.
    """
    from transformers import LogitsProcessorList

    from utils.sampling import DualTemperatureLogitsProcessor

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
    gen_kwargs: dict[str, Any] = dict(
        max_new_tokens=max_new_tokens,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=eos_id,
        use_cache=True,
    )
    if temperature > 0:
        gen_kwargs.update(do_sample=True, temperature=float(temperature), top_k=0, top_p=1.0)
    else:
        gen_kwargs.update(do_sample=False)
    out: list[str] = []
    for start in range(0, len(expanded), batch_size):
        chunk = expanded[start : start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
        gen = model.generate(**enc, logits_processor=procs, **gen_kwargs)
        new = gen[:, enc["input_ids"].shape[1] :].tolist()
        for row in new:
            if eos_id in row:
                row = row[: row.index(eos_id)]
            out.append(tokenizer.decode(row, skip_special_tokens=False, clean_up_tokenization_spaces=False))
    model.train(was_training)
    return out


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
    divided by ``temperature`` first. Positions are computed from the attention mask, as in ``generate``.
    """
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


ROLES = ("operand1", "operator", "operand2", "equals", "result", "separator", "eos", "other")


def token_roles(completion: str) -> list[str]:
    """The role of each character of a completion, plus ``"eos"`` for the end (same length as
    ``token_entropies``' arrays): ``operand1``, ``operator``, ``operand2``, ``equals``, ``result``,
    ``separator`` (the comma), ``eos``, or ``other`` (anything off-format)."""
    roles: list[str] = []
    state = "operand1"
    for ch in completion:
        if ch.isascii() and ch.isdigit():
            roles.append(state if state in ("operand1", "operand2", "result") else "other")
        elif ch in cd.OPS and state == "operand1":
            roles.append("operator")
            state = "operand2"
        elif ch == "=" and state == "operand2":
            roles.append("equals")
            state = "result"
        elif ch == "," and state == "result":
            roles.append("separator")
            state = "operand1"
        else:
            roles.append("other")
    roles.append("eos")
    return roles


def entropy_summary(entropies: Sequence[np.ndarray], roles: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
    """Percentiles of pooled token entropies (nats), share below 0.01, and per-role means if roles are given."""
    flat = np.concatenate([np.asarray(e) for e in entropies]) if entropies else np.zeros(0)
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
    plus the token-entropy summary of the first seed's samples."""
    rows = _rows(cd.load_eval_problems() if problems is None else problems)
    runs = [evaluate_pass1(model, tokenizer, rows, 1, temperature, s, return_completions=True) for s in seeds]
    comps = [c[0] for c in runs[0]["completions"]]
    ents = token_entropies(model, tokenizer, [r["prompt"] for r in rows], comps, temperature)
    ent = entropy_summary(ents, [token_roles(c) for c in comps])

    def ms(key: str) -> dict[str, float]:
        v = np.array([r[key] for r in runs])
        return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "per_seed": v.tolist()}

    return {
        "n_problems": len(rows),
        "temperature": temperature,
        "seeds": list(seeds),
        "pass1": ms("pass1"),
        "arithmetic": ms("arithmetic"),
        "step_arithmetic": ms("step_arithmetic"),
        "well_formed": ms("well_formed"),
        "reasons_seed0": runs[0]["reasons"],
        "entropy_seed0": ent,
    }


# ------------------------------------------------------------------------------------------------ CLI


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``python -m utils.toy_lm train --out data/task_model --seed 0 [--steps 1200]`` and
    ``python -m utils.toy_lm evaluate [--model data/task_model]``."""
    parser = argparse.ArgumentParser(prog="python -m utils.toy_lm")
    sub = parser.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train the task model from scratch and measure it")
    tr.add_argument("--out", type=Path, default=TASK_MODEL_DIR)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--steps", type=int, default=1200)
    tr.add_argument("--batch-size", type=int, default=256)
    tr.add_argument("--lr", type=float, default=3e-3)
    tr.add_argument("--n-numbers", type=int, default=3)
    tr.add_argument("--number-range", type=int, nargs=2, default=(1, 9))
    tr.add_argument("--target-range", type=int, nargs=2, default=(10, 99))
    tr.add_argument("--p-correct", type=float, default=0.6)
    tr.add_argument("--eval-path", type=Path, default=None)
    tr.add_argument("--threads", type=int, default=1)
    ev = sub.add_parser("evaluate", help="measure a checkpoint on its held-out set")
    ev.add_argument("--model", type=Path, default=TASK_MODEL_DIR)
    ev.add_argument("--eval-path", type=Path, default=None)
    ev.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ev.add_argument("--temperature", type=float, default=1.0)
    ev.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.cmd == "train":
        model, tok, info = train_task_model(
            None,
            seed=args.seed,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            n_numbers=args.n_numbers,
            number_range=tuple(args.number_range),
            target_range=tuple(args.target_range),
            p_correct=args.p_correct,
            eval_path=args.eval_path,
        )
        info["command"] = "python -m utils.toy_lm " + " ".join(sys.argv[1:] if argv is None else argv)
        eval_path = args.eval_path or cd.default_eval_path(args.n_numbers)
        if eval_path.exists():
            info["metrics"] = measure(model, tok, cd.load_eval_problems(eval_path))
            m = info["metrics"]
            print(
                f"held-out pass@1 {m['pass1']['mean']:.3f} ± {m['pass1']['sd']:.3f}, "
                f"arithmetic {m['arithmetic']['mean']:.3f}, entropy p80 {m['entropy_seed0']['p80']:.3f} nats"
            )
        save_task_model(model, tok, args.out, info)
        print(f"saved to {args.out}")
    elif args.cmd == "evaluate":
        model, tok = load_task_model(args.model)
        info = load_train_info(args.model) if (args.model / INFO_FILE).exists() else {}
        path = args.eval_path or cd.default_eval_path(int(info.get("n_numbers", 3)))
        print(json.dumps(measure(model, tok, cd.load_eval_problems(path), args.seeds, args.temperature), indent=1))


if __name__ == "__main__":
    main()
