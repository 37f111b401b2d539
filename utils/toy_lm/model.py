"""The task model's architecture and its checkpoints: build, save, load, and read what a checkpoint was trained for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils import countdown as cd
from utils.config import DATA_DIR, REPO_ROOT
from utils.countdown.grammar import BOS, EOS, PAD, VOCAB
from utils.results import ResultsError, atomic_dir, load_json, repo_relative, to_jsonable

TASK_MODEL_DIR = DATA_DIR / "task_model"
INFO_FILE = "train_info.json"


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
    """True for ``"task_model"`` and for any directory holding a ``train_info.json`` written by
    :func:`train_task_model`."""
    return str(path) == "task_model" or (resolve_model_dir(path) / "train_info.json").exists()


def task_spec(model_dir: str | Path) -> TaskSpec:
    """Read a checkpoint's Countdown difficulty from its ``train_info.json`` (3 numbers when absent)."""
    d = resolve_model_dir(model_dir)
    info_path = d / "train_info.json"
    regenerate = f"python -m utils.toy_lm train --out {model_dir}"
    info = load_json(info_path, regenerate=regenerate) if info_path.exists() else {}
    if not info and str(model_dir) != "task_model":
        raise FileNotFoundError(
            f"{repo_relative(info_path)} is missing: train the checkpoint with "
            f"`python -m utils.toy_lm train --out {model_dir} ...`."
        )
    n = int(info.get("n_numbers", 3))
    held = info.get("held_out_file")
    eval_path = REPO_ROOT / held if held else cd.default_eval_path(n)
    return TaskSpec(d, n, tuple(info.get("number_range", (1, 9))), tuple(info.get("target_range", (10, 99))), eval_path)


class CheckpointError(ResultsError):
    """A task-model checkpoint is corrupt or truncated (the message names the file and how to get it back)."""


def _checkpoint_fix(p: Path) -> str:
    rel = repo_relative(p)
    retrain = f"`python -m utils.toy_lm train --out {rel}{' --force' if rel.startswith('data/') else ''}`"
    if rel.startswith("data/"):
        return f"restore it with `git checkout -- {rel}` or retrain it with {retrain}"
    return f"retrain it with {retrain}"


def load_task_model(path: str | Path | None = None) -> tuple[Any, Any]:
    """Load the shipped task model and tokenizer offline, in eval mode: ``model, tokenizer = load_task_model()``.

    Raises ``FileNotFoundError`` for a folder without a checkpoint and :class:`CheckpointError` (one line: the file
    and the fix) for a corrupt or truncated one."""
    p = Path(path) if path is not None else TASK_MODEL_DIR
    if not (p / "config.json").exists():
        raise FileNotFoundError(
            f"No task model in {repo_relative(p)}: train it with `python -m utils.toy_lm train --out {repo_relative(p)}"
            " --seed 0` (about 5 minutes on 2 CPU cores)."
        )
    weights = p / "model.safetensors"
    if not weights.exists():
        raise CheckpointError(f"{repo_relative(weights)} is missing: {_checkpoint_fix(p)}")
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt") as f:  # reads the header: catches truncation and garbage
            list(f.keys())
    except Exception as e:  # safetensors raises its own SafetensorError
        raise CheckpointError(f"{repo_relative(weights)} is corrupt or truncated ({_first_line(e)}): "
                              f"{_checkpoint_fix(p)}") from None
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    try:
        model = GPT2LMHeadModel.from_pretrained(p, local_files_only=True)
        tokenizer = PreTrainedTokenizerFast.from_pretrained(p, local_files_only=True)
    except Exception as e:  # a bad config.json / tokenizer.json, or weights of another shape
        raise CheckpointError(f"the checkpoint in {repo_relative(p)} cannot be loaded ({_first_line(e)}): "
                              f"{_checkpoint_fix(p)}") from None
    tokenizer.padding_side = "left"
    model.eval()
    return model, tokenizer


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    return line.replace(str(REPO_ROOT) + "/", "")


def load_train_info(path: str | Path | None = None) -> dict[str, Any]:
    """The JSON saved next to a checkpoint: how it was made and what it measured."""
    p = Path(path) if path is not None else TASK_MODEL_DIR
    return json.loads((p / INFO_FILE).read_text(encoding="utf-8"))


def save_task_model(model: Any, tokenizer: Any, out: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Save weights (safetensors), config, tokenizer and ``train_info.json`` into the folder ``out``, atomically
    (written to a temporary folder that replaces ``out`` only when everything is written). Returns ``out``."""
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if info is not None:
            (tmp / INFO_FILE).write_text(json.dumps(to_jsonable(info), indent=1) + "\n", encoding="utf-8")
    return Path(out)
