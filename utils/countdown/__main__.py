"""``python -m utils.countdown make-eval``: write a held-out problem set (see data/README.md).

It writes to ``build/countdown_eval.jsonl`` (``build/countdown_eval_<n>num.jsonl`` for other difficulties) unless
``--out`` names a file; an existing file of the repository outside ``build/`` (a committed set under ``data/``, or
anything else) is replaced only with ``--force``, and only once the new set is complete. Regenerating the shipped
set::

    python -m utils.countdown make-eval --n 500 --seed 2506 --out data/countdown_eval.jsonl --force

Every argument is checked first: one line and exit code 2 for a bad one (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from math import comb

from utils.infra.cli import Parser, UsageError, add_debug, check_range, path_arg, run, seed_arg, whole_number
from utils.config import BUILD_DIR
from utils.countdown.grammar import MAX_DIGITS
from utils.countdown.problems import EVAL_SEED, MAX_NUMBERS, default_eval_path, generate_problems, write_problems
from utils.results import guard_overwrite, repo_relative

PROG = "python -m utils.countdown"


def parser() -> Parser:
    ap = Parser(prog=PROG, description=(__doc__ or "").split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make-eval", help="write a held-out problem set (distinct keys)")
    mk.add_argument("--n", type=whole_number(1), default=500, help="number of problems (>= 1)")
    mk.add_argument("--seed", type=seed_arg, default=EVAL_SEED)
    mk.add_argument("--n-numbers", type=whole_number(), default=3, help=f"numbers per problem (2 to {MAX_NUMBERS})")
    mk.add_argument("--number-range", type=whole_number(), nargs=2, default=(1, 9), metavar=("LO", "HI"))
    mk.add_argument("--target-range", type=whole_number(), nargs=2, default=(10, 99), metavar=("LO", "HI"))
    mk.add_argument("--out", type=path_arg, default=None,
                    help="output file (default build/countdown_eval[_<n>num].jsonl; a committed one needs --force)")
    mk.add_argument("--force", action="store_true", help="allow replacing an existing file of the repository outside build/")
    add_debug(mk)
    return ap


def make_eval(a: argparse.Namespace) -> int:
    n_numbers: int = a.n_numbers
    if not 2 <= n_numbers <= MAX_NUMBERS:
        raise UsageError(f"--n-numbers must be 2 to {MAX_NUMBERS} (the solver enumerates every trace), got {n_numbers}")
    top = 10**MAX_DIGITS - 1
    lo, hi = check_range("--number-range", a.number_range, 1, top)
    tlo, thi = check_range("--target-range", a.target_range, 1, top)
    n: int = a.n
    most = comb(hi - lo + n_numbers, n_numbers) * (thi - tlo + 1)  # multisets of numbers x targets
    if n > most:
        raise UsageError(f"--n {n}: at most {most} distinct problems exist with {n_numbers} numbers in {lo}-{hi} and "
                         f"targets {tlo}-{thi}; ask for fewer or widen the ranges")
    out = a.out if a.out is not None else BUILD_DIR / default_eval_path(n_numbers).name
    guard_overwrite(out, a.force, kind="file")
    try:
        rows = generate_problems(n, a.seed, n_numbers, (lo, hi), (tlo, thi), unique=True)
    except RuntimeError:
        raise UsageError(f"could not draw {n} distinct solvable problems with {n_numbers} numbers in {lo}-{hi} and "
                         f"targets {tlo}-{thi}: ask for fewer (--n) or widen the ranges") from None
    write_problems(rows, out)
    print(f"wrote {len(rows)} problems to {repo_relative(out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m utils.countdown make-eval --n 500 --seed 2506 [--n-numbers 3] [--out PATH] [--force]``."""
    a = parser().parse_args(argv)
    return run(lambda: make_eval(a), f"{PROG} {a.cmd}", a.debug)


if __name__ == "__main__":
    sys.exit(main())
