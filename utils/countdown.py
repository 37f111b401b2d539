"""Countdown: the verifiable toy task of the series.

A problem is a few positive integers and a target, e.g. numbers ``8 5 7`` and target ``33``. The prompt
is ``format_prompt([8, 5, 7], 33) == "8 5 7>33:"`` and a completion is a list of steps ``A op B=R``
joined by ``,`` with no spaces, e.g. ``8*5=40,40-7=33``. Operators are ``+ - * /``.

``verify`` accepts a completion only when

* every step is well formed (ASCII digits only, no leading zeros, at most ``MAX_DIGITS`` digits per number);
* every step's arithmetic is right (division must be exact);
* every value is a positive integer (so ``5-5=0`` is rejected);
* every operand is an available value -- a given number or an earlier result -- and each is used once
  (multiset semantics: a given ``3`` and a result ``3`` are interchangeable);
* all given numbers are used and every intermediate result is used later (the steps form one expression,
  so there are exactly ``len(numbers) - 1`` steps);
* the last result equals the target.

``+`` and ``*`` operand order does not matter. The verifier never evaluates model text, never raises on
any string and runs in time linear in the input length.

Problem generation (``make_problems``) is seeded and keeps only solvable targets; the held-out set shipped in
``data/countdown_eval.jsonl`` is made by ``python -m utils.countdown make-eval`` and training data never
overlaps it (the key is the sorted numbers plus the target, see ``problem_key``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from utils.config import DATA_DIR

OPS = "+-*/"
MAX_DIGITS = 12
"""Longest digit run a well-formed number may have (longer ones are rejected, which also bounds the work)."""
EOS_MARKERS = ("<eos>", "<|endoftext|>", "</s>")
"""Special-token texts the verifier cuts a completion at (defensive: callers normally strip EOS already)."""
EVAL_PATH = DATA_DIR / "countdown_eval.jsonl"
EVAL_SEED = 2506
"""Seed of the shipped held-out set (``python -m utils.countdown make-eval --n 500 --seed 2506``)."""

# Failure reasons reported by ``diagnose`` (stable strings: notebooks count them).
OK = "ok"
EMPTY = "empty"
MALFORMED = "malformed"
ARITHMETIC = "arithmetic error"
NON_POSITIVE = "non-positive value"
UNAVAILABLE = "unavailable operand"
UNUSED = "unused numbers"
WRONG_TARGET = "wrong target"
REASONS = (OK, EMPTY, MALFORMED, ARITHMETIC, NON_POSITIVE, UNAVAILABLE, UNUSED, WRONG_TARGET)

# [0-9] (not \d): \d would accept full-width and other Unicode digits. Bounded repeats keep matching linear.
_NUM = r"(0|[1-9][0-9]{0,%d})" % (MAX_DIGITS - 1)
_STEP_RE = re.compile(_NUM + r"([-+*/])" + _NUM + "=" + _NUM)
_PROMPT_RE = re.compile(r"([0-9]{1,%d}(?: [0-9]{1,%d})*)>([0-9]{1,%d}):" % (MAX_DIGITS, MAX_DIGITS, MAX_DIGITS))
_MAX_STEP_LEN = 3 * MAX_DIGITS + 2


@dataclass(frozen=True)
class Step:
    """One parsed step ``a op b=result`` (the numbers as written, not yet checked)."""

    a: int
    op: str
    b: int
    result: int

    @property
    def value(self) -> int | None:
        """The true value of ``a op b``, or None when it is not an integer (inexact or zero division)."""
        return apply_op(self.a, self.op, self.b)

    @property
    def arithmetic_ok(self) -> bool:
        """Whether the written result is the true value of ``a op b``."""
        return self.value == self.result

    def __str__(self) -> str:
        return f"{self.a}{self.op}{self.b}={self.result}"


@dataclass(frozen=True)
class Diagnosis:
    """Why a completion passed or failed ``verify``: ``reason`` is one of ``REASONS``.

    ``step`` is the 0-based index of the first offending step (None when the failure is not tied to one).
    """

    ok: bool
    reason: str
    step: int | None = None
    detail: str = ""


def apply_op(a: int, op: str, b: int) -> int | None:
    """``a op b`` in exact integer arithmetic; None for a non-integer quotient or division by zero."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0 or a % b:
            return None
        return a // b
    raise ValueError(f"unknown operator {op!r}")


def format_prompt(numbers: Sequence[int], target: int) -> str:
    """The prompt for a problem: ``format_prompt([8, 5, 7], 33) == "8 5 7>33:"``."""
    return " ".join(str(int(x)) for x in numbers) + f">{int(target)}:"


def parse_prompt(prompt: str) -> tuple[list[int], int]:
    """Numbers and target from a prompt made by ``format_prompt`` (the last ``... >T:`` in the text).

    Raises ``ValueError`` when the text holds no such prompt (a caller's bug, not a model's).
    """
    matches = list(_PROMPT_RE.finditer(prompt)) if isinstance(prompt, str) else []
    if not matches:
        raise ValueError(f"not a Countdown prompt: {str(prompt)[:80]!r}")
    m = matches[-1]
    return [int(x) for x in m.group(1).split(" ")], int(m.group(2))


def clean_completion(completion: Any) -> str | None:
    """Cut a completion at the first EOS-like marker and strip ASCII whitespace; None if it is not a string."""
    if not isinstance(completion, str):
        return None
    cut = len(completion)
    for marker in EOS_MARKERS:
        i = completion.find(marker, 0, cut)
        if i != -1:
            cut = i
    return completion[:cut].strip(" \t\r\n")


def _parse_step(text: str) -> Step | None:
    if len(text) > _MAX_STEP_LEN:
        return None
    m = _STEP_RE.fullmatch(text)
    if m is None:
        return None
    return Step(int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4)))


def parse_steps(completion: Any) -> list[Step] | None:
    """Parse a whole completion into steps; None if any step is malformed (or the completion is empty)."""
    text = clean_completion(completion)
    if not text:
        return None
    steps = []
    for part in text.split(","):
        step = _parse_step(part)
        if step is None:
            return None
        steps.append(step)
    return steps


def step_arithmetic(completion: Any) -> tuple[int, int]:
    """``(correct, total)`` over the well-formed steps of a completion (malformed pieces are skipped).

    Operand legality and the target are ignored: this measures arithmetic only.
    """
    text = clean_completion(completion)
    if not text:
        return 0, 0
    correct = total = 0
    for part in text.split(","):
        step = _parse_step(part)
        if step is not None:
            total += 1
            correct += step.arithmetic_ok
    return correct, total


def arithmetic_ok(completion: Any) -> bool:
    """True if the completion has at least one well-formed step and every well-formed step's arithmetic is right.

    Target, operand legality and positivity are ignored (``5-5=0`` counts as correct arithmetic).
    """
    correct, total = step_arithmetic(completion)
    return total > 0 and correct == total


def diagnose(numbers: Sequence[int], target: int, completion: Any) -> Diagnosis:
    """Check a completion and say why it fails (see the module docstring for the rules). Never raises."""
    text = clean_completion(completion)
    if text is None:
        return Diagnosis(False, MALFORMED, None, "completion is not a string")
    if not text:
        return Diagnosis(False, EMPTY)
    try:
        pool = Counter(int(x) for x in numbers)
        target = int(target)
    except (TypeError, ValueError):
        return Diagnosis(False, MALFORMED, None, "numbers/target are not integers")
    n_steps_needed = max(sum(pool.values()) - 1, 0)
    parts = text.split(",")
    steps: list[Step] = []
    for i, part in enumerate(parts):
        step = _parse_step(part)
        if step is None:
            return Diagnosis(False, MALFORMED, i, f"step {i + 1} is not 'A op B=R': {part[:40]!r}")
        steps.append(step)
    last: int | None = None
    for i, step in enumerate(steps):
        if not step.arithmetic_ok:
            return Diagnosis(False, ARITHMETIC, i, f"{step} is wrong")
        if step.result <= 0:
            return Diagnosis(False, NON_POSITIVE, i, f"{step} gives a non-positive value")
        for operand in (step.a, step.b):
            if pool[operand] <= 0:
                return Diagnosis(False, UNAVAILABLE, i, f"{operand} is not available at step {i + 1}")
            pool[operand] -= 1
        pool[step.result] += 1
        last = step.result
    if len(steps) < n_steps_needed:
        left = sorted((+pool).elements())
        return Diagnosis(False, UNUSED, None, f"values left unused: {left}")
    if last != target:
        return Diagnosis(False, WRONG_TARGET, len(steps) - 1, f"result {last} != target {target}")
    return Diagnosis(True, OK)


def verify(numbers: Sequence[int], target: int, completion: Any) -> bool:
    """True only if the completion is a correct Countdown solution (rules in the module docstring)."""
    return diagnose(numbers, target, completion).ok


def _completion_text(completion: Any) -> Any:
    """A completion from TRL: a string, or a conversational list of messages (take the last content)."""
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return completion[-1].get("content", "")
    return completion


def countdown_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """TRL reward function: 1.0 for a verified solution, else 0.0.

    Numbers and target come from the dataset columns ``numbers``/``target`` when TRL passes them as keyword
    arguments, otherwise they are parsed from each prompt string.
    """
    numbers_col = kwargs.get("numbers")
    target_col = kwargs.get("target")
    rewards = []
    for i, completion in enumerate(completions):
        if numbers_col is not None and target_col is not None:
            numbers, target = list(numbers_col[i]), int(target_col[i])
        else:
            numbers, target = parse_prompt(str(_completion_text(prompts[i])))
        rewards.append(1.0 if verify(numbers, target, _completion_text(completion)) else 0.0)
    return rewards


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
    targets in ``target_range`` whose key is not in ``exclude``."""
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
    """Same as ``make_problems`` but returns plain dicts (no ``datasets`` import)."""
    rng = random.Random(seed)
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
    p = Path(path) if path is not None else EVAL_PATH
    if not p.exists():
        raise FileNotFoundError(f"{p} is missing; make it with: python -m utils.countdown make-eval --out {p}")
    rows = []
    with p.open() as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                r.setdefault("prompt", format_prompt(r["numbers"], r["target"]))
                rows.append(r)
                if n is not None and len(rows) >= n:
                    break
    return rows


def write_jsonl(rows: Iterable[dict[str, Any]], path: str | Path) -> None:
    """Write problems one JSON object per line (keys: numbers, target, prompt)."""
    with Path(path).open("w") as f:
        for r in rows:
            f.write(json.dumps({"numbers": r["numbers"], "target": r["target"], "prompt": r["prompt"]}) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
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
        write_jsonl(rows, out)
        print(f"wrote {len(rows)} problems to {out}")


if __name__ == "__main__":
    main()
