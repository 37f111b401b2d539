"""Reading the dual-temperature grid of :mod:`utils.toy_lm.decoding_grid`: per-cell statistics, paired comparisons
of cells (the unit is a held-out problem), Wang et al.'s shape claim, pass@k curves, and the results file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from utils.config import results_dir
from utils.passk import mean_pass_at_k
from utils.results import load_json, save_json
from utils.stats import Evidence, compare

Cell = tuple[float, float]


def _select(runs: Sequence[dict[str, Any]], cell: Cell) -> list[dict[str, Any]]:
    t_fork, t_rest = cell
    sel = [r for r in runs if math.isclose(r["t_fork"], t_fork) and math.isclose(r["t_rest"], t_rest)]
    if not sel:
        raise KeyError(f"no run for cell (t_fork={t_fork}, t_rest={t_rest}); run it with run_grid first")
    return sorted(sel, key=lambda r: r["seed"])


def cell_stats(runs: Sequence[dict[str, Any]], cell: Cell, key: str = "pass1") -> dict[str, Any]:
    """Mean, sd (ddof=1; 0 for one seed) and per-seed values of ``key`` for one cell."""
    sel = _select(runs, cell)
    v = np.array([r[key] for r in sel], dtype=float)
    return {
        "t_fork": float(cell[0]),
        "t_rest": float(cell[1]),
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
        "n_seeds": int(v.size),
        "seeds": [r["seed"] for r in sel],
        "per_seed": v.tolist(),
    }


def grid_table(runs: Sequence[dict[str, Any]], key: str = "pass1") -> dict[str, Any]:
    """The grid as matrices: ``t_forks`` (rows), ``t_rests`` (columns), ``mean`` and ``sd`` ``[F, R]``
    (NaN where a cell was not run)."""
    t_forks = sorted({float(r["t_fork"]) for r in runs})
    t_rests = sorted({float(r["t_rest"]) for r in runs})
    mean = np.full((len(t_forks), len(t_rests)), np.nan)
    sd = np.full_like(mean, np.nan)
    for i, f in enumerate(t_forks):
        for j, t in enumerate(t_rests):
            try:
                s = cell_stats(runs, (f, t), key)
            except KeyError:
                continue
            mean[i, j], sd[i, j] = s["mean"], s["sd"]
    return {"t_forks": t_forks, "t_rests": t_rests, "mean": mean, "sd": sd, "key": key}


def per_problem(runs: Sequence[dict[str, Any]], cell: Cell, k: int = 1) -> np.ndarray:
    """Each problem's unbiased pass@k under ``cell``, averaged over the cell's seeds (runs with ``n_samples >= k``)."""
    from utils.passk import pass_at_k

    sel = _select(runs, cell)
    return np.mean([np.atleast_1d(pass_at_k(r["n_samples"], r["correct_counts"], k)) for r in sel], axis=0)


def compare_cells(runs: Sequence[dict[str, Any]], a: Cell, b: Cell, k: int = 1, margin: float | None = None
                  ) -> Evidence:
    """pass@k of cell ``a`` against cell ``b`` (:func:`utils.stats.compare`), paired by problem: the unit is a
    held-out problem, its value the pass@k averaged over the cell's seeds. Every cell of one seed starts from the
    same torch seed, so the two cells' samples share their random numbers."""
    pa, pb = per_problem(runs, a, k), per_problem(runs, b, k)
    if pa.shape != pb.shape:
        raise ValueError(f"cells {a} and {b} were run on different numbers of problems")
    label = lambda c: f"({c[0]:g}, {c[1]:g})"  # noqa: E731
    return compare(pa, pb, paired=True, margin=margin, labels=(label(a), label(b)), unit="problem")


def _side(ev: Evidence) -> int:
    """1 when a 95 % CI lies above 0, -1 when below, 0 when it holds 0."""
    return 1 if ev.ci95[0] > 0 else -1 if ev.ci95[1] < 0 else 0


def swing_verdict(minus: Evidence, plus: Evidence) -> str:
    """Verdict on "``t_rest`` matters less than ``t_fork``" from the two tests of :func:`compare_swings`.

    ``minus`` estimates ``F - R`` and ``plus`` ``F + R`` (``F``, ``R``: the mean swings along ``t_fork`` and
    ``t_rest``).
    ``|F| > |R|`` exactly when ``F - R`` and ``F + R`` have the same sign, so: **reproduced** when both 95 % CIs
    exclude 0 on the same side, **not reproduced** (``|R| > |F|``: ``t_rest`` matters more) when they exclude 0 on
    opposite sides, **inconclusive** otherwise. Either wrong conclusion needs one two-sided 95 % CI on the wrong side
    of 0 (at most 2.5 % each), so each has probability at most 5 % (an intersection-union test)."""
    a, b = _side(minus), _side(plus)
    if a and b:
        return "reproduced" if a == b else "not reproduced"
    return "inconclusive"


def compare_swings(
    runs: Sequence[dict[str, Any]], lo: float, hi: float, center: float = 1.0, k: int = 1,
) -> dict[str, Any]:
    """Does ``t_fork`` move pass@k more than ``t_rest`` when each goes from ``lo`` to ``hi`` (the other at ``center``)?

    Per problem (pass@k averaged over the cell's seeds): the fork swing ``f = p(hi, center) - p(lo, center)`` and the
    rest swing ``r = p(center, hi) - p(center, lo)``. Returns ``fork_swing`` (mean f, ``F``), ``rest_swing`` (mean r,
    ``R``), ``minus`` (:func:`utils.stats.compare` of f against r, paired: ``F - R``), ``plus`` (f against -r:
    ``F + R``) and ``verdict`` (:func:`swing_verdict`: "reproduced" means ``|F| > |R|``, t_rest matters less)."""
    if not lo < center < hi:
        raise ValueError(f"need lo < center < hi, got lo={lo}, center={center}, hi={hi}")
    f = per_problem(runs, (hi, center), k) - per_problem(runs, (lo, center), k)
    r = per_problem(runs, (center, hi), k) - per_problem(runs, (center, lo), k)
    minus = compare(f, r, paired=True, labels=("T_fork swing", "T_rest swing"), unit="problem")
    plus = compare(f, -r, paired=True, labels=("T_fork swing", "-(T_rest swing)"), unit="problem")
    return {"lo": float(lo), "hi": float(hi), "center": float(center), "k": int(k),
            "fork_swing": float(f.mean()), "rest_swing": float(r.mean()),
            "minus": minus, "plus": plus, "verdict": swing_verdict(minus, plus)}


def shape_parts(runs: Sequence[dict[str, Any]], low: float, high: float, center: float = 1.0, k: int = 1
                ) -> dict[str, Any]:
    """Wang et al.'s shape claim ("raising T_fork moderately helps, lowering it hurts, T_rest matters less") as four
    comparisons on the grid (unit: problem, paired), each with the direction the paper implies:

    * (a) ``(high, center)`` against ``(center, center)``: greater;
    * (b) ``(low, center)`` against ``(center, center)``: less;
    * (c) with the fork swing ``F`` and the rest swing ``R`` of :func:`compare_swings` (``low`` -> ``high``): since
      (a) and (b) say ``F > 0``, "T_rest matters less" is ``F > |R|``, i.e. ``F - R > 0`` *and* ``F + R > 0``.

    Returns ``parts`` (``[{"what", "evidence", "direction", "verdict"}]``, ready for ``Ledger.record(evidence=[...],
    direction=[...])``), ``verdict`` (:func:`utils.stats.all_of`: every part must hold), ``fork_swing``,
    ``rest_swing`` and ``magnitude_verdict`` (:func:`swing_verdict`, the direction-free reading ``|F| > |R|``)."""
    from utils.stats import all_of, verdict

    base = (float(center), float(center))
    up, down = compare_cells(runs, (high, center), base, k), compare_cells(runs, (low, center), base, k)
    sw = compare_swings(runs, low, high, center, k)
    span = f"{low:g} -> {high:g}"
    spec = [(f"(a) raising T_fork to {high:g} helps", up, "greater"),
            (f"(b) lowering T_fork to {low:g} hurts", down, "less"),
            (f"(c) T_rest matters less, part 1: F - R > 0 (swings {span})", sw["minus"], "greater"),
            (f"(c) T_rest matters less, part 2: F + R > 0 (swings {span})", sw["plus"], "greater")]
    parts = [{"what": w, "evidence": ev, "direction": d, "verdict": verdict(ev, d)} for w, ev, d in spec]
    return {"parts": parts, "verdict": all_of([(p["evidence"], p["direction"]) for p in parts]),
            "fork_swing": sw["fork_swing"], "rest_swing": sw["rest_swing"], "magnitude_verdict": sw["verdict"]}


def axis_comparisons(runs: Sequence[dict[str, Any]], center: float = 1.0, k: int = 1
                     ) -> dict[str, list[dict[str, Any]]]:
    """Every cell on the two lines through ``(center, center)`` compared with it (:func:`compare_cells`, paired by
    problem): ``{"fork": [...], "rest": [...]}``, one ``{"t", "cell", "evidence"}`` per temperature ``t != center``
    that was run, in increasing ``t`` (``fork``: ``(t, center)``; ``rest``: ``(center, t)``)."""
    base = (float(center), float(center))
    _select(runs, base)  # a clear KeyError when the centre was not run
    cells = {(float(r["t_fork"]), float(r["t_rest"])) for r in runs}
    out: dict[str, list[dict[str, Any]]] = {"fork": [], "rest": []}
    for axis in out:
        line = sorted(c for c in cells if math.isclose(c[1] if axis == "fork" else c[0], center)
                      and not (math.isclose(c[0], center) and math.isclose(c[1], center)))
        for c in line:
            t = c[0] if axis == "fork" else c[1]
            out[axis].append({"t": t, "cell": c, "evidence": compare_cells(runs, c, base, k=k)})
    return out


def passk_curves(runs: Sequence[dict[str, Any]], ks: Sequence[int] | None = None) -> dict[str, Any]:
    """pass@k (unbiased, ``utils.passk``) per cell from runs with ``n_samples = n`` per problem.

    Returns ``{"t_fork,t_rest": {"t_fork", "t_rest", "n", "ks", "mean", "sd", "n_seeds"}}``: for each k in
    ``ks`` (default 1..n) the mean over seeds of the mean-over-problems pass@k, and its sd over seeds.
    """
    out: dict[str, Any] = {}
    cells = sorted({(float(r["t_fork"]), float(r["t_rest"])) for r in runs})
    for cell in cells:
        sel = _select(runs, cell)
        n = sel[0]["n_samples"]
        if any(r["n_samples"] != n for r in sel):
            raise ValueError(f"cell {cell} mixes runs with different n_samples; pass@k needs one n")
        kk = list(range(1, n + 1)) if ks is None else [int(k) for k in ks if 1 <= k <= n]
        vals = np.array([[mean_pass_at_k(n, r["correct_counts"], k) for k in kk] for r in sel])
        out[f"{cell[0]:g},{cell[1]:g}"] = {
            "t_fork": cell[0],
            "t_rest": cell[1],
            "n": n,
            "ks": kk,
            "mean": vals.mean(axis=0).tolist(),
            "sd": (vals.std(axis=0, ddof=1) if len(sel) > 1 else np.zeros(len(kk))).tolist(),
            "n_seeds": len(sel),
        }
    return out


def compact_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a results file keeps of ``runs``: ``runs`` without the per-problem counts, and ``correct_by_cell``
    ``{"t_fork,t_rest": [correct samples per problem, summed over the cell's seeds]}`` (enough to redo every
    pass@1 comparison of :func:`compare_cells` when each run drew one sample per problem)."""
    cells = sorted({(float(r["t_fork"]), float(r["t_rest"])) for r in runs})
    return {
        "runs": [{k: v for k, v in r.items() if k != "correct_counts"} for r in runs],
        "correct_by_cell": {
            f"{f:g},{t:g}": np.sum([r["correct_counts"] for r in _select(runs, (f, t))], axis=0).tolist()
            for f, t in cells
        },
    }


GRID_SCHEMA = "forking-tokens/decoding-grid/1"

#: Colour-bar labels for the keys :func:`grid_table` reads (anything else is shown as its key).
COLORBAR_LABELS = {
    "pass1": "pass@1 on held-out problems (mean over seeds)",
    "fork_share": "share of steps decoded at T_fork (untempered H >= tau)",
}


def save_grid(obj: dict[str, Any], name: str, directory: Path | None = None) -> Path:
    """Write ``obj`` as ``<results_dir()>/<name>.json`` atomically (NaN -> null, numpy -> lists); returns the path."""
    if not name or any(c in name for c in "/\\") or name.endswith(".json"):
        raise ValueError(f"name must be a bare name like '03_grid', got {name!r}")
    return save_json(obj, (directory or results_dir()) / f"{name}.json", schema=GRID_SCHEMA)


def load_grid(name: str, directory: Path | None = None) -> dict[str, Any]:
    """Read what :func:`save_grid` wrote (a truncated or foreign file is an error naming it)."""
    return load_json((directory or results_dir()) / f"{name}.json", schema=GRID_SCHEMA,
                     regenerate=f"the notebook 03 cell that saves {name!r}")


def diffs_to(runs: Sequence[dict[str, Any]], base: Cell, k: int = 1) -> dict[Cell, Evidence]:
    """Every cell of ``runs`` other than ``base`` compared with it (:func:`compare_cells`: pass@k, paired by problem),
    keyed by ``(t_fork, t_rest)``: the intervals :func:`plot_grid_heatmap` writes under each cell's mean."""
    cells = sorted({(float(r["t_fork"]), float(r["t_rest"])) for r in runs})
    return {c: compare_cells(runs, c, base, k=k) for c in cells
            if not (math.isclose(c[0], base[0]) and math.isclose(c[1], base[1]))}
