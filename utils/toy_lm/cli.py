"""The command line of :mod:`utils.toy_lm`: ``train`` and ``evaluate``."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

import torch

from utils import countdown as cd
from utils.config import REPO_ROOT
from utils.results import guard_overwrite, repo_relative
from utils.toy_lm.model import INFO_FILE, TASK_MODEL_DIR, load_task_model, load_train_info, save_task_model
from utils.toy_lm.train import train_task_model

PROG = "python -m utils.toy_lm"


def parser() -> Any:
    from utils.infra.cli import (Extend, Parser, add_debug, finite_float, path_arg, seed_arg, temperature_arg,
                                 whole_number)

    ap = Parser(prog=PROG, description="Train or evaluate the Countdown task model.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train the task model from scratch and measure it")
    tr.add_argument("--out", type=path_arg, default=REPO_ROOT / "build" / "task_model",
                    help="checkpoint folder (default build/task_model; an existing one in the repository outside "
                         "build/ needs --force; a folder holding anything but a checkpoint is refused, --force or not)")
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
        raise UsageError(f"--eval-path {args.eval_path} does not exist "
                         "(make one with `python -m utils.countdown make-eval`)")
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
