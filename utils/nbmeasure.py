"""How much of a notebook is lesson and how much is bookkeeping (issue 22, section 1): per notebook, the share of code
lines that are bookkeeping, the longest code cell and the longest text output.

* **Code lines**: the non-blank, non-comment lines of every code cell except the generated setup cell.
* **Bookkeeping**: the lines of a statement (found with :mod:`ast`, so a call spread over many lines counts whole)
  that writes the ledger (``Ledger(...)``, ``*.record(...)``, a ``record_*`` builder, ``load_claims``, a ``ledger_*``
  builder), saves results or figures (``save_*``), plumbs jobs (``Job(...)``, ``run_many``, ``load_jobs``), times a
  run (``time.perf_counter()``), or prints a table by hand (a ``print`` call whose source spans 3 or more lines).
* **Longest text output**: the most lines of one cell's stream or ``text/plain`` output, not counting outputs that
  carry a table or a figure (``text/html``, ``image/*``) or a ``display(Markdown(...))``.

``python -m utils.nbmeasure`` prints one line per notebook.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.notebook import SETUP_MARKER, notebook_paths

__all__ = ["Measure", "measure_notebook", "main"]

_BOOKKEEPING_CALLS = {"Ledger", "record", "record_rows", "load_claims", "build_ledger", "Job", "run_many", "load_jobs",
                      "perf_counter"}
_BOOKKEEPING_PREFIXES = ("save_", "ledger_", "record_")
#: Targets (issue 22): bookkeeping share, lines of the longest code cell, lines of the longest text output.
TARGETS = (0.10, 25, 15)


@dataclass(frozen=True)
class Measure:
    notebook: str
    code_lines: int
    bookkeeping_lines: int
    longest_cell: int
    longest_cell_index: int
    longest_output: int
    longest_output_index: int

    @property
    def share(self) -> float:
        return self.bookkeeping_lines / self.code_lines if self.code_lines else 0.0

    def line(self) -> str:
        ok = (self.share <= TARGETS[0], self.longest_cell <= TARGETS[1], self.longest_output <= TARGETS[2])
        mark = lambda b: "" if b else " (over)"  # noqa: E731
        return (f"{self.notebook}: bookkeeping {self.bookkeeping_lines}/{self.code_lines} = {self.share:.0%}{mark(ok[0])}"
                f" | longest code cell {self.longest_cell} lines (cell {self.longest_cell_index}){mark(ok[1])}"
                f" | longest text output {self.longest_output} lines (cell {self.longest_output_index}){mark(ok[2])}")


def _code_lines(src: str) -> set[int]:
    return {i for i, line in enumerate(src.splitlines(), 1) if line.strip() and not line.strip().startswith("#")}


def _call_name(node: ast.AST) -> str:
    f = node.func if isinstance(node, ast.Call) else None
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _is_bookkeeping(stmt: ast.stmt) -> bool:
    for node in ast.walk(stmt):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name in _BOOKKEEPING_CALLS or name.startswith(_BOOKKEEPING_PREFIXES):
            return True
        if name == "print" and (node.end_lineno or node.lineno) - node.lineno >= 2:
            return True
    return False


def _bookkeeping_lines(src: str) -> set[int]:
    try:
        tree = ast.parse(src)
    except SyntaxError:  # IPython magics: count nothing as bookkeeping rather than guess
        return set()
    out: set[int] = set()

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            nested = [b for b in (getattr(stmt, "body", None), getattr(stmt, "orelse", None)) if isinstance(b, list)]
            if nested and not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not _is_bookkeeping_head(stmt):
                for b in nested:
                    visit(b)
            elif _is_bookkeeping(stmt):
                out.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))

    visit(tree.body)
    return out


def _is_bookkeeping_head(stmt: ast.stmt) -> bool:
    """A ``with``/``for``/``if`` whose header itself is bookkeeping (e.g. ``with staged_claims(...)``)."""
    heads = [getattr(stmt, a) for a in ("iter", "test") if getattr(stmt, a, None) is not None]
    heads += [i.context_expr for i in getattr(stmt, "items", [])]
    return any(_is_bookkeeping(ast.Expr(h)) for h in heads)


def _text_lines(output: Any) -> int:
    if output.get("output_type") == "stream":
        return len("".join(output.get("text", "")).rstrip("\n").splitlines())
    data = output.get("data", {})
    if any(k == "text/html" or k.startswith("image/") or k == "text/markdown" for k in data):
        return 0
    return len("".join(data.get("text/plain", "")).rstrip("\n").splitlines())


def measure_notebook(path: Path) -> Measure:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    total = book = 0
    longest = (0, -1)
    longest_out = (0, -1)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source.startswith(SETUP_MARKER):
            continue
        lines = _code_lines(cell.source)
        total += len(lines)
        book += len(lines & _bookkeeping_lines(cell.source))
        longest = max(longest, (len(cell.source.rstrip("\n").splitlines()), i))
        streams = sum(_text_lines(o) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        other = max([_text_lines(o) for o in cell.get("outputs", []) if o.get("output_type") != "stream"] or [0])
        longest_out = max(longest_out, (max(streams, other), i))
    return Measure(path.name, total, book, longest[0], longest[1], longest_out[0], longest_out[1])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or notebook_paths()
    for p in paths:
        print(measure_notebook(p).line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
