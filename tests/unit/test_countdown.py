"""Tests for utils.countdown: the verifier's rules, fuzzing against an independent checker, the solver and
problem generation (seeded, solvable, no train/eval overlap), and the TRL-style reward function."""

from __future__ import annotations

import itertools
import random
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from utils import countdown as cd

# ------------------------------------------------------------------------------ independent reference
# Written separately from utils.countdown (no regex, Fractions, list-based multiset) to cross-check it.

_DIGITS = "0123456789"


def _ref_number(s: str) -> int | None:
    if not 1 <= len(s) <= 12 or any(ch not in _DIGITS for ch in s):
        return None
    if len(s) > 1 and s[0] == "0":
        return None
    value = 0
    for ch in s:
        value = value * 10 + _DIGITS.index(ch)
    return value


def _ref_step(s: str) -> tuple[int, str, int, int] | None:
    if s.count("=") != 1:
        return None
    lhs, rhs = s.split("=")
    ops = [i for i, ch in enumerate(lhs) if ch in "+-*/"]
    if len(ops) != 1:
        return None
    k = ops[0]
    a, b, r = _ref_number(lhs[:k]), _ref_number(lhs[k + 1 :]), _ref_number(rhs)
    if a is None or b is None or r is None:
        return None
    return a, lhs[k], b, r


def ref_verify(numbers: list[int], target: int, completion: str) -> bool:
    for marker in ("<eos>", "<|endoftext|>", "</s>"):
        completion = completion.split(marker)[0]
    completion = completion.strip(" \t\r\n")
    if not completion:
        return False
    parts = completion.split(",")
    if len(parts) != len(numbers) - 1:
        return False
    pool = list(numbers)
    last = None
    for part in parts:
        step = _ref_step(part)
        if step is None:
            return False
        a, op, b, r = step
        fa, fb = Fraction(a), Fraction(b)
        if op == "/" and b == 0:
            return False
        value = {"+": fa + fb, "-": fa - fb, "*": fa * fb, "/": fa / fb if b else None}[op]
        if value != r or r <= 0:
            return False
        for x in (a, b):
            if x not in pool:
                return False
            pool.remove(x)
        pool.append(r)
        last = r
    return len(pool) == 1 and last == target


def ref_solutions(numbers: list[int], target: int) -> set[str]:
    """Every accepted completion, both operand orders of + and *, by brute force over indices."""
    out: set[str] = set()

    def rec(pool: list[int], steps: list[str]) -> None:
        if len(pool) == 1:
            if pool[0] == target:
                out.add(",".join(steps))
            return
        for i, j in itertools.permutations(range(len(pool)), 2):
            a, b = pool[i], pool[j]
            rest = [v for k, v in enumerate(pool) if k not in (i, j)]
            for op in "+-*/":
                v = {"+": Fraction(a + b), "-": Fraction(a - b), "*": Fraction(a * b), "/": Fraction(a, b)}[op]
                if v.denominator == 1 and v > 0:
                    rec(rest + [int(v)], steps + [f"{a}{op}{b}={int(v)}"])

    rec(list(numbers), [])
    return out


# ------------------------------------------------------------------------------------------ hand cases

N, T = [8, 5, 7], 33


@pytest.mark.parametrize(
    "completion",
    [
        "8*5=40,40-7=33",
        "5*8=40,40-7=33",  # * order does not matter
        "8*5=40,40-7=33<eos>",  # EOS text cut
        "8*5=40,40-7=33\n",
        " 8*5=40,40-7=33 ",
        "8*5=40,40-7=33<eos><pad><pad>",
        "8*5=40,40-7=33<|endoftext|>junk",  # completion ends at the first EOS
    ],
)
def test_accepts_valid(completion: str) -> None:
    assert cd.verify(N, T, completion)
    assert cd.diagnose(N, T, completion).reason == cd.OK


@pytest.mark.parametrize(
    "completion, reason",
    [
        ("", cd.EMPTY),
        ("<eos>", cd.EMPTY),
        ("8*5=40,40-7=32", cd.ARITHMETIC),
        ("8*5=41,41-8=33", cd.ARITHMETIC),
        ("8*5=40,40-7=33,", cd.MALFORMED),  # trailing comma
        ("8*5=40, 40-7=33", cd.MALFORMED),  # space
        ("8*5=40;40-7=33", cd.MALFORMED),
        ("8×5=40,40-7=33", cd.MALFORMED),  # unicode times
        ("8*5=40,40−7=33", cd.MALFORMED),  # unicode minus
        ("８*5=40,40-7=33", cd.MALFORMED),  # full-width 8 (str.isdigit() says True)
        ("8*5=40,40-7=３３", cd.MALFORMED),
        ("8*5=4٠,40-7=33", cd.MALFORMED),  # Arabic-Indic zero
        ("8*5=40,40-7=33²", cd.MALFORMED),
        ("8*5=040,040-7=33", cd.MALFORMED),  # leading zero
        ("8*5=40\x00,40-7=33", cd.MALFORMED),  # control characters
        ("8*5=40,40-7=33\x1f", cd.MALFORMED),
        ("8*5=40\u200b,40-7=33", cd.MALFORMED),  # zero-width space
        ("(8*5)-7=33", cd.MALFORMED),
        ("8*5-7=33", cd.MALFORMED),
        ("33", cd.MALFORMED),
        ("__import__('os').system('echo pwned')", cd.MALFORMED),
        ("8*5=40,40-7=33 or True", cd.MALFORMED),
        ("1" * 13 + "+1=" + "1" * 12 + "2", cd.MALFORMED),  # digit run over the cap
        ("8*5=40,40-7=33\n8*5=40", cd.MALFORMED),
        ("8*5=40", cd.UNUSED),  # 7 never used
        ("8*5=40,40-8=32", cd.UNAVAILABLE),  # 8 used twice
        ("8*5=40,40-7=33,33-1=32", cd.UNAVAILABLE),  # too many steps
        ("8*9=72,72-39=33", cd.UNAVAILABLE),  # numbers not given
        ("8+5=13,13+7=20", cd.WRONG_TARGET),
        ("8-8=0,5*7=35", cd.NON_POSITIVE),
        ("5-8=3,3*7=21", cd.ARITHMETIC),  # negative results cannot be written
    ],
)
def test_rejects(completion: str, reason: str) -> None:
    assert not cd.verify(N, T, completion)
    d = cd.diagnose(N, T, completion)
    assert d.reason == reason, d
    assert not ref_verify(N, T, completion)


def test_division_exact_and_intermediates() -> None:
    assert cd.verify([6, 3, 9], 18, "6/3=2,9*2=18")
    assert cd.verify([6, 3, 9], 18, "2*9=18,6/3=2") is False  # 2 is not available yet
    assert cd.diagnose([7, 2, 4], 14, "7/2=3,3*4=12").reason == cd.ARITHMETIC  # inexact division
    assert cd.diagnose([7, 2, 4], 14, "7/0=0,2*4=8").reason == cd.ARITHMETIC
    assert cd.verify([4, 2, 3], 5, "4/2=2,2+3=5")
    assert cd.verify([4, 2, 3], 5, "4/2=2,3+2=5")


def test_multiset_semantics() -> None:
    # the given 2 and the result 2 are interchangeable; each instance is used once
    assert cd.verify([2, 4, 2], 6, "4/2=2,2+2=4") is False  # ends at 4
    assert cd.verify([2, 4, 2, 3], 11, "4/2=2,2*2=4,4+3=7") is False
    assert cd.verify([3, 3, 5], 30, "3+3=6,6*5=30")
    assert cd.diagnose([3, 5, 7], 30, "3+3=6,6*5=30").reason == cd.UNAVAILABLE
    assert cd.verify([1, 1, 1, 1], 4, "1+1=2,1+1=2,2+2=4")  # two disjoint subexpressions joined


def test_all_numbers_and_intermediates_used() -> None:
    assert cd.diagnose([2, 3, 4, 5], 9, "2+3=5,4+5=9").reason == cd.UNUSED  # an intermediate 5 left over


def test_arithmetic_ok() -> None:
    assert cd.arithmetic_ok("8*5=40,40-7=33")
    assert cd.arithmetic_ok("8*5=40,40-7=33,1+1=2")  # target/legality ignored
    assert cd.arithmetic_ok("5-5=0")
    assert cd.arithmetic_ok("9*9=81,xx")  # malformed pieces are skipped
    assert not cd.arithmetic_ok("8*5=41,40-7=33")
    assert not cd.arithmetic_ok("7/2=3")
    assert not cd.arithmetic_ok("")
    assert not cd.arithmetic_ok("garbage")
    assert not cd.arithmetic_ok(None)
    assert cd.step_arithmetic("8*5=41,40-7=33,zz") == (1, 2)


def test_parse_steps() -> None:
    steps = cd.parse_steps("8*5=40,40-7=33")
    assert steps is not None and [str(s) for s in steps] == ["8*5=40", "40-7=33"]
    assert steps[0] == cd.Step(8, "*", 5, 40) and steps[0].arithmetic_ok
    assert cd.parse_steps("8*5=40,") is None
    assert cd.parse_steps("") is None


def test_non_string_inputs_never_raise() -> None:
    for bad in (None, 3, b"8*5=40,40-7=33", ["8*5=40"], object()):
        assert cd.verify(N, T, bad) is False  # type: ignore[arg-type]


def test_problem_numbers_must_be_whole_numbers() -> None:
    """A problem that is not one is the caller's bug: a clear ValueError, never a truncation (int(7.5) == 7 would
    accept 8*5=40,40-7=33 for the numbers 8, 5, 7.5)."""
    assert cd.verify([8.0, 5.0, 7.0], 33.0, "8*5=40,40-7=33") is True  # whole floats are their integers
    assert cd.verify([np.int64(8), 5, 7], np.int64(33), "8*5=40,40-7=33") is True
    for numbers, target, what in [([8.0, 5.0, 7.5], 33, "got 7.5"), ([8, 5, 7], 33.5, "target must be a whole number"),
                                  (["x", 5, 7], 33, "got 'x'"), ([8, 5, True], 33, "got True"),
                                  (None, 33, "numbers must be a list"), ([8, 5, float("nan")], 33, "got nan")]:
        with pytest.raises(ValueError, match=what):
            cd.verify(numbers, target, "8*5=40,40-7=33")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="whole number"):
            cd.diagnose(numbers, target, "anything")  # type: ignore[arg-type]


def test_prompt_format_roundtrip() -> None:
    assert cd.format_prompt([8, 5, 7], 33) == "8 5 7>33:"
    assert cd.parse_prompt("8 5 7>33:") == ([8, 5, 7], 33)
    assert cd.parse_prompt("some text 1 2 3 4>24:") == ([1, 2, 3, 4], 24)
    with pytest.raises(ValueError):
        cd.parse_prompt("no prompt here")


# ---------------------------------------------------------------------------------------------- reward


def test_reward_trl_signature() -> None:
    prompts = ["8 5 7>33:", "8 5 7>33:", "6 3 9>18:"]
    completions = ["8*5=40,40-7=33", "8+5=13,13+7=20", "6/3=2,9*2=18"]
    # as GRPOTrainer calls it: keyword arguments, extra dataset columns, completion_ids, trainer_state
    r = cd.countdown_reward(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1], [2], [3]],
        numbers=[[8, 5, 7], [8, 5, 7], [6, 3, 9]],
        target=[33, 33, 18],
        trainer_state=None,
    )
    assert r == [1.0, 0.0, 1.0]
    assert cd.countdown_reward(prompts, completions) == [1.0, 0.0, 1.0]  # parsed from prompts
    conv = [[{"role": "assistant", "content": c}] for c in completions]
    assert cd.countdown_reward(prompts, conv) == [1.0, 0.0, 1.0]
    assert all(isinstance(x, float) for x in r)


@pytest.mark.parametrize("target", [26.9, "26", "\uff12\uff16", True, None, float("nan")])
def test_reward_accepts_exactly_what_verify_accepts(target: object) -> None:
    """Issue 18, finding 9: the reward truncated 26.9 to 26 (and took a full-width "２６" or True) while verify
    raised; both now refuse a target that is not a whole number, and 26.0 is 26 for both."""
    solution = "8*3=24,24+2=26"
    with pytest.raises(ValueError, match="whole number"):
        cd.verify([8, 3, 2], target, solution)
    with pytest.raises(ValueError, match="whole number"):
        cd.countdown_reward(["x"], [solution], numbers=[[8, 3, 2]], target=[target])
    with pytest.raises(ValueError, match="whole number"):
        cd.countdown_reward(["x"], [solution], numbers=[[8, 3, target]], target=[26])
    assert cd.countdown_reward(["x"], [solution], numbers=[[8.0, 3, 2]], target=[26.0]) == [1.0]
    assert cd.verify([8.0, 3, 2], 26.0, solution)


# ---------------------------------------------------------------------------------------------- solver


def test_solver_against_verify_and_brute_force() -> None:
    rng = random.Random(0)
    n_checked = 0
    for _ in range(60):
        k = rng.choice([2, 3, 3, 4])
        numbers = [rng.randint(1, 9) for _ in range(k)]
        target = rng.choice(sorted(cd.reachable_targets(numbers)))
        sols = cd.solve(numbers, target)
        assert sols and all(cd.verify(numbers, target, s) for s in sols)
        if k <= 3:
            full = set(cd.solve(numbers, target, commuted=True))
            assert full == ref_solutions(numbers, target)
            assert all(ref_verify(numbers, target, s) for s in full)
            n_checked += 1
    assert n_checked > 20
    assert cd.solve([1, 1, 1], 50) == []


# ------------------------------------------------------------------------------------------ generation


def test_generation_seeded_solvable_and_in_range() -> None:
    kw = dict(n_numbers=4, number_range=(2, 9), target_range=(20, 200))
    a = cd.generate_problems(100, seed=1, **kw)
    assert a == cd.generate_problems(100, seed=1, **kw)
    assert a != cd.generate_problems(100, seed=2, **kw)
    for r in a:
        assert len(r["numbers"]) == 4 and all(2 <= x <= 9 for x in r["numbers"])
        assert 20 <= r["target"] <= 200 and r["prompt"] == cd.format_prompt(r["numbers"], r["target"])
        assert cd.solve(r["numbers"], r["target"])
    ds = cd.make_problems(10, seed=0)
    assert set(ds.column_names) == {"prompt", "numbers", "target"} and len(ds) == 10


def test_shipped_eval_set_is_reproducible_and_unique() -> None:
    rows = cd.load_eval_problems()
    assert len(rows) >= 500
    keys = [cd.problem_key(r["numbers"], r["target"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert all(cd.solve(r["numbers"], r["target"]) for r in rows)
    # the exact command in data/README.md: python -m utils.countdown make-eval --n 500 --seed 2506
    regenerated = cd.generate_problems(len(rows), seed=cd.EVAL_SEED, unique=True)
    assert [{k: r[k] for k in ("numbers", "target", "prompt")} for r in rows] == regenerated
    assert len(cd.load_eval_problems(n=7)) == 7


def test_training_data_never_overlaps_eval() -> None:
    held_out = cd.eval_keys()
    train = cd.train_dataset(3000, seed=0)
    assert not {cd.problem_key(n, t) for n, t in zip(train["numbers"], train["target"])} & held_out
    extra = cd.generate_problems(3000, seed=5, exclude=held_out)
    assert not {cd.problem_key(r["numbers"], r["target"]) for r in extra} & held_out


# ------------------------------------------------------------------------------------ fuzzing + timing

_PROBLEMS = [([8, 5, 7], 33), ([6, 3, 9], 18), ([3, 3, 5], 30), ([2, 4, 6, 8], 24), ([9, 1], 9), ([4, 4, 4], 12)]
_SOLUTIONS = [(n, t, s) for n, t in _PROBLEMS for s in cd.solve(n, t, commuted=True)]
_NOISE = st.sampled_from(
    list("0123456789+-*/=, >:")
    + ["０", "９", "٣", "²", "¹", "−", "×", "÷", "\x00", "\x1f", "\x7f", "\u200b", "\n", "\t", "<eos>", "</s>", "é", "𝟘"]
    + ["9" * 12, "9" * 13, "1" * 50, "0", "00", "e9", "1_000", "-1", "+"]
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[list[int], int, str]:
    numbers, target, text = draw(st.sampled_from(_SOLUTIONS))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "swap_digit"]))
        i = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:i] + draw(_NOISE) + text[i:]
        elif kind == "delete" and text:
            text = text[:i] + text[i + 1 :]
        elif kind == "replace" and text:
            text = text[:i] + draw(_NOISE) + text[i + 1 :]
        elif kind == "swap_digit" and text:
            text = text[:i] + str(draw(st.integers(0, 9))) + text[i + 1 :]
    return numbers, target, text


_FUZZ = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_FUZZ_SMALL = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(numbers: list[int], target: int, text: str) -> None:
    got = cd.verify(numbers, target, text)  # must not raise
    cd.diagnose(numbers, target, text)
    cd.arithmetic_ok(text)
    cd.parse_steps(text)
    assert got == ref_verify(numbers, target, text), (numbers, target, text)


@_FUZZ
@given(mutated())
def test_fuzz_mutated_solutions(case: tuple[list[int], int, str]) -> None:
    _check(*case)


@_FUZZ_SMALL
@given(st.sampled_from(_PROBLEMS), st.text(max_size=60))
def test_fuzz_random_text(problem: tuple[list[int], int], text: str) -> None:
    _check(problem[0], problem[1], text)


@_FUZZ_SMALL
@given(st.sampled_from(_PROBLEMS), st.text(alphabet="0123456789+-*/=,", max_size=40))
def test_fuzz_task_alphabet(problem: tuple[list[int], int], text: str) -> None:
    _check(problem[0], problem[1], text)


def test_megabyte_garbage_finishes() -> None:
    rng = random.Random(0)
    mb = 1_000_000
    inputs = [
        "".join(rng.choice("0123456789+-*/=,") for _ in range(mb // 16)) * 16,
        "9" * mb,
        "1+1=2," * (mb // 6),
        "=" * mb,
        "８" * mb,
        "8*5=40," + "," * mb,
        "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(mb // 16)) * 16,
    ]
    for text in inputs:
        assert cd.verify(N, T, text) is False
        cd.arithmetic_ok(text)
        cd.diagnose(N, T, text)


# ------------------------------------------------------------------------------------------- grammar


def test_tokenizer_roundtrip_and_specials() -> None:
    tok = cd.build_tokenizer()
    text = "8 5 7>33:8*5=40,40-7=33"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids == cd.encode(text) and len(ids) == len(text)
    assert tok.decode(ids) == text
    assert tok.padding_side == "left"
    assert len({tok.pad_token_id, tok.eos_token_id, tok.bos_token_id, tok.unk_token_id}) == 4
    batch = tok(["8 5 7>33:", "8 5>13:"], padding=True, return_tensors="pt")
    assert batch["attention_mask"][1, 0] == 0 and batch["input_ids"][1, 0] == tok.pad_token_id
    assert tok("x")["input_ids"] == [tok.unk_token_id]
    assert tok.decode(tok("1+1=2<eos>")["input_ids"], skip_special_tokens=True) == "1+1=2"
    with pytest.raises(ValueError, match="not a Countdown character"):
        cd.encode("8x")


def test_extra_vocab_keeps_the_character_ids() -> None:
    big = cd.build_tokenizer(extra_vocab=5)
    assert len(big) == len(cd.VOCAB) + 5
    assert big("8*5=40", add_special_tokens=False)["input_ids"] == cd.encode("8*5=40")


def test_token_roles_and_role_priority() -> None:
    assert cd.token_roles("8*5=40") == ["operand1", "operator", "operand2", "equals", "result", "result", "eos"]
    assert cd.token_roles("12+3=15,15*2=30").count("operator") == 2
    assert cd.token_roles("8**5") == ["operand1", "operator", "other", "operand2", "eos"]  # off-format characters
    # operators 0, operands 1, everything else (=, results, commas, EOS) 2
    assert cd.role_priority(list("8*5=40") + ["<eos>"]) == [1, 0, 1, 2, 2, 2, 2]
    assert cd.role_priority(["<bos>", "3", "+", "4"]) == [2, 1, 0, 1]  # a special token is "other", one per token


# ------------------------------------------------------------------------------- parse_prompt, generation edges

_FORWARD_PROMPT_RE = re.compile(r"([0-9]{1,12}(?: [0-9]{1,12})*)>([0-9]{1,12}):")


def _parse_prompt_forward(text: str) -> tuple[list[int], int] | None:
    """The former (quadratic) definition of parse_prompt: the last forward regex match."""
    matches = list(_FORWARD_PROMPT_RE.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    return [int(x) for x in m.group(1).split(" ")], int(m.group(2))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 >:x")), max_size=60)
       | st.lists(st.sampled_from(["7", "12", "1234567890123", " ", "  ", ">", ">5:", ":", "x"]), max_size=20).map("".join))
def test_parse_prompt_is_the_last_forward_match(text: str) -> None:
    try:
        got: tuple[list[int], int] | None = cd.parse_prompt(text)
    except ValueError:
        got = None
    assert got == _parse_prompt_forward(text)


def test_parse_prompt_is_linear_on_long_runs_of_digits_and_spaces() -> None:
    """A long run of digits and spaces made the forward regex restart at every digit (16 KB: 0.7 s; 1 MB: about
    45 min). Reading backwards from the last ">T:" finishes these at once; a quadratic version would hang here."""
    rng = random.Random(0)
    for size in (16_000, 1_000_000):
        junk = "".join(rng.choice("0123456789 ") for _ in range(size))
        with pytest.raises(ValueError, match="not a Countdown prompt"):
            cd.parse_prompt(junk)
        numbers, target = cd.parse_prompt(junk.rstrip() + "1>42:")
        assert target == 42 and numbers[-1] % 10 == 1
    assert cd.parse_prompt("9 " * 500_000 + "8 5 7>33:") == ([9] * 500_000 + [8, 5, 7], 33)
    assert cd.parse_prompt("8 5 7>33:" + ">1:" * 300_000) == ([8, 5, 7], 33)


def test_generation_rejects_bad_sizes_and_ranges() -> None:
    for kw, msg in [(dict(n=-5), "n must be >= 0"), (dict(n=2.5), "n must be a whole number"),
                    (dict(n_numbers=1), "n_numbers must be >= 2"), (dict(number_range=(9, 1)), "1 <= lo <= hi"),
                    (dict(number_range=(0, 9)), "1 <= lo <= hi"), (dict(target_range=(10,)), r"\(lo, hi\)"),
                    (dict(target_range=(1.5, 9)), "whole number")]:
        args = {"n": 3, "seed": 0, **kw}
        with pytest.raises(ValueError, match=msg):
            cd.generate_problems(**args)  # type: ignore[arg-type]
    assert cd.generate_problems(0, seed=0) == []
