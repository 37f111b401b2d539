"""JSON and JSON-lines files: written atomically from JSON-ready copies (:func:`to_jsonable`), read back loudly
(:class:`utils.results.ResultsError` naming the file and how to regenerate it)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from utils.results.atomic import atomic_write_text
from utils.results.paths import ResultsError, repo_relative

__all__ = ["load_json", "read_jsonl", "save_json", "to_jsonable", "write_jsonl"]


def to_jsonable(obj: Any) -> Any:
    """A JSON-ready copy: dataclasses as dicts, numpy scalars/arrays and tuples as numbers/lists, NaN and inf as
    ``None``, paths as repo-relative strings, dict keys as strings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return repo_relative(obj)
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    tolist = getattr(obj, "tolist", None)  # numpy arrays and scalars, torch tensors
    if callable(tolist):
        return to_jsonable(tolist())
    raise TypeError(f"cannot store {type(obj).__name__} in JSON: {obj!r:.80}")


def save_json(obj: Any, path: str | Path, schema: str | None = None) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically (see :func:`to_jsonable`); with ``schema`` a dict gets
    ``"schema": schema`` as its first key. Returns the path."""
    data = to_jsonable(obj)
    if schema is not None:
        if not isinstance(data, dict):
            raise TypeError("a schema tag needs a dict at the top level")
        data = {"schema": schema, **{k: v for k, v in data.items() if k != "schema"}}
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=schema is None, allow_nan=False) + "\n")
    return Path(path)


def load_json(path: str | Path, schema: str | None = None, regenerate: str | None = None) -> Any:
    """Read a JSON file; with ``schema`` the top level must be a dict tagged with it.

    Raises :class:`ResultsError` for a missing, truncated or invalid file or a wrong schema; the message names the
    file and, when ``regenerate`` is given, the command that makes it again."""
    p = Path(path)
    how = f"; regenerate it with: {regenerate}" if regenerate else ""
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{repo_relative(p)} is missing{how}") from None
    except OSError as e:
        raise ResultsError(f"{repo_relative(p)} cannot be read ({e.strerror}){how}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{repo_relative(p)} is truncated or not valid JSON (line {e.lineno}, column {e.colno}: "
                           f"{e.msg}){how}") from None
    if schema is not None and (not isinstance(data, dict) or data.get("schema") != schema):
        got = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ResultsError(f"{repo_relative(p)} is not a {schema!r} file (schema {got!r}){how}")
    return data


def write_jsonl(rows: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write one JSON object per line, atomically."""
    text = "".join(json.dumps(to_jsonable(r), allow_nan=False) + "\n" for r in rows)
    return atomic_write_text(path, text)


def read_jsonl(path: str | Path, regenerate: str | None = None) -> list[dict[str, Any]]:
    """Read a JSON-lines file (blank lines skipped); a bad line raises :class:`ResultsError` with its number."""
    p = Path(path)
    how = f"; regenerate it with: {regenerate}" if regenerate else ""
    if not p.exists():
        raise ResultsError(f"{repo_relative(p)} is missing{how}")
    rows = []
    for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ResultsError(f"{repo_relative(p)} line {i} is not valid JSON ({e.msg}){how}") from None
    return rows
