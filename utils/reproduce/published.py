"""The claims as published (quote or close paraphrase) and their source, by ledger id: the one place
their wording lives (:mod:`utils.reproduce.claims` re-exports it as ``PUBLISHED``)."""

from __future__ import annotations

__all__ = ["PUBLISHED"]

#: The claims as published (quote or close paraphrase) and their source, by ledger id.
PUBLISHED: dict[str, tuple[str, str]] = {
    "seed.bands": (
        ("< 1 bit: highly certain, 90% probability on one token; 1-3 bits: a few options; > 4 "
         "bits: no preference"),
        "write-up",
    ),
    "seed.off_by_one": (
        "Its code: entropy of logits[t] reported as the entropy of token t",
        "write-up",
    ),
    "seed.epsilon_fp16": (
        "Its code: entropy = -sum(p * log2(p + 1e-10)) after softmax",
        "write-up",
    ),
    "seed.qwen_aime": (
        "'7-11% accuracy improvement on AMY and math benchmarks for Quinn 332B'",
        "write-up",
    ),
    "seed.unit_bits": (
        "Forking tokens are those above the 80th percentile, 'less than 0.672 bits' below it",
        "write-up",
    ),
    "seed.fork_then_low_run": (
        ("Tokens with high entropy ('forking tokens') are typically followed by sequences of "
         "low-entropy tokens"),
        "write-up",
    ),
    "wang.fork_words": (
        ("Forking (high-entropy) tokens are words like 'wait', 'however', 'thus', 'suppose'; "
         "low-entropy tokens complete words, formulas and punctuation"),
        "Wang et al. 2025",
    ),
    "wang.p80": (
        ("The 80th percentile of chain-of-thought token entropy is about 0.672 nats (Qwen3-8B, "
         "AIME'24/'25)"),
        "Wang et al. 2025",
    ),
    "wang.half_below_001": (
        ("Over half of all chain-of-thought tokens have entropy below 0.01 (Qwen3-8B, "
         "AIME'24/'25)"),
        "Wang et al. 2025",
    ),
    "seed.dual_temp_21": (
        ("With forking tokens at temperature 2 and non-forking tokens at temperature 1, the model "
         "outperformed the baseline."),
        "write-up",
    ),
    "seed.dual_temp_coverage": (
        ("The model benefits when non-forking tokens are less random than forking tokens (read "
         "here as coverage: pass@k at large k)."),
        "write-up",
    ),
    "wang.dual_temp_shape": (
        ("Raising the forking tokens' temperature moderately helps, lowering it hurts sharply; "
         "the other tokens' temperature matters less."),
        "Wang et al. 2025",
    ),
    "seed.compute_savings": (
        ("Updating only on forking tokens gives an 80% reduction in backpropagation and up to 50% "
         "fewer FLOPs"),
        "write-up",
    ),
    "wang.top20_matches_full": (
        ("Training only on the top-20% highest-entropy tokens matches full-gradient RLVR "
         "(Qwen3-8B; the advantage at 14B/32B is wang.scale_trend's claim); read here with both "
         "arms at the rate tuned for all"),
        "Wang et al. 2025",
    ),
    "wang.top20_matches_full_per_arm": (
        ("Training only on the top-20% highest-entropy tokens matches full-gradient RLVR "
         "(Qwen3-8B); read here with each arm at its own learning rate, chosen by one rule fixed "
         "in advance"),
        "Wang et al. 2025",
    ),
    "wang.top20_lr_dependence": (
        ("Top-20% matches full-gradient RLVR as a property of the method, not of one learning "
         "rate (read here: the headline equivalence also holds at the untuned lr 3e-4, at every "
         "budget)"),
        "derived here",
    ),
    "wang.bottom80_hurts": (
        "Training only on the bottom-80% (low-entropy) tokens gives a marked decline",
        "Wang et al. 2025",
    ),
    "wang.random20_control": (
        ("It is which tokens are trained that matters: the high-entropy 20%, not any 20% "
         "(random-20% control; not run in the paper)"),
        "Wang et al. 2025",
    ),
    "wang.role20_control": (
        ("The high-entropy tokens matter because of their entropy, not only their syntactic role "
         "(role-only control at the same count; not run in the paper)"),
        "Wang et al. 2025",
    ),
    "wang.rho_sweep": (
        ("rho = 0.2 (the top 20% of tokens by entropy) is the share to keep (the paper's choice "
         "among the values it tried)"),
        "Wang et al. 2025",
    ),
    "wang.entropy_pattern_overlap": (
        ("RLVR largely keeps the base model's entropy pattern: > 86% overlap of the top-20% "
         "entropy positions (Qwen3-14B, DAPO; unverified number)"),
        "Wang et al. 2025",
    ),
    "wang.entropy_pattern_beyond_null": (
        ("RLVR keeps the base model's top-20% entropy positions more than a random weight change "
         "of the same mean |ΔH| does (the paper's pattern claim read against a null that can "
         "fail; not in the paper)"),
        "derived here",
    ),
    "wang.rl_changes_high_entropy": (
        "RL mainly changes the entropy of tokens that were already high-entropy",
        "Wang et al. 2025",
    ),
    "wang.normaliser": (
        ("Paper formula (masked loss averaged over all tokens) and the authors' code (averaged "
         "over the selected tokens only, a 1/rho = 5x larger loss) describe the same method"),
        "Wang et al. 2025",
    ),
    "wang.scale_trend": (
        ("The top-20% advantage over full-gradient RLVR grows with model size (matches at 8B, "
         "ahead at 14B, further ahead at 32B)"),
        "Wang et al. 2025",
    ),
    "wang.top20_matches_full_ladder": (
        ("Training only on the top-20% highest-entropy tokens matches full-gradient RLVR "
         "(Qwen3-8B); read here on the 12 ladder base models of three sizes, each arm at its own "
         "learning rate chosen by one rule fixed in advance"),
        "Wang et al. 2025",
    ),
    "entbonus.pass1": (
        ("With the entropy advantage, pass@1 stays about the same as plain GRPO (or slightly "
         "lower)"),
        "Cheng et al. 2025",
    ),
    "entbonus.passk_large_k": (
        "The entropy advantage gives clearly better pass@k at large k than plain GRPO",
        "Cheng et al. 2025",
    ),
    "entbonus.rl_shrinks_coverage": (
        "Plain RL shrinks pass@k at large k below the base model's: fewer problems solved at all",
        "Cheng et al. 2025",
    ),
    "entbonus.seed_crossover_32": (
        ("The entropy bonus underperforms the baseline in the first 32 tries and solves more "
         "beyond 32 tries"),
        "write-up",
    ),
    "entbonus.psi_entropy": (
        ("The entropy-based advantage promotes exploration (read here: the policy's token entropy "
         "stays above plain GRPO's)"),
        "Cheng et al. 2025",
    ),
    "entbonus.passk_psi_large_alpha": (
        ("The entropy advantage gives better pass@k at large k than plain GRPO (read here at "
         "alpha = 4, where the cap binds on most uncertain tokens)"),
        "Cheng et al. 2025",
    ),
    "entbonus.psi_uncapped_zero_gradient": (
        ("Without its cap, psi = alpha * H_t depends on the state only: a baseline, whose "
         "expected policy gradient is zero (measured by Monte-Carlo on the task model)"),
        "derived here",
    ),
    "entbonus.psi_uncapped_is_baseline": (
        ("Training with the uncapped psi = alpha * H_t is equivalent to GRPO (final entropy and "
         "pass@1), at the alpha named in configs/margins.yaml (05.uncapped_alpha)"),
        "derived here",
    ),
    "entbonus.positive_control_entropy": (
        ("An explicit entropy regulariser (loss - c * mean token entropy, TRL's entropy_coef) "
         "raises the policy's entropy over GRPO: the positive control"),
        "derived here",
    ),
    "entbonus.passk_entreg": (
        ("Keeping the entropy up with an explicit regulariser gives better pass@k at large k than "
         "GRPO"),
        "derived here",
    ),
    "entbonus.passk_cliphigh": (
        ("Clip-higher (eps_high = 0.28) keeps entropy from collapsing and sampling diverse (read "
         "here: better pass@k at large k than the symmetric clip)"),
        "Yu et al. 2025 (DAPO)",
    ),
    "entbonus.seed_moving_baseline": (
        "The method gives a bonus to tokens whose entropy rises above a moving baseline",
        "write-up",
    ),
}
