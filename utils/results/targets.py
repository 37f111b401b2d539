"""What a writer may replace: :func:`check_target` (only what it made: a regular file, or a checkpoint folder this
project wrote) and :func:`guard_overwrite` (no committed artifact without ``force``)."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from utils.config import REPO_ROOT
from utils.results.paths import TargetError, _shown

__all__ = ["CHECKPOINT_FILES", "check_target", "guard_overwrite", "is_checkpoint_dir"]

#: The files a checkpoint folder of this project holds: what ``save_pretrained`` writes for a model and its tokenizer,
#: the task model's ``train_info.json`` and the GGUF copy's ``done`` (:mod:`utils.models`). A folder holding anything
#: else (a subfolder, a link, a user's notes) is not one this project wrote, and is never replaced.
CHECKPOINT_FILES = frozenset({
    "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json",
    "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json", "train_info.json", "done",
})
_SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")


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
