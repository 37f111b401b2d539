"""The command line of :mod:`utils.traces`: ``problems``, ``generate`` and ``scores``."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from utils.config import BUILD_DIR
from utils.traces.corpus import PROBLEMS_PATH, TRACES_PATH, load_problems, load_traces
from utils.traces.generate import generate_traces
from utils.traces.problems import make_problems, max_problems


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
        raise UsageError(f"--model must be a language model for word problems: one of {', '.join(lms)}; "
                         f"got {args.model!r}")
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
    from utils.traces.score_store import save_scores
    from utils.models import load_lm

    torch.set_num_threads(args.threads)
    model, tok, info = load_lm(args.model, verbose=False)
    t0 = time.perf_counter()
    prompts, comps = [r["prompt"] for r in rows], [r["completion_ids"] for r in rows]
    scored = fk.score_completions_at(model, tok, prompts, comps, temps, batch_size=args.batch_size)
    command = " ".join(["python -m utils.traces scores", "--traces", repo_relative(args.traces)]
                       + (["--n", str(args.n)] if args.n else []) + ["--temperatures", *map(str, temps),
                       "--model", args.model, "--out", repo_relative(args.out), "--force"])
    save_scores(args.out, prompts, comps, scored, {
        "model": info.loaded, "source": info.source, "traces": repo_relative(args.traces), "n": len(rows),
        "temperatures": temps, "batch_size": args.batch_size, "threads": args.threads, "command": command,
        "torch": torch.__version__, "seconds": round(time.perf_counter() - t0, 1)})
    print(f"scored {len(rows)} traces at T = {temps} in {time.perf_counter() - t0:.0f} s; "
          f"wrote {repo_relative(args.out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``problems`` writes the problem set; ``generate`` writes traces (see the module docstring); ``scores``
    scores a traces file with the LM and stores its per-token entropies and log-probabilities
    (:func:`utils.traces.score_store.save_scores`, read back by :func:`utils.traces.score_store.score_with_store`).

    Both write to ``build/`` unless ``--out`` names a file; an existing file of the repository outside ``build/`` is
    replaced only with ``--force``, and only once the new file is complete (``generate`` shows its progress in
    ``build/progress/<name of out>.<hash of its path>.partial``, removed at the end). Every argument is checked before
    the model loads: one line, exit code 2 (``--debug``: the traceback)."""
    from utils.infra.cli import run

    args = parser().parse_args(argv)
    body = {"problems": lambda: _problems_cli(args), "generate": lambda: _generate_cli(args),
            "scores": lambda: _scores_cli(args)}[args.cmd]
    return run(body, f"{PROG} {args.cmd}", args.debug)
