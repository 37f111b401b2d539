"""The ledger as text: ``data/results/claims.md`` (:func:`build_ledger`, with the forest figure) and the
one-screen summary README's ledger block shows (:func:`summary_markdown`), from the rows
:func:`utils.reproduce.claim_store.load_claims` reads. :mod:`utils.reproduce.claims` re-exports these names."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from utils.config import get_profile, results_dir
from utils.reproduce.claim_store import load_claims
from utils.reproduce.published import PUBLISHED
from utils.reproduce.row_view import (VERDICT_STYLE, by_source, ci_name, evidence_parts, is_comparative, oriented,
                                      presentation, verdict_label, verdict_style)
from utils.results import atomic_write_text

__all__ = ["FOREST", "anchor", "build_ledger", "counts_line", "deciding_number", "ledger_markdown",
           "summary_markdown"]


def _cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def deciding_number(row: dict[str, Any]) -> str:
    """The number(s) a comparative row's verdict rests on, each with its CI, turned so the claimed direction is
    positive (:func:`oriented`): an equivalence by its 90 % CI and margin, anything else by its 95 % CI (and, where
    it has a margin, its 90 % CI and the margin). Parts of a claim of several parts are joined by "; ". ``"–"`` for
    other rows."""
    out = []
    for p in evidence_parts(row):
        ev, direction = p["evidence"], p["direction"]
        x, ci95, ci90 = oriented(ev, direction)
        eq, m = direction == "equivalent", ev.get("margin")
        digits = 4 if max(abs(v) for v in (*ci95, *ci90)) < 0.02 else 3
        f95, f90 = (f"{lo:+.{digits}f}, {hi:+.{digits}f}" for lo, hi in (ci95, ci90))
        cis = f"90% CI {f90}" if eq else f"{ci_name(ev)} {f95}" + (f"; 90% CI {f90}" if m else "")
        num = f"{x:+.{digits}f} [{cis}]"
        num += f" {p['quantity']}" if p["quantity"] else ""
        num += f", margin ±{m:g}" if m else ""
        out.append(f"{p['part']}: {num}" if p["part"] else num)
    return "; ".join(out) or "–"


def anchor(claim_id: str) -> str:
    """The HTML anchor of a row's details in claims.md: ``wang.top20_matches_full`` -> ``wang-top20-matches-full``."""
    return claim_id.replace(".", "-").replace("_", "-")


def counts_line(rows: list[dict[str, Any]]) -> str:
    """The verdict counts in one line: ``**34 claims:** 12 ● reproduced · 5 ▼ not reproduced · ...``."""
    counts = dict(Counter(r["verdict"] for r in rows))
    order = list(VERDICT_STYLE) + [v for v in counts if v not in VERDICT_STYLE]
    ordered = sorted(counts, key=order.index)
    return f"**{len(rows)} claims:** " + " · ".join(f"{counts[v]} {verdict_style(v).symbol} {v}" for v in ordered)


def summary_markdown(rows: list[dict[str, Any]], details: str, figure: str | None) -> str:
    """The ledger in one screen (README's section, the top of claims.md): the forest figure (``figure``, a link;
    ``None``: none), the verdict counts in one line, then one short row per claim -- claim in a few words, source,
    verdict, the deciding number with its CI, and a link to its details (``details``: claims.md's address, ``""``
    within claims.md)."""
    head = [f"![Every comparative claim of the ledger with its interval]({figure})", ""] if figure else []
    head += [counts_line(rows) + ". Positive numbers point the way the paper claims; an equivalence is read on its "
             "90 % CI against the margin.", "",
             "| claim | source | verdict | deciding number | details |", "|---|---|---|---|---|"]
    lines = [f"| {_cell(presentation(r)['short'])} | {_cell(r['source'])} | {verdict_label(r['verdict'])} | "
             f"{_cell(deciding_number(r))} | [{r['notebook'][:2]} · details]({details}#{anchor(r['id'])}) |"
             for r in by_source(rows)]
    return "\n".join(head + lines) + "\n"


def ledger_markdown(rows: list[dict[str, Any]], link_prefix: str = "") -> str:
    """Every row in full, under its anchor (:func:`anchor`): the claim as published, the measurement, the deciding
    number, the verdict and what it rests on (with the robustness note where a committed check covers it), n, budget
    and profile, and where it is measured (links relative to ``link_prefix``: '' from the repo root)."""
    from utils.reproduce.robustness import ledger_notes

    # does a verdict survive a re-run with another reduction order?
    notes = ledger_notes(sources={k: v[1] for k, v in PUBLISHED.items()})
    out = []
    for r in by_source(rows):
        note = notes.get(r["id"])
        why = r["why"] + (f" — {note}" if note else "")
        where = f"[{r['notebook'][:2]} · {r['section']}]({link_prefix}notebooks/{r['notebook']})"
        if r.get("figure"):
            where += f" · [figure]({link_prefix}figures/{r['figure']}.png)"
        ctx = " · ".join(x for x in (r.get("n"), r.get("budget"), r.get("profile")) if x) or "–"
        basis = "" if r.get("basis", "experiment") == "experiment" else f" ({r['basis']})"
        out.append("\n".join([
            f"### <a id=\"{anchor(r['id'])}\"></a>{presentation(r)['short']} — {verdict_label(r['verdict'])}",
            "",
            f"- **claim** (`{r['id']}`, {r['source']}): {r['claim']}",
            f"- **measured:** {r['measured'] or '–'}",
            *([f"- **deciding number:** {deciding_number(r)}"] if is_comparative(r) else []),
            f"- **verdict:** **{r['verdict']}**{basis} — {why}",
            f"- **n · budget · profile:** {ctx}",
            f"- **where:** {where}",
        ]))
    return "\n\n".join(out) + "\n"


FOREST = "ledger_forest"  # figures/ledger_forest.png


def build_ledger(profile: str | None = None) -> Path:
    """Write ``results_dir()/claims.md`` and the forest plot ``figures_dir()/ledger_forest.png``
    (:func:`utils.reproduce.forest.save_forest`) from the recorded rows (atomically); returns claims.md's path."""
    from utils.config import REPO_ROOT, figures_dir
    from utils.reproduce.forest import save_forest

    p = profile or get_profile()
    rows = load_claims(p)
    out = results_dir(p) / "claims.md"
    fig = save_forest(rows, figures_dir(p) / f"{FOREST}.png")
    up = os.path.relpath(REPO_ROOT, out.parent).replace(os.sep, "/") + "/"
    atomic_write_text(
        out,
        "# Claims ledger\n\nGenerated by `utils.reproduce.claims.build_ledger` from the rows the notebooks record "
        f"(profile `{p}`); do not edit by hand. A published claim is **reproduced** or **not reproduced** (or "
        "**below the margin**: the direction holds, the size does not); a claim of this project's own (source: derived "
        "here) **holds** or **fails**; either can be **inconclusive**. The rules: README's ledger section.\n\n"
        + summary_markdown(rows, "", os.path.relpath(fig, out.parent).replace(os.sep, "/"))
        + "\n## Every row in full\n\n" + ledger_markdown(rows, link_prefix=up) + "\n",
    )
    return out
