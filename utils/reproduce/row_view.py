"""A ledger row as the reader sees it: the claim in a few words, what its difference is measured in, the look of its
verdict, and its evidence turned so that the paper's claimed direction is positive. Shared by :mod:`utils.reproduce.claims`
(which records the rows, and re-exports these names), :mod:`utils.reproduce.claim_store` (which stores and checks them),
:mod:`utils.reproduce.ledger_text` (claims.md and README's block), :mod:`utils.reproduce.forest` (the forest plot) and
:mod:`utils.reproduce.check` (the main job's comparison); it imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PARTS", "QUANTITY", "SHORT", "SOURCES", "VERDICT_STYLE", "VerdictStyle", "by_source", "ci_name",
           "evidence_parts", "is_comparative", "oriented", "presentation", "verdict_label", "verdict_style", "verdict_word", "OWN_SOURCES", "OWN_WORDS"]

SOURCES = ("write-up", "Wang et al. 2025", "Cheng et al. 2025", "Yu et al. 2025 (DAPO)", "derived here")

#: Sources whose claims are this project's own: judged "holds" / "fails", never "reproduced".
OWN_SOURCES = ("derived here",)
#: A computed verdict (:func:`utils.stats.verdict`) in the words of a claim of this project's own.
OWN_WORDS = {"reproduced": "holds", "not reproduced": "fails", "inconclusive": "inconclusive"}


def verdict_word(verdict: str, source: str) -> str:
    """``verdict`` (a word of :func:`utils.stats.verdict`) as the ledger says it for a claim from ``source``: a claim
    of this project's own (:data:`OWN_SOURCES`) **holds** or **fails**; a published claim is **reproduced** or not."""
    if source in OWN_SOURCES:
        if verdict not in OWN_WORDS:
            raise ValueError(f"a claim of this project's own cannot be {verdict!r}: say holds, fails or inconclusive")
        return OWN_WORDS[verdict]
    return verdict


#: Each claim in a few words: README's short table and the forest plot (``figures/ledger_forest.png``).
SHORT: dict[str, str] = {
    "seed.bands": "write-up's entropy bands",
    "seed.off_by_one": "snippet: entropy one token off",
    "seed.epsilon_fp16": "snippet: epsilon in float16",
    "seed.qwen_aime": "'7-11% for Quinn 332B'",
    "seed.unit_bits": "0.672 read as bits",
    "seed.fork_then_low_run": "forks followed by low entropy",
    "wang.fork_words": "forks are whole words",
    "wang.p80": "80th percentile 0.672 nats",
    "wang.half_below_001": "half the tokens below 0.01",
    "seed.dual_temp_21": "T (2, 1) beats (1, 1), pass@1",
    "seed.dual_temp_coverage": "T (2, 1) beats (1, 1), pass@k",
    "wang.dual_temp_shape": "T response shape",
    "seed.compute_savings": "masking saves FLOPs",
    "wang.top20_matches_full": "top-20% matches all (all's lr)",
    "wang.top20_matches_full_per_arm": "top-20% matches all (each arm's lr)",
    "wang.top20_lr_dependence": "top-20% matches all, lr 3e-4",
    "wang.bottom80_hurts": "bottom-80% hurts",
    "wang.random20_control": "top-20% beats random-20%",
    "wang.role20_control": "top-20% beats role-only 20%",
    "wang.rho_sweep": "rho = 0.2 is best",
    "wang.normaliser": "paper's and code's normaliser",
    "wang.entropy_pattern_overlap": "RL keeps the entropy pattern (0.86)",
    "wang.entropy_pattern_beyond_null": "pattern kept beyond a random change",
    "wang.rl_changes_high_entropy": "RL changes high-entropy tokens",
    "wang.scale_trend": "top-20% gain grows with size",
    "wang.top20_matches_full_ladder": "top-20% matches all (ladder, each arm's lr)",
    "entbonus.pass1": "psi keeps pass@1",
    "entbonus.passk_large_k": "psi raises pass@k, large k",
    "entbonus.rl_shrinks_coverage": "RL shrinks pass@k below base",
    "entbonus.seed_crossover_32": "psi crossover at k = 32",
    "entbonus.psi_entropy": "psi raises entropy",
    "entbonus.passk_psi_large_alpha": "psi (alpha 4) raises pass@k",
    "entbonus.psi_uncapped_zero_gradient": "uncapped psi: zero mean gradient",
    "entbonus.psi_uncapped_is_baseline": "uncapped psi equals GRPO",
    "entbonus.positive_control_entropy": "entropy bonus raises entropy",
    "entbonus.passk_entreg": "entropy bonus raises pass@k",
    "entbonus.passk_cliphigh": "clip-higher raises pass@k",
    "entbonus.seed_moving_baseline": "bonus over a moving baseline",
}

#: What a comparative claim's difference is measured in: the forest plot's panels. One entry for all its pieces of
#: evidence, or one per piece.
QUANTITY: dict[str, str | tuple[str, ...]] = {
    "wang.fork_words": "share of tokens",
    "seed.fork_then_low_run": ("entropy (nats)", "entropy (nats)", "entropy (nats)"),
    "seed.dual_temp_21": "pass@1",
    "wang.dual_temp_shape": "pass@1",
    "seed.dual_temp_coverage": "pass@k",
    "wang.bottom80_hurts": "pass@1",
    "wang.random20_control": "pass@1",
    "wang.top20_matches_full": "pass@1",
    "wang.top20_matches_full_per_arm": "pass@1",
    "wang.top20_lr_dependence": "pass@1",
    "wang.role20_control": "pass@1",
    "wang.rho_sweep": "pass@1",
    "wang.entropy_pattern_overlap": "overlap",
    "wang.entropy_pattern_beyond_null": "overlap",
    "wang.normaliser": "pass@1",
    "wang.rl_changes_high_entropy": "entropy (nats)",
    "wang.scale_trend": "slope per decade",
    "wang.top20_matches_full_ladder": "pass@1",
    "entbonus.psi_entropy": "entropy (nats)",
    "entbonus.pass1": "pass@1",
    "entbonus.passk_large_k": "pass@k",
    "entbonus.passk_psi_large_alpha": "pass@k",
    "entbonus.psi_uncapped_is_baseline": ("entropy (nats)", "pass@1"),
    "entbonus.positive_control_entropy": "entropy (nats)",
    "entbonus.passk_entreg": "pass@k",
    "entbonus.passk_cliphigh": "pass@k",
    "entbonus.rl_shrinks_coverage": "pass@k",
    "entbonus.seed_crossover_32": ("pass@1", "pass@k"),
}

#: The parts of a claim of several parts, in a few words each (in the order of its evidence); a claim not named here
#: (or with another number of parts) names each part by its evidence's labels, "a - b".
PARTS: dict[str, tuple[str, ...]] = {
    "wang.dual_temp_shape": ("(a) T_fork up helps", "(b) T_fork down hurts", "(c) F - R > 0", "(c) F + R > 0"),
    "entbonus.psi_uncapped_is_baseline": ("entropy", "pass@1"),
    "wang.bottom80_hurts": ("both at all's lr", "each arm's own lr"),
    "seed.fork_then_low_run": ("task model", "SmolLM2, T = 1", "SmolLM2, T = 0.7"),
    "entbonus.seed_crossover_32": ("behind at k = 1", "ahead at k = 128"),
}


@dataclass(frozen=True)
class VerdictStyle:
    """How a verdict looks, the same in the forest plot and in README's table: a colour (Okabe-Ito, colour-blind
    safe), a matplotlib marker and fill, and the text symbol of that marker, so the two match in greyscale too."""

    colour: str
    marker: str
    fill: str  # matplotlib fillstyle: "full", "none" or "left"
    symbol: str


#: The one verdict -> look mapping: every word of :data:`utils.reproduce.claims.VERDICTS`, and "holds" / "fails" for claims
#: of our own.
VERDICT_STYLE: dict[str, VerdictStyle] = {
    "reproduced": VerdictStyle("#009E73", "o", "full", "●"),
    "holds": VerdictStyle("#009E73", "s", "full", "■"),
    "partly reproduced": VerdictStyle("#009E73", "o", "left", "◐"),
    "below the margin": VerdictStyle("#56B4E9", "^", "full", "▲"),
    "not reproduced": VerdictStyle("#D55E00", "v", "full", "▼"),
    "fails": VerdictStyle("#D55E00", "X", "full", "✖"),
    "inconclusive": VerdictStyle("#E69F00", "D", "full", "◆"),
    "corrected": VerdictStyle("#0072B2", "*", "full", "★"),
    "not testable here": VerdictStyle("#777777", "o", "none", "○"),
}


def verdict_style(verdict: str) -> VerdictStyle:
    """:data:`VERDICT_STYLE` of ``verdict``; a word it does not know is drawn as a black '?' (never an error)."""
    return VERDICT_STYLE.get(verdict, VerdictStyle("#000000", "$?$", "full", "?"))


def verdict_label(verdict: str) -> str:
    """The verdict as README's table shows it: the marker's symbol and the word in bold capitals."""
    return f"{verdict_style(verdict).symbol} **{verdict.upper()}**"


def presentation(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (a ledger row, as recorded) with its presentation fields filled where missing -- ``short`` from
    :data:`SHORT` and, for a comparative row, ``numbers["quantity"]`` and ``numbers["parts"]`` from :data:`QUANTITY`
    and :data:`PARTS` (one per piece of evidence; a list for a claim of several parts).
    :meth:`utils.reproduce.claims.Ledger.record` stamps a row with it, and :func:`utils.reproduce.claims.load_claims` fills rows recorded
    before these fields existed the same way. A quantity list of the wrong length is left empty (drawn as "unit not
    stated"), never guessed."""
    out = dict(row)
    cid = out["id"]
    if not out.get("short"):
        out["short"] = SHORT.get(cid, cid)
    nums = dict(out.get("numbers") or {})
    ev = nums.get("evidence")
    if ev is not None and "quantity" not in nums and cid in QUANTITY:
        n_parts = len(ev) if isinstance(ev, list) else 1
        q = QUANTITY[cid]
        qs = [q] * n_parts if isinstance(q, str) else list(q)
        if len(qs) != n_parts:  # another design than the table knows: the plot says "unit not stated", no guess
            qs = [""] * n_parts
        nums["quantity"] = qs if isinstance(ev, list) else qs[0]
    if isinstance(ev, list) and "parts" not in nums:
        parts = list(PARTS.get(cid, ()))
        if len(parts) != len(ev):
            parts = [" - ".join(str(x) for x in (e.get("labels") or (f"part {i + 1}",))) for i, e in enumerate(ev)]
        nums["parts"] = parts
    out["numbers"] = nums
    return out


def is_comparative(row: dict[str, Any]) -> bool:
    """Does ``row`` carry evidence and the paper's direction (a verdict computed by :func:`utils.stats.verdict`)?"""
    nums = row.get("numbers") or {}
    return row.get("basis", "experiment") == "experiment" and nums.get("evidence") is not None and "direction" in nums


def evidence_parts(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A comparative row's pieces of evidence, one dict each: ``evidence`` (:meth:`utils.stats.Evidence.as_dict`),
    ``direction``, ``quantity`` (:data:`QUANTITY`, ``""`` when not stated) and ``part`` (:data:`PARTS`, ``None``
    for a claim of one part). ``[]`` for any other row."""
    if not is_comparative(row):
        return []
    r = presentation(row)
    nums = r["numbers"]
    evs, dirs, qs = nums["evidence"], nums["direction"], nums.get("quantity", "")
    if not isinstance(evs, list):
        return [{"evidence": evs, "direction": dirs, "quantity": qs, "part": None}]
    qs = qs if isinstance(qs, list) else [qs] * len(evs)
    parts = nums.get("parts") or [f"part {i + 1}" for i in range(len(evs))]
    return [{"evidence": e, "direction": d, "quantity": q, "part": p} for e, d, q, p in zip(evs, dirs, qs, parts)]


def oriented(ev: dict[str, Any], direction: str) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """The difference and its 95 % and 90 % CIs turned so that the paper's claimed direction is positive (a "less"
    claim is negated; "greater", "grows" and "equivalent" stay as measured)."""
    d, (lo, hi), (lo9, hi9) = ev["diff"], ev["ci95"], ev["ci90"]
    if direction == "less":
        return -d, (-hi, -lo), (-hi9, -lo9)
    return d, (lo, hi), (lo9, hi9)


def ci_name(ev: dict[str, Any]) -> str:
    """What the stored ``ci95`` is: "95% CI", or its family-wise level for a Holm-corrected contrast."""
    level = (ev.get("detail") or {}).get("ci_level")
    return f"{100 * level:.1f}% CI (Holm)" if level else "95% CI"


def by_source(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` grouped by source in :data:`SOURCES` order (notebook order within a source)."""
    order = {s: i for i, s in enumerate(SOURCES)}
    return sorted(rows, key=lambda r: order.get(r["source"], len(order)))
