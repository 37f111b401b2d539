"""What notebook 01 (token entropy) shows next to its numbers: its sample texts, the sentences that say what a
figure or a table found, and its summary (the formatting; the notebook computes the results)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from utils.config import DATA_DIR

__all__ = ["bands_sentence", "entropy_by_text_sentence", "sample_texts", "summary_01",
           "text_kinds_sentence", "unit_sentence"]


def sample_texts() -> dict[str, list[str]]:
    """Notebook 01's hand-written texts, by kind (``prose``, ``math``, ``code``), from ``data/sample_texts.json``
    (keys starting with ``_`` are notes, left out)."""
    raw = json.loads((DATA_DIR / "sample_texts.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def unit_sentence(n_tokens: int, share_nats: float, share_bits: float) -> str:
    """Notebook 01, bug (b): how many tokens the threshold 0.672 marks when read in nats and in bits."""
    return (f"Of the {n_tokens} tokens of a worked math solution, **{share_nats:.0%}** have $H \\ge$ 0.672 nats "
            f"(the paper's threshold) and **{share_bits:.0%}** have $H \\ge$ 0.672 bits (the write-up's reading).")


def text_kinds_sentence(summary: Any, model_name: str, threshold: float) -> str:
    """Notebook 01, section 3: the paper's two statistics against the table ``summary`` (one row per kind of text,
    columns of :func:`utils.entropy.summarize` and :func:`utils.entropy.band_shares`)."""
    order = summary["median"].sort_values().index.tolist()
    col = f"share_above_{threshold:g}"
    above = ", ".join(f"{k} {v:.0%}" for k, v in summary[col].items())
    few_certain = bool((summary["share_below_0.01"] < 0.5).all())
    above_p80 = [k for k in summary.index if summary.loc[k, "p80"] > threshold]
    return ("The paper (Qwen3-8B on its own AIME chain-of-thought): over half of the tokens below 0.01 nats, 80th "
            f"percentile {threshold:g} nats. Here ({model_name}, text it did not write): "
            + ("fewer than half of the tokens of every kind" if few_certain else "over half of the tokens of some kind")
            + f" fall below 0.01 nats, the 80th percentile lies above {threshold:g} nats for {len(above_p80)} of "
            f"{len(summary)} kinds ({', '.join(above_p80) or 'none'}), and the share at or above {threshold:g} nats "
            f"is {above}. By median entropy the most predictable kind is **{order[0]}**, the least **{order[-1]}**.")


def bands_sentence(bands: dict[str, float], n_under: int, band_range_bits: tuple[float, float], vocab: int) -> str:
    """Notebook 01, the write-up's bands: what a top probability of 0.9 allows (the arithmetic that decides the
    sentence), and the per-text share of tokens under 1 bit with a top probability >= 0.9, described over texts
    (``bands``: :func:`utils.reproduce.ledgers.band_summary`)."""
    lo_bits, hi_bits = band_range_bits
    return (f"With 90 % on one token the entropy can be anywhere from {lo_bits:.2f} to {hi_bits:.2f} bits "
            f"(V = {vocab:,}), and under 1 bit the top probability can be anything above 0.5 (entropy ≥ −log₂ p_max). "
            f"Of the {n_under} tokens under 1 bit in {bands['n']} texts, a text's share with a top probability of 0.9 "
            f"or more is **{bands['mean']:.0%}** on average (95 % CI over texts {bands['ci95_lo']:.0%} to "
            f"{bands['ci95_hi']:.0%}): often, not always — a description of this model on these texts, not a rule.")


def entropy_by_text_sentence(per_kind: dict[str, Sequence[float]], bands: dict[str, float]) -> str:
    """Notebook 01, what ``01_entropy_by_text`` found: where each kind's entropy sits, and the per-text share of
    tokens under 1 bit with a top probability >= 0.9 (mean and 95 % CI over texts)."""
    import numpy as np

    med = {k: float(np.median(v)) for k, v in per_kind.items()}
    lo, hi = min(med, key=med.get), max(med, key=med.get)
    return (f"The figure found: {lo} has the lowest median entropy ({med[lo]:.2f} nats) and {hi} the highest "
            f"({med[hi]:.2f} nats); a text's share of tokens under 1 bit with a top probability of 0.9 or more is "
            f"{bands['mean']:.2f} on average [95 % CI {bands['ci95_lo']:.2f}, {bands['ci95_hi']:.2f}] "
            f"(n = {bands['n']} texts): the band's 90 % is common here, not guaranteed.")


def summary_01(*, model_name: str, summary: Any, threshold: float, bands: dict[str, float],
               band_range_bits: tuple[float, float]) -> str:
    """Notebook 01's summary items 3 and 4, from its results."""
    order = summary["median"].sort_values().index.tolist()
    few_certain = bool((summary["share_below_0.01"] < 0.5).all())
    above_p80 = [k for k in summary.index if summary.loc[k, "p80"] > threshold]
    lo_bits, hi_bits = band_range_bits
    return (f"3. **Real text the model did not write** ({model_name}) is "
            f"{'far from' if few_certain else 'not far from'} the paper's picture: {len(above_p80)} of "
            f"{len(summary)} kinds have their 80th percentile above {threshold:g} nats, and the most predictable kind "
            f"is {order[0]}. The 80th percentile belongs to a model and a corpus, not to language.\n"
            f"4. **The write-up's bands** are a description, not a rule, and the arithmetic says so: a top "
            f"probability of 0.9 allows {lo_bits:.2f}–{hi_bits:.2f} bits (a documented correction in the ledger). "
            f"Here a text's tokens under 1 bit have it {bands['mean']:.0%} of the time on average (95 % CI "
            f"{bands['ci95_lo']:.0%} to {bands['ci95_hi']:.0%}, {bands['n']} texts).")
