"""The Countdown verifier: is a completion a correct solution, and if not, why not.

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
any completion and runs in time linear in the input length. The problem's numbers and target must be whole numbers
(``8.0`` counts as 8): ``7.5`` raises ``ValueError`` instead of being truncated to 7.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

from utils.countdown.grammar import MAX_DIGITS, parse_prompt

EOS_MARKERS = ("<eos>", "<|endoftext|>", "</s>")
"""Special-token texts the verifier cuts a completion at (defensive: callers normally strip EOS already)."""

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


def check_problem(numbers: Any, target: Any) -> tuple[list[int], int]:
    """A problem's numbers and target as ints. ``8.0`` is 8; anything that is not a whole number (``7.5``, ``"8"``,
    ``True``, ``None``) is a ``ValueError`` naming it -- never truncated, since ``int(7.5) == 7`` would let a
    solution of another problem pass."""
    from utils.checks import whole

    try:
        items = list(numbers)
    except TypeError:
        raise ValueError(f"numbers must be a list of whole numbers, got {numbers!r:.60}") from None
    try:
        return [whole(x, "every number") for x in items], whole(target, "the target")
    except ValueError as e:
        raise ValueError(f"not a Countdown problem: {e} (numbers {items!r:.60}, target {target!r:.20})") from None


def diagnose(numbers: Sequence[int], target: int, completion: Any) -> Diagnosis:
    """Check a completion and say why it fails (see the module docstring for the rules).

    Never raises on any completion. The problem itself must be valid: numbers and target that are not whole
    numbers are a caller's bug and raise ``ValueError`` (see :func:`check_problem`)."""
    nums, target = check_problem(numbers, target)
    text = clean_completion(completion)
    if text is None:
        return Diagnosis(False, MALFORMED, None, "completion is not a string")
    if not text:
        return Diagnosis(False, EMPTY)
    pool = Counter(nums)
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
    """True only if the completion is a correct Countdown solution (rules in the module docstring). ``ValueError``
    when ``numbers``/``target`` are not whole numbers (``8.0`` is fine, ``7.5`` is not)."""
    return diagnose(numbers, target, completion).ok


def _completion_text(completion: Any) -> Any:
    """A completion from TRL: a string, or a conversational list of messages (take the last content)."""
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return completion[-1].get("content", "")
    return completion


def countdown_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """TRL reward function: 1.0 for a verified solution, else 0.0.

    Numbers and target come from the dataset columns ``numbers``/``target`` when TRL passes them as keyword
    arguments, otherwise they are parsed from each prompt string. They go to :func:`verify` as given, so the reward
    accepts exactly the problems ``verify`` accepts: ``26.9``, ``"26"``, a full-width ``"２６"`` or ``True`` as a
    target is a ``ValueError`` (:func:`check_problem`), never truncated or converted to another problem.
    """
    numbers_col = kwargs.get("numbers")
    target_col = kwargs.get("target")
    rewards = []
    for i, completion in enumerate(completions):
        if numbers_col is not None and target_col is not None:
            numbers, target = numbers_col[i], target_col[i]
        else:
            numbers, target = parse_prompt(str(_completion_text(prompts[i])))
        rewards.append(1.0 if verify(numbers, target, _completion_text(completion)) else 0.0)
    return rewards
