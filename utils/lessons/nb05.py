"""What notebook 05 shows next to its numbers, built from those numbers (issue 32, section 1: the lesson in the
cells, the formatting here). Every function takes the notebook's own results and returns Markdown or the DataFrame the
cell displays; none computes a result the ledger judges (the Monte-Carlo, the arms' comparisons and their verdicts
come from :mod:`utils.entropy_bonus` and :mod:`utils.stats`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["answers_sentence", "coef_sentence", "coef_table", "montecarlo_sentence", "noise_sentence"]


def montecarlo_sentence(mech: Mapping[str, Any], cv: Mapping[str, Any], sq: Mapping[str, Any], ns: Sequence[int],
                        bound: float, adv_norm: float, zero_in: bool, ent_sign: str) -> str:
    """Section 3's reading of the Monte-Carlo: the uncapped bonus's mean gradient against √(trΣ/N) at one and at the
    most batches (``cv[term][N]``: ``measured``/``predicted_null``), the unbiased ‖E g_ψ‖² and whether its 95 % CI
    contains 0 (``zero_in``), the bound ``bound`` on ‖E g_ψ‖ against the advantage term's ``adv_norm``, the noise
    ratio, and the capped bonus's cosine with the advantage gradient and sign (``ent_sign``, words) of its inner
    product with the entropy gradient (``mech``: :func:`utils.entropy_bonus.identity.monte_carlo`; ``cv``, ``sq``: its
    ``curve`` and ``sq_norm``)."""
    last = ns[-1]
    return (
        f"**What the Monte-Carlo shows** ({mech['batches']} batches). The uncapped bonus's mean gradient shrinks from "
        f"{cv['psi'][1]['measured']:.3f} (one batch) to {cv['psi'][last]['measured']:.3f} ({last} batches), tracking "
        f"$\\sqrt{{\\operatorname{{tr}}\\Sigma/N}}$ ({cv['psi'][1]['predicted_null']:.3f} → "
        f"{cv['psi'][last]['predicted_null']:.3f}); the unbiased $\\|\\mathbb E g_\\psi\\|^2$ is "
        f"{sq['psi']['value']:+.1e} with a 95 % CI that {'contains' if zero_in else 'excludes'} 0 — "
        f"{'a baseline, as derived' if zero_in else 'NOT what the identity predicts'}: the expected gradient of the "
        f"uncapped bonus is at most {bound:.4f} in norm (the square root of the CI's upper end), against "
        f"{adv_norm:.3f} for the advantage term — below {bound / adv_norm:.0%} of it. The advantage term's stays near "
        f"{cv['adv'][last]['measured']:.3f}. Per batch, the bonus's noise is {mech['noise_ratio']['value']:.0%} of "
        f"the advantage gradient's norm. At α = 4 the capped bonus points along the advantage gradient (cosine "
        f"{mech['cos_cap_adv']['value']:+.2f} [{mech['cos_cap_adv']['ci'][0]:+.2f}, "
        f"{mech['cos_cap_adv']['ci'][1]:+.2f}]) and its inner product with the entropy gradient is {ent_sign} "
        f"({mech['dot_cap_entropy']['value']:+.1e}): the cap makes ψ a bit more advantage, not more entropy.")


def coef_table(rises: Mapping[float, float], sweep: Mapping[float, Sequence[Mapping[str, Any]]]) -> Any:
    """Section 5's table: per entropy coefficient of the sweep, the mean final-entropy rise over GRPO and the mean
    pass@1 of its runs (:func:`utils.entropy_bonus.arms.pass1`)."""
    import pandas as pd

    from utils.entropy_bonus.arms import pass1

    return pd.DataFrame({f"entropy_coef {c:g}": {"mean final-entropy rise (nats, seeds 0-2)": f"{r:+.4f}",
                                                  "pass@1": f"{np.mean([pass1(x) for x in sweep[c]]):.3f}"}
                         for c, r in rises.items()}).T


def coef_sentence(coef: float, rises: Mapping[float, float], min_rise: float, coefficients: Sequence[float]) -> str:
    """Section 5: the coefficient the pre-registered rule picks (the first whose rise reaches ``min_rise``)."""
    return (f"The rule picks **entropy_coef = {coef:g}** (rise {rises[coef]:+.4f} nats ≥ {min_rise}); "
            + ("larger coefficients were not run: the rule stops at the first that qualifies."
               if coef < max(coefficients) else ""))


def noise_sentence(entropy_words: str, pass1_words: str, noise_ratio: float, gn_u4: float, gn_grpo: float,
                   max_grad_norm: float, clipped: float) -> str:
    """Section 6: why the uncapped term at α 4 changes training although its expected gradient is zero: its noise
    (``noise_ratio``: at α 0.4, so ×10 at α 4), the mean gradient norms, and the share of steps the clip scaled down.
    ``entropy_words`` / ``pass1_words``: its effects on the final entropy and pass@1, in words."""
    return ("**Zero in expectation is not zero in effect.** The uncapped term at α 4 changes the final entropy by "
            f"{entropy_words} nats and pass@1 by {pass1_words}. Its expected gradient is still zero (it is 10x the α "
            f"0.4 term), but per batch its noise is about {10 * noise_ratio:.1f}x the advantage gradient's norm: the "
            f"total gradient norm averages {gn_u4:.2f} against GRPO's {gn_grpo:.2f}, and gradient clipping at "
            f"{max_grad_norm:g} scales {clipped:.0%} of its steps down. Clipping and Adam's per-coordinate "
            "normalisation are not linear: noise shrinks the advantage's share of each update, GRPO learns more "
            "slowly — and a slower GRPO keeps more entropy. The argument's prediction holds for the expected "
            "gradient; it holds for training only while the noise is small next to the signal (α 0.4: "
            f"{noise_ratio:.0%}).")


def answers_sentence(mech: Mapping[str, Any], cv: Mapping[str, Any], ns: Sequence[int], bound: float,
                     adv_norm: float, answers: Sequence[tuple[str, str, Callable[[Any], str]]],
                     evidence: Mapping[str, Any], verdicts: Mapping[str, str]) -> str:
    """The closing summary: the Monte-Carlo in one line, then one bullet per ``(row, question, words)`` of
    ``answers`` that has evidence and a verdict: the question, the ledger's verdict, ``words(evidence[row])``."""
    return (f"**Monte-Carlo** ({mech['batches']} batches of 64): uncapped ψ's mean gradient "
            + ", ".join(f"{cv['psi'][n]['measured']:.3f}" for n in ns)
            + f" at N = {', '.join(map(str, ns))} against "
            + ", ".join(f"{cv['psi'][n]['predicted_null']:.3f}" for n in ns)
            + f" predicted by √(trΣ/N): a baseline, ‖E g_ψ‖ ≤ {bound:.4f} against ‖E g_adv‖ = {adv_norm:.3f}. "
            f"Capped ψ at α 4: cosine {mech['cos_cap_adv']['value']:+.2f} with the advantage gradient, "
            f"{mech['cos_cap_entropy']['value']:+.2f} with the entropy gradient.\n\n**The answers at this scale** "
            "(paired by seed):\n\n"
            + "\n".join(f"* {q} **{verdicts[i]}**: {f(evidence[i])}" for i, q, f in answers
                        if i in evidence and i in verdicts))
