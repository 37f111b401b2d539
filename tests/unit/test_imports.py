"""The import graph of utils/ has no circles (issue 22, part 8) and follows the layer order (issue
31): every ``from utils.x import ...`` or ``import utils.x``, at the top of a module or inside a
function, counts as an edge. utils/ keeps few modules at its top level, and every recorded entry
point answers ``--help``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from utils.config import REPO_ROOT

#: The units of utils/ (a top-level module or package), lowest first (issue 31): a module may
#: import from its own unit or a lower one, never from a higher one.
LAYERS = ["errors", "checks", "config", "results", "stats", "passk", "entropy", "sampling", "infra",
          "countdown", "toy_lm", "models", "notebook", "forking", "traces", "rlvr", "entropy_bonus",
          "ladder", "tuning", "viz", "exercises", "lessons", "reproduce"]
#: At most this many modules (``.py`` files but ``__init__.py``) directly in utils/.
MAX_TOP_LEVEL_MODULES = 16
#: Every recorded command line (README, data/README.md, the Makefile): ``python -m <module>``, or
#: a script's path.
ENTRY_POINTS = ["utils.toy_lm", "utils.traces", "utils.ladder", "utils.rlvr", "utils.countdown",
                "utils.reproduce", "utils.tuning", "utils.entropy_bonus.exploration",
                "utils.reproduce.robustness", "utils.reproduce.readme", "scripts/bench.py"]


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
            elif isinstance(node, ast.Import):
                graph[m].update(a.name for a in node.names if a.name.startswith("utils"))
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


def _unit(module: str) -> str | None:
    """``utils.rlvr.run`` -> ``rlvr``; ``utils`` itself belongs to no unit."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _layer_breaks(graph: dict[str, set[str]], layers: list[str]) -> list[str]:
    """Every edge of ``graph`` from a lower unit to a higher one, and every module of a unit not in
    ``layers``."""
    bad = [f"{m}: its unit {_unit(m)!r} is not in LAYERS" for m in graph
           if _unit(m) and _unit(m) not in layers]
    for m, targets in graph.items():
        u = _unit(m)
        for t in sorted(targets):
            v = _unit(t)
            if u in layers and v in layers and layers.index(v) > layers.index(u):
                bad.append(f"{m} -> {t} ({u} is below {v})")
    return sorted(bad)


def test_the_layer_check_names_an_upward_edge() -> None:
    graph = {"utils.stats": {"utils.errors"}, "utils.viz.rl": {"utils.rlvr.run"},
             "utils.rlvr.run": {"utils.viz.rl", "utils.rlvr.config"}, "utils.newthing": set()}
    assert _layer_breaks(graph, LAYERS) == ["utils.newthing: its unit 'newthing' is not in LAYERS",
                                            "utils.rlvr.run -> utils.viz.rl (rlvr is below viz)"]


def test_utils_follows_the_layer_order() -> None:
    assert _layer_breaks(_graph(), LAYERS) == []


def test_utils_has_few_top_level_modules() -> None:
    top = sorted(p.name for p in (REPO_ROOT / "utils").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} modules at utils/'s top level: {top}"


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_point_answers_help(entry: str) -> None:
    """Each entry point imports and parses ``--help`` in a fresh interpreter, as a user runs it."""
    cmd = [sys.executable, entry] if entry.endswith(".py") else [sys.executable, "-m", entry]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1",
           "HF_HUB_OFFLINE": "1"}
    p = subprocess.run([*cmd, "--help"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                       encoding="utf-8", timeout=300)
    assert p.returncode == 0 and "usage:" in p.stdout, f"{entry} --help: {p.returncode}\n{p.stderr}"
