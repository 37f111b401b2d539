"""Notebook 04's plumbing, one call per thing the lesson needs: the configs and budget line of the headline runs,
the headline runs themselves (trained, or read back when their files and models exist), and the precomputed runs of
the full profile (the budget sweep, the role-only / ρ / normaliser arms); and what the cells show next to their
numbers (the sentences of sections 3-8, the FLOP table, the summary), built from those numbers. The notebook keeps the
lesson: the mask, the loss, the comparisons and their verdicts.

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


# --- What the cells show next to their numbers (issue 32, section 1): each takes the notebook's own results and
# returns the Markdown (or the table) the cell displays; none computes a result the ledger judges.

def arms_sentence(ev_bot: Any, below_base: Any, ev_rnd: Any, ev_top: Any, margin: float) -> str:
    """Section 3: the three judged comparisons of the main arms (bottom-80 % − all, top-20 % − random-20 %, top-20 % −
    all against its equivalence margin), each with its verdict (``utils.stats.Evidence`` each)."""
    from utils.stats import diff_ci, verdict

    top = verdict(ev_top, "equivalent")
    return (f"Over {ev_top.n_a} paired seeds: **bottom-80 % − all** {diff_ci(ev_bot)} → "
            f"**{verdict(ev_bot, 'less')}** (bottom-80 % − base model {diff_ci(below_base)}); "
            f"**top-20 % − random-20 %** {diff_ci(ev_rnd)} → **{verdict(ev_rnd, 'greater')}**; "
            f"**top-20 % − all** {ev_top.diff:+.3f}, 90 % CI [{ev_top.ci90[0]:+.3f}, {ev_top.ci90[1]:+.3f}] "
            f"against the margin ±{margin:g} → **{top}**"
            + (" (equivalent within the margin)." if top == "reproduced" else "."))


def budget_sentence(at: dict[str, tuple[dict[int, str], bool]], n_budget_seeds: int, n_seeds: int, ev_lr: Any,
                    ev_top: Any, same_start: dict[str, str]) -> str:
    """Section 4: the verdict of top-20 % vs all at every budget, at the tuned 1e-4 and the untuned 3e-4
    (``at[lr]``: :func:`utils.rlvr.verdicts.budget_verdicts`), the 100-step headlines at both rates, and how far the
    sweep's first steps repeat the headline runs (``same_start[lr]``, words)."""
    from utils.rlvr.verdicts import verdict_runs
    from utils.stats import verdict

    return (f"**At the tuned lr 1e-4**, read at every budget (paired t, {n_budget_seeds} seeds): "
            f"{verdict_runs(at['1e-4'][0])} — the verdict {'changes' if at['1e-4'][1] else 'does not change'} with "
            f"the budget. **At the untuned 3e-4**: {verdict_runs(at['3e-4'][0])}; its 100-step headline ({n_seeds} "
            f"seeds) is {verdict(ev_lr, 'equivalent')} ({ev_lr.diff:+.3f}, 90% CI [{ev_lr.ci90[0]:+.3f}, "
            f"{ev_lr.ci90[1]:+.3f}]), against {verdict(ev_top, 'equivalent')} ({ev_top.diff:+.3f}, 90% CI "
            f"[{ev_top.ci90[0]:+.3f}, {ev_top.ci90[1]:+.3f}]) at 1e-4. The sweep's first 100 steps repeat the "
            f"headline runs ({same_start['1e-4']} at 1e-4; {same_start['3e-4']} at 3e-4), so only its later steps "
            "are new evidence.")


def role_sentence(ev_role: Any) -> str:
    """Section 5: top-20 % by entropy against 20 % chosen by token role alone."""
    from utils.stats import diff_ci, verdict

    return (f"**Top-20 % − role-only 20 %** {diff_ci(ev_role)} over {ev_role.n_a} paired seeds → "
            f"**{verdict(ev_role, 'greater')}**.")


def rho_sentence(ev_rho: list[Any], contrasts: str, reading: str, rho_row: str) -> str:
    """Section 6: ρ = 0.2 against the other shares (``contrasts``: the Holm-corrected contrasts in words;
    ``reading``: what they say together, or ``""``; ``rho_row``: the row's verdict)."""
    return (f"ρ = 0.2 against the other shares, Holm-corrected over {len(ev_rho)} contrasts ({ev_rho[0].n_a} paired "
            f"seeds): {contrasts}. {reading}the claim that 0.2 is the share to keep is **{rho_row}**.")


def gradients_sentence(st: Any, en: Any) -> str:
    """Section 7: each masked gradient's norm ratio and cosine with the full gradient at the start (``st``) and after
    training ``all`` (``en``): rows ``top``/``bottom``/``random``, columns ``norm_ratio``/``cosine``."""
    return (f"At the start, the top-20 % gradient has {st.loc['top', 'norm_ratio']:.2f} of the full gradient's norm "
            f"and cosine {st.loc['top', 'cosine']:.2f} with it, bottom-80 % {st.loc['bottom', 'norm_ratio']:.2f} and "
            f"{st.loc['bottom', 'cosine']:.2f}, random-20 % {st.loc['random', 'norm_ratio']:.2f} and "
            f"{st.loc['random', 'cosine']:.2f}; after training `all`, top-20 % carries "
            f"{en.loc['top', 'norm_ratio']:.2f} of the norm (cosine {en.loc['top', 'cosine']:.2f}) and bottom-80 % "
            f"only {en.loc['bottom', 'norm_ratio']:.2f}.")


def overlap_sentence(ev_ov: Any, chance: float, ov_word: str, ev_ov_paper: Any, ev_hi: Any) -> str:
    """Section 8: how many top-20 % positions plain GRPO keeps against a matched random change (``ov_word``: that
    claim's ledger word, holds / fails / inconclusive) and against the paper's overlap, and where its |ΔH| goes."""
    from utils.stats import verdict

    return (f"Plain GRPO keeps {ev_ov.mean_a:.0%} of the base model's top-20% positions; a random weight change of the "
            f"same mean |ΔH| keeps {ev_ov.mean_b:.0%} (chance {chance:.0%}): GRPO {ev_ov.diff:+.3f} more, 95% CI "
            f"[{ev_ov.ci95[0]:+.3f}, {ev_ov.ci95[1]:+.3f}] → more than the null: **{ov_word}** "
            f"(`wang.entropy_pattern_beyond_null`, a claim of our own). Against the paper's {ev_ov_paper.mean_b:.2f}: "
            f"{ev_ov_paper.diff:+.3f}, 95% CI [{ev_ov_paper.ci95[0]:+.3f}, {ev_ov_paper.ci95[1]:+.3f}] → "
            f"**{verdict(ev_ov_paper, 'greater')}** (`wang.entropy_pattern_overlap`). Its |ΔH| concentrates on the "
            f"top-20% tokens by {ev_hi.mean_a:.3f} nats against {ev_hi.mean_b:.3f} for the null: {ev_hi.diff:+.3f}, "
            f"95% CI [{ev_hi.ci95[0]:+.3f}, {ev_hi.ci95[1]:+.3f}] → **{verdict(ev_hi, 'greater')}**.")


def cost_table(cost: dict[str, dict[str, float]], big: dict[str, float], repeats: int) -> Any:
    """Section 9's table: FLOPs and time of one update per variant on the task model (``cost``:
    :func:`utils.rlvr.compute.update_cost` per variant), relative to ``full``, and the sparse head's FLOP ratio at
    SmolLM2-135M's shape (``big``: :func:`utils.rlvr.compute.extrapolated_update_flops`)."""
    import pandas as pd

    full = cost["full"]
    return pd.DataFrame({
        "task model: GFLOP": {v: x["flops"] / 1e9 for v, x in cost.items()},
        "task model: FLOPs / full": {v: x["flops"] / full["flops"] for v, x in cost.items()},
        f"task model: time / full ({repeats} reps, noisy)": {v: x["median_s"] / full["median_s"]
                                                             for v, x in cost.items()},
        "SmolLM2-135M shape: FLOPs / full": {"full": 1.0, "masked": 1.0,
                                             "sparse_head": big["sparse_head"] / big["full"]},
    }).round(3)


def summary_04(*, ev_top: Any, ev_lr: Any, margin: float, at: dict[str, tuple[dict[int, str], bool]],
               pa: dict[str, Any], ev_bot: Any, ev_rnd: Any, ev_role: Any, contrasts: str, rho_row: str,
               al_end: Any, ev_norm: Any, ev_sgd: Any, r_flops: float, ev_ov: Any, ov_word: str, ev_ov_paper: Any,
               ev_hi: Any, minutes: float, profile: str) -> str:
    """The closing summary of notebook 04 (Markdown bullets), from the numbers its sections computed: the
    headline and its budgets, each arm at its own rate (``pa``: :func:`utils.tuning.per_arm_04`), the other arms, the
    ρ sweep, the gradients at the end of training (``al_end``: cosine per condition), the normaliser and the FLOPs,
    the entropy pattern (``ov_word``: the ledger's word for the overlap against the null), and the run time."""
    from utils.rlvr.verdicts import verdict_runs
    from utils.stats import diff_ci, verdict
    from utils.tuning import share_words

    ev_pa = pa["evidence"]["top20_vs_all"]
    top = (f"* **Top-20 % vs all**, at the lr tuned for `all` on other seeds: {diff_ci(ev_top)} over {ev_top.n_a} "
           f"paired seeds, margin ±{margin:g} → **{verdict(ev_top, 'equivalent')}**; at every budget to 400 steps: "
           f"{verdict_runs(at['1e-4'][0])}. At the untuned 3e-4: {diff_ci(ev_lr)} → {verdict(ev_lr, 'equivalent')}, "
           "and there the verdict moves with the step count.")
    own = (f"* **Each arm at its own rate** (one rule, fixed in advance; all {pa['lr']['all']:g}, top-20 % "
           f"{pa['lr']['top20']:g}): top-20 % − all {diff_ci(ev_pa)}, margin ±{pa['margin']:.4f} → "
           f"**{verdict(ev_pa, 'equivalent')}**; {share_words(pa['gain_share'])}.")
    arms = (f"* **Bottom-80 %** vs all: {diff_ci(ev_bot)} → {verdict(ev_bot, 'less')}. **Top-20 % vs random-20 %**: "
            f"{diff_ci(ev_rnd)} → {verdict(ev_rnd, 'greater')}. **Top-20 % vs role-only 20 %**: {diff_ci(ev_role)} → "
            f"{verdict(ev_role, 'greater')}.")
    rho = f"* **ρ sweep** (ρ = 0.2 against each other ρ, Holm): {contrasts} → the row is {rho_row}."
    grads = ("* **Gradients** at the end of training, cosine with the full gradient: "
             + ", ".join(f"{m} {al_end.loc[m, 'cosine']:.2f}" for m in al_end.index)
             + "; AdamW makes the update sizes alike across conditions.")
    norm = (f"* **Normaliser**: under AdamW with clipping the two train alike ({diff_ci(ev_norm)}); under SGD the 5× "
            f"step changes everything ({diff_ci(ev_sgd)}). **Masking saves no FLOPs** (masked/full ×{r_flops:.3f}).")
    pattern = (f"* **Entropy pattern** against a matched random change: overlap {diff_ci(ev_ov)} → {ov_word}; against "
               f"the paper's {ev_ov_paper.mean_b:.2f}: {verdict(ev_ov_paper, 'greater')}; |ΔH| on high-entropy "
               f"tokens {diff_ci(ev_hi)} → {verdict(ev_hi, 'greater')}.")
    ran = f"\nThis notebook ran {minutes:.1f} min (profile {profile})."
    bullets = [top, own, arms, rho, grads, norm, pattern, ran]
    return "\n".join(bullets)
