"""Notebooks 04-06's figures and the held-out check of notebook 05's 1/sqrt(N) curve."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from utils.entropy_bonus import identity as BL
from utils.config import REPO_ROOT

FIGURES = REPO_ROOT / "figures"
#: Figures whose committed PNG is regenerated only when notebook 04 is re-executed in the default profile.
def _png_width(path: Path) -> int:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">I", head[16:20])[0]


@pytest.mark.parametrize("path", sorted(FIGURES.glob("0[456]_*.png")), ids=lambda p: p.stem)
def test_figures_of_04_to_06_fit_1000_px(path: Path) -> None:
    """JupyterLab shrinks a wider figure into about 950 px and its labels with it."""
    width = _png_width(path)
    assert width <= 1000, f"{path.name} is {width} px wide"


def _synthetic_acc(groups: int = 20, g: int = 5, dim: int = 50, seed: int = 0) -> dict:
    """Accumulated products of two terms: 'H' with expectation 0 (a baseline) and 'adv' with a fixed mean."""
    rng = np.random.default_rng(seed)
    mu = np.zeros(dim)
    mu[0] = 1.0
    V = np.stack([rng.normal(size=(groups * g, dim)), mu + rng.normal(size=(groups * g, dim))], 1)  # (B, 2, dim)
    S = V.reshape(groups, g, 2, dim).sum(1)  # (G, 2, dim)
    return {"names": ["adv", "H"][::-1], "group": g, "per_batch": np.einsum("btp,bup->btu", V, V),
            "gram": np.einsum("mtp,nup->tumn", S, S)}


def test_held_out_curve_predicts_the_other_half() -> None:
    acc = _synthetic_acc()
    h = BL.held_out_curve(acc, [1, 5, 10], alpha=1.0, n_boot=50)
    assert h["fit_batches"] == h["check_batches"] == 50
    for t in ("psi", "adv"):
        for N, row in h["curve"][t].items():
            lo, hi = row["measured_ci"]
            assert lo <= row["measured"] <= hi and row["blocks"] >= 2
            want = row["predicted_null"] if t == "psi" else row["predicted"]
            assert abs(row["measured"] / want - 1) < 0.35, (t, N, row)
    # the baseline's curve falls like 1/sqrt(N); the term with a mean levels off above sqrt(tr Sigma / N)
    psi = h["curve"]["psi"]
    assert psi[10]["predicted_null"] == pytest.approx(psi[1]["predicted_null"] / np.sqrt(10), rel=1e-9)
    assert h["curve"]["adv"][10]["predicted"] > h["curve"]["adv"][10]["predicted_null"]


def test_held_out_curve_refuses_a_block_size_it_cannot_check() -> None:
    with pytest.raises(ValueError, match="at least two blocks"):
        BL.held_out_curve(_synthetic_acc(), [30], n_boot=5)
