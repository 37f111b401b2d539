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
from utils.stats import Evidence, compare_to

__all__ = ["BAND_RULE_SHARE", "bands_evidence", "diff_ci", "mean_ci", "record_01", "record_02", "record_03"]

#: "90 % on one token" read as a rule of thumb: it holds if at least 19 in 20 tokens under 1 bit have p_max >= 0.9.
BAND_RULE_SHARE = 0.95


def bands_evidence(under_1bit_p90: Sequence[float]) -> Evidence:
    """Notebook 01's test of the write-up's bands: the share of tokens under 1 bit whose top probability is >= 0.9
    (one 0/1 per token) against :data:`BAND_RULE_SHARE` (one-sample t, unit: token)."""
    return compare_to(list(under_1bit_p90), BAND_RULE_SHARE,
                      labels=("share of tokens under 1 bit with p_max >= 0.9", "rule of thumb"), unit="token")


def record_01(*, writeup_top: list[str], right_top: list[str], share_nats: float, share_bits: float,
              dtype_rows: list[dict[str, Any]], n_sharp_tokens: int, bands: Evidence, band_range_bits: tuple[float, float],
              model_name: str, n_tokens: int, n_texts: int) -> dict[str, Any]:
    """Notebook 01's five rows: the snippet's three bugs (off by one, the unit, epsilon in float16), the write-up's
    bands (``bands``: :func:`bands_evidence`) and the model names and gains (documented)."""
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
    ledger.record("seed.bands", section=sec3, evidence=bands, direction="greater", figure="01_entropy_by_text",
                  measured=f"p_max = 0.9 allows {lo:.2f}-{hi:.2f} bits ({model_name})",
                  budget=f"{n_tokens} tokens of {n_texts} hand-written texts")
    ledger.record("seed.qwen_aime", section="4. Claims that need no experiment", basis="documented", verdict="not testable here",
                  measured="the paper: +4.79 / +5.21 points (Qwen3-14B, AIME'25/'24), +11.04 / +7.71 (Qwen3-32B); no '332B' model",
                  why="'Quinn' is Qwen, 'AMY' is AIME; the gains need 14B-32B models and large-scale RLVR")
    return {"seed.bands": bands}


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

    ``corpora`` names the corpora in the rows' order, ``{corpus key: short name}``, the deciding corpus first (the
    task model on Countdown); ``half``, ``p80`` and ``after_forks`` are keyed like it. ``wang.half_below_001`` and
    ``wang.p80`` are descriptive (each corpus's value with its 95 % CI against the paper's; the reason is
    ``configs/margins.yaml``, section ``"02"``); ``wang.fork_words`` is decided by ``words`` (word pieces - word starts,
    fork rate paired by trace, SmolLM2 at T = 1; ``words_t07`` the same at ``t07``), with the pooled rates
    ``kind_rates`` (SmolLM2 at T = 1, by token kind) and ``role_rates`` (Countdown, by role) beside it;
    ``seed.fork_then_low_run`` by the first corpus's ``after_forks`` (next-k entropy after a fork - after a random
    token of the same completion), the others reported beside it. ``n_traces``: SmolLM2 traces at T = 1."""
    from utils.interventions import margins
    from utils.rlvr.verdicts import design

    ledger = Ledger("02_forking_tokens.ipynb")
    why = {k: " ".join(str(v["reason"]).split()) for k, v in margins("02").items()}  # configs/margins.yaml
    deciding, *others = corpora
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
    ev = after_forks[deciding]
    pairing = design(ev).replace("paired by completion", "paired by completion (a fork and a random token of the same completion)")
    ledger.record("seed.fork_then_low_run", section="4. What follows a forking token", evidence=ev, direction="less",
                  budget=budget, figure="02_after_forks",
                  measured="; ".join([pairing] + [f"{corpora[n]}: {diff_ci(after_forks[n])} nats" for n in others]))
    return {"wang.half_below_001": half, "wang.p80": p80, "wang.fork_words": words, "seed.fork_then_low_run": ev}


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
