"""``python -m utils.countdown make-eval``: write a held-out problem set (see data/README.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from utils.countdown.problems import EVAL_SEED, default_eval_path, generate_problems, write_problems


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m utils.countdown make-eval --n 500 --seed 2506 [--n-numbers 3] [--out PATH]``."""
    parser = argparse.ArgumentParser(prog="python -m utils.countdown")
    sub = parser.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-eval", help="write the held-out problem set (distinct keys)")
    mk.add_argument("--n", type=int, default=500)
    mk.add_argument("--seed", type=int, default=EVAL_SEED)
    mk.add_argument("--n-numbers", type=int, default=3)
    mk.add_argument("--number-range", type=int, nargs=2, default=(1, 9))
    mk.add_argument("--target-range", type=int, nargs=2, default=(10, 99))
    mk.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.cmd == "make-eval":
        out = args.out or default_eval_path(args.n_numbers)
        rows = generate_problems(
            args.n, args.seed, args.n_numbers, tuple(args.number_range), tuple(args.target_range), unique=True
        )
        write_problems(rows, out)
        print(f"wrote {len(rows)} problems to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
