"""Notebook 04's plumbing, one call per thing the lesson needs: the configs and budget line of the headline runs,
the headline runs themselves (trained, or read back when their files and models exist), and the precomputed runs of
the full profile (the budget sweep, the role-only / ρ / normaliser arms). The notebook keeps the lesson: the mask,
the loss, the comparisons and their verdicts.

Paths: the headline runs go to ``results_dir()/04_masked_rlvr`` (models under ``build/04_models/<profile>``); the
precomputed ones are read from ``data/results/full/04_masked_rlvr`` (in the full profile they are trained there)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from utils.config import BUILD_DIR, DATA_DIR, precomputed_dir, results_dir

#: The four arms of section 3 and their configs.
MAIN = {"all": "countdown_all", "top20": "countdown_top20", "bottom80": "countdown_bottom80",
        "random20": "countdown_random20"}
#: The arms of sections 5-7 (precomputed, full profile).
EXTRA = ("role20", "top10", "top50", "top20_selected", "sgd_top20", "sgd_top20_selected")
#: The share of tokens each main arm trains on (checked on the runs' logs).
SHARE = {"all": 1.0, "top20": 0.2, "bottom80": 0.8, "random20": 0.2}
REGENERATE = "make reproduce PROFILE=full (or: python -m utils.reproduce --profile full --only 04)"
LRS = ("1e-4", "3e-4")
BUDGET_SEEDS = list(range(6))
PRE_SEEDS = list(range(8))


def run_dir(profile: str) -> Path:
    return results_dir(profile) / "04_masked_rlvr"


def model_dir(profile: str) -> Path:
    return BUILD_DIR / "04_models" / profile


def pre_dir(profile: str) -> Path:
    """Where the precomputed runs are: trained live in the full profile, read from the committed files otherwise."""
    return (results_dir(profile) if profile == "full" else precomputed_dir()) / "04_masked_rlvr"


def main_configs(profile: str) -> tuple[dict[str, Any], str]:
    """The four arms' configs at ``profile``'s sizes, and the one-line budget the ledger rows quote."""
    from utils.rlvr import load_config

    cfgs = {k: load_config(v, profile=profile) for k, v in MAIN.items()}
    c = cfgs["all"]
    budget = (f"{c.steps} GRPO steps, lr {c.learning_rate:g} (chosen for `all` on seeds 100-101, notebook 06's "
              f"sweep), {c.prompts_per_step}x{c.num_generations} samples per step; endpoint: mean of the last two "
              f"evaluations ({c.eval_n} problems x {c.eval_samples} samples)")
    return cfgs, budget


def headline_runs(cfgs: dict[str, Any], seeds: list[int], profile: str, workers: int = 2
                  ) -> tuple[dict[str, list[dict[str, Any]]], float]:
    """Train (or read back: a run whose results file and saved model exist is not re-trained) every arm of ``cfgs``
    on every seed, two at a time with one torch thread each. Returns ``({arm: runs}, base)``; checks that every run
    starts from the same base pass@1 and trained on the share of tokens its arm should."""
    from utils.notebook import quiet
    from utils.rlvr import Job, run_many

    jobs = [Job(cfgs[k], s, str(run_dir(profile) / f"{cfgs[k].name}_seed{s}.json"),
                str(model_dir(profile) / f"{cfgs[k].name}_seed{s}")) for k in cfgs for s in seeds]
    with quiet():
        runs = run_many(jobs, workers=workers, threads=1, verbose=False, resume=True)
    groups = {k: [r for r in runs if r["name"] == cfgs[k].name] for k in cfgs}
    base = float(runs[0]["eval"]["pass1"][0])
    if any(r["eval"]["pass1"][0] != base for r in runs):
        raise AssertionError("the runs do not start from the same base model and evaluation samples")
    for k, g in groups.items():
        kept = np.mean([np.mean(r["train"].get("tokens_kept", [1.0])) for r in g])
        if abs(kept - SHARE.get(k, kept)) >= 0.03:
            raise AssertionError(f"{k} trained on {kept:.3f} of the tokens, not {SHARE[k]}")
    return groups, base


@dataclass
class Budget:
    """The precomputed budget sweep (section 4): ``bg`` the runs by config name, ``cfgs[(lr, arm)]`` the 400-step
    configs, ``lr3[arm]`` the 100-step configs at the untuned 3e-4."""

    bg: dict[str, list[dict[str, Any]]]
    cfgs: dict[tuple[str, str], Any]
    lr3: dict[str, Any]
    seeds: list[int] = field(default_factory=lambda: list(BUDGET_SEEDS))

    def runs(self, lr: str, arm: str) -> list[dict[str, Any]]:
        return self.bg[self.cfgs[(lr, arm)].name]

    def curves(self) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """``{lr: {arm: (steps, P)}}`` for :func:`utils.viz.rl.budget_gap_figure`."""
        from utils.rlvr import readout as R

        return {lr: {arm: R.curve(self.runs(lr, arm)) for arm in ("all", "top20")} for lr in LRS}


def budget_runs(seeds: list[int], profile: str, workers: int = 2) -> Budget:
    """The budget sweep's runs (``all`` and ``top20`` for 400 steps at lr 1e-4 and 3e-4, 6 seeds) and the 100-step
    runs at 3e-4 on ``seeds``: trained in the full profile, else read from the committed files."""
    from utils.notebook import quiet
    from utils.rlvr import Job, load_config, run_many
    from utils.rlvr import readout as R

    cfgs = {(lr, arm): load_config(f"countdown_{arm}_400steps{'_lr1e-4' if lr == '1e-4' else ''}", profile="full")
            for lr in LRS for arm in ("all", "top20")}
    lr3 = {arm: load_config(f"countdown_{arm}_lr3e-4", profile="full") for arm in ("all", "top20")}
    d = pre_dir(profile)
    jobs = [Job(cf, s, str(d / f"{cf.name}_seed{s}.json")) for cf in cfgs.values() for s in BUDGET_SEEDS]
    jobs += [Job(cf, s, str(d / f"{cf.name}_seed{s}.json")) for cf in lr3.values() for s in seeds]
    if profile == "full":
        with quiet():
            runs = run_many(jobs, workers=workers, threads=1, verbose=False, resume=True)
    else:
        runs = R.load_jobs(jobs, REGENERATE)
    return Budget(R.by_name(runs), cfgs, lr3)


def precomputed_arms(cfgs: dict[str, Any], groups: dict[str, list[dict[str, Any]]], lr3_top20: Any, profile: str,
                     workers: int = 2) -> tuple[dict[str, list[dict[str, Any]]], str, float]:
    """The arms of sections 5-7 (role-only 20 %, ρ = 0.1 / 0.5, the two normalisers under AdamW and SGD), 8 seeds,
    plus ``all`` and ``top20`` at the full profile's size: the live runs of section 3 where their configs are the
    full profile's (default and full), else the committed ones. Returns ``({arm: runs}, budget line, their lr)``."""
    from utils.notebook import quiet
    from utils.rlvr import Job, load_config, run_many
    from utils.rlvr import readout as R

    pre_main = {k: load_config(MAIN[k], profile="full") for k in ("all", "top20")}
    extra = {k: load_config(f"countdown_{k}", profile="full") for k in EXTRA} | {"top20_lr3e-4": lr3_top20}
    d = pre_dir(profile)
    jobs = [Job(cf, s, str(d / f"{cf.name}_seed{s}.json")) for cf in extra.values() for s in PRE_SEEDS]
    same = all(cfgs[k] == pre_main[k] for k in pre_main)
    head = DATA_DIR / "results" / "04_masked_rlvr"   # the committed headline runs (default = full's configs)
    if profile == "full":
        with quiet():
            runs = run_many(jobs, workers=workers, threads=1, verbose=False, resume=True)
    else:
        runs = R.load_jobs(jobs + ([] if same else [Job(cf, s, str(head / f"{cf.name}_seed{s}.json"))
                                                    for cf in pre_main.values() for s in PRE_SEEDS]), REGENERATE)
    if same:
        runs += [r for k in pre_main for r in groups[k]]
    by = R.by_name(runs)
    arms = {k: by[cf.name] for k, cf in {**extra, **pre_main}.items()}
    line = (f"{extra['role20'].steps} GRPO steps, lr {extra['role20'].learning_rate:g}; endpoint as in section 3 "
            "(precomputed, full profile)")
    return arms, line, float(extra["role20"].learning_rate)
