"""Notebook 03's ledger rows: dual-temperature decoding on the task model."""

from __future__ import annotations

from typing import Any

from utils.reproduce.claims import Ledger
from utils.stats import Evidence


def record_03(*, ev21: Evidence, shape: dict[str, Any], ev_cov: Evidence, n_problems: int, grid_budget: str,
              n_pk: int, n_pk_problems: int, n_pk_seeds: int) -> dict[str, Any]:
    """Notebook 03's three rows: the write-up's (2, 1) cell against (1, 1) on pass@1 (``ev21``), Wang et al.'s shape
    of the temperature response (``shape``: :func:`utils.toy_lm.decoding_grid.shape_parts`, every part must hold) and the
    write-up's claim read as coverage, pass@n of (2, 1) against (1, 1) (``ev_cov``)."""
    ledger = Ledger("03_dual_temperature.ipynb")
    ledger.record("seed.dual_temp_21", section="4. The write-up's cell", evidence=ev21, direction="greater",
                  measured=f"Countdown task model, pass@1 on {n_problems} held-out problems (paired by problem)",
                  budget=grid_budget, figure="03_grid_heatmap")
    parts = shape["parts"]
    ledger.record("wang.dual_temp_shape", section="5. The paper's shape", budget=grid_budget, figure="03_axis_effects",
                  evidence=[p["evidence"] for p in parts], direction=[p["direction"] for p in parts],
                  measured=f"Countdown task model, pass@1 on {n_problems} held-out problems",
                  why="all parts must hold: " + "; ".join(f"{p['what']}: {p['verdict']}" for p in parts)
                      + f" (direction-free, |F| > |R|: {shape['magnitude_verdict']})",
                  numbers={"fork_swing": shape["fork_swing"], "rest_swing": shape["rest_swing"],
                           "magnitude_verdict": shape["magnitude_verdict"]})
    ledger.record("seed.dual_temp_coverage", section="6. pass@k", evidence=ev_cov, direction="greater",
                  measured=f"Countdown task model, pass@{n_pk} of (2, 1) vs (1, 1) on {n_pk_problems} held-out problems",
                  budget=f"n = {n_pk} samples per problem and cell, {n_pk_seeds} seed(s)", figure="03_passk")
    return {"seed.dual_temp_21": ev21, "wang.dual_temp_shape": [p["evidence"] for p in parts], "seed.dual_temp_coverage": ev_cov}
