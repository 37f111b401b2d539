"""Did this run reproduce the committed ledger? The block ``python -m utils.reproduce`` (``make reproduce``) ends with.

:func:`compare_with_committed` reads the profile's ledger as the run left it (``claims/*.json`` under
:func:`utils.config.results_dir`) and as it is committed (``git show HEAD:`` of the same files), and the profile's
figures likewise (:func:`utils.config.figures_dir`), and returns a :class:`LedgerComparison`:

* the verdict counts of this run;
* every verdict that differs from the committed one (and rows that appeared or disappeared);
* every number that moved outside its committed 95 % CI (every piece of evidence a row stores, by its place in the
  row's ``numbers``);
* every figure whose decoded pixels differ from the committed PNG (bytes are not compared: a PNG's metadata or
  compression may change while the picture does not);
* one plain line saying whether the run reproduced the committed verdicts.

A profile whose ledger is not committed (``ci`` writes under ``build/``, which git ignores) has nothing to compare
with, and the block says so. Nothing here writes a file.
"""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LedgerComparison", "changed_figures", "committed_rows", "compare_rows", "compare_with_committed",
           "evidence_by_place", "git_show"]


def git_show(repo: Path, rel: str) -> bytes | None:
    """The committed (``HEAD``) bytes of ``rel`` in the git checkout ``repo``; ``None`` when it is not committed or
    ``repo`` is not a git checkout."""
    try:
        p = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{rel}"], capture_output=True, timeout=60,
                           check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout if p.returncode == 0 else None


def _committed_names(repo: Path, rel_dir: str, suffix: str) -> list[str] | None:
    """Names of the files directly in ``rel_dir`` at ``HEAD`` ending in ``suffix``; ``None`` if git cannot say."""
    try:
        p = subprocess.run(["git", "-C", str(repo), "ls-tree", "--name-only", "HEAD", f"{rel_dir.rstrip('/')}/"],
                           capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if p.returncode != 0:
        return None
    return sorted(Path(line).name for line in p.stdout.splitlines() if line.endswith(suffix))


def _rows_of(text: bytes | str, where: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(text)
        rows = data["rows"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{where} is not a claims file ({type(e).__name__})") from None
    return dict(rows)


def committed_rows(repo: Path, claims_rel: str) -> dict[str, dict[str, Any]] | None:
    """The committed ledger rows (``git show HEAD:<claims_rel>/NN.json``), by claim id; ``None`` when no claims file
    of that folder is committed."""
    names = _committed_names(repo, claims_rel, ".json")
    if not names:
        return None
    rows: dict[str, dict[str, Any]] = {}
    for n in names:
        blob = git_show(repo, f"{claims_rel}/{n}")
        if blob is not None:
            rows.update(_rows_of(blob, f"HEAD:{claims_rel}/{n}"))
    return rows


def current_rows(folder: Path) -> dict[str, dict[str, Any]]:
    """The ledger rows in ``folder`` (``NN.json``; staging files are not rows), by claim id."""
    rows: dict[str, dict[str, Any]] = {}
    for p in sorted(folder.glob("*.json")):
        rows.update(_rows_of(p.read_text(encoding="utf-8"), str(p)))
    return rows


def evidence_by_place(numbers: Any, place: str = "") -> dict[str, dict[str, Any]]:
    """Every stored piece of evidence (a dict with ``diff`` and ``ci95``) in a row's ``numbers``, by its place
    (``"evidence"``, ``"evidence[1]"``, ``"budget/1e-4/200"``, ...)."""
    out: dict[str, dict[str, Any]] = {}
    if isinstance(numbers, dict):
        if "diff" in numbers and isinstance(numbers.get("ci95"), (list, tuple)) and len(numbers["ci95"]) == 2:
            return {place or "evidence": numbers}
        for k, v in numbers.items():
            out.update(evidence_by_place(v, f"{place}/{k}" if place else str(k)))
    elif isinstance(numbers, list):
        for i, v in enumerate(numbers):
            out.update(evidence_by_place(v, f"{place}[{i}]"))
    return out


@dataclass
class LedgerComparison:
    """What :func:`compare_with_committed` found; :meth:`lines` is the printed block."""

    profile: str
    counts: dict[str, int]
    n_rows: int
    against: str | None  # what the ledger was compared with, e.g. "HEAD:data/results/claims"; None: nothing
    flips: list[tuple[str, str, str]] = field(default_factory=list)  # (id, committed verdict, this run's)
    missing: list[str] = field(default_factory=list)  # committed rows this run's ledger lacks
    new: list[str] = field(default_factory=list)  # rows the committed ledger lacks
    moved: list[str] = field(default_factory=list)  # "id place: now x, committed y [lo, hi]"
    n_numbers: int = 0  # numbers compared
    figures_against: str | None = None
    figures_changed: list[str] = field(default_factory=list)  # "name (x % of pixels)"
    figures_new: list[str] = field(default_factory=list)
    n_figures: int = 0  # figures compared
    ran: list[str] = field(default_factory=list)  # notebooks this run executed, e.g. ["01"]

    @property
    def reproduced(self) -> bool | None:
        """``True``: every committed verdict came out the same (and no row appeared or disappeared); ``False``: some
        did not; ``None``: nothing to compare with."""
        if self.against is None:
            return None
        return not (self.flips or self.missing or self.new)

    def verdict_line(self) -> str:
        if self.against is None:
            return (f"NOTHING TO COMPARE WITH: the {self.profile} profile's ledger is not committed; the verdicts "
                    "above are this run's own.")
        n = self.n_rows - len(self.new)
        if self.reproduced:
            return f"REPRODUCED: all {n} committed verdicts came out the same."
        bad = len(self.flips) + len(self.missing) + len(self.new)
        return f"NOT REPRODUCED: {bad} of {n + len(self.new)} verdicts differ from the committed ledger (listed above)."

    def lines(self) -> list[str]:
        """The comparison block, one string per line."""
        from utils.reproduce.row_view import VERDICT_STYLE

        order = list(VERDICT_STYLE)
        counts = " · ".join(f"{self.counts[v]} {v}" for v in sorted(self.counts, key=lambda v: order.index(v)
                                                                      if v in order else len(order)))
        out = ["", f"== comparison with the committed ledger (profile {self.profile}) =="]
        if self.ran:
            out.append(f"this run executed notebook(s) {', '.join(self.ran)}; the other rows are as they were")
        out.append(f"verdicts: {self.n_rows} claims: {counts or 'none recorded'}")
        if self.against is None:
            out.append(f"committed ledger: none for the {self.profile} profile, nothing to compare with")
        else:
            n_diff = len(self.flips) + len(self.missing) + len(self.new)
            out.append(f"verdicts that differ from {self.against}: {n_diff}")
            out += [f"  {cid}: {old} -> {new}" for cid, old, new in self.flips]
            out += [f"  {cid}: committed, missing from this run's ledger" for cid in self.missing]
            out += [f"  {cid}: new, not in the committed ledger" for cid in self.new]
            out.append(f"numbers outside their committed 95% CI: {len(self.moved)} of {self.n_numbers}")
            out += [f"  {m}" for m in self.moved]
        if self.figures_against is None:
            out.append(f"figures: none committed for the {self.profile} profile, nothing to compare with")
        else:
            out.append(f"figures whose pixels differ from {self.figures_against}: {len(self.figures_changed)} of "
                       f"{self.n_figures}" + (f" (not committed: {', '.join(self.figures_new)})" if self.figures_new
                                              else ""))
            out += [f"  {f}" for f in self.figures_changed]
        out.append(self.verdict_line())
        return out


def compare_rows(committed: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
                 ) -> tuple[list[tuple[str, str, str]], list[str], list[str], list[str], int]:
    """``(flips, missing, new, moved, n_numbers)`` between two ledgers (rows by claim id): verdicts that differ,
    committed rows now absent, rows not committed, and every piece of evidence present in both whose difference now
    lies outside its committed 95 % CI (``n_numbers``: how many were compared)."""
    flips = [(cid, committed[cid]["verdict"], r["verdict"]) for cid, r in current.items()
             if cid in committed and committed[cid]["verdict"] != r["verdict"]]
    missing = [cid for cid in committed if cid not in current]
    new = [cid for cid in current if cid not in committed]
    moved, n = [], 0
    for cid, r in current.items():
        if cid not in committed:
            continue
        old = evidence_by_place(committed[cid].get("numbers"))
        for place, ev in evidence_by_place(r.get("numbers")).items():
            if place not in old:
                continue
            n += 1
            o = old[place]
            lo, hi = o["ci95"]
            if not lo <= ev["diff"] <= hi:
                moved.append(f"{cid} {place}: now {ev['diff']:+.4f}, committed {o['diff']:+.4f} "
                             f"[95% CI {lo:+.4f}, {hi:+.4f}]")
    return flips, missing, new, moved, n


def _pixels(data: bytes | Path) -> Any:
    import numpy as np
    from PIL import Image

    decode = Image.open  # a PNG, read as bytes (no text, so no encoding)
    with decode(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
        return np.asarray(im.convert("RGBA"))


def changed_figures(repo: Path, figures_rel: str) -> tuple[list[str], list[str], int] | None:
    """``(changed, new, n_compared)`` for the PNGs in ``repo/figures_rel``: those whose decoded pixels differ from
    ``HEAD``'s (named with the share of pixels that differ, or the two sizes), and those not committed. ``None`` when
    no figure of that folder is committed."""
    import numpy as np

    names = _committed_names(repo, figures_rel, ".png")
    if not names:
        return None
    changed, new, n = [], [], 0
    for p in sorted((repo / figures_rel).glob("*.png")):
        if p.name not in names:
            new.append(p.stem)
            continue
        blob = git_show(repo, f"{figures_rel}/{p.name}")
        if blob is None:
            continue
        n += 1
        if blob == p.read_bytes():
            continue
        a, b = _pixels(blob), _pixels(p)
        if a.shape != b.shape:
            changed.append(f"{p.stem} (size {a.shape[1]}x{a.shape[0]} -> {b.shape[1]}x{b.shape[0]} px)")
        elif (diff := np.any(a != b, axis=-1)).any():
            changed.append(f"{p.stem} ({100 * diff.mean():.2f} % of pixels)")
    return changed, new, n


def _inside(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (posix), or ``None`` when it lies outside (then nothing of it is committed)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def compare_with_committed(profile: str, repo: Path | None = None, ran: list[str] | None = None) -> LedgerComparison:
    """Compare the ``profile``'s ledger and figures in the checkout ``repo`` (default: this one) with what ``HEAD``
    holds (see the module docstring); ``ran``: the notebooks this run executed (named in the block)."""
    from utils.config import REPO_ROOT, figures_dir, results_dir

    root = Path(repo or REPO_ROOT)
    claims_abs, figures_abs = results_dir(profile) / "claims", figures_dir(profile)
    claims_rel, figures_rel = _inside(claims_abs, REPO_ROOT), _inside(figures_abs, REPO_ROOT)
    folder = root / claims_rel if claims_rel is not None else claims_abs
    current = current_rows(folder) if folder.is_dir() else {}
    counts: dict[str, int] = {}
    for r in current.values():
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    out = LedgerComparison(profile=profile, counts=counts, n_rows=len(current), against=None, ran=list(ran or []))
    committed = committed_rows(root, claims_rel) if claims_rel is not None else None
    if committed is not None:
        out.against = f"HEAD:{claims_rel}"
        out.flips, out.missing, out.new, out.moved, out.n_numbers = compare_rows(committed, current)
    figs = changed_figures(root, figures_rel) if figures_rel is not None else None
    if figs is not None:
        out.figures_against = f"HEAD:{figures_rel}"
        out.figures_changed, out.figures_new, out.n_figures = figs
    return out
