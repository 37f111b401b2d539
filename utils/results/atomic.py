"""Atomic writes: a file (:func:`atomic_path`, :func:`atomic_write_bytes`, :func:`atomic_write_text`) or a whole
folder (:func:`atomic_dir`) replaces its target only when complete, keeping its mode; :func:`file_lock` lets two
processes that change one file take turns."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from utils.config import REPO_ROOT
from utils.results.targets import check_target

__all__ = ["atomic_dir", "atomic_path", "atomic_write_bytes", "atomic_write_text", "file_lock"]

_UMASK_LOCK = threading.Lock()


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
