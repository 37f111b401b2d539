"""The figures of notebooks 04-06 (RL on the task model), one named call per figure: each draws the intervals the
ledger judges, labelled, with its legend off the data, at most 9 inches wide (<= 1000 px at
:func:`utils.viz.save_figure`'s 110 dpi), and returns the figure (the notebook saves and shows it).

Every function takes what the notebook computed (runs, :class:`utils.stats.Evidence`) and computes nothing that a
verdict reads: the verdicts are in :mod:`utils.rlvr.verdicts`, :mod:`utils.entropy_bonus.arms` and
:mod:`utils.ladder.analysis`.

One module per notebook (:mod:`utils.viz.rl.nb04`, ``nb05``, ``nb06``; what they share in
:mod:`utils.viz.rl.common`); this package re-exports every figure, so ``from utils.viz import rl as viz_rl`` keeps
working."""

from __future__ import annotations

from utils.viz.rl.common import COLORS_04, MAX_WIDTH_IN
from utils.viz.rl.nb04 import (
    budget_gap_figure,
    entropy_pattern_figure,
    gradients_figure,
    lr_selection_figure,
    pass1_curves_figure,
    rho_sweep_figure,
)
from utils.viz.rl.nb05 import (
    arms_figure,
    base_difficulty_figure,
    baseline_noise_figure,
    entropy_training_figure,
    pass_at_k_figure,
)
from utils.viz.rl.nb06 import entropy_by_size_figure, gap_vs_size_figure, learning_curves_figure

__all__ = [
    "COLORS_04",
    "MAX_WIDTH_IN",
    "arms_figure",
    "base_difficulty_figure",
    "baseline_noise_figure",
    "budget_gap_figure",
    "entropy_by_size_figure",
    "entropy_pattern_figure",
    "entropy_training_figure",
    "gap_vs_size_figure",
    "gradients_figure",
    "learning_curves_figure",
    "lr_selection_figure",
    "pass1_curves_figure",
    "pass_at_k_figure",
    "rho_sweep_figure",
]
