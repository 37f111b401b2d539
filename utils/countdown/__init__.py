"""Countdown: the verifiable toy task of the series.

A problem is a few positive integers and a target, e.g. numbers ``8 5 7`` and target ``33``. The prompt is
``format_prompt([8, 5, 7], 33) == "8 5 7>33:"`` and a completion is a list of steps ``A op B=R`` joined by ``,``
with no spaces, e.g. ``8*5=40,40-7=33``. Operators are ``+ - * /``.

The package has three parts, all re-exported here (``from utils import countdown as cd; cd.verify(...)``):

* :mod:`~utils.countdown.grammar` -- the text format: prompts, the character set and its tokenizer, each
  character's role (operand, operator, result digit, ...);
* :mod:`~utils.countdown.verifier` -- ``verify`` / ``diagnose`` (linear time, never evaluates model text, never
  raises on any string) and the TRL reward function;
* :mod:`~utils.countdown.problems` -- the solver, seeded problem generation and the shipped held-out sets.

Command line: ``python -m utils.countdown make-eval --n 500 --seed 2506`` (see ``data/README.md``).
"""

from utils.countdown.grammar import (
    CHARS,
    MAX_DIGITS,
    OPS,
    ROLES,
    SPECIAL_TOKENS,
    VOCAB,
    build_tokenizer,
    encode,
    format_prompt,
    parse_prompt,
    role_priority,
    token_roles,
)
from utils.countdown.problems import (
    EVAL_PATH,
    EVAL_SEED,
    MAX_NUMBERS,
    all_traces,
    default_eval_path,
    eval_keys,
    generate_problems,
    load_eval_problems,
    make_problems,
    problem_key,
    reachable_targets,
    sample_problem,
    solve,
    train_dataset,
    write_problems,
)
from utils.countdown.verifier import (
    ARITHMETIC,
    EMPTY,
    EOS_MARKERS,
    MALFORMED,
    NON_POSITIVE,
    OK,
    REASONS,
    UNAVAILABLE,
    UNUSED,
    WRONG_TARGET,
    Diagnosis,
    Step,
    apply_op,
    arithmetic_ok,
    check_problem,
    clean_completion,
    countdown_reward,
    diagnose,
    parse_steps,
    step_arithmetic,
    verify,
)

__all__ = [
    "ARITHMETIC", "CHARS", "EMPTY", "EOS_MARKERS", "EVAL_PATH", "EVAL_SEED", "MALFORMED", "MAX_DIGITS",
    "MAX_NUMBERS", "NON_POSITIVE", "OK", "OPS", "REASONS", "ROLES", "SPECIAL_TOKENS", "UNAVAILABLE", "UNUSED",
    "VOCAB", "WRONG_TARGET", "Diagnosis", "Step", "all_traces", "apply_op", "arithmetic_ok", "build_tokenizer",
    "check_problem", "clean_completion", "countdown_reward", "default_eval_path", "diagnose", "encode", "eval_keys",
    "format_prompt", "generate_problems", "load_eval_problems", "make_problems", "parse_prompt", "parse_steps",
    "problem_key", "reachable_targets", "role_priority", "sample_problem", "solve", "step_arithmetic",
    "token_roles", "train_dataset", "verify", "write_problems",
]
