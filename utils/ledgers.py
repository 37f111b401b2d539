"""Each notebook's claims-ledger rows, built by one function from the notebook's results and called once, in one
short cell at the end of the notebook (issue 22: the lesson in the cells, the bookkeeping here).

A builder takes the notebook's own results (plain numbers, lists, :class:`utils.stats.Evidence`), records every row of
its notebook through :class:`utils.claims.Ledger` (which prints one line per row) and returns the evidence by row id.
The rows (ids, verdict rules, evidence, wording) are the ones the notebooks recorded cell by cell before; notebook 05's
builder is :func:`utils.interventions.record_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from utils.claims import Ledger
from utils.stats import Evidence, seed_summary

__all__ = ["band_summary", "diff_ci", "mean_ci", "record_01", "record_02", "record_03", "record_04"]


def band_summary(under_1bit_p90: Sequence[float]) -> dict[str, float]:
    """Notebook 01's description of the write-up's bands: per text, the share of its tokens under 1 bit whose top
    probability is >= 0.9, summarised over texts (mean, SD, n and the 95 % t interval; unit: text -- the tokens of one
    text are not independent). A description, not a test: the write-up names no share that would make the band true,
    and the arithmetic (:func:`record_01`'s ``band_range_bits``) already decides the sentence."""
    return seed_summary(list(under_1bit_p90))


def record_01(*, writeup_top: list[str], right_top: list[str], share_nats: float, share_bits: float,
              dtype_rows: list[dict[str, Any]], n_sharp_tokens: int, band_shares: Sequence[float],
              band_range_bits: tuple[float, float], vocab_size: int, model_name: str, n_tokens: int,
              n_texts: int) -> dict[str, Any]:
    """Notebook 01's five rows: the snippet's three bugs (off by one, the unit, epsilon in float16), the write-up's
    bands (a documented correction: ``band_range_bits`` is the entropy range a top probability of 0.9 allows over
    ``vocab_size`` tokens; ``band_shares`` the per-text shares of :func:`band_summary`, reported, not tested) and the
    model names and gains (documented)."""
    ledger = Ledger("01_token_entropy.ipynb")
    sec2, sec3 = "2. The write-up's snippet", "3. Entropy of real text"
    ledger.record("seed.off_by_one", section=sec2, basis="documented", verdict="corrected",
                  measured=f"top-3 tokens {writeup_top} as written vs {right_top} aligned",
                  why="logits[t] predicts token t+1: each token is shown with the next step's uncertainty")
    ledger.record("seed.unit_bits", section=sec2, basis="documented", verdict="corrected",
                  measured=f"worked math solution: {share_nats:.0%} of tokens >= 0.672 nats, {share_bits:.0%} >= 0.672 bits",
                  why="the authors' code uses the natural log: 0.672 nats = 0.97 bits")
    fp16 = next(r for r in dtype_rows if r["dtype"] == "float16")
    nan16 = fp16["write-up: NaN tokens"]
    ledger.record("seed.epsilon_fp16", section=sec2, basis="descriptive", verdict="corrected" if nan16 > 0 else "not reproduced",
                  measured=f"float16: {nan16} of {n_sharp_tokens} tokens NaN (token_entropy: finite, max error "
                           f"{fp16['token_entropy: max error (bits)']:.3f} bits)",
                  why="rule: corrected if any float16 token comes out NaN (1e-10 rounds to 0 in float16)")
    lo, hi = band_range_bits
    share = band_summary(band_shares)
    floor = 2.0 ** -1.0  # H >= -log2(p_max) (min-entropy <= Shannon entropy): under 1 bit, p_max > 2^-1
    ledger.record("seed.bands", section=sec3, basis="documented", verdict="corrected", figure="01_entropy_by_text",
                  measured=(f"p_max = 0.9 allows {lo:.2f}-{hi:.2f} bits (V = {vocab_size:,}, {model_name}); under 1 bit "
                            f"p_max can be anything above {floor:g}; described, not tested: per text, the share of "
                            f"tokens under 1 bit with p_max >= 0.9 is {share['mean']:.3f} [95% CI {share['ci95_lo']:.3f}, "
                            f"{share['ci95_hi']:.3f}] (n = {share['n']} texts)"),
                  why=(f"the arithmetic decides it: a top probability of 0.9 is compatible with any entropy from {lo:.2f} "
                       f"bits (the other 10 % on one token) to {hi:.2f} bits (spread over the whole vocabulary), and "
                       f"an entropy under 1 bit only bounds the top probability below by {floor:g}: '< 1 bit' and "
                       "'90 % on one token' are different statements; the bands describe, they do not define"),
                  budget=f"{n_tokens} tokens of {n_texts} hand-written texts (unit: text)",
                  numbers={"range_bits": [lo, hi], "vocab_size": vocab_size, "p_max_floor_under_1bit": floor,
                           "share_p90_under_1bit": share})
    ledger.record("seed.qwen_aime", section="4. Claims that need no experiment", basis="documented", verdict="not testable here",
                  measured="the paper: +4.79 / +5.21 points (Qwen3-14B, AIME'25/'24), +11.04 / +7.71 (Qwen3-32B); no '332B' model",
                  why="'Quinn' is Qwen, 'AMY' is AIME; the gains need 14B-32B models and large-scale RLVR")
    return {"seed.bands": share}


def mean_ci(ev: Evidence) -> str:
    """A one-sample comparison's mean and its 95 % interval (``ci95`` is of the difference, so shifted back by the
    fixed value): ``"0.015 [95% CI 0.012, 0.018]"``."""
    return f"{ev.mean_a:.3f} [95% CI {ev.ci95[0] + ev.mean_b:.3f}, {ev.ci95[1] + ev.mean_b:.3f}]"


def diff_ci(ev: Evidence) -> str:
    """A comparison's difference and its 95 % interval: ``"+0.369 [95% CI +0.309, +0.430]"``."""
    return f"{ev.diff:+.3f} [95% CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}]"


def record_02(*, half: dict[str, Evidence], p80: dict[str, Evidence], corpora: dict[str, str], budget: str,
              words: Evidence, words_t07: Evidence, t07: float, n_traces: int, kind_rates: dict[str, float],
              role_rates: dict[str, float], after_forks: dict[str, Evidence]) -> dict[str, Any]:
    """Notebook 02's four rows.

    ``corpora`` names the corpora in the rows' order, ``{corpus key: short name}`` (none decides alone);
    ``half``, ``p80`` and ``after_forks`` are keyed like it. ``wang.half_below_001`` and
    ``wang.p80`` are descriptive (each corpus's value with its 95 % CI against the paper's; the reason is
    ``configs/margins.yaml``, section ``"02"``); ``wang.fork_words`` is decided by ``words`` (word pieces - word starts,
    fork rate paired by trace, SmolLM2 at T = 1; ``words_t07`` the same at ``t07``), with the pooled rates
    ``kind_rates`` (SmolLM2 at T = 1, by token kind) and ``role_rates`` (Countdown, by role) beside it;
    ``seed.fork_then_low_run`` by ``after_forks`` (next-k entropy after a fork - after a random token of the same
    sequence) on EVERY corpus: the claim is about language models and no corpus was fixed in advance as the one that
    decides (``configs/margins.yaml`` 02.fork_then_low_run), so the row reports the split and must hold on each. ``n_traces``: SmolLM2 traces at T = 1."""
    from utils.interventions import margins
    from utils.rlvr.verdicts import design

    ledger = Ledger("02_forking_tokens.ipynb")
    why = {k: " ".join(str(v["reason"]).split()) for k, v in margins("02").items()}  # configs/margins.yaml
    sec2 = "2. How the entropy is distributed"
    ledger.record("wang.half_below_001", section=sec2, basis="descriptive", verdict="not testable here",
                  why=why["half_below_001"], budget=budget, figure="02_entropy_distribution",
                  measured="share of tokens below 0.01 nats, 95% CI over units: " + "; ".join(
                      f"{s}: {mean_ci(half[n])} (n = {half[n].n_a} {half[n].unit}s)" for n, s in corpora.items()),
                  numbers={n: half[n].as_dict() for n in corpora})
    ledger.record("wang.p80", section=sec2, basis="descriptive", verdict="not testable here",
                  why=why["p80"], budget=budget, figure="02_entropy_distribution",
                  measured="80th percentile of token entropy, 95% CI over units: " + "; ".join(
                      f"{s}: {mean_ci(p80[n])} nats (n = {p80[n].n_a} {p80[n].unit}s)" for n, s in corpora.items())
                      + "; the paper: 0.672 nats",
                  numbers={n: p80[n].as_dict() for n in corpora})
    kh, rh = kind_rates, role_rates
    ledger.record("wang.fork_words", section="3. Which tokens fork", evidence=words, direction="less",
                  figure="02_token_roles", budget=f"{n_traces} SmolLM2 traces at T = 1",
                  measured=(f"{design(words).replace('paired by trace', 'paired by trace (both rates from the same trace)')}; "
                            f"pooled fork rates: word start {kh['word start']:.2f}, word piece {kh['word piece']:.2f}; "
                            f"at T = {t07}: {diff_ci(words_t07)}; Countdown: operator {rh['operator']:.2f}, "
                            f"result digit {rh['result digit']:.2f}"))
    from dataclasses import replace

    evs = [replace(after_forks[n], labels=(f"{s}: {after_forks[n].labels[0]}", after_forks[n].labels[1]))
           for n, s in corpora.items()]  # the corpus in each part's words
    side = lambda e: "lower" if e.ci95[1] < 0 else "higher" if e.ci95[0] > 0 else "no clear difference"  # noqa: E731
    split = {w: [corpora[n] for n in corpora if side(after_forks[n]) == w] for w in ("lower", "higher", "no clear difference")}
    ledger.record("seed.fork_then_low_run", section="4. What follows a forking token", evidence=evs,
                  direction=["less"] * len(evs), budget=budget, figure="02_after_forks",
                  measured=("every corpus, each a paired t over its sequences (a fork and a random token of the same "
                            "completion or trace): " + "; ".join(f"{s}: {after_forks[n].n_a} {after_forks[n].unit}s"
                                                                 for n, s in corpora.items())),
                  why=("the claim is about language models and no corpus was fixed in advance as the one that decides "
                       "(configs/margins.yaml 02.fork_then_low_run, written after the results were seen): it must hold on "
                       "each corpus (95% CI below 0); here the corpora split: "
                       + "; ".join(f"{w} after a fork on {' and '.join(c)}" for w, c in split.items() if c)),
                  numbers={"corpora": list(corpora.values())})
    return {"wang.half_below_001": half, "wang.p80": p80, "wang.fork_words": words,
            "seed.fork_then_low_run": [after_forks[n] for n in corpora]}


def record_03(*, ev21: Evidence, shape: dict[str, Any], ev_cov: Evidence, n_problems: int, grid_budget: str,
              n_pk: int, n_pk_problems: int, n_pk_seeds: int) -> dict[str, Any]:
    """Notebook 03's three rows: the write-up's (2, 1) cell against (1, 1) on pass@1 (``ev21``), Wang et al.'s shape
    of the temperature response (``shape``: :func:`utils.decoding_grid.shape_parts`, every part must hold) and the
    write-up's claim read as coverage, pass@n of (2, 1) against (1, 1) (``ev_cov``)."""
    ledger = Ledger("03_dual_temperature.ipynb")
    ledger.record("seed.dual_temp_21", section="4. The write-up's cell", evidence=ev21, direction="greater",
                  measured=f"Countdown task model, pass@1 on {n_problems} held-out problems (paired by problem)",
                  budget=grid_budget, figure="03_grid_heatmap")
    parts = shape["parts"]
    ledger.record("wang.dual_temp_shape", section="5. The paper's shape", budget=grid_budget, figure="03_axis_effects",
                  evidence=[p["evidence"] for p in parts], direction=[p["direction"] for p in parts],
                  measured=f"Countdown task model, pass@1 on {n_problems} held-out problems",
                  why="all parts must hold: " + "; ".join(f"{p['what']}: {p['verdict']}" for p in parts)
                      + f" (direction-free, |F| > |R|: {shape['magnitude_verdict']})",
                  numbers={"fork_swing": shape["fork_swing"], "rest_swing": shape["rest_swing"],
                           "magnitude_verdict": shape["magnitude_verdict"]})
    ledger.record("seed.dual_temp_coverage", section="6. pass@k", evidence=ev_cov, direction="greater",
                  measured=f"Countdown task model, pass@{n_pk} of (2, 1) vs (1, 1) on {n_pk_problems} held-out problems",
                  budget=f"n = {n_pk} samples per problem and cell, {n_pk_seeds} seed(s)", figure="03_passk")
    return {"seed.dual_temp_21": ev21, "wang.dual_temp_shape": [p["evidence"] for p in parts], "seed.dual_temp_coverage": ev_cov}


def rho_words(ev_rho: Sequence[Evidence]) -> str:
    """What the Holm-corrected rho contrasts (focus - other, each an :class:`Evidence`) say, in words, from their
    intervals: ``"rho 0.2 beats only rho 0.1 (...); it ties rho 0.5 (...) and rho 1 (...)"`` -- "beats" when the
    Holm 95 % CI lies above 0, "trails" below 0, "ties" when it includes 0 (no difference detected)."""
    def side(e: Evidence) -> str:
        return "beats" if e.ci95[0] > 0 else "trails" if e.ci95[1] < 0 else "ties"

    focus = ev_rho[0].labels[0]
    parts = {w: [f"{e.labels[1]} ({diff_ci(e)}, Holm p = {e.p:.3f})" for e in ev_rho if side(e) == w]
             for w in ("beats", "ties", "trails")}
    said = []
    for w, items in parts.items():
        if items:
            only = "only " if w == "beats" and len(items) < len(ev_rho) else ""
            said.append(f"{w} {only}{' and '.join(items)}")
    return f"{focus} " + "; it ".join(said) + " (Holm 95% CIs; 'ties': the interval includes 0)"


def record_04(*, budget: str, pre_budget: str, base: float, ev_bot: Evidence, below_base: Evidence, ev_rnd: Evidence,
              ev_top: Evidence, gap_ev: dict[str, dict[int, Evidence]], same_start: dict[str, Any], ev_lr: Evidence,
              lr3_budget: str, ev_role: Evidence, ev_rho: list[Evidence], rho_summary: dict[str, Any],
              ev_norm: Evidence, ev_sgd: Evidence, first_step_ratio: dict[str, float], norm_budget: str,
              ev_ov: Evidence, ev_ov_paper: Evidence, overlap_summary: dict[str, Any], null: dict[str, list[Any]],
              chance: float, ev_hi: Evidence, ev_hi_vs0: Evidence, flops: dict[str, float],
              per_arm: dict[str, Any] | None = None) -> dict[str, Any]:
    """Notebook 04's eleven rows from its results: the headline equivalence ``ev_top`` (margin from
    ``configs/margins.yaml``) with its budget sensitivity (``gap_ev``: per learning rate, the paired evidence at every
    budget of the 400-step runs; ``same_start``: per learning rate, how their first 100 steps relate to the headline runs,
    a :class:`utils.rlvr.verdicts.Relation` or its phrase), the controls
    (bottom-80 %, random-20 %, role-only), the lr dependence, the Holm-corrected rho contrasts, the normaliser
    (documented: ``first_step_ratio`` ``{"adam", "sgd"}``), the entropy-pattern rows against the matched-perturbation
    null and the compute claim (``flops``: ``{"masked", "sparse_head_task", "sparse_head_smollm2"}`` ratios to full)."""
    from dataclasses import replace

    from utils.claims import PUBLISHED, verdict_word
    from utils.rlvr import verdicts as V
    from utils.stats import describe, verdict

    ledger = Ledger("04_masked_rlvr.ipynb")
    s3, s8 = "3. Training: all vs top-20% vs bottom-80% vs random-20%", "8. Does RLVR keep the base model's entropy pattern?"
    bot_ev: Evidence | list[Evidence] = ev_bot
    bot_words = f"{V.design(ev_bot)}; and against the base model {base:.3f}: {describe(below_base)}"
    if per_arm is not None:  # issue 29: each arm at its own rate too; both readings must hold
        bot_ev = [ev_bot, per_arm["evidence"]["bottom80_vs_all"]]
        bot_words += (f"; each arm at the rate one rule chose on seeds 100-101 (configs/margins.yaml 04.per_arm_lr): "
                      f"bottom-80% {per_arm['lr']['bottom80']:g}, all {per_arm['lr']['all']:g}; both readings must "
                      "hold (04.per_arm_lr.combine, written 2026-12-07 after these runs were seen: it can only make "
                      "the verdict stricter)")
    ledger.record("wang.bottom80_hurts", section=s3, evidence=bot_ev,
                  direction=["less", "less"] if isinstance(bot_ev, list) else "less", budget=budget,
                  figure="04_pass1_curves", measured=bot_words, numbers={"vs_base": below_base.as_dict()})
    ledger.record("wang.random20_control", section=s3, evidence=ev_rnd, direction="greater", budget=budget,
                  figure="04_pass1_curves", measured=V.design(ev_rnd))
    at = {lr: V.budget_verdicts(g) for lr, g in gap_ev.items()}  # every budget, none left out: (verdicts, changes)
    ledger.record("wang.top20_matches_full", section=s3, evidence=ev_top, direction="equivalent", budget=budget,
                  figure="04_pass1_curves",  # its lower panel: top-20% - all, the 8 seeds' 90 % CI and the margin
                  measured=(f"{V.design(ev_top, 'top20_matches_full')}; budget sensitivity at the tuned lr (precomputed 400-step "
                            f"runs, every budget 25-400 steps, paired t, seeds 0-5): {V.verdict_runs(at['1e-4'][0])} -- the verdict "
                            f"{'changes' if at['1e-4'][1] else 'does not change'} with the budget; the budget runs' first 100 "
                            f"steps repeat the headline runs of the same seeds ({same_start['1e-4']}), so they are not independent "
                            "evidence: only the steps after 100 are new"),
                  numbers={"budget": {lr: {str(s): e.as_dict() for s, e in g.items()} for lr, g in gap_ev.items()},
                           "verdict_by_budget": {lr: {str(s): v for s, v in a[0].items()} for lr, a in at.items()},
                           "budget_runs_repeat_headline": {lr: str(r) for lr, r in same_start.items()}, "margin_reason": V.margin_line("top20_matches_full")})
    own = {s: verdict_word(v, PUBLISHED["wang.top20_lr_dependence"][1]) for s, v in at["3e-4"][0].items()}  # holds/fails
    ledger.record("wang.top20_lr_dependence", section="4. Does the verdict depend on the budget?", evidence=ev_lr,
                  direction="equivalent", figure="04_budget_gap", profile="full (precomputed)", budget=lr3_budget,
                  measured=(f"{V.design(ev_lr, 'top20_matches_full')}; at the tuned 1e-4 the same contrast "
                            f"{verdict_word(verdict(ev_top, 'equivalent'), PUBLISHED['wang.top20_lr_dependence'][1])} "
                            f"({ev_top.diff:+.3f}); at 3e-4 by budget: {V.verdict_runs(own)} "
                            f"-- the verdict {'changes' if at['3e-4'][1] else 'does not change'} with the step count"),
                  numbers={"tuned": ev_top.as_dict(), "verdict_by_budget": {str(s): v for s, v in at["3e-4"][0].items()}})
    ledger.record("wang.role20_control", section="5. Is it the entropy, or the syntax?", evidence=ev_role, direction="greater",
                  budget=pre_budget, profile="full (precomputed)", measured=V.design(ev_role))
    ledger.record("wang.rho_sweep", section="6. How many tokens? The ρ sweep", evidence=ev_rho,
                  direction=["greater"] * len(ev_rho), budget=pre_budget, figure="04_rho_sweep",
                  profile="full profile runs; rho 0.2 and 1 are the headline runs",
                  measured=(f"{rho_words(ev_rho)}; {V.design(ev_rho[0])}; contrasts fixed in configs/margins.yaml "
                            f"(04.rho_sweep), Holm over {len(ev_rho)}; the rho = 0.2 and rho = 1 arms are the runs of "
                            "wang.top20_matches_full"),
                  numbers={"by_rho": rho_summary})
    ev_adam = replace(ev_norm, margin=V.margin("top20_matches_full"))  # notebook 04's one pass@1 margin
    ledger.record("wang.normaliser", section="7. The gradient story", evidence=ev_adam, direction="equivalent",
                  control=ev_sgd, control_direction="less" if ev_sgd.diff < 0 else "greater",
                  control_label="the normaliser changes training where the optimiser does not cancel a loss scale (SGD)",
                  measured=(f"trained, 8-seed experiment: the two normalisers under AdamW with gradient clipping (the "
                            f"paper's setting, where they could still differ: clipping and eps do not cancel a 1/rho loss "
                            f"scale), judged by notebook 04's pass@1 margin; the same pair under "
                            f"plain SGD without clipping as the control that the normaliser can act: {describe(ev_sgd)}; "
                            f"first-step update ratio selected/all on one batch: AdamW {first_step_ratio['adam']:.3f}, SGD "
                            f"{first_step_ratio['sgd']:.2f}; {V.design(ev_adam, 'top20_matches_full')}"),
                  numbers={"adam": ev_adam.as_dict(), "sgd": ev_sgd.as_dict(), "first_step_ratio": first_step_ratio},
                  budget=norm_budget, figure="04_gradients", profile="full (precomputed)")
    ledger.record("wang.entropy_pattern_overlap", section=s8, evidence=ev_ov_paper, direction="greater", budget=budget,
                  figure="04_entropy_pattern",
                  measured=(f"plain GRPO's overlap against the paper's number: {V.design(ev_ov_paper)}; chance "
                            f"{chance:.2f}; the paper's number is after a long DAPO run on Qwen3-14B, this one after the "
                            "budget of this row on the task model; whether GRPO keeps more than a matched random change "
                            "does is its own row, wang.entropy_pattern_beyond_null"),
                  numbers={"overlap": overlap_summary, "null": null, "vs_paper": ev_ov_paper.as_dict(),
                           "vs_null": ev_ov.as_dict()})
    ledger.record("wang.entropy_pattern_beyond_null", section=s8, evidence=ev_ov, direction="greater", budget=budget,
                  figure="04_entropy_pattern",
                  measured=(f"the null: a random weight change of the same mean |ΔH| (04.perturbation_null); "
                            f"{V.design(ev_ov)} (GRPO seeds vs noise seeds); chance {chance:.2f}"),
                  numbers={"overlap": overlap_summary, "null": null})
    ledger.record("wang.rl_changes_high_entropy", section=s8, evidence=ev_hi, direction="greater", budget=budget,
                  figure="04_entropy_pattern",
                  measured=(f"per model: mean |ΔH| over the base model's top-20% entropy positions minus over the other 80%, plain GRPO "
                            f"against random weight perturbations matched on mean |ΔH| ({V.design(ev_hi)}; GRPO seeds vs noise seeds); "
                            f"against 0 it would be {describe(ev_hi_vs0)}"),
                  numbers={"null": null})
    ledger.record("seed.compute_savings", section="9. The compute claim: does masking save FLOPs?", basis="documented",
                  verdict="corrected",
                  why="the mask zeroes per-token losses after a full forward and backward pass; neither paper nor the authors' code claims a saving",
                  measured=(f"FLOPs counted for one update of the task model: masked/full x{flops['masked']:.3f}; a sparse-LM-head variant "
                            f"(not the paper's method) x{flops['sparse_head_task']:.3f} here and "
                            f"x{flops['sparse_head_smollm2']:.3f} at SmolLM2-135M's shape (49k vocabulary)"),
                  numbers={"masked_flops_ratio": flops["masked"], "sparse_head_task": flops["sparse_head_task"],
                           "sparse_head_smollm2": flops["sparse_head_smollm2"]})
    out = {} if per_arm is None else _record_04_per_arm(ledger, per_arm)
    return out | {"wang.top20_matches_full": ev_top, "wang.top20_lr_dependence": ev_lr, "wang.bottom80_hurts": ev_bot,
            "wang.random20_control": ev_rnd, "wang.role20_control": ev_role, "wang.rho_sweep": ev_rho,
            "wang.normaliser": ev_adam, "wang.entropy_pattern_overlap": ev_ov_paper,
            "wang.entropy_pattern_beyond_null": ev_ov, "wang.rl_changes_high_entropy": ev_hi}


def _record_04_per_arm(ledger: Ledger, pa: dict[str, Any]) -> dict[str, Evidence]:
    """The best-vs-best headline (``pa``: :func:`utils.rlvr.tuning.per_arm_04`): top-20 % and all each at the rate
    one rule chose (``configs/margins.yaml``, ``04.per_arm_lr``), equivalence within a quarter of all's selection
    gain, with the share of all's gain that top-20 % recovers and whether the 2-seed choices held on seeds 0-7."""
    from utils.rlvr import verdicts as V
    from utils.rlvr.tuning import ARM_LABELS, share_words

    ev, sel = pa["evidence"]["top20_vs_all"], pa["chosen"]
    grid = ", ".join(f"{x:g}" for x in sel[("d96", "all")]["means"])
    rates = ", ".join(f"{ARM_LABELS[a]} {x:g}" for a, x in pa["lr"].items())
    held = "; ".join(f"{e.labels[0]} - {e.labels[1]} {e.diff:+.3f} [95% CI {e.ci95[0]:+.3f}, {e.ci95[1]:+.3f}]"
                     for e in pa["choice_check"].values())
    ledger.record(
        "wang.top20_matches_full_per_arm", section="4. Does the verdict depend on the budget?", evidence=ev,
        direction="equivalent", figure="04_lr_selection", profile="full (precomputed)",
        budget=("100 GRPO steps, 8x8 samples per step, each arm at its chosen rate; endpoint: mean of the last two "
                "evaluations (500 problems x 4 samples)"),
        measured=(f"{V.design(ev, 'per_arm_lr')} (a quarter of all's selection gain); each arm at the rate one rule chose on RL seeds 100-101 (grid {grid}; "
                  f"configs/margins.yaml 04.per_arm_lr, fixed before the runs): {rates}; margin +/-{pa['margin']:.4f} "
                  f"= {pa['margin_share']:g} x all's selection gain {sel[('d96', 'all')]['gain']:.3f}; "
                  f"{share_words(pa['gain_share'])}; did the 2-seed choices hold on seeds 0-7 (each against itself "
                  f"at 1e-4): {held}"),
        numbers={"gain_share": pa["gain_share"], "margin": pa["margin"], "rates": pa["lr"],
                 "choice_check": {a: e.as_dict() for a, e in pa["choice_check"].items()},
                 "selection": {f"{s}/{a}": {f"{x:g}": m for x, m in c["means"].items()} for (s, a), c in sel.items()}})
    return {"wang.top20_matches_full_per_arm": ev}
