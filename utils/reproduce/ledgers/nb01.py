"""Notebook 01's ledger rows: the write-up's snippet (three bugs) and its bands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from utils.reproduce.claims import Ledger
from utils.stats import seed_summary


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
