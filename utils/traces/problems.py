"""The templated math word problems of :mod:`utils.traces`, and reading an answer from a completion."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Callable

INSTRUCTION = "Solve it step by step, then finish with: The answer is N."

NAMES = ("Tom", "Ann", "Sam", "Mia", "Leo", "Zoe", "Ben", "Ava", "Max", "Eva", "Jack", "Lily")
ITEMS = ("apples", "marbles", "stickers", "books", "pencils", "cookies", "stamps", "shells")


@dataclass(frozen=True)
class Problem:
    """One word problem with its known integer answer."""

    id: str
    template: str
    question: str
    answer: int


def _t_buy_give(r: random.Random) -> tuple[str, int]:
    n1, n2 = r.sample(NAMES, 2)
    item = r.choice(ITEMS)
    a, b = r.randint(5, 40), r.randint(2, 30)
    c = r.randint(1, a + b - 1)
    question = f"{n1} has {a} {item}. {n1} gets {b} more and gives {c} to {n2}. How many {item} does {n1} have now?"
    return question, a + b - c


def _t_groups(r: random.Random) -> tuple[str, int]:
    item = r.choice(ITEMS)
    a, b = r.randint(2, 12), r.randint(2, 12)
    return f"A box holds {a} {item}. How many {item} are in {b} boxes?", a * b


def _t_share(r: random.Random) -> tuple[str, int]:
    n1 = r.choice(NAMES)
    item = r.choice(ITEMS)
    k, b = r.randint(2, 12), r.randint(2, 9)
    return f"{n1} shares {k * b} {item} equally among {b} friends. How many {item} does each friend get?", k


def _t_price(r: random.Random) -> tuple[str, int]:
    a, b, n = r.randint(2, 20), r.randint(1, 15), r.randint(2, 6)
    return f"A shirt costs {a} dollars and a hat costs {b} dollars. How much do {n} shirts and one hat cost?", n * a + b


def _t_spend(r: random.Random) -> tuple[str, int]:
    n1 = r.choice(NAMES)
    b, c = r.randint(1, 30), r.randint(1, 30)
    a = b + c + r.randint(1, 50)
    question = f"{n1} had {a} dollars, spent {b} dollars on lunch and {c} dollars on a book. How many dollars are left?"
    return question, a - b - c


def _t_pages(r: random.Random) -> tuple[str, int]:
    n1 = r.choice(NAMES)
    a, d = r.randint(3, 25), r.randint(2, 9)
    return f"{n1} reads {a} pages every day. How many pages does {n1} read in {d} days?", a * d


TEMPLATES: dict[str, Callable[[random.Random], tuple[str, int]]] = {
    "buy_give": _t_buy_give,
    "groups": _t_groups,
    "share": _t_share,
    "price": _t_price,
    "spend": _t_spend,
    "pages": _t_pages,
}


#: How many distinct questions each template can write (the product of its draws' ranges; ``buy_give`` and
#: ``spend`` have far more than any request needs). ``tests/integration/test_reliability.py`` checks the small ones by enumeration.
TEMPLATE_SIZES: dict[str, int] = {
    "buy_give": len(NAMES) * (len(NAMES) - 1) * len(ITEMS) * sum(a + b - 1 for a in range(5, 41) for b in range(2, 31)),
    "groups": len(ITEMS) * 11 * 11,  # a, b in 2..12
    "share": len(NAMES) * len(ITEMS) * 11 * 8,  # k in 2..12, b in 2..9
    "price": 19 * 15 * 5,  # a in 2..20, b in 1..15, n in 2..6
    "spend": len(NAMES) * 30 * 30 * 50,
    "pages": len(NAMES) * 23 * 8,  # a in 3..25, d in 2..9
}


def max_problems() -> int:
    """The largest ``n`` :func:`make_problems` can draw: templates rotate, so template ``t`` (0-based) writes
    ``ceil((n - t) / T)`` of them and none may need more questions than it has (:data:`TEMPLATE_SIZES`)."""
    k = len(TEMPLATES)
    # template t writes ceil((n - t) / k) <= size  <=>  n <= size * k + t
    return min(TEMPLATE_SIZES[name] * k + t for t, name in enumerate(TEMPLATES))


def make_problems(n: int, seed: int = 0) -> list[Problem]:
    """``n`` distinct problems, templates in rotation, numbers drawn from ``random.Random(seed)``. ``ValueError``
    at once (before drawing any) when ``n`` exceeds :func:`max_problems`."""
    from utils.checks import positive_int
    from utils.checks import seed as check_seed

    n = positive_int(n, "n (the number of problems)")
    seed = check_seed(seed)  # -5 would repeat seed 5's problems
    most = max_problems()
    if n > most:
        small = min(TEMPLATE_SIZES, key=TEMPLATE_SIZES.__getitem__)
        raise ValueError(f"at most {most} distinct problems exist ({len(TEMPLATES)} templates in rotation; "
                         f"{small!r} has only {TEMPLATE_SIZES[small]} questions); ask for fewer")
    r = random.Random(seed)
    names = list(TEMPLATES)
    out: list[Problem] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 100 * n:
            raise RuntimeError(f"could not draw {n} distinct problems; ask for fewer.")
        name = names[len(out) % len(names)]
        q, a = TEMPLATES[name](r)
        if q in seen:
            continue
        seen.add(q)
        out.append(Problem(id=f"p{len(out):04d}", template=name, question=q, answer=int(a)))
    return out


_ANSWER_RE = re.compile(r"answer\s*(?:is|=|:)?\s*:?\s*\$?\s*(-?\d[\d,]*)", re.IGNORECASE)
_NUMBER_RE = re.compile(r"-?\d[\d,]*")


def _to_int(s: str) -> int | None:
    s = s.replace(",", "").strip()
    try:
        return int(s)
    except ValueError:
        return None


def extract_answer(completion: str) -> int | None:
    """The answer a completion gives: the number after the last "answer is" (or "answer:"), else the
    last number in the text, else None. Thousands separators are accepted ("1,200" -> 1200)."""
    if not isinstance(completion, str) or not completion:
        return None
    hits = _ANSWER_RE.findall(completion)
    if hits:
        return _to_int(hits[-1].rstrip(","))
    nums = _NUMBER_RE.findall(completion)
    return _to_int(nums[-1].rstrip(",")) if nums else None


def answer_source(completion: str) -> str | None:
    """How :func:`extract_answer` reads a completion: ``"stated"`` (a number after "answer is" / "answer:"),
    ``"last number"`` (no such phrase: the last number in the text, which can match the answer by accident), or
    None (no number at all)."""
    if not isinstance(completion, str) or not completion:
        return None
    if _ANSWER_RE.search(completion):
        return "stated"
    return "last number" if _NUMBER_RE.search(completion) else None


def is_correct(completion: str, answer: int) -> bool:
    """Whether ``extract_answer(completion)`` equals the known answer."""
    return extract_answer(completion) == int(answer)


def chat_prompt(tokenizer: Any, question: str) -> str:
    """The text fed to the model: the tokenizer's chat template around ``question`` + the instruction."""
    msgs = [{"role": "user", "content": f"{question} {INSTRUCTION}"}]
    return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
