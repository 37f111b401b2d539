"""The shipped files of :mod:`utils.traces` (problems, traces, stored scores), reading them back, and showing a
corpus of traces (notebook 02)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from utils.config import DATA_DIR
from utils.traces.problems import Problem, answer_source

PROBLEMS_PATH = DATA_DIR / "math_problems.jsonl"
TRACES_PATH = DATA_DIR / "traces_smollm2.jsonl"
#: The contrast corpus: the same model and problems sampled at temperature 0.7 (see data/README.md).
TRACES_T07_PATH = DATA_DIR / "traces_smollm2_t07.jsonl"
#: SmolLM2's per-token scores of the first 200 traces of each corpus (``python -m utils.traces scores``,
#: data/README.md), read back by :func:`utils.traces.score_store.score_with_store` so that notebook 02 re-scores
#: only a slice live.
SCORES_PATH = DATA_DIR / "scores_smollm2.npz"
SCORES_T07_PATH = DATA_DIR / "scores_smollm2_t07.npz"


def read_traces_file(path: str | Path) -> list[dict[str, Any]]:
    """A JSON-lines file of problems or traces (a truncated line is an error naming the file and the fix)."""
    from utils.results import read_jsonl

    return read_jsonl(path, regenerate="python -m utils.traces (see data/README.md)")


def load_problems(path: str | Path | None = None) -> list[Problem]:
    """The shipped problems (``data/math_problems.jsonl``)."""
    return [Problem(**r) for r in read_traces_file(path or PROBLEMS_PATH)]


def load_traces(path: str | Path | None = None, n: int | None = None) -> list[dict[str, Any]]:
    """The shipped traces (``data/traces_smollm2.jsonl``), the first ``n`` if given."""
    rows = read_traces_file(path or TRACES_PATH)
    return rows[:n] if n is not None else rows


#: How :func:`extract_answer` read a trace's answer (:func:`answer_source`), in words.
HOW_READ = {"stated": "the number after 'the answer is'", "last number": "no stated answer: the last number it wrote"}


def corpus_line(rows: Sequence[dict[str, Any]], name: str) -> str:
    """One sentence about a corpus of traces: how many traces of how many problems, the share with the right answer,
    the share that ended on their own (EOS) and the tokens per trace (median, max). ``rows``: :func:`load_traces`
    rows (``problem_id``, ``correct``, ``finished``, ``completion_ids``); ``ValueError`` for no rows."""
    import statistics

    if not rows:
        raise ValueError(f"{name}: no traces to describe")
    n_tok = [len(r["completion_ids"]) for r in rows]
    right = sum(bool(r["correct"]) for r in rows) / len(rows)
    done = sum(bool(r["finished"]) for r in rows) / len(rows)
    return (f"**{name}**: {len(rows)} traces of {len({r['problem_id'] for r in rows})} problems; {right:.1%} give the "
            f"right answer, {done:.0%} ended on their own (EOS); tokens per trace: median "
            f"{statistics.median(n_tok):.0f}, max {max(n_tok)}.")


def format_trace(row: dict[str, Any]) -> str:
    """A trace as plain text: the question, the known answer, the answer read from the text, whether it ended with
    EOS or was cut at the token limit, then the completion."""
    end = "ended with EOS" if row["finished"] else "cut at the token limit"
    return (f"Q: {row['question']}\n   (answer {row['answer']}; read from the text: {row['extracted']}; {end})\n"
            f"A: {row['completion']}")


def pick_traces(rows: Sequence[dict[str, Any]]) -> list[tuple[str, int]]:
    """``[("right", i), ("wrong", j)]``: the indices of a right and a wrong trace among those that ended with EOS
    (rows without ``finished`` count as ended). The right one is the first that states its answer ("the answer is
    N") if any does, else the first right one; a label is left out when no trace fits it. Works for SmolLM2 traces
    and for Countdown rows (``correct``, no ``question``)."""
    done = [i for i, r in enumerate(rows) if r.get("finished", True)]
    right = [i for i in done if rows[i]["correct"]]
    stated = [i for i in right if "question" not in rows[i] or answer_source(rows[i]["completion"]) == "stated"]
    ok = (stated or right or [None])[0]
    bad = next((i for i in done if not rows[i]["correct"]), None)
    return [(label, i) for label, i in (("right", ok), ("wrong", bad)) if i is not None]


def trace_heading(row: dict[str, Any]) -> str:
    """One Markdown line naming a trace: the question, the known answer and how the answer was read from the text
    (":func:`answer_source`", and "right by accident" when a right answer was not stated); for a Countdown row
    (no ``question``) its prompt and sampling seed."""
    if "question" not in row:
        return f"problem `{row['prompt']}` (sampling seed {row['seed']})"
    src = answer_source(row["completion"])
    how = HOW_READ.get(src or "", "no number in the text")
    luck = ", right by accident" if row["correct"] and src != "stated" else ""
    return f"Q: {row['question']} — answer {row['answer']}; read from the text: {row['extracted']} ({how}{luck})"


def per_problem(rows: Sequence[dict[str, Any]], entropies: Sequence[Any],
                fn: Callable[[list[dict[str, Any]], Any], float]) -> dict[str, float]:
    """``{problem_id: fn(that problem's rows, their entropies concatenated)}``: a statistic per problem, with every
    trace of the problem pooled (the unit of notebook 02's paired comparisons of two corpora)."""
    import numpy as np

    if len(rows) != len(entropies):
        raise ValueError(f"{len(rows)} rows but {len(entropies)} entropy arrays: pass one array per row")
    groups: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for r, h in zip(rows, entropies):
        groups.setdefault(r["problem_id"], []).append((r, h))
    return {pid: fn([r for r, _ in g], np.concatenate([np.asarray(h, float) for _, h in g]))
            for pid, g in groups.items()}
