"""What notebook 02 (forking tokens) shows next to its numbers: the tables and the sentences that say what a figure
or a table found, and its summary (the formatting; the notebook computes the results)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from utils.stats import Evidence, verdict

__all__ = ["after_forks_sentence", "after_forks_table", "countdown_sentence",
           "distribution_sentence", "distribution_table", "half_p80_sentence", "summary_02",
           "temperature_sentence", "temperature_table", "thresholds_sentence",
           "token_roles_sentence"]


def countdown_sentence(cd_rows: list[dict[str, Any]], seeds: Sequence[int], n_problems: int, n_tokens: int) -> str:
    """Notebook 02: the task model's corpus, its pass@1 over sampling seeds and its first three completions."""
    import numpy as np

    acc = [np.mean([r["correct"] for r in cd_rows if r["seed"] == s]) for s in seeds]
    first = ", ".join(f"`{r['prompt']}{r['completion']}` ({'accepted' if r['correct'] else 'rejected'})"
                      for r in cd_rows[:3])
    return (f"{len(cd_rows)} completions ({n_problems} problems × {len(seeds)} sampling seeds, {n_tokens} tokens); "
            f"the verifier by hand agrees with `countdown_reward` on every one. **pass@1** = {np.mean(acc):.1%} "
            f"(SD {np.std(acc, ddof=1):.1%} over the {len(seeds)} seeds). The first three: {first}.")


def distribution_table(pooled: dict[str, Any], thr: dict[str, float], paper: float) -> Any:
    """Notebook 02's table of the entropy distribution per corpus (tokens, median, 80th percentile, the paper's two
    shares, the write-up's bands), with the paper's values in the last column."""
    import numpy as np
    import pandas as pd

    from utils.entropy import band_shares

    table = pd.DataFrame({name: {"tokens": h.size, "median (nats)": f"{np.median(h):.3f}",
                                 "80th percentile (nats)": f"{thr[name]:.3f}",
                                 "share < 0.01 nats": f"{np.mean(h < 0.01):.3f}",
                                 f"share ≥ {paper} nats": f"{np.mean(h >= paper):.3f}",
                                 **{k: f"{v:.3f}" for k, v in band_shares(h).items()}}
                          for name, h in pooled.items()})
    table["Wang et al. (Qwen3-8B, AIME)"] = {"tokens": "> 1 M", "median (nats)": "—",
                                             "80th percentile (nats)": f"≈ {paper}", "share < 0.01 nats": "> 0.5",
                                             f"share ≥ {paper} nats": "≈ 0.2"}
    return table.fillna("—")


def distribution_sentence(pooled: dict[str, Any], thr: dict[str, float]) -> str:
    """Notebook 02, what ``02_entropy_distribution`` found: each corpus' share below 0.01 nats and 80th percentile."""
    import numpy as np

    parts = [f"{name}: {np.mean(h < 0.01):.0%} of {h.size} tokens below 0.01 nats, 80th percentile {thr[name]:.2f} nats"
             for name, h in pooled.items()]
    most = max(pooled, key=lambda n: np.mean(pooled[n] < 0.01))
    over = [n for n, h in pooled.items() if np.mean(h < 0.01) > 0.5]
    return (f"The figure found: {'; '.join(parts)}. The most near-certain corpus is the {most}. Over half of "
            f"the tokens below 0.01 nats, the paper's picture: {', '.join(over) if over else 'no corpus'}.")


def half_p80_sentence(half: dict[str, Evidence], p80: dict[str, Evidence], lm: str, lm07: str, cd: str,
                      t07: float) -> str:
    """Notebook 02: the paper's two statistics per corpus, each with its 95 % CI over units."""
    from utils.stats import mean_ci

    over = [n for n in half if half[n].ci95[0] > 0]  # the whole 95 % CI of the share above one half
    return (f"The paper: over half of the tokens below 0.01 nats, 80th percentile 0.672 nats. Here the task model has "
            f"{mean_ci(half[cd])} of its tokens below 0.01 nats and an 80th percentile of {mean_ci(p80[cd])} nats; "
            f"SmolLM2 {mean_ci(half[lm])} and {mean_ci(p80[lm])} nats at T = 1, {mean_ci(half[lm07])} and "
            f"{mean_ci(p80[lm07])} nats at T = {t07}. Over half below 0.01 nats (the whole interval above 0.5): "
            f"{', '.join(over) if over else 'no corpus'}.")


def token_roles_sentence(kh: Any, rh: Any, ev_words: Evidence, ev_words07: Evidence, t07: float) -> str:
    """Notebook 02, what ``02_token_roles`` found: pooled fork rates by kind, the paired test of word pieces -
    word starts, and Countdown's roles."""
    from utils.stats import diff_ci

    said = {"reproduced": "word pieces fork less, as the paper says",
            "not reproduced": "word pieces fork more, against the paper",
            "inconclusive": "the interval includes 0: this corpus cannot say which kind forks more"}[
        verdict(ev_words, "less")]
    more = "more" if kh["word piece"] > kh["word start"] else "less"
    return (f"Pooled over all traces (top left), word pieces fork {more} often than word starts at T = 1 "
            f"({kh['word piece']:.2f} vs {kh['word start']:.2f}). Paired by trace (bottom, the test; {ev_words.n_a} "
            f"traces have both), word pieces − word starts is {diff_ci(ev_words)}: {said}. The design **detects** "
            f"differences of about {ev_words.mde:.3f} and more (the smallest true difference its test finds 80 % of "
            f"the time at the 5 % level). At T = {t07}: {diff_ci(ev_words07)} ({ev_words07.n_a} traces). In "
            f"Countdown (top right) the operator forks most ({rh['operator']:.2f}), then the operands "
            f"({rh['operand']:.2f}); the tokens the arithmetic forces fork least: result digits "
            f"{rh['result digit']:.2f}, `=` {rh['=']:.2f}.")


def after_forks_table(after: dict[str, dict[str, Any]], k: int) -> Any:
    """Notebook 02: per corpus, the mean entropy of the next ``k`` tokens after a fork, after a random token and after
    a fork in shuffled order, the number of forks and the mean low-entropy run (real and shuffled)."""
    import pandas as pd

    return pd.DataFrame({name: {f"mean H of next {k}, after fork": a["real"]["after_fork"],
                                f"mean H of next {k}, after random token": a["real"]["after_random"],
                                f"mean H of next {k}, after fork (shuffled)": a["shuffled"]["after_fork"],
                                "forks": a["real"]["n_fork"],
                                "low run after a fork: mean": a["runs"].mean(),
                                "low run after a fork: mean (shuffled)": a["runs_null"].mean()}
                         for name, a in after.items()})


def _direction(ev: Evidence) -> str:
    return ("lower after a fork" if ev.ci95[1] < 0 else "higher after a fork" if ev.ci95[0] > 0
            else "no clear difference")


def after_forks_sentence(after: dict[str, dict[str, Any]], k: int, decides: str,
                         others: Sequence[tuple[str, float]]) -> str:
    """Notebook 02, what ``02_after_forks`` found: the paired test for the deciding corpus (``decides``) and the
    others (``others``: (name, temperature)), and how much of the low-entropy run chance alone gives."""
    from utils.stats import diff_ci

    from utils.stats import all_of

    ev, a = after[decides]["evidence"], after[decides]
    rest = "; ".join(f"{diff_ci(after[n]['evidence'])} nats at T = {t} ({_direction(after[n]['evidence'])})"
                     for n, t in others)
    return (f"The figure found (bottom panel, the test): the mean entropy of the next {k} tokens after a fork minus "
            f"after a random token of the same completion is {diff_ci(ev)} nats for the task model (n = {ev.n_a} "
            f"completions): **{_direction(ev)}**. In SmolLM2's text: {rest}. The low-entropy run after a fork "
            f"lasts {a['runs'].mean():.1f} tokens on average in the task model; with each completion's entropies "
            f"shuffled (no structure left) it still lasts {a['runs_null'].mean():.1f}: chance alone gives "
            f"{a['runs_null'].mean() / a['runs'].mean():.0%} of it, because 80 % of the tokens are low. No corpus "
            "was fixed in advance as the one that decides, so the claim must hold on each: "
            f"**{all_of([(x['evidence'], 'less') for x in after.values()])}**.")


def temperature_table(move: dict[str, Evidence], t07: float) -> Any:
    """Notebook 02, section 6: each statistic at T = ``t07`` and T = 1, paired by problem, with its 95 % CI and p."""
    import pandas as pd

    return pd.DataFrame([{"statistic": stat, f"T = {t07}": ev.mean_a, "T = 1": ev.mean_b, "difference": ev.diff,
                          "95% CI": f"[{ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}]",
                          "p": f"{ev.p:.3f}" if ev.p >= 0.001 else "< 0.001"}
                         for stat, ev in move.items()]).set_index("statistic").round(3)


def _moved(ev: Evidence, t07: float) -> str:
    """Whether a statistic is higher or lower at T = ``t07`` than at T = 1 (``ev``: the paired difference)."""
    return (f"higher at T = {t07}" if ev.ci95[0] > 0 else f"lower at T = {t07}" if ev.ci95[1] < 0
            else "no clear difference")


def temperature_sentence(move: dict[str, Evidence], own: str, n_common: int, t07: float) -> str:
    """Notebook 02, section 6: which statistics move from T = 1 to T = ``t07`` (paired by problem), and whether the
    drop in entropy survives measuring the T = ``t07`` tokens under the model's own distribution (``own``)."""
    tail = (f"Under the model's own distribution (T = 1) the T = {t07} tokens are still less uncertain than the "
            "T = 1 corpus: part of the drop comes from the traces themselves (they stay on track), not only from "
            "sharpening each step." if move[own].ci95[1] < 0 else
            f"Under the model's own distribution (T = 1) the T = {t07} tokens are not less uncertain than the T = 1 "
            "corpus: the drop comes from sharpening each step's distribution, not from calmer traces.")
    return (f"Paired by problem ({n_common} problems in both corpora; the 95 % CI of T = {t07} − T = 1): "
            + "; ".join(f"{stat}: **{_moved(ev, t07)}**" for stat, ev in move.items()) + ". " + tail)


def thresholds_sentence(p80_table: Any, groups: dict[str, dict[str, float]], paper: float) -> str:
    """Notebook 02, what ``02_thresholds`` found: the range of the 80th percentile over corpora and slices."""
    spread = {c: max(g.values()) - min(g.values()) for c, g in groups.items()}
    allv = p80_table["80th percentile (nats)"]
    return (f"The figure found: across the three corpora and their slices the 80th percentile runs from "
            f"{allv.min():.2f} to {allv.max():.2f} nats; within one corpus its slices differ by up to "
            + ", ".join(f"{d:.2f} nats ({c})" for c, d in spread.items())
            + f". The paper's {paper} nats is one point of this range.")


def summary_02(*, z: tuple[float, float, float, float], t07: float, half: dict[str, Evidence],
               p80: dict[str, Evidence], names: tuple[str, str, str], rh: Any, ev_words: Evidence,
               after_cd: dict[str, Any], span: str, after_all: dict[str, dict[str, Any]] | None = None) -> str:
    """Notebook 02's summary, from its results (``names``: the SmolLM2 T = 1, T = ``t07`` and task-model corpora;
    ``z``: the sampling checks' z of the three corpora and of the T = ``t07`` corpus scored at T = 1; ``after_all``:
    what follows a fork in every corpus, for ``seed.fork_then_low_run``, which must hold on each)."""
    from utils.stats import diff_ci, mean_ci
    from utils.stats import all_of

    lm, _, cd = names
    low, runs = after_cd["evidence"], after_cd
    chance = "mostly" if runs["runs_null"].mean() > 0.5 * runs["runs"].mean() else "in part"
    return "\n".join([
        "1. **Scoring a model's own samples**: each sampled token gets the entropy of the logit row just before it, "
        "divided by the sampling temperature (section 1). The sampling check (mean surprisal = mean entropy) passes "
        f"for the three corpora (z = {z[0]:+.1f}, {z[1]:+.1f}, {z[2]:+.1f}) and rejects the T = {t07} corpus scored "
        f"at T = 1 (z = {z[3]:+.1f}).",
        "2. **\"Over half below 0.01 nats\" and \"80th percentile ≈ 0.672 nats\"** are properties of a model on a "
        f"task: the task model has {mean_ci(half[cd])} of its tokens below 0.01 nats and an 80th percentile of "
        f"{mean_ci(p80[cd])} nats; SmolLM2 {mean_ci(half[lm])} and {mean_ci(p80[lm])} nats at T = 1 (sections 2 and "
        "6). The ledger rows `wang.half_below_001` and `wang.p80` describe and decide nothing: no corpus here is "
        "Qwen3-8B on AIME.",
        f"3. **Which tokens fork**: in Countdown the operator forks most (fork rate {rh['operator']:.2f}), then the "
        f"operands ({rh['operand']:.2f}), and the tokens the arithmetic forces least (`=` {rh['=']:.2f}, result "
        f"digits {rh['result digit']:.2f}). Word pieces − word starts in SmolLM2's text, paired by trace: "
        f"{diff_ci(ev_words)}; `wang.fork_words`: **{verdict(ev_words, 'less')}**.",
        f"4. **What follows a fork**, against a random token of the same sequence: {diff_ci(low)} nats in the task "
        f"model, and " + " and ".join(diff_ci(a["evidence"]) for n, a in (after_all or {}).items() if n != cd)
        + " nats in SmolLM2's text; it must hold on every corpus, so `seed.fork_then_low_run`: "
        f"**{all_of([(a['evidence'], 'less') for a in (after_all or {cd: after_cd}).values()])}**; in the task "
        f"model the low-entropy run after a fork lasts {runs['runs'].mean():.1f} tokens, and "
        f"{runs['runs_null'].mean():.1f} with the order shuffled: {chance} what chance gives.",
        f"5. **The threshold is a percentile**, not a number: from {span} across the corpora and their slices "
        "(section 7). A method that reuses 0.672 instead of \"the top 20 %\" selects a very different share of "
        "tokens on another model."])
