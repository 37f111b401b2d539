"""Every notebook, run in the ci profile with each exercise's Solution pasted into its exercise cell (in notebook
order, as a learner who solved them would have it): every check passes, no cell falls back to the library's version
(:func:`utils.exercise_checks.use`), and the cells after the exercises run on the learner's functions: each exercise's function is wrapped to count its
calls after the exercise cell, and every one must be called at least once (issue 32: the learner's function is what
the lesson uses, visibly), and each exercise cell's pass line names it ("→ the next cells use your `...`").

The exercise cell of an ``### Exercise`` markdown cell is the first code cell after it; the Solution is the ```python
block of the collapsed ``<summary>Solution</summary>`` markdown cell after it. Pasting replaces the stub (its ``def``
and check call) with the Solution and keeps the cell's ``... = use(...)`` statement, so the next cells get the function.
Each notebook runs in a fresh kernel: about as long as the ci profile itself (a few minutes for all six on 2 CPU cores).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from utils.config import PROFILE_ENV
from utils.notebook import notebook_paths

_SOLUTION = re.compile(r"<summary>\s*Solution\s*</summary>.*?```python\n(.*?)```", re.S)
_FALLBACK = ("not done yet", "does not pass its check yet")


def with_solutions(nb: Any) -> list[int]:
    """Paste every exercise's Solution into its exercise cell of ``nb`` (in place); returns the cells' indices."""
    cells, done = nb.cells, []
    for i, c in enumerate(cells):
        if c.cell_type != "markdown" or not re.match(r"#+ *Exercise", c.source.lstrip()):
            continue
        j = next(k for k in range(i + 1, len(cells)) if cells[k].cell_type == "code")
        sol = next((m.group(1) for cc in cells[i:i + 6] if cc.cell_type == "markdown"
                    for m in [_SOLUTION.search(cc.source)] if m), None)
        assert sol, f"exercise {c.source.splitlines()[0]!r} has no Solution"
        lines = cells[j].source.splitlines()
        start = next((k for k, line in enumerate(lines) if re.search(r"=\s*use\(", line)), len(lines))
        keep = lines[start:]  # the `... = use(...)` statement, however many lines it spans (it ends the cell)
        cells[j].source = sol.rstrip("\n") + ("\n\n" + "\n".join(keep) if keep else "")
        done.append(j)
    return done


_COUNTER = """
def _counted(fn, name, calls=globals().setdefault("_EXERCISE_CALLS", {})):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return fn(*args, **kwargs)
    return wrapper
"""


def count_later_calls(nb: Any, exercise_cells: list[int]) -> list[str]:
    """Wrap each exercise's function (the name its ``... = use(...)`` line binds) at the end of its exercise cell so
    that every later call is counted, and append a cell that prints the counts as JSON; returns the names."""
    names = []
    for j in exercise_cells:
        m = re.search(r"^(\w+)\s*=\s*use\(", nb.cells[j].source, re.M)
        assert m, f"exercise cell {j} has no `name = use(...)` line"
        names.append(m.group(1))
        nb.cells[j].source += f"\n{_COUNTER}\n{m.group(1)} = _counted({m.group(1)}, {m.group(1)!r})"
    nb.cells.append(nbformat.v4.new_code_cell("import json\nprint(json.dumps(_EXERCISE_CALLS))"))
    return names


def _text(cell: Any) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")))
        if o.get("output_type") == "error":
            out.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(out)


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name[:2])
def test_notebook_runs_with_every_solution(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    exercise_cells = with_solutions(nb)
    assert exercise_cells, f"{path.name} has no exercises"
    names = count_later_calls(nb, exercise_cells)
    monkeypatch.setenv(PROFILE_ENV, "ci")  # the kernel inherits the environment
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for j in exercise_cells:
        text = _text(nb.cells[j])
        assert "✓" in text and "✗" not in text, f"{path.name} cell {j}: {text.strip()}"
        assert "the next cells use your" in text, f"{path.name} cell {j}: the pass line names no function: {text}"
    calls = json.loads(next(line for line in _text(nb.cells[-1]).splitlines() if line.startswith("{")))
    unused = [n for n in names if not calls.get(n)]
    assert not unused, f"{path.name}: no cell after its exercise calls {unused} (calls: {calls})"
    fell_back = [f"cell {i}: {line}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 for line in _text(c).splitlines() if any(f in line for f in _FALLBACK)]
    assert not fell_back, f"{path.name}: {fell_back}"


def test_paste_keeps_the_use_line() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("### Exercise 9.9 — x"),
                nbformat.v4.new_code_cell('def f(x):\n    raise NotImplementedError\n\n\nf = use(f, check_f, g, "Exercise 9.9")'),
                nbformat.v4.new_markdown_cell("<details><summary>Solution</summary>\n\n```python\ndef f(x):\n    return x\n\n"
                                              "check_f(f)\n```\n\n</details>")]
    assert with_solutions(nb) == [1]
    assert nb.cells[1].source == 'def f(x):\n    return x\n\ncheck_f(f)\n\nf = use(f, check_f, g, "Exercise 9.9")'


@pytest.mark.parametrize("path", [p for p in notebook_paths() if p.name[:2] in ("01", "02", "03", "05")], ids=lambda p: p.name[:2])
def test_solution_runs_where_it_stands(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Solution pasted into a fresh kernel needs nothing but the check (Exercise 1.1's once used numpy before the
    notebook imported it): it imports what it uses."""
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        m = _SOLUTION.search(c.source) if c.cell_type == "markdown" else None
        if m:
            ns: dict[str, Any] = {"__name__": "solution"}
            checks = sorted(set(re.findall(r"\b(check_\w+)\(", m.group(1))))
            exec(f"from utils.exercises import {', '.join(checks)}\n" + m.group(1), ns)  # noqa: S102
            out = capsys.readouterr().out
            assert "✓" in out and "✗" not in out, out
