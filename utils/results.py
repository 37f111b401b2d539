"""Writing and reading the series' files: atomic writes, JSON with a schema tag, repo-relative paths.

Every file the series writes -- results JSON, JSON-lines data, figures, executed notebooks, checkpoints -- goes
through this module:

* **Atomic.** :func:`atomic_write_bytes` / :func:`atomic_write_text` write to a temporary file in the target's
  folder and ``os.replace`` it over the target, so a crash or an interrupted run leaves either the old file or the
  new one, never half of one. :func:`atomic_path` does the same for writers that want a path (``savefig``,
  ``save_pretrained``), :func:`atomic_dir` for a whole folder (a checkpoint).
* **Loud loaders.** :func:`load_json` and :func:`read_jsonl` raise :class:`ResultsError` naming the file, what is
  wrong with it and how to regenerate it, instead of skipping a truncated file.
* **Portable.** :func:`to_jsonable` stores every path inside the repository relative to its root
  (``data/results/...``), never the absolute path of the machine that ran it.
* **Modes kept.** A replaced file or folder keeps its permission bits; a new one gets the umask's default (not the
  0600/0700 of a temporary file).
* **No silent overwrites.** :func:`guard_overwrite` refuses to replace anything that exists inside the repository
  outside ``build/`` (a committed artifact, a source file, a package folder) unless the caller passes ``force``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from utils.config import REPO_ROOT

__all__ = [
    "ResultsError",
    "atomic_dir",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "guard_overwrite",
    "load_json",
    "read_jsonl",
    "repo_relative",
    "resolve",
    "save_json",
    "to_jsonable",
    "write_jsonl",
]

_UMASK_LOCK = threading.Lock()


class ResultsError(ValueError):
    """A results or data file is missing, truncated, invalid, or of another schema. The message names the file
    and how to regenerate it."""


def repo_relative(path: str | Path) -> str:
    """``path`` relative to the repository root, POSIX-style, when it lies inside the repository; else as given."""
    p = Path(path)
    try:
        return p.resolve().relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        return str(path)


def resolve(path: str | Path) -> Path:
    """A stored (repo-relative) path back to an absolute one; absolute paths and existing relative ones pass."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return REPO_ROOT / p


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


def _new_mode(folder: bool) -> int:
    """The permission bits a plain ``open``/``mkdir`` would give a new file (``folder``: folder): 0666/0777 less
    the umask (read by setting it and putting it back, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


def _mode_for(target: Path, folder: bool) -> int:
    """The mode ``target`` should have once replaced: its current permission bits when it is of the same kind (file
    or folder), else the default for a new one."""
    try:
        st = os.stat(target)
    except OSError:
        return _new_mode(folder)
    return stat.S_IMODE(st.st_mode) if stat.S_ISDIR(st.st_mode) == folder else _new_mode(folder)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without an error it replaces ``path``
    (``os.replace``: atomic on one file system), else it is deleted and ``path`` is untouched. The new file keeps
    the mode of the file it replaces (the umask's default for a new one).

    ``suffix`` (default: ``path``'s own) keeps writers that pick a format from the extension happy."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=(suffix or target.suffix) + ".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _mode_for(target, folder=False))
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, flushed, then renamed)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``path``; on success it takes ``path``'s place (an existing folder is
    moved aside first and deleted after the swap), on an error it is deleted and ``path`` is untouched. Should the
    swap itself be interrupted (an error or Ctrl-C between the two renames), the old folder is put back. The new
    folder keeps the mode of the one it replaces (the umask's default for a new one)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    old = None
    try:
        yield tmp
        os.chmod(tmp, _mode_for(target, folder=True))
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
            os.rmdir(old)
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except BaseException:
            if old is not None and not target.exists():
                os.replace(old, target)  # the old copy back where it was
                old = None
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)


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


def guard_overwrite(path: str | Path, force: bool = False) -> Path:
    """Return ``path`` as a ``Path`` if writing it is safe: it does not exist, or it lies outside the repository, or
    inside ``build/`` (where the commands write), or ``force`` is set. Anything else that exists inside the
    repository -- a committed artifact, a source file, README.md, a package folder -- raises ``FileExistsError``
    (command lines turn it into one line and exit code 2). Call it before any heavy work."""
    p = Path(path)
    if force or not (p.exists() or p.is_symlink()):
        return p
    full = Path(os.path.abspath(p))
    full = full.parent.resolve() / full.name if full.name else full.resolve()  # a link itself, not what it points to
    try:
        rel = full.relative_to(REPO_ROOT.resolve())
    except ValueError:  # outside the repository
        return p
    if rel.parts[:1] == ("build",) and len(rel.parts) > 1:
        return p
    shown = rel.as_posix() if rel.parts else "the repository root"
    raise FileExistsError(f"{shown} is a committed artifact: pass --force to overwrite it, or --out to write elsewhere "
                          "(only build/ is written without --force)")
