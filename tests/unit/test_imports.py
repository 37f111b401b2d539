"""The import graph of utils/ has no circles (issue 22, part 8): every ``from utils.x import ...``, at the top of a
module or inside a function, counts as an edge."""

from __future__ import annotations

import ast
from pathlib import Path

from utils.config import REPO_ROOT


def _graph() -> dict[str, set[str]]:
    mods = {}
    for p in (REPO_ROOT / "utils").rglob("*.py"):
        name = ".".join(p.relative_to(REPO_ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.walk(ast.parse(Path(p).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("utils"):
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    graph[m].add(sub if sub in mods else node.module)
    return {m: {t for t in ts if t in mods and t != m} for m, ts in graph.items()}


def _circles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    def reaches(a: str, b: str) -> bool:
        todo, seen = [a], set()
        while todo:
            x = todo.pop()
            if x == b:
                return True
            if x not in seen:
                seen.add(x)
                todo.extend(graph[x])
        return False

    return sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if reaches(b, a)})  # type: ignore[misc]


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_utils_has_no_import_circles() -> None:
    graph = _graph()
    assert {"utils.infra.cli", "utils.models", "utils.reproduce.readme", "utils.reproduce"} <= set(graph)
    assert _circles(graph) == []
