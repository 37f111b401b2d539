"""Where the ledger's rows are kept: ``claims/NN.json`` per notebook (schema-tagged, each change under a lock), the
staging file of a running notebook (:func:`staged_claims`), and loading them back checked (:func:`load_claims`).
:mod:`utils.reproduce.claims` records the rows and re-exports these names."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from utils.config import results_dir
from utils.reproduce.row_view import SOURCES, presentation
from utils.results import ResultsError, file_lock, load_json, repo_relative, save_json

__all__ = ["BASES", "SCHEMA", "STAGE_ENV", "VERDICTS", "load_claims", "staged_claims", "store_row"]

#: The ledger's verdict vocabulary, in one place. "reproduced" / "not reproduced" (and "partly reproduced", "below the
#: margin": the direction holds, the size does not) judge a PUBLISHED claim; "holds" / "fails" judge a claim of this
#: project's own (:data:`OWN_SOURCES`); "inconclusive" serves both; "corrected" and "not testable here" need no test.
VERDICTS = ("reproduced", "not reproduced", "inconclusive", "partly reproduced", "below the margin", "holds", "fails",
            "corrected", "not testable here")
BASES = ("experiment", "documented", "descriptive")
SCHEMA = "forking-tokens/claims/1"
#: Set by :func:`staged_claims` for the notebook's kernel, to the run's token: rows go to that run's staging file.
STAGE_ENV = "FORKING_TOKENS_STAGE_CLAIMS"


def _claims_dir(profile: str | None = None) -> Path:
    d = results_dir(profile) / "claims"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _rows_path(notebook: str, profile: str | None = None) -> Path:
    return results_dir(profile) / "claims" / f"{notebook[:2]}.json"


def _staged_path(notebook: str, run: str, profile: str | None = None) -> Path:
    """The staging file of one run (``run``: its token, ``<pid>-<random>``) of a notebook."""
    return results_dir(profile) / "claims" / f"{notebook[:2]}.json.{run}.staged"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process; a nonsense number
        return pid > 0
    return True


def _remove_orphans(notebook: str, profile: str | None) -> None:
    """Delete the staging files of this notebook's runs whose process is gone (killed before it could clean up);
    a running one's file is left alone."""
    for f in (results_dir(profile) / "claims").glob(f"{notebook[:2]}.json.*.staged"):
        pid = f.name.split(".")[-2].split("-")[0]
        if not pid.isdigit() or not _alive(int(pid)):
            f.unlink(missing_ok=True)


def store_row(notebook: str, cid: str, row: dict[str, Any]) -> dict[str, Any]:
    """Store ``row`` (already laid out by :func:`utils.reproduce.row_view.presentation`) under ``cid`` in
    ``notebook``'s ``claims/NN.json`` (under its lock) or, while the notebook runs under :func:`staged_claims`, in
    its staging file; returns the stored row. A claim already recorded by another notebook is a ``ValueError``."""
    own = _rows_path(notebook)
    for other in sorted(_claims_dir().glob("*.json")):  # one claim, one notebook: no two contradicting rows
        if other != own and cid in (load_json(other, schema=SCHEMA)["rows"] or {}):
            raise ValueError(f"claim {cid!r} is already recorded by notebook {other.stem} ({repo_relative(other)}): "
                             "a claim belongs to one notebook; record it there, or remove the stale row")
    run = os.environ.get(STAGE_ENV, "")
    path = _staged_path(notebook, run) if run else own
    with file_lock(own) if not run else contextlib.nullcontext():  # another process may change claims/NN.json
        rows = load_json(path, schema=SCHEMA)["rows"] if path.exists() else {}
        rows[cid] = row
        save_json({"rows": rows}, path, schema=SCHEMA)
    return rows[cid]


@contextlib.contextmanager
def staged_claims(notebook: str, profile: str | None = None) -> Iterator[None]:
    """Run a notebook (the ``with`` block; its kernel inherits the environment) with its ledger rows staged in a
    file of this run alone: they replace the notebook's rows in ``claims/NN.json`` (under its lock) when the block
    ends normally, and are dropped when it raises (a failing cell, Ctrl-C), so an unfinished run never mixes into
    the ledger. A notebook that recorded nothing leaves its rows as they were. Another run of the same notebook,
    before or at the same time, keeps its own staging file: neither deletes the other's rows."""
    _claims_dir(profile)
    _remove_orphans(notebook, profile)
    run = f"{os.getpid()}-{secrets.token_hex(4)}"
    staged, final = _staged_path(notebook, run, profile), _rows_path(notebook, profile)
    previous = os.environ.get(STAGE_ENV)
    os.environ[STAGE_ENV] = run
    try:
        yield
        if staged.exists():
            rows = load_json(staged, schema=SCHEMA, regenerate=f"make reproduce (notebook {notebook[:2]})")["rows"]
            with file_lock(final):
                save_json({"rows": rows}, final, schema=SCHEMA)
    finally:
        staged.unlink(missing_ok=True)
        if previous is None:
            os.environ.pop(STAGE_ENV, None)
        else:
            os.environ[STAGE_ENV] = previous


#: The text fields every row has (a row missing one, or with one empty, is refused), and the optional ones.
_REQUIRED = ("id", "claim", "source", "measured", "verdict", "why", "notebook", "section")
_OPTIONAL_TEXT = ("basis", "n", "budget", "profile")


def _row_problem(cid: Any, row: Any) -> str | None:
    """What is wrong with one stored row (``None``: nothing): the fields :class:`Claim` writes, of their types, the
    verdict, source and basis among :data:`VERDICTS`, :data:`SOURCES` and ``BASES``."""
    if not isinstance(row, dict):
        return f"is {type(row).__name__}, not a mapping of the row's fields"
    missing = [k for k in _REQUIRED if k not in row]
    if missing:
        return f"lacks {', '.join(missing)}"
    empty = [k for k in _REQUIRED if not isinstance(row[k], str) or (k != "measured" and not row[k].strip())]
    if empty:
        return f"has no text in {', '.join(empty)}"
    if row["id"] != cid:
        return f"has id {row['id']!r} under the key {cid!r}"
    for name, allowed in (("verdict", VERDICTS), ("source", SOURCES), ("basis", BASES)):
        value = row.get(name, "experiment" if name == "basis" else None)
        if value not in allowed:
            return f"has {name} {str(value)[:60]!r}, not one of {', '.join(allowed)}"
    bad = [k for k in _OPTIONAL_TEXT if k in row and not isinstance(row[k], str)]
    bad += [k for k, t in (("figure", (str, type(None))), ("numbers", dict)) if k in row and not isinstance(row[k], t)]
    if bad:
        return f"has a value of the wrong type in {', '.join(bad)}"
    return None


def _load_rows(path: Path, regenerate: str) -> dict[str, dict[str, Any]]:
    """The rows of a claims file, each checked (:func:`_row_problem`); :class:`ResultsError` naming the file and the
    row otherwise (an invalid verdict such as ``"REPRODUCED!!"`` was published into README)."""
    data = load_json(path, schema=SCHEMA, regenerate=regenerate)
    rows = data.get("rows")
    if not isinstance(rows, dict):
        raise ResultsError(f"{repo_relative(path)}: 'rows' must map claim ids to rows, got {str(rows)[:40]!r}; "
                           f"regenerate it with: {regenerate}")
    for cid, row in rows.items():
        problem = _row_problem(cid, row)
        if problem:
            raise ResultsError(f"{repo_relative(path)}: row {str(cid)[:60]!r} {problem}; "
                               f"regenerate it with: {regenerate}")
    return rows


def load_claims(profile: str | None = None) -> list[dict[str, Any]]:
    """All recorded rows, in notebook order, each checked (its fields, verdict, source and basis; a bad one is a
    :class:`utils.results.ResultsError` naming the file and row). A claim id recorded by two notebooks (two rows that
    could contradict each other) is a :class:`utils.results.ResultsError` naming both files."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    for p in sorted(_claims_dir(profile).glob("*.json")):
        for cid, row in _load_rows(p, regenerate=f"make reproduce (notebook {p.stem})").items():
            if cid in seen:
                raise ResultsError(f"claim {cid!r} is recorded by two notebooks, {repo_relative(seen[cid])} and "
                                   f"{repo_relative(p)}: a claim belongs to one notebook; remove the stale row and "
                                   "rerun the notebook that owns it")
            seen[cid] = p
            rows.append(presentation(row))
    return rows
