"""Every notebook's claims-ledger rows, one module per notebook, each built the same way: one function
``record_NN`` takes the notebook's own results (plain numbers, lists, :class:`utils.stats.Evidence`), records every
row of its notebook through :class:`utils.reproduce.claims.Ledger` (one printed line per row) and returns the
evidence by row id. A notebook calls it once, in one short cell at its end: the lesson stays in the cells, the
bookkeeping here. (01-04 make their notebook's ``Ledger``; 05 and 06 record into the one the notebook made first.)
"""

from __future__ import annotations

from utils.reproduce.ledgers.nb01 import band_summary, record_01
from utils.reproduce.ledgers.nb02 import record_02
from utils.reproduce.ledgers.nb03 import record_03
from utils.reproduce.ledgers.nb04 import record_04, rho_words
from utils.reproduce.ledgers.nb05 import record_05
from utils.reproduce.ledgers.nb06 import record_06, record_06_per_arm

__all__ = ["band_summary", "record_01", "record_02", "record_03", "record_04", "record_05", "record_06", "record_06_per_arm", "rho_words"]
