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
* **Only what it made.** :func:`check_target` (called by :func:`guard_overwrite` with ``kind``, and by every atomic
  writer) refuses a target that is not of the kind written: a file replaces only a regular file -- never a folder, a
  symbolic link, a device node, a named pipe or a socket (``/dev/null``, a link to ``/proc/self/fd/1``: these are
  refused, not written through and not replaced) -- and a checkpoint folder replaces only an empty folder or one
  :func:`is_checkpoint_dir` recognises as a checkpoint this project wrote (nothing but the files ``save_pretrained``
  and ``utils.toy_lm`` write), so ``--out ~`` or a folder with a user's notes in it is refused, with or without
  ``--force``. A target under a file or in a folder that cannot be written is refused too -- before any heavy work
  when a command calls :func:`guard_overwrite` first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from utils.config import REPO_ROOT

__all__ = [
    "CHECKPOINT_FILES",
    "ResultsError",
    "TargetError",
    "atomic_dir",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_target",
    "file_lock",
    "guard_overwrite",
    "is_checkpoint_dir",
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


class TargetError(ResultsError):
    """A path a command would write cannot be written as asked (:func:`check_target`): a folder, link or special
    file where a file goes, a folder that is not a checkpoint of this project where a checkpoint goes, a path under a
    file or in a folder that cannot be written. A usage error: one line, exit code 2."""


#: The files a checkpoint folder of this project holds: what ``save_pretrained`` writes for a model and its tokenizer,
#: the task model's ``train_info.json`` and the GGUF copy's ``done`` (:mod:`utils.models`). A folder holding anything
#: else (a subfolder, a link, a user's notes) is not one this project wrote, and is never replaced.
CHECKPOINT_FILES = frozenset({
    "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json",
    "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json", "train_info.json", "done",
})
_SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")


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


def _shown(path: str | Path) -> str:
    """``path`` for a message: repository-relative when inside it (without following a link), else as given."""
    full = Path(os.path.abspath(path))
    try:
        return full.relative_to(REPO_ROOT.resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def _what(mode: int) -> str:
    """What kind of thing a ``st_mode`` describes, for a message."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a file" if stat.S_ISREG(mode) else "a special file"


def _not_a_checkpoint(path: Path) -> str | None:
    """Why the existing folder ``path`` is not a checkpoint this project wrote, or None when it is one (or empty)."""
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        return f"it cannot be read ({e.strerror})"
    for e in entries:
        if not e.is_file(follow_symlinks=False):
            return f"it holds {e.name!r}, which is not a file"
        if e.name not in CHECKPOINT_FILES and not _SHARD.fullmatch(e.name):
            return f"it holds {e.name!r}"
    if entries and "config.json" not in {e.name for e in entries}:
        return "it has no config.json"
    return None


def _can_create_in(folder: Path) -> bool:
    """Whether a new entry can be made in ``folder``: tried (an empty folder made and removed at once), since the
    permission bits do not say it for root, a read-only mount or ``/proc``."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".write-probe."))
    except OSError:
        return False
    return True


def is_checkpoint_dir(path: str | Path) -> bool:
    """True for a real folder (not a link) that is empty or holds a checkpoint this project wrote: a ``config.json``
    and nothing but :data:`CHECKPOINT_FILES` (and weight shards). Only such a folder may be replaced whole."""
    p = Path(path)
    return p.is_dir() and not p.is_symlink() and _not_a_checkpoint(p) is None


def check_target(path: str | Path, kind: str = "file") -> Path:
    """``path`` as a ``Path`` if a writer may put a ``kind`` there -- ``"file"`` (an atomic file write) or
    ``"checkpoint"`` (a whole folder, :func:`atomic_dir`) -- else :class:`TargetError` (one line naming the path):

    * the nearest existing folder above it must be a folder this process can write in (not a file:
      ``README.md/x.json``);
    * a file replaces only a regular file: a folder, a symbolic link, a device node (``/dev/null``), a named pipe or
      a socket is refused, never replaced and never written through;
    * a checkpoint replaces only a real folder that is empty or :func:`is_checkpoint_dir` -- never a file, a link, or a
      folder holding anything this project does not write there (``~``, a folder with notes in it).

    Ownership (committed artifacts need ``force``) is :func:`guard_overwrite`'s rule; this one holds with ``force``."""
    if kind not in ("file", "checkpoint"):
        raise ValueError(f"kind must be 'file' or 'checkpoint', got {kind!r}")
    p = Path(path)
    full = Path(os.path.abspath(p))
    shown = _shown(p)
    above = full.parent
    while not os.path.lexists(above) and above != above.parent:
        above = above.parent
    if not above.is_dir():
        what = _what(os.lstat(above).st_mode) if not os.path.exists(above) else _what(os.stat(above).st_mode)
        raise TargetError(f"{shown} lies under {_shown(above)}, which is {what}, not a folder")
    if not _can_create_in(above):
        raise TargetError(f"{shown} cannot be written: the folder {_shown(above)} is not writable")
    try:
        mode = os.lstat(full).st_mode
    except FileNotFoundError:
        return p
    except OSError as e:
        raise TargetError(f"{shown} cannot be examined ({e.strerror})") from None
    if stat.S_ISLNK(mode):
        raise TargetError(f"{shown} is a symbolic link: refusing to replace it (name the file itself, or remove the "
                          "link)")
    if kind == "file":
        if stat.S_ISREG(mode):
            return p
        if stat.S_ISDIR(mode):
            raise TargetError(f"{shown} is a folder, not a file: name a file (e.g. {shown.rstrip('/')}/out.json)")
        raise TargetError(f"{shown} is {_what(mode)}, not a regular file: refusing to replace it")
    if not stat.S_ISDIR(mode):
        raise TargetError(f"{shown} is {_what(mode)}, not a checkpoint folder: refusing to replace it")
    why = _not_a_checkpoint(full)
    if why is not None:
        raise TargetError(f"{shown} is a folder this project did not write ({why}): refusing to replace it; name a new "
                          "or empty folder")
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without an error it replaces ``path``
    (``os.replace``: atomic on one file system), else it is deleted and ``path`` is untouched. The new file keeps
    the mode of the file it replaces (the umask's default for a new one).

    ``suffix`` (default: ``path``'s own) keeps writers that pick a format from the extension happy. A target that is
    not a regular file (a folder, a link, a device, a pipe; :func:`check_target`) is refused before anything is
    written, and checked again just before the rename."""
    target = check_target(path, "file")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=(suffix or target.suffix) + ".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        check_target(target, "file")  # still a regular file (or nothing) after the writer's work
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
    folder keeps the mode of the one it replaces (the umask's default for a new one), and every file and folder in it
    gets the umask's default (not the 0600 some writers, e.g. safetensors, give their files).

    Only an empty folder or a checkpoint this project wrote is replaced (:func:`check_target` with
    ``"checkpoint"``, checked before the block runs and again before the swap): a file, a link or a folder with
    anything else in it is refused with :class:`TargetError`."""
    target = check_target(path, "checkpoint")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    old = None
    try:
        yield tmp
        check_target(target, "checkpoint")  # nothing foreign moved in while the writer worked
        file_mode, folder_mode = _new_mode(folder=False), _new_mode(folder=True)
        for root, dirs, files in os.walk(tmp):
            for name in dirs:
                os.chmod(os.path.join(root, name), folder_mode)
            for name in files:
                if not os.path.islink(os.path.join(root, name)):
                    os.chmod(os.path.join(root, name), file_mode)
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
        if old is not None and os.path.lexists(old):
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink()


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock for the file ``path`` while the block runs (``fcntl.flock`` on a lock file in
    ``build/locks/`` named after ``path``'s absolute path, so no lock file lands next to a committed one): two
    processes that read, change and write the same file take turns. Where POSIX locks are missing (or ``build/``
    cannot be written) the block runs unlocked."""
    import hashlib

    full = os.path.abspath(path)
    lock = REPO_ROOT / "build" / "locks" / f"{hashlib.sha256(full.encode()).hexdigest()[:16]}-{Path(full).name}.lock"
    try:
        import fcntl

        lock.parent.mkdir(parents=True, exist_ok=True)
        f = open(lock, "a", encoding="utf-8")  # noqa: SIM115 - held until the block ends
    except (ImportError, OSError):  # not POSIX, or nowhere to put the lock
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


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


def guard_overwrite(path: str | Path, force: bool = False, kind: str | None = None) -> Path:
    """Return ``path`` as a ``Path`` if writing it is safe: it does not exist, or it lies outside the repository, or
    inside ``build/`` (where the commands write), or ``force`` is set. Anything else that exists inside the
    repository -- a committed artifact, a source file, README.md, a package folder -- raises ``FileExistsError``
    (command lines turn it into one line and exit code 2). Call it before any heavy work.

    With ``kind`` (``"file"`` or ``"checkpoint"``) the target must also be of that kind, with or without ``force``
    (:func:`check_target`: no folder, link or device where a file goes, no foreign folder where a checkpoint goes, no
    path under a file or in an unwritable folder) -- so a command fails on it before the model loads, not after."""
    p = Path(path)
    if kind is not None:
        _guard_ownership(p, force)
        return check_target(p, kind)
    return _guard_ownership(p, force)


def _guard_ownership(p: Path, force: bool) -> Path:
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
