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
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from utils.config import get_profile, results_dir
from utils.reproduce.rows import (PARTS, QUANTITY, SHORT, SOURCES, VERDICT_STYLE, VerdictStyle, by_source, ci_name,
                               evidence_parts, is_comparative, oriented, presentation, verdict_label, verdict_style,
                               OWN_SOURCES, OWN_WORDS, verdict_word)
from utils.results import ResultsError, atomic_write_text, file_lock, load_json, repo_relative, save_json
from utils.stats import Evidence, all_of, describe, gated_verdict
from utils.stats import verdict as stats_verdict

__all__ = ["OWN_SOURCES", "OWN_WORDS", "PARTS", "PUBLISHED", "QUANTITY", "SHORT", "SOURCES", "STAGE_ENV", "VERDICTS",
           "VERDICT_STYLE", "Claim", "Ledger", "VerdictStyle", "build_ledger", "deciding_number", "evidence_parts",
           "ledger_markdown", "load_claims", "presentation", "staged_claims", "summary_markdown", "verdict_label",
           "verdict_style", "verdict_word"]

#: The ledger's verdict vocabulary, in one place. "reproduced" / "not reproduced" (and "partly reproduced", "below the
#: margin": the direction holds, the size does not) judge a PUBLISHED claim; "holds" / "fails" judge a claim of this
#: project's own (:data:`OWN_SOURCES`); "inconclusive" serves both; "corrected" and "not testable here" need no test.
VERDICTS = ("reproduced", "not reproduced", "inconclusive", "partly reproduced", "below the margin", "holds", "fails",
            "corrected", "not testable here")
_PUBLISHED_ONLY = ("reproduced", "not reproduced", "partly reproduced", "below the margin")
_OWN_ONLY = ("holds", "fails")
#: The verdicts a comparison computes: a row that says one of them without evidence must state its rule (descriptive).
_COMPUTED = ("reproduced", "not reproduced", "inconclusive", "below the margin", "holds", "fails")
BASES = ("experiment", "documented", "descriptive")
SCHEMA = "forking-tokens/claims/1"
#: Set by :func:`staged_claims` for the notebook's kernel, to the run's token: rows go to that run's staging file.
STAGE_ENV = "FORKING_TOKENS_STAGE_CLAIMS"

#: The claims as published (quote or close paraphrase) and their source, by ledger id.
PUBLISHED: dict[str, tuple[str, str]] = {
    "seed.bands": ("< 1 bit: highly certain, 90% probability on one token; 1-3 bits: a few options; > 4 bits: no preference", "write-up"),
    "seed.off_by_one": ("Its code: entropy of logits[t] reported as the entropy of token t", "write-up"),
    "seed.epsilon_fp16": ("Its code: entropy = -sum(p * log2(p + 1e-10)) after softmax", "write-up"),
    "seed.qwen_aime": ("'7-11% accuracy improvement on AMY and math benchmarks for Quinn 332B'", "write-up"),
    "seed.unit_bits": ("Forking tokens are those above the 80th percentile, 'less than 0.672 bits' below it", "write-up"),
    "seed.fork_then_low_run": ("Tokens with high entropy ('forking tokens') are typically followed by sequences of low-entropy tokens", "write-up"),
    "wang.fork_words": ("Forking (high-entropy) tokens are words like 'wait', 'however', 'thus', 'suppose'; low-entropy tokens complete words, formulas and punctuation", "Wang et al. 2025"),
    "wang.p80": ("The 80th percentile of chain-of-thought token entropy is about 0.672 nats (Qwen3-8B, AIME'24/'25)", "Wang et al. 2025"),
    "wang.half_below_001": ("Over half of all chain-of-thought tokens have entropy below 0.01 (Qwen3-8B, AIME'24/'25)", "Wang et al. 2025"),
    "seed.dual_temp_21": ("With forking tokens at temperature 2 and non-forking tokens at temperature 1, the model outperformed the baseline.", "write-up"),
    "seed.dual_temp_coverage": ("The model benefits when non-forking tokens are less random than forking tokens (read here as coverage: pass@k at large k).", "write-up"),
    "wang.dual_temp_shape": ("Raising the forking tokens' temperature moderately helps, lowering it hurts sharply; the other tokens' temperature matters less.", "Wang et al. 2025"),
    "seed.compute_savings": ("Updating only on forking tokens gives an 80% reduction in backpropagation and up to 50% fewer FLOPs", "write-up"),
    "wang.top20_matches_full": ("Training only on the top-20% highest-entropy tokens matches full-gradient RLVR (Qwen3-8B; the advantage at 14B/32B is wang.scale_trend's claim); read here with both arms at the rate tuned for all", "Wang et al. 2025"),
    "wang.top20_matches_full_per_arm": ("Training only on the top-20% highest-entropy tokens matches full-gradient RLVR (Qwen3-8B); read here with each arm at its own learning rate, chosen by one rule fixed in advance", "Wang et al. 2025"),
    "wang.top20_lr_dependence": ("Top-20% matches full-gradient RLVR as a property of the method, not of one learning rate (read here: the headline equivalence also holds at the untuned lr 3e-4, at every budget)", "derived here"),
    "wang.bottom80_hurts": ("Training only on the bottom-80% (low-entropy) tokens gives a marked decline", "Wang et al. 2025"),
    "wang.random20_control": ("It is which tokens are trained that matters: the high-entropy 20%, not any 20% (random-20% control; not run in the paper)", "Wang et al. 2025"),
    "wang.role20_control": ("The high-entropy tokens matter because of their entropy, not only their syntactic role (role-only control at the same count; not run in the paper)", "Wang et al. 2025"),
    "wang.rho_sweep": ("rho = 0.2 (the top 20% of tokens by entropy) is the share to keep (the paper's choice among the values it tried)", "Wang et al. 2025"),
    "wang.entropy_pattern_overlap": ("RLVR largely keeps the base model's entropy pattern: > 86% overlap of the top-20% entropy positions (Qwen3-14B, DAPO; unverified number)", "Wang et al. 2025"),
    "wang.entropy_pattern_beyond_null": ("RLVR keeps the base model's top-20% entropy positions more than a random weight change of the same mean |ΔH| does (the paper's pattern claim read against a null that can fail; not in the paper)", "derived here"),
    "wang.rl_changes_high_entropy": ("RL mainly changes the entropy of tokens that were already high-entropy", "Wang et al. 2025"),
    "wang.normaliser": ("Paper formula (masked loss averaged over all tokens) and the authors' code (averaged over the selected tokens only, a 1/rho = 5x larger loss) describe the same method", "Wang et al. 2025"),
    "wang.scale_trend": ("The top-20% advantage over full-gradient RLVR grows with model size (matches at 8B, ahead at 14B, further ahead at 32B)", "Wang et al. 2025"),
    "wang.top20_matches_full_ladder": ("Training only on the top-20% highest-entropy tokens matches full-gradient RLVR (Qwen3-8B); read here on the 12 ladder base models of three sizes, each arm at its own learning rate chosen by one rule fixed in advance", "Wang et al. 2025"),
    "entbonus.pass1": ("With the entropy advantage, pass@1 stays about the same as plain GRPO (or slightly lower)", "Cheng et al. 2025"),
    "entbonus.passk_large_k": ("The entropy advantage gives clearly better pass@k at large k than plain GRPO", "Cheng et al. 2025"),
    "entbonus.rl_shrinks_coverage": ("Plain RL shrinks pass@k at large k below the base model's: fewer problems solved at all", "Cheng et al. 2025"),
    "entbonus.seed_crossover_32": ("The entropy bonus underperforms the baseline in the first 32 tries and solves more beyond 32 tries", "write-up"),
    "entbonus.psi_entropy": ("The entropy-based advantage promotes exploration (read here: the policy's token entropy stays above plain GRPO's)", "Cheng et al. 2025"),
    "entbonus.passk_psi_large_alpha": ("The entropy advantage gives better pass@k at large k than plain GRPO (read here at alpha = 4, where the cap binds on most uncertain tokens)", "Cheng et al. 2025"),
    "entbonus.psi_uncapped_zero_gradient": ("Without its cap, psi = alpha * H_t depends on the state only: a baseline, whose expected policy gradient is zero (measured by Monte-Carlo on the task model)", "derived here"),
    "entbonus.psi_uncapped_is_baseline": ("Training with the uncapped psi = alpha * H_t is equivalent to GRPO (final entropy and pass@1), at the alpha named in configs/margins.yaml (05.uncapped_alpha)", "derived here"),
    "entbonus.positive_control_entropy": ("An explicit entropy regulariser (loss - c * mean token entropy, TRL's entropy_coef) raises the policy's entropy over GRPO: the positive control", "derived here"),
    "entbonus.passk_entreg": ("Keeping the entropy up with an explicit regulariser gives better pass@k at large k than GRPO", "derived here"),
    "entbonus.passk_cliphigh": ("Clip-higher (eps_high = 0.28) keeps entropy from collapsing and sampling diverse (read here: better pass@k at large k than the symmetric clip)", "Yu et al. 2025 (DAPO)"),
    "entbonus.seed_moving_baseline": ("The method gives a bonus to tokens whose entropy rises above a moving baseline", "write-up"),
}


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
    short: str = ""  # the claim in a few words (utils.reproduce.rows.SHORT)


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
        if claim is None or source is None:
            if id not in PUBLISHED:
                raise ValueError(f"claim {id!r} is not in utils.reproduce.claims.PUBLISHED: pass claim= and source=")
            claim, source = claim or PUBLISHED[id][0], source or PUBLISHED[id][1]
        nums = dict(numbers or {})
        n = ""
        if evidence is not None:
            if verdict is not None:
                raise ValueError("a row with evidence gets its verdict from utils.stats.verdict: do not pass verdict=")
            if direction is None:
                raise ValueError("a row with evidence needs the paper's direction: greater, less or equivalent")
            evs = list(evidence) if isinstance(evidence, (list, tuple)) else [evidence]
            dirs = list(direction) if isinstance(direction, (list, tuple)) else [direction]
            if len(evs) != len(dirs):
                raise ValueError("give one direction per piece of evidence")
            one = len(evs) == 1  # one piece of evidence says its own word (grows has four); several: all_of
            if control is not None:
                verdict, ok = gated_verdict(evs[0] if one else evs, dirs[0] if one else dirs, control, control_direction)
                nums["control"] = {"evidence": control.as_dict(), "direction": control_direction, "acted": ok,
                                   "what": control_label}
                if not ok:
                    why = why or f"inconclusive: {control_label} was not shown ({describe(control)})"
            else:
                verdict = stats_verdict(evs[0], dirs[0]) if one else all_of(list(zip(evs, dirs)))
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
            basis = basis or "experiment"
        else:
            if verdict is None or why is None or basis is None:
                raise ValueError("a row without evidence needs verdict=, why= and basis= ('documented' or 'descriptive')")
            if verdict in _COMPUTED and basis == "experiment":
                raise ValueError("an experimental verdict must come from evidence (utils.stats.compare)")
        c = Claim(id=id, claim=claim, source=source, measured=measured, verdict=verdict, why=why,
                  notebook=self.notebook, section=section, basis=basis, n=n, budget=budget,
                  profile=profile or get_profile(), figure=figure, numbers=nums)
        if c.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {c.verdict!r}")
        if c.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {c.source!r}")
        if c.source in OWN_SOURCES and c.verdict in _PUBLISHED_ONLY:
            raise ValueError(f"{c.id}: a claim of this project's own holds or fails; {c.verdict!r} is for a published claim")
        if c.source not in OWN_SOURCES and c.verdict in _OWN_ONLY:
            raise ValueError(f"{c.id}: a published claim is reproduced or not; {c.verdict!r} is for a claim of our own")
        if c.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {c.basis!r}")
        own = _rows_path(self.notebook)
        for other in sorted(_claims_dir().glob("*.json")):  # one claim, one notebook: no two contradicting rows
            if other != own and c.id in (load_json(other, schema=SCHEMA)["rows"] or {}):
                raise ValueError(f"claim {c.id!r} is already recorded by notebook {other.stem} ({repo_relative(other)}): "
                                 "a claim belongs to one notebook; record it there, or remove the stale row")
        run = os.environ.get(STAGE_ENV, "")
        path = _staged_path(self.notebook, run) if run else own
        with file_lock(own) if not run else contextlib.nullcontext():  # another process may change claims/NN.json
            rows = load_json(path, schema=SCHEMA)["rows"] if path.exists() else {}
            rows[c.id] = presentation(asdict(c))
            save_json({"rows": rows}, path, schema=SCHEMA)
        self.rows[c.id] = rows[c.id]
        print(f"[claim {c.id}] {c.verdict.upper()}: {c.why}")


def _claims_dir(profile: str | None = None) -> Path:
    d = results_dir(profile) / "claims"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _rows_path(notebook: str, profile: str | None = None) -> Path:
    return results_dir(profile) / "claims" / f"{notebook[:2]}.json"


def _staged_path(notebook: str, run: str, profile: str | None = None) -> Path:
    """The staging file of one run (``run``: its token, ``<pid>-<random>``) of a notebook."""
    return results_dir(profile) / "claims" / f"{notebook[:2]}.json.{run}.staged"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process; a nonsense number
        return pid > 0
    return True


def _remove_orphans(notebook: str, profile: str | None) -> None:
    """Delete the staging files of this notebook's runs whose process is gone (killed before it could clean up);
    a running one's file is left alone."""
    for f in (results_dir(profile) / "claims").glob(f"{notebook[:2]}.json.*.staged"):
        pid = f.name.split(".")[-2].split("-")[0]
        if not pid.isdigit() or not _alive(int(pid)):
            f.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_claims(notebook: str, profile: str | None = None) -> Iterator[None]:
    """Run a notebook (the ``with`` block; its kernel inherits the environment) with its ledger rows staged in a
    file of this run alone: they replace the notebook's rows in ``claims/NN.json`` (under its lock) when the block
    ends normally, and are dropped when it raises (a failing cell, Ctrl-C), so an unfinished run never mixes into
    the ledger. A notebook that recorded nothing leaves its rows as they were. Another run of the same notebook,
    before or at the same time, keeps its own staging file: neither deletes the other's rows."""
    _claims_dir(profile)
    _remove_orphans(notebook, profile)
    run = f"{os.getpid()}-{secrets.token_hex(4)}"
    staged, final = _staged_path(notebook, run, profile), _rows_path(notebook, profile)
    previous = os.environ.get(STAGE_ENV)
    os.environ[STAGE_ENV] = run
    try:
        yield
        if staged.exists():
            rows = load_json(staged, schema=SCHEMA, regenerate=f"make reproduce (notebook {notebook[:2]})")["rows"]
            with file_lock(final):
                save_json({"rows": rows}, final, schema=SCHEMA)
    finally:
        staged.unlink(missing_ok=True)
        if previous is None:
            os.environ.pop(STAGE_ENV, None)
        else:
            os.environ[STAGE_ENV] = previous


#: The text fields every row has (a row missing one, or with one empty, is refused), and the optional ones.
_REQUIRED = ("id", "claim", "source", "measured", "verdict", "why", "notebook", "section")
_OPTIONAL_TEXT = ("basis", "n", "budget", "profile")


def _row_problem(cid: Any, row: Any) -> str | None:
    """What is wrong with one stored row (``None``: nothing): the fields :class:`Claim` writes, of their types, the
    verdict, source and basis among :data:`VERDICTS`, :data:`SOURCES` and ``BASES``."""
    if not isinstance(row, dict):
        return f"is {type(row).__name__}, not a mapping of the row's fields"
    missing = [k for k in _REQUIRED if k not in row]
    if missing:
        return f"lacks {', '.join(missing)}"
    empty = [k for k in _REQUIRED if not isinstance(row[k], str) or (k != "measured" and not row[k].strip())]
    if empty:
        return f"has no text in {', '.join(empty)}"
    if row["id"] != cid:
        return f"has id {row['id']!r} under the key {cid!r}"
    for name, allowed in (("verdict", VERDICTS), ("source", SOURCES), ("basis", BASES)):
        value = row.get(name, "experiment" if name == "basis" else None)
        if value not in allowed:
            return f"has {name} {str(value)[:60]!r}, not one of {', '.join(allowed)}"
    bad = [k for k in _OPTIONAL_TEXT if k in row and not isinstance(row[k], str)]
    bad += [k for k, t in (("figure", (str, type(None))), ("numbers", dict)) if k in row and not isinstance(row[k], t)]
    if bad:
        return f"has a value of the wrong type in {', '.join(bad)}"
    return None


def _load_rows(path: Path, regenerate: str) -> dict[str, dict[str, Any]]:
    """The rows of a claims file, each checked (:func:`_row_problem`); :class:`ResultsError` naming the file and the
    row otherwise (an invalid verdict such as ``"REPRODUCED!!"`` was published into README)."""
    data = load_json(path, schema=SCHEMA, regenerate=regenerate)
    rows = data.get("rows")
    if not isinstance(rows, dict):
        raise ResultsError(f"{repo_relative(path)}: 'rows' must map claim ids to rows, got {str(rows)[:40]!r}; "
                           f"regenerate it with: {regenerate}")
    for cid, row in rows.items():
        problem = _row_problem(cid, row)
        if problem:
            raise ResultsError(f"{repo_relative(path)}: row {str(cid)[:60]!r} {problem}; "
                               f"regenerate it with: {regenerate}")
    return rows


def load_claims(profile: str | None = None) -> list[dict[str, Any]]:
    """All recorded rows, in notebook order, each checked (its fields, verdict, source and basis; a bad one is a
    :class:`utils.results.ResultsError` naming the file and row). A claim id recorded by two notebooks (two rows that
    could contradict each other) is a :class:`utils.results.ResultsError` naming both files."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    for p in sorted(_claims_dir(profile).glob("*.json")):
        for cid, row in _load_rows(p, regenerate=f"make reproduce (notebook {p.stem})").items():
            if cid in seen:
                raise ResultsError(f"claim {cid!r} is recorded by two notebooks, {repo_relative(seen[cid])} and "
                                   f"{repo_relative(p)}: a claim belongs to one notebook; remove the stale row and "
                                   "rerun the notebook that owns it")
            seen[cid] = p
            rows.append(presentation(row))
    return rows


def _cell(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def deciding_number(row: dict[str, Any]) -> str:
    """The number(s) a comparative row's verdict rests on, each with its CI, turned so the claimed direction is
    positive (:func:`oriented`): an equivalence by its 90 % CI and margin, anything else by its 95 % CI (and, where
    it has a margin, its 90 % CI and the margin). Parts of a claim of several parts are joined by "; ". ``"–"`` for
    other rows."""
    out = []
    for p in evidence_parts(row):
        ev, direction = p["evidence"], p["direction"]
        x, ci95, ci90 = oriented(ev, direction)
        eq, m = direction == "equivalent", ev.get("margin")
        digits = 4 if max(abs(v) for v in (*ci95, *ci90)) < 0.02 else 3
        f95, f90 = (f"{lo:+.{digits}f}, {hi:+.{digits}f}" for lo, hi in (ci95, ci90))
        cis = f"90% CI {f90}" if eq else f"{ci_name(ev)} {f95}" + (f"; 90% CI {f90}" if m else "")
        num = f"{x:+.{digits}f} [{cis}]"
        num += f" {p['quantity']}" if p["quantity"] else ""
        num += f", margin ±{m:g}" if m else ""
        out.append(f"{p['part']}: {num}" if p["part"] else num)
    return "; ".join(out) or "–"


def anchor(claim_id: str) -> str:
    """The HTML anchor of a row's details in claims.md: ``wang.top20_matches_full`` -> ``wang-top20-matches-full``."""
    return claim_id.replace(".", "-").replace("_", "-")


def counts_line(rows: list[dict[str, Any]]) -> str:
    """The verdict counts in one line: ``**34 claims:** 12 ● reproduced · 5 ▼ not reproduced · ...``."""
    counts = ledger_counts(rows)
    order = list(VERDICT_STYLE) + [v for v in counts if v not in VERDICT_STYLE]
    ordered = sorted(counts, key=order.index)
    return f"**{len(rows)} claims:** " + " · ".join(f"{counts[v]} {verdict_style(v).symbol} {v}" for v in ordered)


def summary_markdown(rows: list[dict[str, Any]], details: str, figure: str | None) -> str:
    """The ledger in one screen (README's section, the top of claims.md): the forest figure (``figure``, a link;
    ``None``: none), the verdict counts in one line, then one short row per claim -- claim in a few words, source,
    verdict, the deciding number with its CI, and a link to its details (``details``: claims.md's address, ``""``
    within claims.md)."""
    head = [f"![Every comparative claim of the ledger with its interval]({figure})", ""] if figure else []
    head += [counts_line(rows) + ". Positive numbers point the way the paper claims; an equivalence is read on its "
             "90 % CI against the margin.", "",
             "| claim | source | verdict | deciding number | details |", "|---|---|---|---|---|"]
    lines = [f"| {_cell(presentation(r)['short'])} | {_cell(r['source'])} | {verdict_label(r['verdict'])} | "
             f"{_cell(deciding_number(r))} | [{r['notebook'][:2]} · details]({details}#{anchor(r['id'])}) |"
             for r in by_source(rows)]
    return "\n".join(head + lines) + "\n"


def ledger_markdown(rows: list[dict[str, Any]], link_prefix: str = "") -> str:
    """Every row in full, under its anchor (:func:`anchor`): the claim as published, the measurement, the deciding
    number, the verdict and what it rests on (with the robustness note where a committed check covers it), n, budget
    and profile, and where it is measured (links relative to ``link_prefix``: '' from the repo root)."""
    from utils.reproduce.robustness import ledger_notes

    notes = ledger_notes(sources={k: v[1] for k, v in PUBLISHED.items()})  # does a verdict survive a re-run with another reduction order?
    out = []
    for r in by_source(rows):
        note = notes.get(r["id"])
        why = r["why"] + (f" — {note}" if note else "")
        where = f"[{r['notebook'][:2]} · {r['section']}]({link_prefix}notebooks/{r['notebook']})"
        if r.get("figure"):
            where += f" · [figure]({link_prefix}figures/{r['figure']}.png)"
        ctx = " · ".join(x for x in (r.get("n"), r.get("budget"), r.get("profile")) if x) or "–"
        basis = "" if r.get("basis", "experiment") == "experiment" else f" ({r['basis']})"
        out.append("\n".join([
            f"### <a id=\"{anchor(r['id'])}\"></a>{presentation(r)['short']} — {verdict_label(r['verdict'])}",
            "",
            f"- **claim** (`{r['id']}`, {r['source']}): {r['claim']}",
            f"- **measured:** {r['measured'] or '–'}",
            *([f"- **deciding number:** {deciding_number(r)}"] if is_comparative(r) else []),
            f"- **verdict:** **{r['verdict']}**{basis} — {why}",
            f"- **n · budget · profile:** {ctx}",
            f"- **where:** {where}",
        ]))
    return "\n\n".join(out) + "\n"


FOREST = "ledger_forest"  # figures/ledger_forest.png


def build_ledger(profile: str | None = None) -> Path:
    """Write ``results_dir()/claims.md`` and the forest plot ``figures_dir()/ledger_forest.png``
    (:func:`utils.reproduce.forest.save_forest`) from the recorded rows (atomically); returns claims.md's path."""
    from utils.config import REPO_ROOT, figures_dir
    from utils.reproduce.forest import save_forest

    p = profile or get_profile()
    rows = load_claims(p)
    out = results_dir(p) / "claims.md"
    fig = save_forest(rows, figures_dir(p) / f"{FOREST}.png")
    up = os.path.relpath(REPO_ROOT, out.parent).replace(os.sep, "/") + "/"
    atomic_write_text(
        out,
        "# Claims ledger\n\nGenerated by `utils.reproduce.claims.build_ledger` from the rows the notebooks record "
        f"(profile `{p}`); do not edit by hand. A published claim is **reproduced** or **not reproduced** (or "
        "**below the margin**: the direction holds, the size does not); a claim of this project's own (source: derived "
        "here) **holds** or **fails**; either can be **inconclusive**. The rules: README's ledger section.\n\n"
        + summary_markdown(rows, "", os.path.relpath(fig, out.parent).replace(os.sep, "/"))
        + "\n## Every row in full\n\n" + ledger_markdown(rows, link_prefix=up) + "\n",
    )
    return out


def ledger_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many rows have each verdict."""
    out: dict[str, int] = {}
    for r in rows:
        out[r["verdict"]] = out.get(r["verdict"], 0) + 1
    return out
