"""The Countdown text format: prompts, the character set and its tokenizer, and each character's role.

A problem ``numbers 8 5 7, target 33`` is the prompt ``"8 5 7>33:"``; a completion is a list of steps
``A op B=R`` joined by ``,`` with no spaces, e.g. ``8*5=40,40-7=33``. Every model of the series that plays
Countdown (the task models, the stand-in of the tests) reads and writes it one character at a time with the
tokenizer :func:`build_tokenizer`: one token per character of :data:`CHARS`, plus ``<pad>``, ``<bos>``,
``<eos>``, ``<unk>``.

:func:`token_roles` names the role of each completion character (operand, operator, ``=``, result digit,
separator, EOS): the "syntax" against which notebooks 02 and 04 ask whether entropy adds anything.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

__all__ = [
    "CHARS",
    "MAX_DIGITS",
    "OPS",
    "ROLES",
    "SPECIAL_TOKENS",
    "VOCAB",
    "build_tokenizer",
    "encode",
    "format_prompt",
    "parse_prompt",
    "role_priority",
    "token_roles",
]

OPS = "+-*/"
MAX_DIGITS = 12
"""Longest digit run a well-formed number may have (longer ones are rejected, which also bounds the work)."""
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
#: The characters of prompts and completions, in token-id order after the four special tokens.
CHARS = "0123456789+-*/=,>: "
VOCAB: dict[str, int] = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + tuple(CHARS))}

# A prompt ends in ">T:"; the numbers before it are found by scanning backwards from the ">" (see parse_prompt).
_TARGET_RE = re.compile(r">([0-9]{1,%d}):" % MAX_DIGITS)
_NUMBERS_REVERSED_RE = re.compile(r"[0-9]{1,%d}(?: [0-9]{1,%d})*" % (MAX_DIGITS, MAX_DIGITS))


def format_prompt(numbers: Sequence[int], target: int) -> str:
    """The prompt for a problem: ``format_prompt([8, 5, 7], 33) == "8 5 7>33:"``."""
    return " ".join(str(int(x)) for x in numbers) + f">{int(target)}:"


def parse_prompt(prompt: str) -> tuple[list[int], int]:
    """Numbers and target from a prompt made by ``format_prompt`` (the last ``... >T:`` in the text).

    Raises ``ValueError`` when the text holds no such prompt (a caller's bug, not a model's). Linear time in the
    length of the text: the numbers are read backwards from the last ``>T:`` preceded by a digit (a forward regex
    search would restart at every digit of a long run of digits and spaces: quadratic).
    """
    if isinstance(prompt, str):
        for m in reversed(list(_TARGET_RE.finditer(prompt))):
            end = m.start()
            if end == 0 or not "0" <= prompt[end - 1] <= "9":
                continue
            # the longest run "N N ... N" (each N 1-MAX_DIGITS digits, single spaces) that ends right before ">"
            head = prompt[:end]
            cut = len(head.rstrip("0123456789 "))
            run = head[cut:]
            n = _NUMBERS_REVERSED_RE.match(run[::-1])
            if n is None:  # pragma: no cover - the run ends in a digit, so at least one number matches
                continue
            numbers = run[len(run) - n.end():]
            return [int(x) for x in numbers.split(" ")], int(m.group(1))
    raise ValueError(f"not a Countdown prompt: {str(prompt)[:80]!r}")


def build_tokenizer(extra_vocab: int = 0, model_max_length: int = 64) -> Any:
    """The character-level tokenizer (``PreTrainedTokenizerFast``, left padding, pad/bos/eos/unk).

    ``extra_vocab`` appends that many unused tokens ``<x0>``, ``<x1>``, ... (a stand-in for a large LM head in
    benchmarks); the ids of the real characters do not change.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = dict(VOCAB)
    for i in range(extra_vocab):
        vocab[f"<x{i}>"] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        model_max_length=model_max_length,
    )


def encode(text: str) -> list[int]:
    """Token ids of plain task text (the ids :func:`build_tokenizer` gives, without the tokenizer's overhead)."""
    try:
        return [VOCAB[c] for c in text]
    except KeyError as e:
        raise ValueError(f"{e.args[0]!r} is not a Countdown character ({CHARS!r})") from None


#: The roles :func:`token_roles` gives.
ROLES = ("operand1", "operator", "operand2", "equals", "result", "separator", "eos", "other")


def token_roles(completion: str) -> list[str]:
    """The role of each character of a completion, plus ``"eos"`` for the end: ``operand1``, ``operator``,
    ``operand2``, ``equals``, ``result``, ``separator`` (the comma), ``eos``, or ``other`` (anything off-format).

    ``token_roles("8*5=40") == ["operand1", "operator", "operand2", "equals", "result", "result", "eos"]``.
    """
    roles: list[str] = []
    state = "operand1"
    for ch in completion:
        if ch.isascii() and ch.isdigit():
            roles.append(state if state in ("operand1", "operand2", "result") else "other")
        elif ch in OPS and state == "operand1":
            roles.append("operator")
            state = "operand2"
        elif ch == "=" and state == "operand2":
            roles.append("equals")
            state = "result"
        elif ch == "," and state == "result":
            roles.append("separator")
            state = "operand1"
        else:
            roles.append("other")
    roles.append("eos")
    return roles


#: Rank of each role for the syntax-only control mask (lower is taken first): the choices a planner makes.
ROLE_PRIORITY = {"operator": 0, "operand1": 1, "operand2": 1}


def role_priority(tokens: Sequence[str], eos_token: str = EOS) -> list[int]:
    """Per completion token (as the tokenizer's token strings, EOS included if sampled), its rank for
    :func:`utils.rlvr.losses.role_mask`: 0 operator, 1 operand, 2 anything else (``=``, result digits, commas,
    EOS, off-format characters)."""
    text = "".join(t if len(t) == 1 else "\x00" for t in tokens if t != eos_token)
    roles = token_roles(text)[:-1]
    out, j = [], 0
    for t in tokens:
        if t == eos_token:
            out.append(2)
        else:
            out.append(ROLE_PRIORITY.get(roles[j], 2))
            j += 1
    return out
