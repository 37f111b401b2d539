"""Do the verdicts survive another CPU? Notebook 04's headline comparisons re-run with another reduction order.

Floating-point addition is not associative, so a sum over many numbers depends on the order it is taken in; which
order a CPU uses depends on its vector width (the kernel torch picks: ``ATEN_CPU_CAPABILITY`` = ``default``,
``avx2``, ``avx512``) and on the number of threads. The first differences are in the last bits (a relative 1e-7 in
the first step's token entropies); sampling turns them into a different token somewhere, and from then on the run
follows another trajectory. So a run repeats bit for bit on one machine with one thread count, and on another
machine it is a different draw of the same experiment: its numbers move by about one seed's standard deviation,
and a verdict that rests on 8 seeds should not move with it.

This module tests that: :data:`HEADLINE_04` names notebook 04's headline contrasts, :func:`verdicts` decides them
from a folder of runs exactly as the notebook does (endpoint: mean of the last two evaluations; paired t over seeds;
the notebook's margin), and :func:`check` compares the committed runs with the same runs re-made under a
perturbation (``python -m utils.reproduce.robustness check``). The result, ``data/results/robustness/04.json``, is committed;
:func:`ledger_note` turns it into the note the claims ledger prints next to each of those verdicts ("holds" or
"fragile").
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import DATA_DIR
from utils.results import ResultsError, guard_overwrite, load_json, repo_relative, save_json

__all__ = ["CONTRASTS", "HEADLINE_04", "LR3E4_04", "Contrast", "check", "divergence", "ledger_note", "ledger_notes",
           "remade_problem", "verdicts"]

SCHEMA = "forking-tokens/robustness/v1"
ROBUSTNESS_DIR = DATA_DIR / "results" / "robustness"


@dataclass(frozen=True)
class Contrast:
    """One comparison of two arms' endpoints over seeds: ``a`` against ``b`` in the paper's ``direction``
    (``greater``, ``less`` or ``equivalent`` within ``margin``)."""

    claim: str
    a: str
    b: str
    direction: str
    margin: float | None = None


#: Notebook 04's headline contrasts (arm names are the configs' ``name`` fields; margin: configs/margins.yaml,
#: 04.top20_matches_full, the notebook's ±0.02), at the tuned learning rate 1e-4.
HEADLINE_04 = (
    Contrast("wang.bottom80_hurts", "04_bottom80", "04_all", "less"),
    Contrast("wang.random20_control", "04_top20", "04_random20", "greater"),
    Contrast("wang.top20_matches_full", "04_top20", "04_all", "equivalent", margin=0.02),
)
#: The same contrasts on the runs at the earlier, untuned lr 3e-4 (``configs/countdown_*_lr3e-4.yaml``): the runs the
#: committed check (``data/results/robustness/04.json``, re-made with the scalar kernels) was made for. Only the
#: equivalence contrast has a ledger row at 3e-4 (``wang.top20_lr_dependence``); the other two keep their own keys.
LR3E4_04 = (
    Contrast("wang.bottom80_hurts@lr3e-4", "04_bottom80_lr3e-4", "04_all_lr3e-4", "less"),
    Contrast("wang.random20_control@lr3e-4", "04_top20_lr3e-4", "04_random20_lr3e-4", "greater"),
    Contrast("wang.top20_lr_dependence", "04_top20_lr3e-4", "04_all_lr3e-4", "equivalent", margin=0.02),
)
CONTRASTS = {"headline": HEADLINE_04, "lr3e-4": LR3E4_04}


def _runs(folder: str | Path) -> dict[str, list[dict[str, Any]]]:
    from utils.rlvr.readout import by_name
    from utils.rlvr.run import RESULTS_SCHEMA

    if not Path(folder).is_dir():
        raise NotADirectoryError(f"{repo_relative(folder)} is not a folder of runs")
    files = sorted(Path(folder).glob("*_seed*.json"))
    if not files:
        raise FileNotFoundError(f"{repo_relative(folder)} holds no run files (*_seed*.json)")
    return by_name([load_json(f, schema=RESULTS_SCHEMA) for f in files])


def verdicts(folder: str | Path, contrasts: Sequence[Contrast] = HEADLINE_04,
             runs: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, dict[str, Any]]:
    """Each contrast decided from the runs in ``folder`` (or ``runs``, already read from it):
    ``{claim: {"verdict", "evidence", "seeds"}}``."""
    from utils.rlvr.readout import compare_runs
    from utils.stats import verdict

    runs = _runs(folder) if runs is None else runs
    out = {}
    for c in contrasts:
        missing = [n for n in (c.a, c.b) if n not in runs]
        if missing:
            raise FileNotFoundError(f"{repo_relative(folder)} has no runs of {', '.join(missing)}")
        ev = compare_runs(runs[c.a], runs[c.b], margin=c.margin, labels=(c.a, c.b))  # paired by seed, as the notebook
        out[c.claim] = {"verdict": verdict(ev, c.direction), "evidence": ev.as_dict(),
                        "seeds": sorted({r["seed"] for r in runs[c.a]} & {r["seed"] for r in runs[c.b]})}
    return out


def divergence(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """How two runs of the same config and seed drift apart: the largest relative difference of the first step's
    mean token entropy, the first step whose mean reward differs (``None``: never), and the endpoint's change."""
    from utils.rlvr.readout import endpoint

    ea, eb = a["train"]["entropy"][0], b["train"]["entropy"][0]
    first = next((s for s, x, y in zip(a["train"]["step"], a["train"]["reward"], b["train"]["reward"]) if x != y), None)
    return {"step0_entropy_rel": abs(ea - eb) / max(abs(ea), 1e-12), "first_reward_step": first,
            "endpoint_change": endpoint(b) - endpoint(a)}


def remade_problem(stored_run: dict[str, Any], remade: dict[str, Any]) -> str | None:
    """Why ``remade`` is not the run ``stored_run`` re-made (``None``: it is), by the check a resumed job's file gets
    (:func:`utils.rlvr.readout.run_problem`): the stored run's whole config (any thread count: the thread count may be
    the perturbation), its seed and profile, a real model (no stand-in), the full evaluation schedule and training
    history. The stored run passes the same check (a stand-in or short run is no reference either)."""
    import dataclasses

    from utils.rlvr.config import ConfigError, RunConfig
    from utils.rlvr.readout import run_problem
    from utils.rlvr.run import Job

    stored_cfg = stored_run.get("config") if isinstance(stored_run, dict) else None
    if not isinstance(stored_cfg, dict):
        return "its committed twin has no config"
    known = {f.name for f in dataclasses.fields(RunConfig)}
    try:
        cfg = RunConfig(**{**{k: v for k, v in stored_cfg.items() if k in known}, "num_threads": None})
    except (ConfigError, TypeError) as e:
        return f"its committed twin's config is not valid ({e})"
    job = Job(cfg, stored_run.get("seed"))  # type: ignore[arg-type]
    profile = stored_run.get("profile")
    if profile not in ("default", "full"):
        return f"its committed twin was run under profile {profile!r}, not default or full"
    for which, r in (("its committed twin", stored_run), ("it", remade)):
        problem = run_problem(r, job, threads=None, profile=profile)
        if problem:
            return problem if which == "it" else f"{which}: {problem}"
    return None


def check(stored: str | Path, perturbed: str | Path, perturbation: str,
          contrasts: Sequence[Contrast] = HEADLINE_04) -> dict[str, Any]:
    """Decide ``contrasts`` on the committed runs and on the re-made ones; per claim both verdicts, whether it held,
    and per arm how far the re-made runs drifted (in units of the committed arm's seed SD). Every re-made run is
    checked first as resume checks a run (:func:`remade_problem`): a stand-in, ci-profile or short run, or one of
    another config, is a :class:`ResultsError` naming it, never a verdict."""
    from utils.rlvr.readout import values

    runs_a, runs_b = _runs(stored), _runs(perturbed)
    names = sorted({n for c in contrasts for n in (c.a, c.b)})
    for name in names:  # the same seeds on both sides, or the comparison mixes designs
        seeds_a, seeds_b = (sorted(r["seed"] for r in runs.get(name, [])) for runs in (runs_a, runs_b))
        if seeds_a != seeds_b:
            raise ResultsError(f"{repo_relative(perturbed)} has {name} seeds {seeds_b}, {repo_relative(stored)} has "
                             f"{seeds_a}: re-make the missing runs first")
        for r in runs_b.get(name, []):  # a stand-in, ci-profile or short run is not the committed run re-made
            twin = next(x for x in runs_a[name] if x["seed"] == r["seed"])
            problem = remade_problem(twin, r)
            if problem:
                raise ResultsError(f"{repo_relative(perturbed)}: {name} seed {r['seed']}: {problem}; re-make it as the "
                                   f"committed run was made (same config, seed and profile)")
    before, after = verdicts(stored, contrasts, runs_a), verdicts(perturbed, contrasts, runs_b)
    arms = {}
    for name in names:
        pairs = [(x, y) for x in runs_a[name] for y in runs_b[name] if x["seed"] == y["seed"]]
        div = [divergence(x, y) for x, y in pairs]
        sd = float(np.std(values(runs_a[name]), ddof=1))
        firsts = [d["first_reward_step"] for d in div if d["first_reward_step"] is not None]
        arms[name] = {
            "seeds": len(pairs),
            "step0_entropy_rel_max": max(d["step0_entropy_rel"] for d in div),
            "first_reward_step_median": float(np.median(firsts)) if firsts else None,
            "identical_runs": len(div) - len(firsts),
            "endpoint_change_mean": float(np.mean([d["endpoint_change"] for d in div])),
            "endpoint_change_abs_mean_in_sd": float(np.mean([abs(d["endpoint_change"]) for d in div]) / sd) if sd > 0 else None,
        }
    claims = {k: {"stored": before[k], "perturbed": after[k], "holds": before[k]["verdict"] == after[k]["verdict"]}
              for k in before}
    return {"perturbation": perturbation, "stored": repo_relative(stored), "perturbed": repo_relative(perturbed),
            "claims": claims, "arms": arms}


def ledger_notes(folder: str | Path = ROBUSTNESS_DIR, sources: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{claim: sentence}``: what the ledger adds to each verdict a committed robustness check covers --
    "verdict unchanged when re-run with <perturbation>", or "FRAGILE: <verdict> when re-run with <perturbation>" (several checks
    joined by "; "). Reads each check once. ``sources`` (claim -> source; :data:`utils.reproduce.claims.PUBLISHED` passes it)
    says the verdict in the words of a claim of our own (holds / fails) where the source is this project."""
    from utils.reproduce.row_view import verdict_word

    notes: dict[str, list[str]] = {}
    for p in sorted(Path(folder).glob("*.json")):
        data = load_json(p, schema=SCHEMA, regenerate="python -m utils.reproduce.robustness check ...")
        for claim, c in data["claims"].items():
            after = c["perturbed"]
            d, (lo, hi) = after["evidence"]["diff"], after["evidence"]["ci95"]
            # "unchanged", not "holds": holds / fails are the ledger's verdict words for claims of our own
            head = "verdict unchanged" if c["holds"] else f"FRAGILE: {verdict_word(after['verdict'], (sources or {}).get(claim, ''))}"
            notes.setdefault(claim, []).append(f"{head} when re-run with {data['perturbation']} "
                                               f"({d:+.3f} [{lo:+.3f}, {hi:+.3f}])")
    return {claim: "; ".join(ns) for claim, ns in notes.items()}


def ledger_note(claim: str, folder: str | Path = ROBUSTNESS_DIR) -> str | None:
    """The sentence :func:`ledger_notes` has for ``claim``, or ``None`` when no committed check covers it."""
    return ledger_notes(folder).get(claim)


def main(argv: Sequence[str] | None = None) -> int:
    from utils.infra.cli import Parser, add_debug, path_arg, run

    prog = "python -m utils.reproduce.robustness"
    ap = Parser(prog=prog, description="Decide notebook 04's headline contrasts on committed and re-made runs.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="compare the verdicts of two folders of runs, write the result JSON")
    c.add_argument("--stored", type=path_arg, default=DATA_DIR / "results" / "04_masked_rlvr")
    c.add_argument("--perturbed", type=path_arg, required=True, help="folder of the same runs re-made")
    c.add_argument("--perturbation", required=True, help="what was changed, in words (e.g. 'ATEN_CPU_CAPABILITY=default')")
    c.add_argument("--out", type=path_arg, default=None, help="result JSON (default build/robustness/04.json)")
    c.add_argument("--force", action="store_true", help="allow replacing a committed file")
    c.add_argument("--contrasts", choices=sorted(CONTRASTS), default="headline",
                   help="which arms: the headline at the tuned lr (default) or the runs at lr 3e-4")
    add_debug(c)
    a = ap.parse_args(argv)

    def body() -> int:
        from utils.config import BUILD_DIR

        out = guard_overwrite(a.out if a.out is not None else BUILD_DIR / "robustness" / "04.json", a.force,
                              kind="file")
        res = check(a.stored, a.perturbed, a.perturbation, CONTRASTS[a.contrasts])
        save_json(res, out, schema=SCHEMA)
        for k, v in res["claims"].items():
            print(f"{k}: {v['stored']['verdict']} -> {v['perturbed']['verdict']} ({'holds' if v['holds'] else 'FRAGILE'})")
        print(f"wrote {repo_relative(out)}")
        return 0

    return run(body, f"{prog} {a.cmd}", a.debug)


if __name__ == "__main__":
    sys.exit(main())
