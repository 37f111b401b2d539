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
"""

from __future__ import annotations

import json
import os
import random
import re

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from utils.config import BUILD_DIR, DATA_DIR

PROBLEMS_PATH = DATA_DIR / "math_problems.jsonl"
TRACES_PATH = DATA_DIR / "traces_smollm2.jsonl"
#: The contrast corpus: the same model and problems sampled at temperature 0.7 (see data/README.md).
TRACES_T07_PATH = DATA_DIR / "traces_smollm2_t07.jsonl"
#: SmolLM2's per-token scores of the first 200 traces of each corpus (``python -m utils.traces scores``, data/README.md),
#: read back by :func:`utils.forking.score_with_store` so that notebook 02 re-scores only a slice live.
SCORES_PATH = DATA_DIR / "scores_smollm2.npz"
SCORES_T07_PATH = DATA_DIR / "scores_smollm2_t07.npz"
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
    return f"{n1} has {a} {item}. {n1} gets {b} more and gives {c} to {n2}. How many {item} does {n1} have now?", a + b - c


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
    return f"{n1} had {a} dollars, spent {b} dollars on lunch and {c} dollars on a book. How many dollars are left?", a - b - c


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
#: ``spend`` have far more than any request needs). ``tests/test_reliability.py`` checks the small ones by enumeration.
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
        raise ValueError(f"at most {most} distinct problems exist ({len(TEMPLATES)} templates in rotation; {small!r} has "
                         f"only {TEMPLATE_SIZES[small]} questions); ask for fewer")
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


# ---------------------------------------------------------------------------------------------
# Showing a corpus of traces (notebook 02)
# ---------------------------------------------------------------------------------------------

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


def per_problem(rows: Sequence[dict[str, Any]], entropies: Sequence[Any], fn: Callable[[list[dict[str, Any]], Any], float]
                ) -> dict[str, float]:
    """``{problem_id: fn(that problem's rows, their entropies concatenated)}``: a statistic per problem, with every
    trace of the problem pooled (the unit of notebook 02's paired comparisons of two corpora)."""
    import numpy as np

    if len(rows) != len(entropies):
        raise ValueError(f"{len(rows)} rows but {len(entropies)} entropy arrays: pass one array per row")
    groups: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for r, h in zip(rows, entropies):
        groups.setdefault(r["problem_id"], []).append((r, h))
    return {pid: fn([r for r, _ in g], np.concatenate([np.asarray(h, float) for _, h in g])) for pid, g in groups.items()}


def generate_traces(
    model: Any,
    tokenizer: Any,
    problems: Sequence[Problem],
    samples: int = 1,
    seed: int = 0,
    max_new_tokens: int = 160,
    batch_size: int = 16,
    temperature: float = 1.0,
    on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Sample ``samples`` completions per problem (full distribution at ``temperature``: no top-k/top-p).

    Batched with left padding; batch ``b`` is seeded with ``seed * 100_003 + b`` so a run repeats
    bit-for-bit on the same machine with the same ``batch_size`` (on a GPU the samples differ from the CPU's).
    Each row records the sampling ``temperature`` (score it at that temperature to get the entropy of the
    distribution each token was drawn from). ``on_batch`` gets each batch's rows (e.g. to append them to a file as
    they come). ``temperature`` must be a finite number > 0; ``samples``, ``batch_size`` and ``max_new_tokens``
    whole numbers >= 1 (``ValueError`` otherwise).
    """
    import torch

    from utils import checks
    from utils.config import seed_everything

    samples = checks.positive_int(samples, "samples")
    batch_size = checks.positive_int(batch_size, "batch_size")
    max_new_tokens = checks.positive_int(max_new_tokens, "max_new_tokens")
    temperature = checks.temperature(temperature)
    jobs = [(p, s) for p in problems for s in range(samples)]
    device = next(model.parameters()).device  # a GPU when load_lm put the model there
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    rows: list[dict[str, Any]] = []
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    try:
        for b, start in enumerate(range(0, len(jobs), batch_size)):
            batch = jobs[start : start + batch_size]
            prompts = [chat_prompt(tokenizer, p.question) for p, _ in batch]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            seed_everything(seed * 100_003 + b)
            with torch.no_grad():
                out = model.generate(
                    **enc,
                    do_sample=True,
                    temperature=temperature,
                    top_k=0,
                    top_p=1.0,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=pad,
                    eos_token_id=eos,
                )
            new = out[:, enc["input_ids"].shape[1] :].tolist()
            batch_rows = []
            for (p, s), prompt, ids in zip(batch, prompts, new):
                finished = eos in ids
                ids = ids[: ids.index(eos)] if finished else ids
                text = tokenizer.decode(ids, skip_special_tokens=True)
                got = extract_answer(text)
                batch_rows.append(
                    {
                        "id": f"{p.id}-s{s}",
                        "problem_id": p.id,
                        "template": p.template,
                        "question": p.question,
                        "prompt": prompt,
                        "completion": text,
                        "completion_ids": ids,
                        "finished": finished,
                        "answer": p.answer,
                        "extracted": got,
                        "correct": got == p.answer,
                        "temperature": temperature,
                    }
                )
            rows.extend(batch_rows)
            if on_batch is not None:
                on_batch(batch_rows)
    finally:
        tokenizer.padding_side = old_side
    return rows


PROG = "python -m utils.traces"


def progress_path(out: str | Path) -> Path:
    """Where ``generate`` shows its progress for the output ``out``: in ``build/progress/``, never next to ``out`` (a
    file of that name there, committed or not, is not ours), named by ``out``'s file name and a hash of its full
    resolved path, so that two runs whose outputs share a file name (``a/t.jsonl``, ``b/t.jsonl``) do not share it,
    and one output reached through a symlinked folder has one."""
    import hashlib

    key = hashlib.sha256(os.path.realpath(out).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return BUILD_DIR / "progress" / f"{Path(out).name}.{key}.partial"


def parser() -> Any:
    from utils.infra.cli import Extend, Parser, add_debug, path_arg, seed_arg, temperature_arg, whole_number

    ap = Parser(prog=PROG, description="Word problems and SmolLM2 traces (see data/README.md).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("problems", help="write the templated problems")
    pr.add_argument("--n", type=whole_number(1), default=200)
    pr.add_argument("--seed", type=seed_arg, default=0)
    pr.add_argument("--out", type=path_arg, default=BUILD_DIR / "math_problems.jsonl")
    pr.add_argument("--force", action="store_true", help="allow replacing the committed data/math_problems.jsonl")
    add_debug(pr)
    ge = sub.add_parser("generate", help="sample traces from an LM (loads utils.models.load_lm(--model))")
    ge.add_argument("--n", type=whole_number(1), default=400, help="number of traces (problems x samples)")
    ge.add_argument("--seed", type=seed_arg, default=0)
    ge.add_argument("--samples", type=whole_number(1), default=2, help="completions per problem")
    ge.add_argument("--model", default="smollm2-135m-instruct")
    ge.add_argument("--max-new-tokens", type=whole_number(1), default=128)
    ge.add_argument("--batch-size", type=whole_number(1), default=50)
    ge.add_argument("--temperature", type=temperature_arg, default=1.0)
    ge.add_argument("--threads", type=whole_number(1), default=1,
                    help="torch threads (1 is fastest on a shared 2-core machine)")
    ge.add_argument("--problems", type=path_arg, default=PROBLEMS_PATH)
    ge.add_argument("--out", type=path_arg, default=BUILD_DIR / "traces_smollm2.jsonl")
    ge.add_argument("--force", action="store_true", help="allow replacing the committed data/traces_smollm2.jsonl")
    add_debug(ge)
    sc = sub.add_parser("scores", help="score a traces file with the LM and store the per-token scores (.npz)")
    sc.add_argument("--traces", type=path_arg, default=TRACES_PATH)
    sc.add_argument("--n", type=whole_number(1), default=None, help="the first N traces (default: all)")
    sc.add_argument("--temperatures", type=temperature_arg, nargs="+", action=Extend, default=None,
                    help="score at these temperatures (default: the traces' sampling temperature, and 1)")
    sc.add_argument("--model", default="smollm2-135m-instruct")
    sc.add_argument("--batch-size", type=whole_number(1), default=8)
    sc.add_argument("--threads", type=whole_number(1), default=2)
    sc.add_argument("--out", type=path_arg, default=BUILD_DIR / "scores_smollm2.npz")
    sc.add_argument("--force", action="store_true", help="allow replacing a committed scores file in data/")
    add_debug(sc)
    return ap


def _problems_cli(args: Any) -> int:
    from utils.infra.cli import UsageError
    from utils.results import guard_overwrite, repo_relative, write_jsonl

    most = max_problems()
    if args.n > most:
        raise UsageError(f"--n {args.n}: at most {most} distinct problems exist; ask for fewer")
    guard_overwrite(args.out, args.force, kind="file")
    probs = make_problems(args.n, args.seed)
    write_jsonl([asdict(p) for p in probs], args.out)
    print(f"wrote {len(probs)} problems to {repo_relative(args.out)}")
    return 0


def _generate_cli(args: Any) -> int:
    from utils.infra.cli import UsageError
    from utils.models import KNOWN_MODELS
    from utils.results import guard_overwrite, repo_relative, write_jsonl

    lms = [k for k in KNOWN_MODELS if k != "countdown-task-model"]
    if args.model.strip().lower() not in lms:
        raise UsageError(f"--model must be a language model for word problems: one of {', '.join(lms)}; got {args.model!r}")
    guard_overwrite(args.out, args.force, kind="file")
    n_problems = -(-args.n // args.samples)
    probs = load_problems(args.problems)
    if len(probs) < n_problems:
        raise UsageError(f"{repo_relative(args.problems)} has {len(probs)} problems but {n_problems} are needed: "
                         "rerun `problems` with a larger --n")
    import torch

    from utils.models import load_lm

    torch.set_num_threads(args.threads)
    model, tok, info = load_lm(args.model)
    partial = progress_path(args.out)
    t0 = time.perf_counter()
    done = [0]

    def append(batch_rows: list[dict[str, Any]]) -> None:
        with partial.open("a", encoding="utf-8") as f:
            for r in batch_rows:
                f.write(json.dumps(r) + "\n")
        done[0] += len(batch_rows)
        print(f"{done[0]} traces, {time.perf_counter() - t0:.0f} s", flush=True)

    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("", encoding="utf-8")
    try:
        rows = generate_traces(
            model, tok, probs[:n_problems], samples=args.samples, seed=args.seed, temperature=args.temperature,
            max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, on_batch=append,
        )
        rows = rows[: args.n]
        write_jsonl(rows, args.out)
    finally:
        partial.unlink(missing_ok=True)  # progress only: the target is written (atomically) at the end, or not at all
    acc = sum(r["correct"] for r in rows) / len(rows)
    print(f"wrote {len(rows)} traces ({info.loaded}) to {repo_relative(args.out)}; accuracy {acc:.3f}; "
          f"{time.perf_counter() - t0:.0f} s")
    return 0


def _scores_cli(args: Any) -> int:
    from utils.infra.cli import UsageError
    from utils.results import guard_overwrite, repo_relative

    if args.out.suffix != ".npz":
        raise UsageError(f"--out must end in .npz, got {repo_relative(args.out)}")
    guard_overwrite(args.out, args.force, kind="file")
    rows = load_traces(args.traces, n=args.n)
    if not rows:
        raise UsageError(f"{repo_relative(args.traces)} has no traces")
    t_sampled = float(rows[0].get("temperature", 1.0))
    temps = sorted(set(args.temperatures or [t_sampled, 1.0]))
    import torch

    from utils import forking as fk
    from utils.models import load_lm

    torch.set_num_threads(args.threads)
    model, tok, info = load_lm(args.model, verbose=False)
    t0 = time.perf_counter()
    prompts, comps = [r["prompt"] for r in rows], [r["completion_ids"] for r in rows]
    scored = fk.score_completions_at(model, tok, prompts, comps, temps, batch_size=args.batch_size)
    command = " ".join(["python -m utils.traces scores", "--traces", repo_relative(args.traces)]
                       + (["--n", str(args.n)] if args.n else []) + ["--temperatures", *map(str, temps),
                       "--model", args.model, "--out", repo_relative(args.out), "--force"])
    fk.save_scores(args.out, prompts, comps, scored, {
        "model": info.loaded, "source": info.source, "traces": repo_relative(args.traces), "n": len(rows),
        "temperatures": temps, "batch_size": args.batch_size, "threads": args.threads, "command": command,
        "torch": torch.__version__, "seconds": round(time.perf_counter() - t0, 1)})
    print(f"scored {len(rows)} traces at T = {temps} in {time.perf_counter() - t0:.0f} s; wrote {repo_relative(args.out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``problems`` writes the problem set; ``generate`` writes traces (see the module docstring); ``scores``
    scores a traces file with the LM and stores its per-token entropies and log-probabilities
    (:func:`utils.forking.save_scores`, read back by :func:`utils.forking.score_with_store`).

    Both write to ``build/`` unless ``--out`` names a file; an existing file of the repository outside ``build/`` is
    replaced only with ``--force``, and only once the new file is complete (``generate`` shows its progress in
    ``build/progress/<name of out>.<hash of its path>.partial``, removed at the end). Every argument is checked before
    the model loads: one line, exit code 2 (``--debug``: the traceback)."""
    from utils.infra.cli import run

    args = parser().parse_args(argv)
    body = {"problems": lambda: _problems_cli(args), "generate": lambda: _generate_cli(args),
            "scores": lambda: _scores_cli(args)}[args.cmd]
    return run(body, f"{PROG} {args.cmd}", args.debug)
