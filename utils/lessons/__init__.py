"""What notebooks 01-03 show next to their numbers, built from those numbers: the data they read, the sentences
that say what a figure or a table found, and their summaries (issue 32, section 1: the lesson in the cells, the
formatting here). Every function takes the notebook's own results and returns a string (Markdown) or the data;
none computes a result the ledger judges.

One module per notebook (:mod:`utils.lessons.nb01` ... ``nb04``); this package re-exports 01-03's names, so
``from utils.lessons import summary_01`` works (notebook 04 imports ``utils.lessons.nb04`` itself)."""

from __future__ import annotations

from utils.lessons.nb01 import (
    bands_sentence,
    entropy_by_text_sentence,
    sample_texts,
    summary_01,
    text_kinds_sentence,
    unit_sentence,
)
from utils.lessons.nb02 import (
    after_forks_sentence,
    after_forks_table,
    countdown_sentence,
    distribution_sentence,
    distribution_table,
    half_p80_sentence,
    summary_02,
    temperature_sentence,
    temperature_table,
    thresholds_sentence,
    token_roles_sentence,
)
from utils.lessons.nb03 import (
    SAID,
    axis_sentence,
    grid_sentence,
    passk_sentence,
    passk_table,
    shape_table,
    summary_03,
)

__all__ = [
    "SAID",
    "after_forks_sentence",
    "after_forks_table",
    "axis_sentence",
    "bands_sentence",
    "countdown_sentence",
    "distribution_sentence",
    "distribution_table",
    "entropy_by_text_sentence",
    "grid_sentence",
    "half_p80_sentence",
    "passk_sentence",
    "passk_table",
    "sample_texts",
    "shape_table",
    "summary_01",
    "summary_02",
    "summary_03",
    "temperature_sentence",
    "temperature_table",
    "text_kinds_sentence",
    "thresholds_sentence",
    "token_roles_sentence",
    "unit_sentence",
]
