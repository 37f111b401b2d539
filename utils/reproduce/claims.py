"""The claims ledger: every quantitative claim of the write-up and the two papers, next to what this series measured.

A notebook records a row with one short call, :meth:`Ledger.record`; ``make reproduce`` gathers the rows into
``data/results/claims.md`` and README's ledger (:func:`build_ledger`). Nothing in the ledger is typed by hand:

* a **comparative** row carries an :class:`utils.stats.Evidence` and the direction the paper claims
  (``greater``/``less``/``equivalent``/``grows``); its verdict is :func:`utils.stats.verdict` of that evidence -- or
  "inconclusive" when a positive ``control`` shows the manipulation did not act (:func:`utils.stats.gated_verdict`);
* a claim of **this project's own** (source ``"derived here"``) gets its own words, :func:`verdict_word`: **holds** /
  **fails** (or inconclusive); "reproduced" is kept for a published claim that held;
* a **documented** row (``basis="documented"``) records a correction that needs no experiment (a misnamed model, a
  unit, code that is off by one); its measured part says only what was measured;
* anything else states its basis (``"descriptive"``) and the rule it was decided by in ``why``.

Every row says its profile, its n and its budget. The published wording of each claim lives once, in
:data:`PUBLISHED`.

**Only finished notebooks feed the ledger.** ``make reproduce`` runs each notebook inside :func:`staged_claims`:
its rows go to a staging file of that run alone (``claims/NN.json.<run>.staged``, which :func:`load_claims` never
reads) and replace the notebook's rows in ``claims/NN.json`` only when the notebook finished; a failed or
interrupted notebook leaves its old rows as they were. Two runs of one notebook at once each keep their own staging
file (a second run never deletes the first's rows), and every change of ``claims/NN.json`` is made under a lock
(:func:`utils.results.file_lock`), so they take turns. Cells run by hand (Jupyter, no staging) record each row as
it runs.

This module records the rows; the published wording lives in :mod:`utils.reproduce.published`, the files and the
staging in :mod:`utils.reproduce.claim_store`, claims.md and README's block in :mod:`utils.reproduce.ledger_text`,
and how a row reads in :mod:`utils.reproduce.row_view`. Their public names are importable from here too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from utils.config import get_profile
from utils.reproduce.claim_store import BASES, SCHEMA, STAGE_ENV, VERDICTS, load_claims, staged_claims, store_row
from utils.reproduce.ledger_text import (FOREST, anchor, build_ledger, counts_line, deciding_number, ledger_markdown,
                                         summary_markdown)
from utils.reproduce.published import PUBLISHED
from utils.reproduce.row_view import (OWN_SOURCES, OWN_WORDS, PARTS, QUANTITY, SHORT, SOURCES, VERDICT_STYLE,
                                      VerdictStyle, evidence_parts, presentation, verdict_label, verdict_style,
                                      verdict_word)
from utils.stats import Evidence, all_of, describe, gated_verdict
from utils.stats import verdict as stats_verdict

# Re-exported where their readers import them (``from utils.reproduce.claims import ...``).
__all__ = ["BASES", "FOREST", "OWN_SOURCES", "OWN_WORDS", "PARTS", "PUBLISHED", "QUANTITY", "SCHEMA", "SHORT", "SOURCES",
           "STAGE_ENV", "VERDICTS", "VERDICT_STYLE", "Claim", "Ledger", "VerdictStyle", "anchor", "build_ledger",
           "counts_line", "deciding_number", "evidence_parts", "ledger_markdown", "load_claims", "presentation",
           "staged_claims", "summary_markdown", "verdict_label", "verdict_style", "verdict_word"]

#: Verdicts only a published claim can have, and only a claim of this project's own (:data:`OWN_SOURCES`).
_PUBLISHED_ONLY = ("reproduced", "not reproduced", "partly reproduced", "below the margin")
_OWN_ONLY = ("holds", "fails")
#: The verdicts a comparison computes: a row that says one of them without evidence must state its rule (descriptive).
_COMPUTED = ("reproduced", "not reproduced", "inconclusive", "below the margin", "holds", "fails")


@dataclass
class Claim:
    """One ledger row."""

    id: str  # stable key, e.g. "wang.p80"
    claim: str  # as published (quote or close paraphrase)
    source: str  # one of SOURCES
    measured: str  # our measurement, one short sentence (the evidence's numbers are added to it)
    verdict: str  # one of VERDICTS
    why: str  # what the verdict rests on
    notebook: str  # e.g. "02_forking_tokens.ipynb"
    section: str  # heading text of the section that measures it
    basis: str = "experiment"  # experiment | documented | descriptive
    n: str = ""  # e.g. "8/8 seeds"
    budget: str = ""  # e.g. "100 GRPO steps, lr 3e-4"
    profile: str = ""  # the run profile that measured it
    figure: str | None = None  # e.g. "02_entropy_distribution" (figures/NAME.png)
    numbers: dict[str, Any] = field(default_factory=dict)  # the raw numbers behind `measured` (evidence included)
    short: str = ""  # the claim in a few words (utils.reproduce.row_view.SHORT)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if self.source in OWN_SOURCES and self.verdict in _PUBLISHED_ONLY:
            raise ValueError(f"{self.id}: a claim of this project's own holds or fails; {self.verdict!r} is for a "
                             "published claim")
        if self.source not in OWN_SOURCES and self.verdict in _OWN_ONLY:
            raise ValueError(f"{self.id}: a published claim is reproduced or not; {self.verdict!r} is for a claim of "
                             "our own")
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {self.basis!r}")



def _why(ev: Evidence, direction: str, v: str) -> str:
    a, b = ev.labels
    lo, hi = ev.ci95
    if direction == "equivalent":
        m = ev.margin
        if v == "reproduced":
            return f"the 90% CI of {a} - {b} lies inside ±{m:g} (equivalent within the margin fixed in advance)"
        if v == "not reproduced":
            return f"the 95% CI of {a} - {b} lies outside ±{m:g}"
        return f"the CI of {a} - {b} overlaps the margin ±{m:g}: the design cannot tell (detectable {ev.mde:.3f})"
    what = f"the slope of {a} - {b}" if ev.test.startswith("trend") or "slope" in ev.test else f"{a} - {b}"
    l9, h9 = ev.ci90
    if direction == "grows":
        m = ev.margin
        if v == "reproduced":
            return f"the 95% CI of {what} lies above 0 and the slope ({ev.diff:+.4f}) is at least the margin {m:g}"
        if v == "below the margin":
            return (f"the 95% CI of {what} lies above 0 (the direction holds) but its 90% CI [{l9:+.4f}, {h9:+.4f}] lies "
                    f"below +{m:g}: the trend is smaller than the margin fixed in advance")
        if v == "not reproduced" and hi >= 0:
            return (f"the 90% CI of {what} [{l9:+.4f}, {h9:+.4f}] lies inside ±{m:g}: any trend is smaller than the "
                    f"margin fixed in advance, and the 95% CI [{lo:+.4f}, {hi:+.4f}] "
                    + ("lies above 0" if lo > 0 else "includes 0: the direction is not established either"))
        if v == "inconclusive" and lo > 0:
            return (f"the 95% CI of {what} lies above 0 (the direction holds) but the slope ({ev.diff:+.4f}) is below the "
                    f"margin {m:g} and its 90% CI [{l9:+.4f}, {h9:+.4f}] reaches it: the size cannot be told")
    if ev.margin is not None and lo <= 0 <= hi and v == "not reproduced":
        return (f"the 90% CI of {what} [{l9:+.3f}, {h9:+.3f}] lies inside ±{ev.margin:g}: no difference of a size that "
                "matters (the equivalence rule, margin fixed in advance)")
    if lo > 0:
        return f"the 95% CI of {what} lies above 0"
    if hi < 0:
        return f"the 95% CI of {what} lies below 0"
    return f"the 95% CI of {what} includes 0 (this design detects differences of about {ev.mde:.3f} and more)"


@dataclass(frozen=True)
class _Control:
    """A positive control that gates a comparative row's verdict (:func:`utils.stats.gated_verdict`): its evidence,
    the direction that shows the manipulation acted, and that fact in words."""

    evidence: Evidence
    direction: str = "greater"
    label: str = "the manipulation acted"


@dataclass(frozen=True)
class _Decision:
    """A row's decision: its verdict, what it rests on, its basis, its measured text, its n and its raw numbers."""

    verdict: str
    why: str
    basis: str
    measured: str
    n: str
    numbers: dict[str, Any]


def _claim_text(id: str, claim: str | None, source: str | None) -> tuple[str, str]:
    """The claim's wording and source: as passed, or from :data:`PUBLISHED`."""
    if claim is None or source is None:
        if id not in PUBLISHED:
            raise ValueError(f"claim {id!r} is not in utils.reproduce.claims.PUBLISHED: pass claim= and source=")
        claim, source = claim or PUBLISHED[id][0], source or PUBLISHED[id][1]
    return claim, source


def _computed_verdict(evs: list[Evidence], dirs: list[str], control: _Control | None, why: str | None,
                      nums: dict[str, Any]) -> tuple[str, str | None]:
    """The verdict the evidence gives (gated by ``control``; several parts: all must hold) and ``why`` (set when the
    control did not act); the control's numbers go into ``nums``."""
    one = len(evs) == 1  # one piece of evidence says its own word (grows has four); several: all_of
    if control is None:
        return (stats_verdict(evs[0], dirs[0]) if one else all_of(list(zip(evs, dirs)))), why
    verdict, ok = gated_verdict(evs[0] if one else evs, dirs[0] if one else dirs, control.evidence, control.direction)
    nums["control"] = {"evidence": control.evidence.as_dict(), "direction": control.direction, "acted": ok,
                       "what": control.label}
    if not ok:
        why = why or f"inconclusive: {control.label} was not shown ({describe(control.evidence)})"
    return verdict, why


def _decide_by_evidence(evidence: Evidence | list[Evidence], direction: str | list[str] | None,
                        control: _Control | None, source: str, *, measured: str, why: str | None,
                        basis: str | None, numbers: dict[str, Any]) -> _Decision:
    """A comparative row's decision: the verdict computed from the evidence, in the words of ``source``."""
    if direction is None:
        raise ValueError("a row with evidence needs the paper's direction: greater, less or equivalent")
    evs = list(evidence) if isinstance(evidence, (list, tuple)) else [evidence]
    dirs = list(direction) if isinstance(direction, (list, tuple)) else [direction]
    if len(evs) != len(dirs):
        raise ValueError("give one direction per piece of evidence")
    nums = dict(numbers)
    verdict, why = _computed_verdict(evs, dirs, control, why, nums)
    verdict = verdict_word(verdict, source)
    if why is None:
        whys = [_why(e, d, stats_verdict(e, d)) for e, d in zip(evs, dirs)]
        why = whys[0] if len(whys) == 1 else "all parts must hold: " + "; ".join(whys)
    if len(evs) == 1:
        nums["evidence"], nums["direction"] = evs[0].as_dict(), dirs[0]
    else:
        nums["evidence"], nums["direction"] = [e.as_dict() for e in evs], dirs
    measured = "; ".join(([measured] if measured else []) + [describe(e) for e in evs])
    e0 = evs[0]
    n = f"{e0.n_a} {e0.unit}s" if e0.n_b == 0 else f"{e0.n_a}/{e0.n_b} {e0.unit}s"
    return _Decision(verdict, why, basis or "experiment", measured, n, nums)


def _decide_as_stated(verdict: str | None, why: str | None, basis: str | None, measured: str,
                      numbers: dict[str, Any]) -> _Decision:
    """A row without evidence: its verdict, why and basis as passed (a computed verdict needs basis descriptive)."""
    if verdict is None or why is None or basis is None:
        raise ValueError("a row without evidence needs verdict=, why= and basis= ('documented' or 'descriptive')")
    if verdict in _COMPUTED and basis == "experiment":
        raise ValueError("an experimental verdict must come from evidence (utils.stats.compare)")
    return _Decision(verdict, why, basis, measured, "", dict(numbers))


class Ledger:
    """The rows of one notebook: ``ledger = Ledger("04_masked_rlvr.ipynb")`` once, then one
    ``ledger.record(...)`` per claim."""

    def __init__(self, notebook: str) -> None:
        self.notebook = notebook
        #: The rows this ledger recorded in this session, by id: what the notebook's own summary should read (while
        #: the notebook runs staged, ``load_claims`` still returns the previous run's rows).
        self.rows: dict[str, dict[str, Any]] = {}

    def record(
        self,
        id: str,
        *,
        section: str,
        measured: str = "",
        evidence: Evidence | list[Evidence] | None = None,
        direction: str | list[str] | None = None,
        control: Evidence | None = None,
        control_direction: str = "greater",
        control_label: str = "the manipulation acted",
        verdict: str | None = None,
        why: str | None = None,
        basis: str | None = None,
        budget: str = "",
        figure: str | None = None,
        numbers: dict[str, Any] | None = None,
        claim: str | None = None,
        source: str | None = None,
        profile: str | None = None,
    ) -> None:
        """Validate one row, store it in ``results_dir()/claims/<notebook prefix>.json`` (while the notebook runs
        under :func:`staged_claims`: in its staging file) and print one line.

        With ``evidence`` (and the paper's ``direction``) the verdict is computed, never passed; a ``control``
        gates it (see :func:`utils.stats.gated_verdict`). Without evidence, ``verdict`` and ``why`` are required and
        ``basis`` must say what kind of row it is (``documented`` or ``descriptive``). ``profile`` (default: the
        active one) names the profile that produced the numbers, e.g. ``"full (precomputed)"``."""
        claim, source = _claim_text(id, claim, source)
        if evidence is None:
            d = _decide_as_stated(verdict, why, basis, measured, numbers or {})
        else:
            if verdict is not None:
                raise ValueError("a row with evidence gets its verdict from utils.stats.verdict: do not pass verdict=")
            gate = None if control is None else _Control(control, control_direction, control_label)
            d = _decide_by_evidence(evidence, direction, gate, source, measured=measured, why=why, basis=basis,
                                    numbers=numbers or {})
        c = Claim(id=id, claim=claim, source=source, measured=d.measured, verdict=d.verdict, why=d.why,
                  notebook=self.notebook, section=section, basis=d.basis, n=d.n, budget=budget,
                  profile=profile or get_profile(), figure=figure, numbers=d.numbers)
        self.rows[c.id] = store_row(self.notebook, c.id, presentation(asdict(c)))
        print(f"[claim {c.id}] {c.verdict.upper()}: {c.why}")
