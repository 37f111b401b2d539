"""How much of a notebook is lesson and how much is bookkeeping (issue 22, section 1): per notebook, the share of code
lines that are bookkeeping, the longest code cell and the longest text output.

* **Code lines**: the non-blank, non-comment lines of every code cell except the generated setup cell.
* **Bookkeeping**: the lines of a statement (found with :mod:`ast`, so a call spread over many lines counts whole)
  that writes the ledger (``Ledger(...)``, ``*.record(...)``, a ``record_*`` builder, ``load_claims``, a ``ledger_*``
  builder), saves results or figures (``save_*``), plumbs jobs (``Job(...)``, ``run_many``, ``load_jobs``), times a
  run (``time.perf_counter()``), or prints a table by hand (a ``print`` call whose source spans 3 or more lines).
* **Longest text output**: the most lines of one cell's stream or ``text/plain`` output, not counting outputs that
  carry a table or a figure (``text/html``, ``image/*``) or a ``display(Markdown(...))``.

* **What each code line is for** (issue 32, section 1; :func:`classify_lines`): every code line gets one kind,

  - ``ledger``: the calls of the bookkeeping above (ledger rows, saved results, job lists, timing);
  - ``figure``: drawing (a call on ``plt``/``fig``/``ax``/``axes``, ``save_figure``, a ``plot_*``, ``*_figure``,
    ``*_panels`` or ``*_bars`` builder, ``plt.show()``);
  - ``display``: showing and formatting (``print``, ``display``, ``Markdown``, ``HTML``, ``ColoredTokens``, a
    ``.round``/``.to_string`` call, the series' one-line formatters, a bare expression that only shows a value, an assignment of
    an f-string or a ``str.join``);
  - ``plumbing``: imports, profiles and configs (``pick``, ``seed_everything``, ``set_num_threads``, ``quiet``),
    paths and files (``Path``, ``*_dir``, ``read_text``, ``json.loads``, ``repo_relative``), loading
    (``load_*``) and the wiring of an exercise (``use``);
  - ``teach``: everything else: the computation the lesson is about, its definitions, and its ``assert`` checks.

  A statement takes the first kind of that order (ledger, figure, display, plumbing) that one of its calls has,
  and its lines all get that kind; the body of a ``for``/``if``/``with``/``try`` is classified statement by
  statement and its header by its own expression; a ``def`` header takes the kind most of its body has. The
  **teaching share** is teach lines / code lines.

``python -m utils.reproduce.measures [NOTEBOOK ...]`` prints one line per notebook; ``--lines NOTEBOOK`` prints every code
line with its kind (to audit the classifier).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from utils.notebook import SETUP_MARKER, notebook_paths

__all__ = ["KINDS", "Measure", "classify_lines", "main", "measure_notebook"]

_BOOKKEEPING_CALLS = {"Ledger", "record", "record_05", "record_06", "load_claims", "build_ledger", "Job", "run_many", "load_jobs",
                      "perf_counter"}
_BOOKKEEPING_PREFIXES = ("save_", "ledger_", "record_")
#: The kinds of code line, in the order a statement takes them (the last is the default).
KINDS = ("ledger", "figure", "display", "plumbing", "teach")
_FIGURE_CALLS = {"save_figure", "subplots", "show", "savefig", "colorbar", "tight_layout"}
_FIGURE_SUFFIXES = ("_figure", "_panels", "_bars", "_heatmap")
_FIGURE_OBJECTS = {"plt", "fig", "ax", "axes", "ax2", "axs", "grid"}
_DISPLAY_CALLS = {"print", "display", "Markdown", "HTML", "ColoredTokens", "from_records", "round",
                  "to_string", "to_markdown", "format_trace", "corpus_line", "store_line", "mean_ci", "diff_ci"}
_PLUMBING_CALLS = {"pick", "seed_everything", "set_num_threads", "quiet", "Path", "read_text", "loads", "repo_relative",
                   "use", "results_dir", "figures_dir", "as_logits_processor"}
_PLUMBING_PREFIXES = ("load_",)
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
    kinds: tuple[tuple[str, int], ...] = ()

    @property
    def teaching_share(self) -> float:
        """Teach lines / code lines (:func:`classify_lines`)."""
        return dict(self.kinds).get("teach", 0) / self.code_lines if self.code_lines else 0.0

    @property
    def share(self) -> float:
        return self.bookkeeping_lines / self.code_lines if self.code_lines else 0.0

    def line(self) -> str:
        ok = (self.share <= TARGETS[0], self.longest_cell <= TARGETS[1], self.longest_output <= TARGETS[2])
        mark = lambda b: "" if b else " (over)"
        return (f"{self.notebook}: bookkeeping {self.bookkeeping_lines}/{self.code_lines} = {self.share:.0%}{mark(ok[0])}"
                f" | longest code cell {self.longest_cell} lines (cell {self.longest_cell_index}){mark(ok[1])}"
                f" | longest text output {self.longest_output} lines (cell {self.longest_output_index}){mark(ok[2])}")

    def kinds_line(self) -> str:
        """``NAME: teach 120/200 = 60% | ledger 5 · figure 20 · display 40 · plumbing 15``."""
        k = dict(self.kinds)
        rest = " · ".join(f"{kind} {k.get(kind, 0)}" for kind in KINDS[:-1])
        return f"{self.notebook}: teach {k.get('teach', 0)}/{self.code_lines} = {self.teaching_share:.0%} | {rest}"


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


def _kind_of_call(node: ast.Call) -> str:
    name = _call_name(node)
    if name in _BOOKKEEPING_CALLS or (name.startswith(_BOOKKEEPING_PREFIXES) and name != "save_figure"):
        return "ledger"
    f = node.func
    owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
    if (name in _FIGURE_CALLS or name.endswith(_FIGURE_SUFFIXES) or name.startswith("plot")
            or owner in _FIGURE_OBJECTS):
        return "figure"
    if name in _DISPLAY_CALLS:
        return "display"
    if name in _PLUMBING_CALLS or name.startswith(_PLUMBING_PREFIXES) or name.endswith("_dir"):
        return "plumbing"
    return "teach"


def _kind_of_statement(stmt: ast.AST) -> str:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "plumbing"
    kinds = {_kind_of_call(n) for n in ast.walk(stmt) if isinstance(n, ast.Call)}
    for kind in KINDS[:-1]:
        if kind in kinds:
            return kind
    if isinstance(stmt, ast.Expr) and not isinstance(stmt.value, (ast.Constant, ast.Call, ast.Await)):
        return "display"  # a bare value at the end of a cell: shown, not computed
    value = getattr(stmt, "value", None)
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.JoinedStr):
        return "display"
    return "teach"


def classify_lines(src: str) -> dict[int, str]:
    """The kind (one of :data:`KINDS`) of every non-blank, non-comment line of a code cell's source (1-based line
    number -> kind), by the rules of the module docstring. A cell that does not parse (IPython magics) is all
    ``plumbing``."""
    lines = _code_lines(src)
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return {i: "plumbing" for i in lines}
    out: dict[int, str] = {}
    order = {k: i for i, k in enumerate(KINDS)}

    def mark(lo: int, hi: int, kind: str) -> None:
        for i in range(lo, hi + 1):
            if i in lines and (i not in out or order[kind] < order[out[i]]):
                out[i] = kind

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            end = stmt.end_lineno or stmt.lineno
            blocks = [b for b in (getattr(stmt, a, None) for a in ("body", "orelse", "finalbody")) if b]
            blocks += [h.body for h in getattr(stmt, "handlers", [])]
            if not blocks or (not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                              and _is_bookkeeping_head(stmt)):
                mark(stmt.lineno, end, _kind_of_statement(stmt))
                continue
            head_end = stmt.body[0].lineno - 1
            for b in blocks:
                visit(b)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = [out[i] for i in range(head_end + 1, end + 1) if i in out]
                kind = max(set(inner), key=inner.count) if inner else "teach"
                start = min([d.lineno for d in stmt.decorator_list] + [stmt.lineno])
                mark(start, head_end, kind)
            else:
                heads = [getattr(stmt, a) for a in ("iter", "test") if getattr(stmt, a, None) is not None]
                heads += [i.context_expr for i in getattr(stmt, "items", [])]
                kinds = [_kind_of_call(n) for h in heads for n in ast.walk(h) if isinstance(n, ast.Call)]
                mark(stmt.lineno, head_end, min(kinds or ["teach"], key=order.__getitem__))
                for i in range(head_end + 1, end + 1):  # else:/except:/finally: lines
                    if i in lines and i not in out:
                        out[i] = "teach"

    visit(tree.body)
    for i in lines - out.keys():
        out[i] = "teach"
    return out


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
    kinds = dict.fromkeys(KINDS, 0)
    longest = (0, -1)
    longest_out = (0, -1)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source.startswith(SETUP_MARKER):
            continue
        lines = _code_lines(cell.source)
        total += len(lines)
        book += len(lines & _bookkeeping_lines(cell.source))
        for kind in classify_lines(cell.source).values():
            kinds[kind] += 1
        longest = max(longest, (len(cell.source.rstrip("\n").splitlines()), i))
        streams = sum(_text_lines(o) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        other = max([_text_lines(o) for o in cell.get("outputs", []) if o.get("output_type") != "stream"] or [0])
        longest_out = max(longest_out, (max(streams, other), i))
    return Measure(path.name, total, book, longest[0], longest[1], longest_out[0], longest_out[1],
                   tuple(kinds.items()))


def print_lines(path: Path) -> None:
    """Every code line of ``path`` (setup cell excluded) with its kind: ``[cell] kind | line``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.source.startswith(SETUP_MARKER):
            continue
        kinds = classify_lines(cell.source)
        for n, line in enumerate(cell.source.splitlines(), 1):
            if n in kinds:
                print(f"[{i:2d}] {kinds[n]:8s} | {line}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--lines"]:
        if len(args) != 2:
            print("usage: python -m utils.reproduce.measures --lines NOTEBOOK", file=sys.stderr)
            return 2
        print_lines(Path(args[1]))
        return 0
    paths = [Path(a) for a in args] or notebook_paths()
    for p in paths:
        m = measure_notebook(p)
        print(m.line())
        print("  " + m.kinds_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
