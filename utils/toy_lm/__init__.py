"""The task model: a tiny character-level GPT-2 trained on Countdown, and its checkpoints.

The shipped checkpoint (``data/task_model``) is a ``GPT2LMHeadModel`` (3 layers, 96 wide, 4 heads,
344,064 parameters) trained from scratch on a CPU by :func:`train_task_model`:

    python -m utils.toy_lm train --out data/task_model --seed 0 --steps 1200 --force

Its SFT data mixes correct solutions (probability ``p_correct``) with random legal traces that ignore the
target (the prompt still shows the real target). So it learns the format and the arithmetic well and the
planning only partly: an imperfect planner whose pass@1 (about 0.17) leaves room for RL. Only completion tokens
are in the loss; training prompts never overlap the held-out set (``utils.countdown.eval_keys``). The scale
ladder of notebook 06 (``data/ladder/``) is the same recipe at other widths (``--n-embd``).

The tokenizer is :func:`utils.countdown.build_tokenizer` (one token per character, left padding), usable as
TRL's ``processing_class``. Sampling and evaluating a checkpoint: :mod:`utils.toy_lm.rollouts`.

Modules: :mod:`~utils.toy_lm.model` (architecture and checkpoints), :mod:`~utils.toy_lm.train` (training) and
:mod:`~utils.toy_lm.cli` (the command line); this package re-exports their public names.
"""

from __future__ import annotations

from utils.countdown.grammar import build_tokenizer
from utils.toy_lm.cli import PROG, main, parser  # noqa: F401 (the command line, public here)
from utils.toy_lm.model import (
    INFO_FILE,
    TASK_MODEL_DIR,
    CheckpointError,
    TaskSpec,
    build_model,
    is_task_model_dir,
    load_task_model,
    load_train_info,
    resolve_model_dir,
    save_task_model,
    task_spec,
)
from utils.toy_lm.train import train_task_model

__all__ = [
    "CheckpointError",
    "INFO_FILE",
    "TASK_MODEL_DIR",
    "TaskSpec",
    "build_model",
    "build_tokenizer",
    "is_task_model_dir",
    "load_task_model",
    "load_train_info",
    "resolve_model_dir",
    "save_task_model",
    "task_spec",
    "train_task_model",
]
