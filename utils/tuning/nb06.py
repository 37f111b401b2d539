"""Notebook 06's ladder with each arm at its own learning rate (issue 29; ``configs/margins.yaml``
``06.per_arm_lr``): stage 1's choice per size and arm, the best-vs-best comparison on the 12 base models (unit: the
base model), the share of ``all``'s gain that top-20 % recovers, and how top-20 %'s gap moves at its second rate."""

from __future__ import annotations

from typing import Any

import numpy as np

from utils.tuning import choose, comparison_jobs, second_rate, selection_runs, share_words, sizes, spec

__all__ = ["per_arm_06", "per_arm_06_words", "stage1_words"]


def per_arm_06(budget: int | None = None) -> dict[str, Any]:
    """Notebook 06's ladder with each arm at its size's chosen rate: stage 1's choice, and for the base models whose
    stage-2 runs are all finished, the per-model gap table (:func:`utils.ladder.analysis.gap_table`, top20 at its
    rate minus all at its rate), the share of `all`'s gain that top20 recovers (base model as the
    unit, each model's own step-0 pass@1 as its base), the same gap with top20 at its second rate, and the margin (a
    quarter of `all`'s mean selection gain over the sizes). ``complete`` / ``models`` say how much of the design is in."""
    from utils.ladder import design, rung_table
    from utils.ladder.analysis import gap_table
    from utils.rlvr.run import finished_run
    from utils.stats import gain_share

    d, lad = spec("06"), design()
    budget = int(budget or lad["primary_budget"])
    chosen = choose(selection_runs("06"))
    jobs = comparison_jobs("06", chosen)
    by_model: dict[str, list[tuple[Any, dict[str, Any] | None]]] = {}
    for j in jobs:
        by_model.setdefault(j.cfg.model, []).append((j, finished_run(j, threads=1, any_profile=True)))
    params = {r["rung"]: r["params"] for r in rung_table()}
    best: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    for pairs in by_model.values():
        if any(r is None for _, r in pairs):
            continue
        for j, r in pairs:
            rung, m, arm = j.cfg.name.split("_")[1:4]
            named = {**r, "name": f"06_{rung}_{m}_{arm}"}  # type: ignore[dict-item]
            lr = float(r["config"]["learning_rate"])  # type: ignore[index]
            if abs(lr - chosen[(rung, arm)]["lr"]) <= 1e-15:
                best.append(named)
                if arm == "all":
                    second.append(named)
            if arm == "top20" and abs(lr - second_rate("06", chosen[(rung, arm)]["lr"])) <= 1e-15:
                second.append(named)
    margin = d["margin_share_of_gain"] * float(np.mean([chosen[(r, "all")]["gain"] for r in params]))
    models = len(best) // (len(lad["arms"]) * len(lad["rl_seeds"]))  # base models whose every run is in
    out: dict[str, Any] = {"chosen": chosen, "margin": margin, "budget": budget, "models": models,
                           "models_total": len(by_model), "complete": models == len(by_model)}
    if out["models"] >= 3:
        rows = gap_table(best, budget, params)
        out.update(rows=rows, second_rows=gap_table(second, budget, params),
                   gain_share=gain_share([r["top20"] for r in rows], [r["all"] for r in rows],
                                         [r["base"] for r in rows]))
        out["evidence"] = _evidence(out)
    return out


def _evidence(pa: dict[str, Any]) -> dict[str, Any]:
    """The per-arm reading's two comparisons, base model as the unit (one mean over its RL seeds per model):
    ``top20_vs_all`` (each arm at its chosen rate, paired by model, equivalence margin ``pa["margin"]``) and
    ``second_vs_chosen`` (top-20 % at its second rate minus at its chosen rate: the arm x rate interaction; ``all`` is
    the same runs in both readings, so this is the change of the gap)."""
    from utils.stats import compare

    rows, second = pa["rows"], {(r["rung"], r["model_seed"]): r for r in pa["second_rows"]}
    top2 = [second[(r["rung"], r["model_seed"])]["top20"] for r in rows]
    return {"top20_vs_all": compare([r["top20"] for r in rows], [r["all"] for r in rows], paired=True,
                                    margin=pa["margin"], labels=("top-20%", "all"), unit="base model"),
            "second_vs_chosen": compare(top2, [r["top20"] for r in rows], paired=True,
                                        labels=("top-20% at its second rate", "top-20% at its chosen rate"),
                                        unit="base model")}


def per_arm_06_words(pa: dict[str, Any]) -> str:
    """What the per-arm reading of the ladder found, from :func:`per_arm_06`'s numbers (Markdown)."""
    from utils.stats import verdict

    ch = pa["chosen"]
    picks = _picks(ch)
    if "evidence" not in pa:
        return (f"Stage 1 chose {picks}. Stage 2 has {pa['models']} of {pa['models_total']} base models complete: "
                "too few to compare (`python -m utils.tuning compare --notebook 06` resumes).")
    ev, inter = pa["evidence"]["top20_vs_all"], pa["evidence"]["second_vs_chosen"]
    x2 = "/".join(sorted({f"{second_rate('06', ch[(s, 'top20')]['lr']):g}" for s in sizes(ch)}))
    return (f"Stage 1 chose {picks}. At those rates, over {ev.n_a} base models (each the mean of its RL seeds), "
            f"**top-20 % − all** {ev.diff:+.4f}, 90 % CI [{ev.ci90[0]:+.4f}, {ev.ci90[1]:+.4f}], against the margin "
            f"±{pa['margin']:.4f} (a quarter of all's mean selection gain) → **{verdict(ev, 'equivalent')}**"
            + (f" — but top-20 % is reliably *behind* (95 % CI [{ev.ci95[0]:+.4f}, {ev.ci95[1]:+.4f}] below 0): it "
               "matches within the margin fixed in advance, not exactly" if ev.ci95[1] < 0 else "")
            + "; "
            f"{share_words(pa['gain_share'], 'base models')}. Top-20 % at {x2} instead of its chosen rate: "
            f"{inter.diff:+.4f} [95% CI {inter.ci95[0]:+.4f}, {inter.ci95[1]:+.4f}] on its pass@1, so the gap "
            + ("widens" if inter.ci95[1] < 0 else "narrows" if inter.ci95[0] > 0 else "moves by an unclear amount")
            + " at the higher rate.")


def _picks(ch: dict[tuple[str, str], Any]) -> str:
    """Stage 1's rates per size in words: ``"d48: all 0.0001, top-20 % 0.0001; d96: ..."``."""
    return "; ".join(f"{s}: all {ch[(s, 'all')]['lr']:g}, top-20 % {ch[(s, 'top20')]['lr']:g}" for s in sizes(ch))


def _loss_one_step_up(c: dict[str, Any]) -> float:
    """How much an arm's mean selection endpoint falls from its chosen rate to the grid's next rate (stage 1)."""
    return c["means"][c["lr"]] - c["means"][second_rate("06", c["lr"])]


def stage1_words(pa: dict[str, Any]) -> str:
    """One sentence on stage 1 (Markdown): the rate each arm got per size, whether it is the rate section 4's
    comparison already used (every config in ``configs/ladder_*.yaml``), and how much each arm lost, on average over
    the sizes, at the grid's next higher rate than its chosen one."""
    from utils.ladder import rung_configs

    ch = pa["chosen"]
    order = sizes(ch)
    same = all(abs(ch[(s, a)]["lr"] - rung_configs(s, "full")[a].learning_rate) <= 1e-15
               for s in order for a in ("all", "top20"))
    drop = {a: float(np.mean([_loss_one_step_up(ch[(s, a)]) for s in order])) for a in ("all", "top20")}
    return (f"The rule chose {_picks(ch)}"
            + (" — the rates section 4's comparison already ran at, so that comparison *is* the best-vs-best one. "
               if same else ". ")
            + f"One grid step above its chosen rate, top-20 % loses {drop['top20']:.3f} pass@1 and all "
            f"{drop['all']:.3f} (mean over the {len(order)} sizes, selection seeds): top-20 % is the arm that is "
            + ("more" if drop["top20"] > drop["all"] else "less") + " sensitive to the rate.")
