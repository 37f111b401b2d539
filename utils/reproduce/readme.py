"""README.md's generated blocks: the notebook index (badges from pyproject's repository address), the
measured run times and the claims ledger. ``make reproduce`` refreshes them after the notebooks ran;
the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` is never edited by hand.

``python -m utils.reproduce.readme [--debug]`` rewrites those blocks, every notebook's "How long" line and the default
profile's ledger (``data/results/claims.md`` and ``figures/ledger_forest.png``, :func:`utils.reproduce.claims.build_ledger`)
from the files already recorded (run times, claims), without running a notebook. Every input is read and checked
before anything is written: a corrupt run-times or claims file is one line naming it and exit code 2; any other
failure (a read-only tree) one line and exit code 1; Ctrl-C ``interrupted`` and 130 (``utils.infra.cli``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from utils.reproduce.claims import FOREST, build_ledger, load_claims, summary_markdown
from utils.infra.cli import Parser, add_debug, run
from utils.config import REPO_ROOT
from utils.notebook import badge_markdown, load_run_times, notebook_paths, refresh_openings
from utils.results import atomic_write_text


def escape_markers(content: str) -> str:
    """Generated ``content`` with every HTML comment opener and closer written as text (``&lt;!--``, ``--&gt;``; they
    render the same): a claim or title that contains ``<!-- claims:end -->`` cannot end its block early, so a refresh
    never leaves the rest of the old block behind (README grew by a block's worth on every refresh)."""
    return content.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def replace_block(text: str, name: str, content: str) -> str:
    """Replace what stands between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``text`` with ``content``
    (its marker text escaped, :func:`escape_markers`). Each marker must stand exactly once in ``text``, the start
    before the end; anything else (a block that grew before the escaping existed) is a ``ValueError`` naming it."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise ValueError(f"README.md lacks the markers {start} ... {end}.")
    if text.count(start) > 1 or text.count(end) > 1 or text.index(start) > text.index(end):
        raise ValueError(f"README.md has the marker {start} {text.count(start)} times and {end} "
                         f"{text.count(end)} times: keep one of each (start first) and rerun")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{escape_markers(content.rstrip())}\n{end}{tail}"


def run_times_markdown() -> str:
    """Measured wall time per notebook and profile (``utils.notebook.load_run_times``)."""
    profiles = {prof: t for prof in ("ci", "default", "full") if (t := load_run_times(prof))}
    if not profiles:
        return "_No measured run times yet: run `make reproduce`._"
    lines = ["| notebook | " + " | ".join(profiles) + " |", "|---|" + "---|" * len(profiles)]
    for nb in notebook_paths():
        cells = [f"{t[nb.name] / 60:.1f} min" if nb.name in t else "–" for t in profiles.values()]
        lines.append(f"| {nb.name} | " + " | ".join(cells) + " |")
    n_all = len(notebook_paths())
    totals = [f"{sum(t.values()) / 60:.1f} min" + ("" if len(t) >= n_all else f" ({len(t)} of {n_all} notebooks)")
              for t in profiles.values()]
    lines.append("| **whole series** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def notebook_index_markdown() -> str:
    """One row per notebook: title (from its first cell), what you'll learn, Colab badge."""
    rows = ["| notebook | what you'll learn | Colab |", "|---|---|---|"]
    for nb in notebook_paths():
        first = "".join(json.loads(nb.read_text(encoding="utf-8"))["cells"][0]["source"])
        title = next((l[2:].strip() for l in first.splitlines() if l.startswith("# ")), nb.stem)
        learn = first.split("**What you'll learn**", 1)[-1].split("**What you need**", 1)[0]
        bullets = "; ".join(l[2:].strip() for l in learn.strip().splitlines() if l.startswith("- "))
        rows.append(f"| [{title}](notebooks/{nb.name}) | {bullets} | {badge_markdown(nb.name)} |")
    return "\n".join(rows)


def readme_text(readme: Path | None = None) -> str:
    """README.md with its generated blocks brought up to date: notebook index, run times, and the ledger of the
    ``default`` profile (the committed results: the forest figure, the verdict counts and the short table, whose
    rows link to ``data/results/claims.md``). Reads only; raises for a corrupt input file."""
    text = (readme or REPO_ROOT / "README.md").read_text(encoding="utf-8")
    text = replace_block(text, "notebooks", notebook_index_markdown())
    text = replace_block(text, "runtimes", run_times_markdown())
    return replace_block(text, "claims", summary_markdown(load_claims("default"), "data/results/claims.md",
                                                          f"figures/{FOREST}.png"))


def refresh_readme(readme: Path | None = None) -> Path:
    """Rewrite README.md's generated blocks (atomically, see :func:`readme_text`)."""
    path = readme or REPO_ROOT / "README.md"
    atomic_write_text(path, readme_text(path))
    return path


PROG = "python -m utils.reproduce.readme"


def parser() -> Parser:
    ap = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_debug(ap)
    return ap


def _refresh() -> int:
    path = REPO_ROOT / "README.md"
    text = readme_text(path)  # every input checked before anything is written
    refresh_openings(notebook_paths())
    ledger = build_ledger("default")  # claims.md and figures/ledger_forest.png, which README's block shows
    atomic_write_text(path, text)
    print(f"claims ledger: {ledger.relative_to(REPO_ROOT)} and figures/{FOREST}.png")
    print(f"README blocks refreshed: {path.relative_to(REPO_ROOT)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Refresh README's blocks and the notebooks' "How long" lines from the recorded files (no notebook runs); see
    the module docstring for the exit codes."""
    args = parser().parse_args(argv)
    return run(_refresh, PROG, args.debug)


if __name__ == "__main__":
    sys.exit(main())
