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

from utils.results.atomic import atomic_dir, atomic_path, atomic_write_bytes, atomic_write_text, file_lock
from utils.results.jsonio import load_json, read_jsonl, save_json, to_jsonable, write_jsonl
from utils.results.paths import ResultsError, TargetError, repo_relative, resolve
from utils.results.targets import CHECKPOINT_FILES, check_target, guard_overwrite, is_checkpoint_dir

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
