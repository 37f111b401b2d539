"""The claims ledger at a glance: ``figures/ledger_forest.png``, one line per comparative claim (per part, for a claim
of several parts) with its difference and CI, drawn by :func:`utils.reproduce.claims.build_ledger` from the recorded rows.

* Every difference is turned so that the paper's claimed direction points right (:func:`utils.reproduce.claims.oriented`);
  an equivalence claim shows its 90 % CI (thick) inside its 95 % CI (thin), and a margin fixed in advance is shaded.
* Rows in different units get their own panel (:data:`PANELS`, keyed by :data:`utils.reproduce.claims.QUANTITY`), one axis
  each, and within a panel the rows are grouped by source (:data:`utils.reproduce.claims.SOURCES`).
* The verdict is a colour *and* a marker (:data:`utils.reproduce.claims.VERDICT_STYLE`, the one mapping README's table uses
  too), so the legend works in greyscale.
* At most 1000 px wide (``WIDTH_IN`` x ``DPI``); the height grows with the number of rows instead of the text
  shrinking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.reproduce.row_view import VERDICT_STYLE, by_source, evidence_parts, oriented, presentation, verdict_style
from utils.results import atomic_path

__all__ = ["DPI", "PANELS", "WIDTH_IN", "forest_figure", "forest_lines", "save_forest"]

#: Axis label of each measured quantity's panel, in the order the panels are drawn.
PANELS: dict[str, str] = {
    "pass@1": "difference in pass@1 (share of problems solved)",
    "pass@k": "difference in pass@k at large k (k = 32-128)",
    "entropy (nats)": "difference in token entropy (nats)",
    "share of tokens": "difference in a share of tokens",
    "overlap": "difference in the overlap of top-20% entropy positions",
    "slope per decade": "slope of the top-20% - all pass@1 gap per 10x parameters",
}
UNSTATED = "unit not stated"
WIDTH_IN, DPI = 9.8, 100  # 980 px
ROW_IN, HEADER_IN = 0.24, 0.55  # height per line, per panel's axis and title
SOURCE_SHORT = {"Wang et al. 2025": "Wang et al.", "Cheng et al. 2025": "Cheng et al.",
                "Yu et al. 2025 (DAPO)": "Yu et al. (DAPO)"}


def forest_lines(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The figure's content, by panel (quantity): per panel, in source order, either a source heading
    ``{"heading": source}`` or a line ``{"label", "verdict", "x", "ci95", "ci90", "equivalence", "margin", "id"}``
    (already turned to the claimed direction)."""
    panels: dict[str, list[dict[str, Any]]] = {}
    last: dict[str, str] = {}
    for r in by_source(rows):
        short = presentation(r)["short"]
        for p in evidence_parts(r):
            q = p["quantity"] or UNSTATED
            lines = panels.setdefault(q, [])
            if last.get(q) != r["source"]:
                lines.append({"heading": SOURCE_SHORT.get(r["source"], r["source"])})
                last[q] = r["source"]
            x, ci95, ci90 = oriented(p["evidence"], p["direction"])
            lines.append({"label": f"{short} · {p['part']}" if p["part"] else short, "verdict": r["verdict"], "x": x,
                          "ci95": ci95, "ci90": ci90, "equivalence": p["direction"] == "equivalent",
                          "margin": p["evidence"].get("margin"), "id": r["id"],
                          "holm": bool((p["evidence"].get("detail") or {}).get("ci_level"))})
    order = list(PANELS) + [UNSTATED]
    return {q: panels[q] for q in sorted(panels, key=lambda q: order.index(q) if q in order else len(order))}


@dataclass
class _Drawn:
    """What the panels drew, for the legend: the verdicts shown, and whether any line had a 90 % CI (a claim with a
    margin or an equivalence), a margin band, or a Holm-adjusted CI."""

    verdicts: set[str] = field(default_factory=set)
    eq: bool = False
    margin: bool = False
    holm: bool = False


def _draw_line(ax: Any, y: int, ln: dict[str, Any], drawn: _Drawn) -> None:
    """One claim's line at height ``y``: its margin band, its 95 % CI, its 90 % CI where it has a margin or is an
    equivalence, and its point in the look of its verdict."""
    st = verdict_style(ln["verdict"])
    drawn.verdicts.add(ln["verdict"])
    if ln["margin"]:
        m = ln["margin"]
        ax.fill_between([-m, m], y - 0.42, y + 0.42, color="#000000", alpha=0.10, lw=0)
        drawn.margin = True
    lo, hi = ln["ci95"]
    ax.plot([lo, hi], [y, y], color=st.colour, lw=1.4, solid_capstyle="butt")
    if ln["equivalence"] or ln["margin"]:
        ax.plot(list(ln["ci90"]), [y, y], color=st.colour, lw=4.5, alpha=0.85, solid_capstyle="butt")
        drawn.eq = True
    drawn.holm |= ln["holm"]
    ax.plot([ln["x"]], [y], marker=st.marker, fillstyle=st.fill, color=st.colour, markersize=8.5,
            markeredgecolor="#000000" if st.fill != "none" else st.colour, markeredgewidth=0.7,
            markerfacecoloralt="white", ls="none")


def _draw_panel(ax: Any, q: str, lines: list[dict[str, Any]], drawn: _Drawn) -> None:
    """One quantity's panel: its source headings and claim lines, the zero line, the axes and the title."""
    n = len(lines)
    ys = list(range(n))[::-1]
    labels = []
    for y, ln in zip(ys, lines):
        if "heading" in ln:
            labels.append(ln["heading"])
            continue
        labels.append(ln["label"])
        _draw_line(ax, y, ln, drawn)
    ax.axvline(0, color="#333333", lw=0.9)
    ax.set_yticks(ys, labels, fontsize=9)
    for tick, ln in zip(ax.get_yticklabels(), lines):
        if "heading" in ln:
            tick.set_fontweight("bold")
            tick.set_fontstyle("italic")
            tick.set_color("#444444")
    ax.set_ylim(-0.6, n - 0.4)
    xs = [v for ln in lines if "heading" not in ln for v in (*ln["ci95"], ln["margin"] or 0, -(ln["margin"] or 0))]
    lo, hi = min(xs + [0.0]), max(xs + [0.0])
    pad = 0.06 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.tick_params(axis="x", labelsize=8.5, pad=1.5)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title(PANELS.get(q, UNSTATED) + ", turned so that the claim points right  →", fontsize=9.5, loc="left",
                 pad=3)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)


def _legend_handles(drawn: _Drawn) -> list[Any]:
    """The legend: one marker per verdict shown (in the ledger's order), then the interval and margin keys."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], marker=verdict_style(v).marker, fillstyle=verdict_style(v).fill, ls="none",
                      color=verdict_style(v).colour, markeredgecolor="#000000" if verdict_style(v).fill != "none"
                      else verdict_style(v).colour, markersize=8, markerfacecoloralt="white", label=v)
               for v in sorted(drawn.verdicts,
                               key=lambda v: list(VERDICT_STYLE).index(v) if v in VERDICT_STYLE else 99)]
    handles.append(Line2D([], [], color="#555555", lw=1.4, label="95% CI" + (" (Holm-adjusted for the rho sweep)"
                                                                             if drawn.holm else "")))
    if drawn.eq:
        handles.append(Line2D([], [], color="#555555", lw=4.5, label="90% CI (claims with a margin)"))
    if drawn.margin:
        handles.append(Patch(color="#000000", alpha=0.10, label="margin fixed in advance"))
    return handles


def forest_figure(rows: list[dict[str, Any]]) -> Any:
    """The forest plot of ``rows`` (ledger rows as :func:`utils.reproduce.claims.load_claims` returns them); rows without
    evidence are left out. Returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    panels = forest_lines(rows)
    if not panels:
        fig = plt.figure(figsize=(WIDTH_IN, 1.0), dpi=DPI)
        fig.text(0.5, 0.5, "no comparative claims recorded yet", ha="center", va="center")
        return fig
    heights = [len(lines) * ROW_IN + HEADER_IN for lines in panels.values()]
    fig = plt.figure(figsize=(WIDTH_IN, sum(heights) + 1.1), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)[:, 0]
    drawn = _Drawn()
    for ax, (q, lines) in zip(axes, panels.items()):
        _draw_panel(ax, q, lines, drawn)
    fig.legend(handles=_legend_handles(drawn), loc="outside upper center", ncol=3, fontsize=9, frameon=False,
               columnspacing=1.4, handletextpad=0.5)
    return fig


def save_forest(rows: list[dict[str, Any]], path: Path) -> Path:
    """Draw :func:`forest_figure` and write it to ``path`` atomically (PNG, no timestamp: the same rows give the same
    pixels); returns ``path``."""
    import matplotlib.pyplot as plt

    fig = forest_figure(rows)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    return path


