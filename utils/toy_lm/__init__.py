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
"""

from __future__ import annotations

import json
import math
import platform
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from utils import countdown as cd
from utils.config import DATA_DIR, REPO_ROOT, seed_everything
from utils.countdown.grammar import BOS, EOS, PAD, VOCAB, build_tokenizer, encode
from utils.results import ResultsError, atomic_dir, guard_overwrite, load_json, repo_relative, to_jsonable

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

TASK_MODEL_DIR = DATA_DIR / "task_model"
INFO_FILE = "train_info.json"


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
    info = load_json(info_path, regenerate=f"python -m utils.toy_lm train --out {model_dir}") if info_path.exists() else {}
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


def save_task_model(model: Any, tokenizer: Any, out: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Save weights (safetensors), config, tokenizer and ``train_info.json`` into the folder ``out``, atomically
    (written to a temporary folder that replaces ``out`` only when everything is written). Returns ``out``."""
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if info is not None:
            (tmp / INFO_FILE).write_text(json.dumps(to_jsonable(info), indent=1) + "\n", encoding="utf-8")
    return Path(out)


# ------------------------------------------------------------------------------------------------ CLI


PROG = "python -m utils.toy_lm"


def parser() -> Any:
    from utils.infra.cli import Extend, Parser, add_debug, finite_float, path_arg, seed_arg, temperature_arg, whole_number

    ap = Parser(prog=PROG, description="Train or evaluate the Countdown task model.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train the task model from scratch and measure it")
    tr.add_argument("--out", type=path_arg, default=REPO_ROOT / "build" / "task_model",
                    help="checkpoint folder (default build/task_model; an existing one in the repository outside build/ "
                         "needs --force; a folder holding anything but a checkpoint is refused, --force or not)")
    tr.add_argument("--force", action="store_true", help="allow replacing a committed checkpoint")
    tr.add_argument("--seed", type=seed_arg, default=0)
    tr.add_argument("--steps", type=whole_number(1), default=1200)
    tr.add_argument("--batch-size", type=whole_number(1), default=256)
    tr.add_argument("--lr", type=finite_float(above=0.0), default=3e-3)
    tr.add_argument("--n-numbers", type=whole_number(), default=3, help=f"numbers per problem (2 to {cd.MAX_NUMBERS})")
    tr.add_argument("--number-range", type=whole_number(), nargs=2, default=(1, 9), metavar=("LO", "HI"))
    tr.add_argument("--target-range", type=whole_number(), nargs=2, default=(10, 99), metavar=("LO", "HI"))
    tr.add_argument("--p-correct", type=finite_float(minimum=0.0, maximum=1.0), default=0.6)
    tr.add_argument("--n-embd", type=whole_number(1), default=96)
    tr.add_argument("--n-layer", type=whole_number(1), default=3)
    tr.add_argument("--n-head", type=whole_number(1), default=4)
    tr.add_argument("--eval-path", type=path_arg, default=None)
    tr.add_argument("--threads", type=whole_number(1), default=1)
    add_debug(tr)
    ev = sub.add_parser("evaluate", help="measure a checkpoint on its held-out set")
    ev.add_argument("--model", type=path_arg, default=TASK_MODEL_DIR)
    ev.add_argument("--eval-path", type=path_arg, default=None)
    ev.add_argument("--seeds", type=seed_arg, nargs="+", action=Extend, default=[0, 1, 2])
    ev.add_argument("--temperature", type=temperature_arg, default=1.0)
    ev.add_argument("--threads", type=whole_number(1), default=1)
    add_debug(ev)
    return ap


def _train_cli(args: Any, argv: Sequence[str] | None) -> int:
    from utils.infra.cli import UsageError, check_range

    if not 2 <= args.n_numbers <= cd.MAX_NUMBERS:
        raise UsageError(f"--n-numbers must be 2 to {cd.MAX_NUMBERS}, got {args.n_numbers}")
    number_range = check_range("--number-range", args.number_range, 1, 10**cd.MAX_DIGITS - 1)
    target_range = check_range("--target-range", args.target_range, 1, 10**cd.MAX_DIGITS - 1)
    if args.n_embd % args.n_head:
        raise UsageError(f"--n-embd ({args.n_embd}) must be a multiple of --n-head ({args.n_head})")
    if args.eval_path is not None and not args.eval_path.is_file():
        raise UsageError(f"--eval-path {args.eval_path} does not exist (make one with `python -m utils.countdown make-eval`)")
    guard_overwrite(args.out, args.force, kind="checkpoint")  # before training: no foreign folder
    torch.set_num_threads(args.threads)
    model, tok, info = train_task_model(
        None,
        seed=args.seed,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        n_numbers=args.n_numbers,
        number_range=number_range,
        target_range=target_range,
        p_correct=args.p_correct,
        n_embd=args.n_embd,
        n_layer=args.n_layer,
        n_head=args.n_head,
        eval_path=args.eval_path,
    )
    info["command"] = "python -m utils.toy_lm " + " ".join(sys.argv[1:] if argv is None else argv)
    eval_path = args.eval_path or cd.default_eval_path(args.n_numbers)
    if eval_path.exists():
        from utils.toy_lm.rollouts import measure

        info["metrics"] = measure(model, tok, cd.load_eval_problems(eval_path))
        m = info["metrics"]
        print(
            f"held-out pass@1 {m['pass1']['mean']:.3f} ± {m['pass1']['sd']:.3f}, "
            f"arithmetic {m['arithmetic']['mean']:.3f}, entropy p80 {m['entropy_seed0']['p80']:.3f} nats"
        )
    save_task_model(model, tok, args.out, info)
    print(f"saved to {repo_relative(args.out)}")
    return 0


def _evaluate_cli(args: Any) -> int:
    from utils.infra.cli import UsageError, check_seeds

    if args.eval_path is not None and not args.eval_path.is_file():
        raise UsageError(f"--eval-path {args.eval_path} does not exist")
    check_seeds("--seeds", args.seeds)
    torch.set_num_threads(args.threads)
    model, tok = load_task_model(args.model)
    info = load_train_info(args.model) if (args.model / INFO_FILE).exists() else {}
    path = args.eval_path or cd.default_eval_path(int(info.get("n_numbers", 3)))
    from utils.toy_lm.rollouts import measure

    print(json.dumps(measure(model, tok, cd.load_eval_problems(path), args.seeds, args.temperature), indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m utils.toy_lm train [--out build/task_model] --seed 0 [--steps 1200]`` and
    ``python -m utils.toy_lm evaluate [--model data/task_model]``. Arguments are checked before anything trains or
    loads: a bad one gives one line and exit code 2 (``--debug``: the traceback)."""
    from utils.infra.cli import run

    args = parser().parse_args(argv)
    body = (lambda: _train_cli(args, argv)) if args.cmd == "train" else (lambda: _evaluate_cli(args))
    return run(body, f"{PROG} {args.cmd}", args.debug)
