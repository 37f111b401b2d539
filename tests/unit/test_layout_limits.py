"""utils/ stays readable (issue 31): no file over 400 lines, no function body over 60 lines (from its ``def``
line to its end, less its docstring). A file or function that grows past them is split where it is
written, not later."""

from __future__ import annotations

import ast
from pathlib import Path

from utils.config import REPO_ROOT

MAX_FILE_LINES = 400
MAX_BODY_LINES = 60


def _body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """A function's lines from ``def`` to its end, its docstring not counted."""
    n = fn.end_lineno - fn.lineno + 1  # type: ignore[operator]
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        n -= first.end_lineno - first.lineno + 1  # type: ignore[operator]
    return n


def _files() -> list[Path]:
    return sorted((REPO_ROOT / "utils").rglob("*.py"))


def test_the_body_count_leaves_out_the_docstring() -> None:
    fn = ast.parse('def f():\n    """one\n    two"""\n    x = 1\n    return x\n').body[0]
    assert isinstance(fn, ast.FunctionDef) and _body_lines(fn) == 3


def test_no_file_in_utils_is_over_400_lines() -> None:
    long = {str(p.relative_to(REPO_ROOT)): n for p in _files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES}
    assert not long, f"split these files (at most {MAX_FILE_LINES} lines): {long}"


def test_no_function_body_in_utils_is_over_60_lines() -> None:
    long = {}
    for p in _files():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > MAX_BODY_LINES:
                long[f"{p.relative_to(REPO_ROOT)}:{node.lineno} {node.name}"] = _body_lines(node)
    assert not long, f"shorten these functions (at most {MAX_BODY_LINES} lines): {long}"
