"""Countdown problems: the solver, seeded generation, and the shipped held-out sets.

Problem generation (:func:`generate_problems`) is seeded and keeps only solvable targets; the held-out set shipped
in ``data/countdown_eval.jsonl`` is made by ``python -m utils.countdown make-eval`` and training data never overlaps
it (the key is the sorted numbers plus the target, see :func:`problem_key`).
"""

from __future__ import annotations

import random
from functools import lru_cache
from numbers import Integral
from pathlib import Path
from typing import Any, Iterable, Sequence

from utils.config import DATA_DIR
from utils.countdown.grammar import format_prompt

EVAL_PATH = DATA_DIR / "countdown_eval.jsonl"
EVAL_SEED = 2506
"""Seed of the shipped held-out set (``python -m utils.countdown make-eval --n 500 --seed 2506 --out
data/countdown_eval.jsonl --force``)."""
MAX_NUMBERS = 5
"""Most numbers per problem the command lines accept: the solver enumerates every trace (about 19 thousand for 5
numbers, 780 thousand for 6)."""


# --------------------------------------------------------------------------------------------- solving


def _legal_steps(values: tuple[int, ...], commuted: bool) -> Iterable[tuple[int, str, int, int]]:
    """All legal steps on a sorted multiset of values, as (a, op, b, result), larger operand first.

    With ``commuted`` the swapped orders of ``+`` and ``*`` are included too.
    """
    seen = set()
    n = len(values)
    for i in range(n):
        for j in range(i + 1, n):
            b, a = values[i], values[j]  # sorted: a >= b
            if (a, b) in seen:
                continue
            seen.add((a, b))
            yield a, "+", b, a + b
            if commuted and a != b:
                yield b, "+", a, a + b
            yield a, "*", b, a * b
            if commuted and a != b:
                yield b, "*", a, a * b
            if a > b:
                yield a, "-", b, a - b
            if a % b == 0:
                yield a, "/", b, a // b


def _remove(values: tuple[int, ...], a: int, b: int, result: int) -> tuple[int, ...]:
    rest = list(values)
    rest.remove(a)
    rest.remove(b)
    rest.append(result)
    return tuple(sorted(rest))


@lru_cache(maxsize=4096)
def _all_traces(values: tuple[int, ...], commuted: bool) -> tuple[tuple[str, int], ...]:
    """Every complete legal trace on a sorted multiset, as (completion, final value), deduplicated."""
    if len(values) == 1:
        return (("", values[0]),)
    out: dict[str, int] = {}
    for a, op, b, r in _legal_steps(values, commuted):
        step = f"{a}{op}{b}={r}"
        for rest, final in _all_traces(_remove(values, a, b, r), commuted):
            out[step + ("," + rest if rest else "")] = final
    return tuple(out.items())


def all_traces(numbers: Sequence[int], commuted: bool = False) -> list[tuple[str, int]]:
    """Every legal trace that uses all numbers, as ``(completion, final value)`` (larger operand first).

    The traces ignore any target; ``solve`` keeps those that reach it.
    """
    return list(_all_traces(tuple(sorted(int(x) for x in numbers)), commuted))


def solve(numbers: Sequence[int], target: int, commuted: bool = False) -> list[str]:
    """Every solution as a completion string: all orders of combining values, all operators.

    Steps write the larger operand first; ``commuted=True`` also lists the swapped ``+``/``*`` versions
    (which ``verify`` accepts as well). Sorted, so the output is deterministic.
    """
    return sorted(c for c, v in all_traces(numbers, commuted) if v == int(target))


def reachable_targets(numbers: Sequence[int]) -> set[int]:
    """Every value a complete legal trace on these numbers can end at."""
    return {v for _, v in all_traces(numbers)}


# ------------------------------------------------------------------------------------------ generation


def problem_key(numbers: Sequence[int], target: int) -> tuple[tuple[int, ...], int]:
    """The identity of a problem for train/eval separation: sorted numbers plus target."""
    return tuple(sorted(int(x) for x in numbers)), int(target)


def sample_problem(
    rng: random.Random,
    n_numbers: int = 3,
    number_range: tuple[int, int] = (1, 9),
    target_range: tuple[int, int] = (10, 99),
    exclude: set[tuple[tuple[int, ...], int]] | frozenset[tuple[tuple[int, ...], int]] = frozenset(),
    max_tries: int = 10_000,
) -> tuple[list[int], int]:
    """One solvable problem: numbers drawn uniformly (with replacement), target uniform among the reachable
    targets in ``target_range`` whose key is not in ``exclude``.

    Raises ``ValueError`` for fewer than 2 numbers or a range that is empty or not of positive whole numbers,
    ``RuntimeError`` when ``max_tries`` draws found no solvable problem."""
    _check_difficulty(n_numbers, number_range, target_range)
    lo, hi = number_range
    tlo, thi = target_range
    for _ in range(max_tries):
        numbers = [rng.randint(lo, hi) for _ in range(n_numbers)]
        key_numbers = tuple(sorted(numbers))
        targets = sorted(
            t for t in reachable_targets(numbers) if tlo <= t <= thi and (key_numbers, t) not in exclude
        )
        if targets:
            return numbers, rng.choice(targets)
    raise RuntimeError("no solvable problem found; widen the ranges or shrink the excluded set")


def _whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def _check_difficulty(n_numbers: int, number_range: Sequence[int], target_range: Sequence[int]) -> None:
    if _whole("n_numbers", n_numbers) < 2:
        raise ValueError(f"n_numbers must be >= 2 (a problem combines numbers), got {n_numbers}")
    for name, pair in (("number_range", number_range), ("target_range", target_range)):
        if len(pair) != 2:
            raise ValueError(f"{name} must be (lo, hi), got {pair!r}")
        lo, hi = (_whole(name, x) for x in pair)
        if not 1 <= lo <= hi:
            raise ValueError(f"{name} must be (lo, hi) with 1 <= lo <= hi, got {tuple(pair)}")


def make_problems(
    n: int,
    seed: int,
    n_numbers: int = 3,
    number_range: tuple[int, int] = (1, 9),
    target_range: tuple[int, int] = (10, 99),
    exclude: Iterable[tuple[tuple[int, ...], int]] | None = None,
    unique: bool = False,
) -> Any:
    """``n`` seeded solvable problems as a ``datasets.Dataset`` with columns ``prompt``, ``numbers``, ``target``.

    ``exclude`` holds problem keys (``problem_key``) that must not appear (e.g. the held-out set's);
    ``unique=True`` draws distinct keys. Difficulty knobs: ``n_numbers``, ``number_range``, ``target_range``.
    """
    from datasets import Dataset

    rows = generate_problems(n, seed, n_numbers, number_range, target_range, exclude, unique)
    return Dataset.from_list(rows)


def generate_problems(
    n: int,
    seed: int,
    n_numbers: int = 3,
    number_range: tuple[int, int] = (1, 9),
    target_range: tuple[int, int] = (10, 99),
    exclude: Iterable[tuple[tuple[int, ...], int]] | None = None,
    unique: bool = False,
) -> list[dict[str, Any]]:
    """Same as ``make_problems`` but returns plain dicts (no ``datasets`` import).

    Raises ``ValueError`` for a negative or fractional ``n`` and for a bad difficulty (see :func:`sample_problem`)."""
    if _whole("n", n) < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    _check_difficulty(n_numbers, number_range, target_range)
    from utils.checks import seed as check_seed

    rng = random.Random(check_seed(seed))  # -5 would repeat seed 5's problems
    excluded = set(exclude or ())
    rows = []
    for _ in range(n):
        numbers, target = sample_problem(rng, n_numbers, number_range, target_range, excluded)
        if unique:
            excluded.add(problem_key(numbers, target))
        rows.append({"prompt": format_prompt(numbers, target), "numbers": numbers, "target": target})
    return rows


def eval_keys(problems: Iterable[dict[str, Any]] | None = None) -> set[tuple[tuple[int, ...], int]]:
    """Keys of a problem set (default: the shipped held-out set), to pass as ``exclude``."""
    rows = load_eval_problems() if problems is None else problems
    return {problem_key(r["numbers"], r["target"]) for r in rows}


def train_dataset(
    n: int,
    seed: int,
    n_numbers: int = 3,
    number_range: tuple[int, int] = (1, 9),
    target_range: tuple[int, int] = (10, 99),
    eval_path: str | Path | None = None,
) -> Any:
    """Training prompts (``datasets.Dataset``) that never overlap the held-out set at ``eval_path``
    (default: the shipped ``data/countdown_eval.jsonl`` for 3 numbers; no exclusion if the file is absent
    and another difficulty is asked for)."""
    path = Path(eval_path) if eval_path is not None else default_eval_path(n_numbers)
    exclude = eval_keys(load_eval_problems(path)) if path.exists() else set()
    return make_problems(n, seed, n_numbers, number_range, target_range, exclude=exclude)


def default_eval_path(n_numbers: int = 3) -> Path:
    """The shipped held-out file for a difficulty: ``countdown_eval.jsonl`` (3 numbers) or
    ``countdown_eval_{n}num.jsonl``."""
    return EVAL_PATH if n_numbers == 3 else DATA_DIR / f"countdown_eval_{n_numbers}num.jsonl"


def load_eval_problems(path: str | Path | None = None, n: int | None = None) -> list[dict[str, Any]]:
    """The held-out problems (dicts with ``prompt``, ``numbers``, ``target``), the first ``n`` if given."""
    from utils.results import read_jsonl, repo_relative

    p = Path(path) if path is not None else EVAL_PATH
    rows = read_jsonl(p, regenerate=f"python -m utils.countdown make-eval --out {repo_relative(p)} (see data/README.md)")
    rows = rows[:n] if n is not None else rows
    for r in rows:
        r.setdefault("prompt", format_prompt(r["numbers"], r["target"]))
    return rows


def write_problems(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write problems one JSON object per line (keys: numbers, target, prompt), atomically."""
    from utils.results import write_jsonl

    return write_jsonl(({"numbers": r["numbers"], "target": r["target"], "prompt": r["prompt"]} for r in rows), path)
