"""The results layer's error types and its paths: repository-relative for storing and for messages."""

from __future__ import annotations

import os
from pathlib import Path

from utils.config import REPO_ROOT

__all__ = ["ResultsError", "TargetError", "repo_relative", "resolve"]


class ResultsError(ValueError):
    """A results or data file is missing, truncated, invalid, or of another schema. The message names the file
    and how to regenerate it."""


class TargetError(ResultsError):
    """A path a command would write cannot be written as asked (:func:`check_target`): a folder, link or special
    file where a file goes, a folder that is not a checkpoint of this project where a checkpoint goes, a path under a
    file or in a folder that cannot be written. A usage error: one line, exit code 2."""


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


def _shown(path: str | Path) -> str:
    """``path`` for a message: repository-relative when inside it (without following a link), else as given."""
    full = Path(os.path.abspath(path))
    try:
        return full.relative_to(REPO_ROOT.resolve()).as_posix() or "."
    except ValueError:
        return str(path)
