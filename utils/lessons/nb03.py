"""What notebook 03 (dual temperature) shows next to its numbers: the tables and the sentences that say what a
figure or a table found, and its summary (the formatting; the notebook computes the results)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from utils.stats import Evidence, verdict

__all__ = ["SAID", "axis_sentence", "grid_sentence", "passk_sentence", "passk_table",
           "shape_table", "summary_03"]


#: A verdict of "is it better?", in words.
SAID = {"reproduced": "yes", "not reproduced": "no, the opposite", "inconclusive": "cannot tell"}


def _at(t: dict[str, Any], fn: Any) -> tuple[float, tuple[float, float]]:
    """The value of the grid ``t`` that ``fn`` picks (``np.nanargmin`` or ``np.nanargmax``) and its cell."""
    import numpy as np

    m = np.asarray(t["mean"])
    i, j = np.unravel_index(fn(m), m.shape)
    return float(m[i, j]), (float(t["t_forks"][i]), float(t["t_rests"][j]))


def grid_sentence(table: dict[str, Any], fork_table: dict[str, Any], ev: Evidence, judged: Any, base: Any) -> str:
    """Notebook 03, what ``03_grid_heatmap`` found: the range of pass@1 and of the fork share over the grid, and
    ``judged`` − ``base`` with its 95 % CI."""
    import numpy as np

    (lo, clo), (hi, chi) = _at(table, np.nanargmin), _at(table, np.nanargmax)
    (flo, _), (fhi, _) = _at(fork_table, np.nanargmin), _at(fork_table, np.nanargmax)
    cell = lambda c: f"({c[0]:g}, {c[1]:g})"
    return (f"The figure found: pass@1 runs from {lo:.3f} at {cell(clo)} to {hi:.3f} at {cell(chi)}; the fork share "
            f"from {flo:.2f} to {fhi:.2f}. The write-up's {cell(judged)} − {cell(base)} = {ev.diff:+.3f} "
            f"[95 % CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}], n = {ev.n_a} problems: better? "
            f"**{SAID[verdict(ev, 'greater')]}**.")


def axis_sentence(shape: dict[str, Any]) -> str:
    """Notebook 03, what ``03_axis_effects`` found: each part of the paper's shape with its 95 % CI and verdict,
    and the direction-free reading."""
    parts = "; ".join(f"{p['what']}: {p['evidence'].diff:+.3f} [{p['evidence'].ci95[0]:+.3f}, "
                      f"{p['evidence'].ci95[1]:+.3f}] ({p['verdict']})" for p in shape["parts"])
    return (f"The figure found: {parts}. All parts together: **{shape['verdict']}**. Direction-free: "
            f"F = {shape['fork_swing']:+.3f}, R = {shape['rest_swing']:+.3f}; does T_fork move pass@1 more than "
            f"T_rest, either way (|F| > |R|)? **{shape['magnitude_verdict']}**.")


def shape_table(shape: dict[str, Any]) -> Any:
    """Notebook 03: one row per part of the paper's shape (claimed direction, difference, 95 % CI, the smallest
    difference the design detects, verdict)."""
    import pandas as pd

    return pd.DataFrame([{"part": p["what"], "claimed": p["direction"], "diff": round(p["evidence"].diff, 3),
                          "95% CI": f"[{p['evidence'].ci95[0]:+.3f}, {p['evidence'].ci95[1]:+.3f}]",
                          "detectable": round(p["evidence"].mde, 3), "verdict": p["verdict"]}
                         for p in shape["parts"]]).set_index("part")


def passk_sentence(curves: dict[str, Any], at_n: dict[str, Evidence], k: int, judged: str) -> str:
    """Notebook 03, what ``03_passk`` found: pass@1 and pass@``k`` of every cell, and the judged cell minus (1, 1)
    at ``k`` with its 95 % CI."""
    name = lambda key: "({}, {})".format(*key.split(","))
    ends = "; ".join(f"{name(key)} {c['mean'][0]:.3f} → {c['mean'][-1]:.3f}" for key, c in curves.items())
    ev = at_n[judged]
    return (f"The figure found: pass@1 → pass@{k} per cell: {ends}. At k = {k}, {name(judged)} − (1, 1) = "
            f"{ev.diff:+.3f} [95 % CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}], n = {ev.n_a} problems: more coverage? "
            f"**{SAID[verdict(ev, 'greater')]}**.")


def passk_table(pk_runs: Sequence[dict[str, Any]], cells: Sequence[Any], base: Any, n: int) -> Any:
    """Notebook 03: every pass@k cell against ``base`` at k = 1 and k = ``n`` (paired by problem)."""
    import pandas as pd

    from utils.toy_lm import decoding_grid as dg

    rows = []
    for c in cells:
        if c == base:
            continue
        for k in (1, n):
            ev = dg.compare_cells(pk_runs, c, base, k=k)
            rows.append({"cell": f"({c[0]:g}, {c[1]:g})", "k": k, "pass@k": ev.mean_a, "(1, 1)": ev.mean_b,
                         "diff": ev.diff, "95% CI": f"[{ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}]",
                         "p": "< 0.001" if ev.p < 0.001 else f"{ev.p:.3f}"})
    return pd.DataFrame(rows).set_index(["cell", "k"]).round(4)


def summary_03(*, ev21: Evidence, ev_cov: Evidence, n_pk: int, shape: dict[str, Any], best: Any,
               fork_base: float, fork_hot: float, hot: float, lm_summary: Sequence[dict[str, Any]],
               n_word_problems: int) -> str:
    """Notebook 03's summary, from its results."""
    ci = lambda ev: f"{ev.diff:+.3f} (95 % CI {ev.ci95[0]:+.3f} to {ev.ci95[1]:+.3f})"
    lines = [
        "The dual-temperature rule is a few lines (section 1): the entropy of the untempered row picks T_fork or "
        "T_rest.",
        f"Task model at (1, 1): pass@1 {ev21.mean_b:.3f}, pass@{n_pk} {ev_cov.mean_b:.3f} on held-out Countdown "
        "problems.",
        f"**Is the write-up's (2, 1) better than (1, 1)?** {SAID[verdict(ev21, 'greater')]}: pass@1 {ci(ev21)}.",
        f"**Does it buy coverage?** {SAID[verdict(ev_cov, 'greater')]}: pass@{n_pk} {ci(ev_cov)}.",
        "**The paper's shape** (raising T_fork helps, lowering it hurts, T_rest matters less): "
        f"{shape['verdict']}; " + "; ".join(f"{p['what']}: {ci(p['evidence'])}" for p in shape["parts"][:2])
        + f". T_fork moves pass@1 more than T_rest either way: {SAID[shape['magnitude_verdict']]} "
        f"(F = {shape['fork_swing']:+.3f}, R = {shape['rest_swing']:+.3f}).",
        f"Highest pass@1 in the grid: {best} (descriptive). Fork share {fork_base:.2f} at (1, 1), {fork_hot:.2f} "
        f"at ({hot:g}, {hot:g}).",
        f"SmolLM2: the same rule at (2, 1) raises the fork share from {lm_summary[0]['fork share']:.2f} to "
        f"{lm_summary[1]['fork share']:.2f} on {n_word_problems} word problems (qualitative)."]
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
