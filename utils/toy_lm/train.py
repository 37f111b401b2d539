"""Training the task model from scratch on Countdown SFT data (:func:`train_task_model`)."""

from __future__ import annotations

import functools
import math
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch

from utils import countdown as cd
from utils.config import seed_everything
from utils.countdown.grammar import EOS, PAD, VOCAB, build_tokenizer, encode
from utils.results import repo_relative
from utils.toy_lm.model import build_model, save_task_model

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
        max_len: int | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.max_len = max_len
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
            p_ids = encode(prompt)
            seqs.append(p_ids + encode(completion) + [VOCAB[EOS]])
            n_prompt.append(len(p_ids))
        width = max(len(s) for s in seqs)
        if self.max_len is not None and width > self.max_len:
            raise ValueError(f"a training example is {width} characters long but the model's context is "
                             f"{self.max_len}: use fewer numbers or smaller ranges")
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
    seed_everything(seed)  # CPU kernels repeat bit-for-bit at a fixed thread count (a test retrains and compares)
    return _train(
        out, seed, steps, batch_size, lr, warmup, n_numbers, number_range, target_range, p_correct,
        n_embd, n_layer, n_head, eval_path, log_every, verbose,
    )


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
    sampler = _TraceSampler(seed, n_numbers, tuple(number_range), tuple(target_range), p_correct, exclude,
                            max_len=model.config.n_positions)
    losses, wall = _fit(model, sampler, steps, batch_size, lr, warmup, log_every, verbose)
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
        "held_out_file": repo_relative(path) if exclude else None,
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


def _lr_factor(step: int, warmup: int, steps: int) -> float:
    """The learning-rate multiplier at ``step``: linear warm-up over ``warmup`` steps, then cosine decay to 10%."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))


def _fit(model: Any, sampler: _TraceSampler, steps: int, batch_size: int, lr: float, warmup: int, log_every: int,
         verbose: bool) -> tuple[list[tuple[int, float]], float]:
    """The training loop of :func:`train_task_model`: returns the logged ``(step, mean loss)`` pairs and the wall
    time in seconds."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, functools.partial(_lr_factor, warmup=warmup, steps=steps))
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
    return losses, time.time() - t0
