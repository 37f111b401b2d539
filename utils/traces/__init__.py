"""Reasoning traces of a real LM on short math word problems: problems, generation, loading.

The problems are templated one- or two-step arithmetic word problems with known integer answers,
generated from a seed (``make_problems``). A chat LM (SmolLM2-135M-Instruct offline) answers each one by
sampling at **temperature 1 from the full distribution** (no top-k / top-p: the entropy the notebooks
measure is then the entropy of the distribution each token was sampled from, as in Wang et al.).

Files (shipped in ``data/``; regenerate with the CLI, which writes to ``build/`` unless ``--out`` says otherwise and
replaces a shipped file only with ``--force``)::

    python -m utils.traces problems --n 200 --seed 0 --out data/math_problems.jsonl --force
    python -m utils.traces generate --n 400 --seed 0 --samples 2 --max-new-tokens 128 --batch-size 50 --threads 1 \
        --out data/traces_smollm2.jsonl --force
    python -m utils.traces generate --n 200 --seed 0 --samples 2 --max-new-tokens 128 --batch-size 50 --threads 1 \
        --temperature 0.7 --out data/traces_smollm2_t07.jsonl --force      # the contrast corpus (notebook 02)

A trace row holds: ``id``, ``problem_id``, ``question``, ``prompt`` (the chat-formatted text fed to the
model), ``completion`` (text), ``completion_ids`` (the sampled token ids, EOS excluded: re-scoring uses
them, so the entropies belong to exactly the tokens that were sampled), ``finished`` (ended with EOS),
``answer``, ``extracted`` (the answer read from the completion, or None) and ``correct``.

Modules: :mod:`~utils.traces.problems` (the problems, reading answers), :mod:`~utils.traces.corpus` (the shipped
files, showing a corpus), :mod:`~utils.traces.generate` (sampling traces), :mod:`~utils.traces.score_store` (stored
per-token scores) and :mod:`~utils.traces.cli` (the command line).
"""

from __future__ import annotations

from typing import Any

from utils.traces.cli import PROG, main, parser, progress_path
from utils.traces.corpus import (
    HOW_READ,
    PROBLEMS_PATH,
    SCORES_PATH,
    SCORES_T07_PATH,
    TRACES_PATH,
    TRACES_T07_PATH,
    corpus_line,
    format_trace,
    load_problems,
    load_traces,
    per_problem,
    pick_traces,
    read_traces_file,
    trace_heading,
)
from utils.traces.generate import generate_traces
from utils.traces.problems import (
    INSTRUCTION,
    ITEMS,
    NAMES,
    TEMPLATE_SIZES,
    TEMPLATES,
    Problem,
    answer_source,
    chat_prompt,
    extract_answer,
    is_correct,
    make_problems,
    max_problems,
)

__all__ = [
    "HOW_READ", "INSTRUCTION", "ITEMS", "NAMES", "PROBLEMS_PATH", "PROG", "Problem", "SCORES_PATH", "SCORES_T07_PATH",
    "TEMPLATES", "TEMPLATE_SIZES", "TRACES_PATH", "TRACES_T07_PATH", "answer_source", "chat_prompt", "corpus_line",
    "extract_answer", "format_trace", "generate_traces", "is_correct", "load_problems", "load_traces", "main",
    "make_problems", "max_problems", "parser", "per_problem", "pick_traces", "progress_path", "read_traces_file",
    "trace_heading",
]

#: Names of :mod:`utils.traces.score_store`, importable from here too (``tr.score_with_store``): loaded on first use,
#: so that importing :mod:`utils.traces` does not import torch.
_SCORE_STORE = ("SCORES_SCHEMA", "load_scores", "save_scores", "score_with_store", "store_line", "trace_key")


def __getattr__(name: str) -> Any:
    if name in _SCORE_STORE:
        from utils.traces import score_store

        return getattr(score_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
