"""Exercise checks for the notebooks: each says in one sentence what is wrong, or that all checks passed.

An exercise in a notebook is a markdown cell whose title starts with ``Exercise`` (difficulty, importance, minutes),
a stub cell that keeps its docstring and ``raise NotImplementedError``, the check called in the same cell
(``check_entropy_from_logits(entropy_from_logits)``), collapsed hints and a collapsed solution. A check:

* runs the learner's function on fixed edge cases and seeded random inputs and compares it with the series' own
  implementation (the tested library code);
* prints ``✓ <exercise>: all N checks passed`` or ``✗ <exercise>: <what is wrong>`` and returns nothing (so a
  notebook cell shows just that line) -- it never raises, so an untouched stub reads "not implemented yet" and the
  notebook goes on;
* ``tests/unit/test_exercises.py`` runs every notebook's solution through its check, so exercises cannot rot.

The checks live one module per notebook (:mod:`utils.exercises.nb01` ... :mod:`utils.exercises.nb06`); this package
re-exports them, so ``from utils.exercises import check_psi`` works.
"""

from __future__ import annotations

from utils.exercises.core import CHECKS, ExerciseFailed, run_check
from utils.exercises.nb01 import check_entropy_from_logits, check_find_forks
from utils.exercises.nb02 import check_fork_rate_by_kind, check_fork_threshold
from utils.exercises.nb03 import check_dual_temperature, check_paired_cell_comparison, check_pass_at_k
from utils.exercises.nb04 import check_bottom_k_mask, check_group_advantages
from utils.exercises.nb05 import check_cap_trim, check_psi, check_score
from utils.exercises.nb06 import check_gap_ci, check_trend_slope

__all__ = ["CHECKS", "ExerciseFailed", "check_bottom_k_mask", "check_cap_trim", "check_dual_temperature",
           "check_entropy_from_logits", "check_find_forks", "check_fork_rate_by_kind", "check_fork_threshold",
           "check_gap_ci", "check_group_advantages", "check_paired_cell_comparison", "check_pass_at_k", "check_psi",
           "check_score", "check_trend_slope", "run_check"]
