"""How notebook 04's comparative verdicts are decided: margins read from one committed file, paired tests where the
design pairs, every budget, pre-specified ρ contrasts with Holm's correction, and a matched-perturbation null.

Everything a verdict rests on that was fixed before the comparison -- the equivalence margin and its reason, the
learning rate and where it was chosen, the pairing, the budget rule, the ρ contrasts, the perturbation null's seeds
-- lives in ``configs/margins.yaml`` (section ``"04"``, read by :func:`utils.entropy_bonus.arms.margins`), so the
notebook prints it next to the verdict and the ledger row names it (:func:`design`):

* :func:`margin` / :func:`margin_line` -- a margin and the sentence that says where it was fixed and why;
* :func:`design` -- one sentence per ledger row: the test, the unit, the pairing, n and the margin's source;
* :func:`budget_verdicts` / :func:`verdict_runs` -- the equivalence verdict at every evaluated budget, none excluded,
  whether it changes, and the verdicts as one line;
* :func:`rho_contrasts` -- ρ = 0.2 against each other ρ, paired by seed, Holm-corrected (:func:`utils.stats.holm`);
* :func:`first_steps_identical` / :func:`first_steps_relation` -- whether the budget sweep's first steps repeat the
  headline runs bit for bit (or with the same rewards, another reduction order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from utils.config import margins
from utils.stats import Evidence, holm, verdict

__all__ = ["MARGINS_FILE", "Relation", "budget_verdicts", "design", "first_steps_identical", "first_steps_relation",
           "live_against_committed", "weakest_relation",
           "margin", "margin_line", "rho_contrasts",
           "section", "verdict_runs"]

MARGINS_FILE = "configs/margins.yaml"


def section() -> dict[str, Any]:
    """Notebook 04's block of ``configs/margins.yaml``."""
    return margins("04")


def margin(key: str = "top20_matches_full") -> float:
    """The equivalence margin ``key`` of section ``"04"`` (a positive number)."""
    m = section()[key]["margin"]
    if not isinstance(m, (int, float)) or isinstance(m, bool) or not m > 0:
        raise ValueError(f"{MARGINS_FILE}: 04.{key}.margin must be a positive number, got {m!r}")
    return float(m)


def margin_line(key: str = "top20_matches_full") -> str:
    """``margin ±0.02 (configs/margins.yaml, 04.<key>): <reason>`` -- printed with the verdict it judges."""
    entry = section()[key]
    return f"margin ±{margin(key):g} ({MARGINS_FILE}, 04.{key}): {' '.join(str(entry['reason']).split())}"


def design(ev: Evidence, margin_key: str | None = None) -> str:
    """The ledger's statement of how a comparison was made: test, unit, pairing, n and the margin's source."""
    if ev.n_b == 0:
        pairing = f"one sample against the fixed value {ev.labels[1]}"
    elif ev.test.startswith("paired"):
        pairing = "paired by " + str(ev.detail.get("pairing", ev.unit))
        r = ev.detail.get("correlation")
        if isinstance(r, float) and r == r:
            pairing += f", per-{ev.unit} correlation {r:.2f}"
    else:
        pairing = "unpaired (independent groups)"
    n = f"n = {ev.n_a}" if ev.n_b == 0 else f"n = {ev.n_a}/{ev.n_b}"
    parts = [f"test: {ev.test}", f"unit: {ev.unit}", pairing, f"{n} {ev.unit}s"]
    if ev.margin is not None:
        where = f"fixed in {MARGINS_FILE}, 04.{margin_key}" if margin_key else "stated in the notebook"
        parts.append(f"margin ±{ev.margin:g} {where}")
    return "Design: " + "; ".join(parts)


def budget_verdicts(gap_ev: dict[int, Evidence], claim: str = "equivalent") -> tuple[dict[int, str], bool]:
    """``({step: verdict}, changes)`` at EVERY budget ``gap_ev`` holds (no step left out); ``changes`` is whether
    the verdict differs between any two of them."""
    if not gap_ev:
        raise ValueError("no budgets to decide")
    at = {s: verdict(gap_ev[s], claim) for s in sorted(gap_ev)}
    return at, len(set(at.values())) > 1


def verdict_runs(at: dict[int, str]) -> str:
    """``{25: "reproduced", 50: "reproduced", 75: "inconclusive"}`` -> ``"reproduced at 25-50, inconclusive at 75"``:
    every budget, consecutive budgets with the same verdict joined."""
    if not at:
        raise ValueError("no budgets")
    steps = sorted(at)
    spans: list[tuple[str, int, int]] = []
    for s in steps:
        if spans and spans[-1][0] == at[s]:
            spans[-1] = (at[s], spans[-1][1], s)
        else:
            spans.append((at[s], s, s))
    return ", ".join(f"{v} at {a}" if a == b else f"{v} at {a}-{b}" for v, a, b in spans)


def rho_contrasts(by_rho: dict[float, Sequence[dict[str, Any]]], focus: float = 0.2,
                  others: Sequence[float] | None = None) -> list[Evidence]:
    """ρ = ``focus`` against each other ρ (default: the contrasts of ``configs/margins.yaml`` 04.rho_sweep), each a
    paired t over seeds (:func:`utils.rlvr.readout.compare_runs`), Holm-corrected as one family."""
    from utils.rlvr.readout import compare_runs

    if others is None:
        others = [b for a, b in section()["rho_sweep"]["contrasts"] if a == focus]
    missing = [r for r in (focus, *others) if r not in by_rho]
    if missing:
        raise ValueError(f"no runs for rho {missing}")
    raw = [compare_runs(by_rho[focus], by_rho[r], labels=(f"rho {focus:g}", f"rho {r:g}")) for r in others]
    return holm(raw)


@dataclass(frozen=True)
class Relation:
    """How long runs' first steps relate to the short runs of the same seeds (:func:`first_steps_relation`).

    ``kind``: ``"bit for bit"`` (:func:`first_steps_identical`); ``"same rewards"`` (every training reward equal,
    entropies or evaluations differ in the last digits: the same trajectory made with another reduction order);
    ``"drift"`` (the same training rewards for the first ``shared_steps`` steps -- the earliest over the seeds --
    then a last-digit difference grew until one sampled token differed, in ``drifting`` of ``n_seeds`` seeds); or
    ``"different"`` (they differ from the first step, or share no seed: not the same trajectory).
    ``str(relation)`` is the phrase for prose; relations order from the weakest (``min`` is the weakest).
    """

    kind: str
    shared_steps: int = 0
    drifting: int = 0
    n_seeds: int = 0

    KINDS = ("different", "drift", "same rewards", "bit for bit")  # weakest first

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {self.kind!r}")

    @property
    def rank(self) -> tuple[int, int]:
        return (self.KINDS.index(self.kind), self.shared_steps if self.kind == "drift" else 0)

    def __lt__(self, other: Relation) -> bool:
        return self.rank < other.rank

    def __str__(self) -> str:
        if self.kind == "drift" and self.n_seeds == 1:
            return f"the same training rewards for the first {self.shared_steps} steps, then drift"
        if self.kind == "drift":
            return (f"the same training rewards for the first {self.shared_steps} steps "
                    f"({self.drifting} of {self.n_seeds} seeds then drift)")
        return {"same rewards": "the same training rewards"}.get(self.kind, self.kind)


def first_steps_relation(long: Sequence[dict[str, Any]], short: Sequence[dict[str, Any]]) -> Relation:
    """How the long runs' first steps relate to the short runs of the same seed (a :class:`Relation`; ``str()`` of
    it is the phrase for prose, e.g. ``"the same training rewards for the first 77 steps (1 of 6 seeds then
    drift)"``)."""
    if first_steps_identical(long, short):
        return Relation("bit for bit")
    by_seed = {r["seed"]: r for r in short}
    shared = [(r, by_seed[r["seed"]]) for r in long if r["seed"] in by_seed]
    if not shared:
        return Relation("different")
    same = []
    for a, b in shared:
        ra, rb = a["train"]["reward"], b["train"]["reward"]
        same.append(next((i for i in range(len(rb)) if i >= len(ra) or ra[i] != rb[i]), len(rb)))
    n = min(same)
    if n == min(len(b["train"]["reward"]) for _, b in shared):
        return Relation("same rewards", n_seeds=len(shared))
    if not n:
        return Relation("different", n_seeds=len(shared))
    diverged = sum(k < len(b["train"]["reward"]) for k, (_, b) in zip(same, shared))
    return Relation("drift", shared_steps=n, drifting=diverged, n_seeds=len(shared))


def live_against_committed(live: Sequence[dict[str, Any]], committed: Sequence[dict[str, Any]]) -> str:
    """How runs trained now relate to the committed runs of the same seeds (:func:`first_steps_relation`, as a
    phrase), and, where they differ, the library versions the committed runs were made with: e.g. ``"the same
    training rewards for the first 117 steps, then drift (committed with transformers 5.24.0; now 5.25.0)"``."""
    rel = str(first_steps_relation(live, committed))
    by_seed = {r["seed"]: r for r in committed}
    pair = next(((a, by_seed[a["seed"]]) for a in live if a["seed"] in by_seed), None)
    if pair is None:
        return rel
    now, then = pair[0].get("versions", {}), pair[1].get("versions", {})
    moved = [k for k, v in now.items() if then.get(k) != v]
    if not moved:
        return rel
    return (f"{rel} (committed with {' and '.join(f'{k} {then.get(k)}' for k in moved)}; now "
            f"{' and '.join(str(now[k]) for k in moved)})")


def weakest_relation(relations: Sequence[Relation]) -> Relation:
    """The weakest of several :func:`first_steps_relation` results (e.g. one per arm): different < the fewest
    shared steps < the same rewards < bit for bit."""
    if not relations:
        raise ValueError("no relations")
    return min(relations)


def first_steps_identical(long: Sequence[dict[str, Any]], short: Sequence[dict[str, Any]]) -> bool:
    """Whether each long run repeats the short run of the same seed bit for bit over the short run's steps (training
    rewards and entropies, and the held-out evaluations both made). Seeds only one side ran are ignored; ``False``
    when no seed is shared."""
    by_seed = {r["seed"]: r for r in short}
    shared = [(r, by_seed[r["seed"]]) for r in long if r["seed"] in by_seed]
    if not shared:
        return False
    for a, b in shared:
        n = len(b["train"]["reward"])
        if a["train"]["reward"][:n] != b["train"]["reward"] or a["train"]["entropy"][:n] != b["train"]["entropy"]:
            return False
        k = len(b["eval"]["pass1"])
        if a["eval"]["step"][:k] != b["eval"]["step"] or a["eval"]["pass1"][:k] != b["eval"]["pass1"]:
            return False
    return True
