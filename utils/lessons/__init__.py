"""What notebooks 01-03 show next to their numbers, built from those numbers: the data they read, the sentences
that say what a figure or a table found, and their summaries (issue 32, section 1: the lesson in the cells, the
formatting here). Every function takes the notebook's own results and returns a string (Markdown) or the data;
none computes a result the ledger judges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from utils.config import DATA_DIR
from utils.stats import Evidence, verdict

__all__ = [
    "SAID",
    "after_forks_sentence",
    "after_forks_table",
    "axis_sentence",
    "bands_sentence",
    "countdown_sentence",
    "distribution_sentence",
    "distribution_table",
    "entropy_by_text_sentence",
    "grid_sentence",
    "half_p80_sentence",
    "held_word",
    "passk_sentence",
    "passk_table",
    "sample_texts",
    "shape_table",
    "summary_01",
    "summary_02",
    "summary_03",
    "temperature_sentence",
    "temperature_table",
    "text_kinds_sentence",
    "thresholds_sentence",
    "token_roles_sentence",
    "unit_sentence",
]

#: The verdict of a test, as the end of "the rule of thumb ...".
_HELD = {"reproduced": "holds", "not reproduced": "does not hold", "inconclusive": "cannot be decided here"}


def sample_texts() -> dict[str, list[str]]:
    """Notebook 01's hand-written texts, by kind (``prose``, ``math``, ``code``), from ``data/sample_texts.json``
    (keys starting with ``_`` are notes, left out)."""
    raw = json.loads((DATA_DIR / "sample_texts.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def held_word(ev: Evidence, direction: str = "greater") -> str:
    """``holds`` / ``does not hold`` / ``cannot be decided here``: :func:`utils.stats.verdict` of ``ev``."""
    return _HELD[verdict(ev, direction)]


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


# --------------------------------------------------------------------------------------------- notebook 02


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


def temperature_sentence(move: dict[str, Evidence], own: str, n_common: int, t07: float) -> str:
    """Notebook 02, section 6: which statistics move from T = 1 to T = ``t07`` (paired by problem), and whether the
    drop in entropy survives measuring the T = ``t07`` tokens under the model's own distribution (``own``)."""
    def moved(ev: Evidence) -> str:
        return (f"higher at T = {t07}" if ev.ci95[0] > 0 else f"lower at T = {t07}" if ev.ci95[1] < 0
                else "no clear difference")

    tail = (f"Under the model's own distribution (T = 1) the T = {t07} tokens are still less uncertain than the "
            "T = 1 corpus: part of the drop comes from the traces themselves (they stay on track), not only from "
            "sharpening each step." if move[own].ci95[1] < 0 else
            f"Under the model's own distribution (T = 1) the T = {t07} tokens are not less uncertain than the T = 1 "
            "corpus: the drop comes from sharpening each step's distribution, not from calmer traces.")
    return (f"Paired by problem ({n_common} problems in both corpora; the 95 % CI of T = {t07} − T = 1): "
            + "; ".join(f"{stat}: **{moved(ev)}**" for stat, ev in move.items()) + ". " + tail)


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


# --------------------------------------------------------------------------------------------- notebook 03

#: A verdict of "is it better?", in words.
SAID = {"reproduced": "yes", "not reproduced": "no, the opposite", "inconclusive": "cannot tell"}


def grid_sentence(table: dict[str, Any], fork_table: dict[str, Any], ev: Evidence, judged: Any, base: Any) -> str:
    """Notebook 03, what ``03_grid_heatmap`` found: the range of pass@1 and of the fork share over the grid, and
    ``judged`` − ``base`` with its 95 % CI."""
    import numpy as np

    def at(t: dict[str, Any], fn: Any) -> tuple[float, tuple[float, float]]:
        m = np.asarray(t["mean"])
        i, j = np.unravel_index(fn(m), m.shape)
        return float(m[i, j]), (float(t["t_forks"][i]), float(t["t_rests"][j]))

    (lo, clo), (hi, chi) = at(table, np.nanargmin), at(table, np.nanargmax)
    (flo, _), (fhi, _) = at(fork_table, np.nanargmin), at(fork_table, np.nanargmax)
    cell = lambda c: f"({c[0]:g}, {c[1]:g})"
    return (f"The figure found: pass@1 runs from {lo:.3f} at {cell(clo)} to {hi:.3f} at {cell(chi)}; the fork share "
            f"from {flo:.2f} to {fhi:.2f}. The write-up's {cell(judged)} − {cell(base)} = {ev.diff:+.3f} "
            f"[95 % CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}], n = {ev.n_a} problems: better? "
            f"**{SAID[verdict(ev, 'greater')]}**.")


def axis_sentence(shape: dict[str, Any]) -> str:
    """Notebook 03, what ``03_axis_effects`` found: each part of the paper's shape with its 95 % CI and verdict,
    and the direction-free reading."""
    parts = "; ".join(f"{p['what']}: {p['evidence'].diff:+.3f} [{p['evidence'].ci95[0]:+.3f}, "
                      f"{p['evidence'].ci95[1]:+.3f}] ({p['verdict']})" for p in shape["parts"])
    return (f"The figure found: {parts}. All parts together: **{shape['verdict']}**. Direction-free: "
            f"F = {shape['fork_swing']:+.3f}, R = {shape['rest_swing']:+.3f}; does T_fork move pass@1 more than "
            f"T_rest, either way (|F| > |R|)? **{shape['magnitude_verdict']}**.")


def shape_table(shape: dict[str, Any]) -> Any:
    """Notebook 03: one row per part of the paper's shape (claimed direction, difference, 95 % CI, the smallest
    difference the design detects, verdict)."""
    import pandas as pd

    return pd.DataFrame([{"part": p["what"], "claimed": p["direction"], "diff": round(p["evidence"].diff, 3),
                          "95% CI": f"[{p['evidence'].ci95[0]:+.3f}, {p['evidence'].ci95[1]:+.3f}]",
                          "detectable": round(p["evidence"].mde, 3), "verdict": p["verdict"]}
                         for p in shape["parts"]]).set_index("part")


def passk_sentence(curves: dict[str, Any], at_n: dict[str, Evidence], k: int, judged: str) -> str:
    """Notebook 03, what ``03_passk`` found: pass@1 and pass@``k`` of every cell, and the judged cell minus (1, 1)
    at ``k`` with its 95 % CI."""
    name = lambda key: "({}, {})".format(*key.split(","))
    ends = "; ".join(f"{name(key)} {c['mean'][0]:.3f} → {c['mean'][-1]:.3f}" for key, c in curves.items())
    ev = at_n[judged]
    return (f"The figure found: pass@1 → pass@{k} per cell: {ends}. At k = {k}, {name(judged)} − (1, 1) = "
            f"{ev.diff:+.3f} [95 % CI {ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}], n = {ev.n_a} problems: more coverage? "
            f"**{SAID[verdict(ev, 'greater')]}**.")


def passk_table(pk_runs: Sequence[dict[str, Any]], cells: Sequence[Any], base: Any, n: int) -> Any:
    """Notebook 03: every pass@k cell against ``base`` at k = 1 and k = ``n`` (paired by problem)."""
    import pandas as pd

    from utils.toy_lm import decoding_grid as dg

    rows = []
    for c in cells:
        if c == base:
            continue
        for k in (1, n):
            ev = dg.compare_cells(pk_runs, c, base, k=k)
            rows.append({"cell": f"({c[0]:g}, {c[1]:g})", "k": k, "pass@k": ev.mean_a, "(1, 1)": ev.mean_b,
                         "diff": ev.diff, "95% CI": f"[{ev.ci95[0]:+.3f}, {ev.ci95[1]:+.3f}]",
                         "p": "< 0.001" if ev.p < 0.001 else f"{ev.p:.3f}"})
    return pd.DataFrame(rows).set_index(["cell", "k"]).round(4)


def summary_03(*, ev21: Evidence, ev_cov: Evidence, n_pk: int, shape: dict[str, Any], best: Any,
               fork_base: float, fork_hot: float, hot: float, lm_summary: Sequence[dict[str, Any]],
               n_word_problems: int) -> str:
    """Notebook 03's summary, from its results."""
    ci = lambda ev: f"{ev.diff:+.3f} (95 % CI {ev.ci95[0]:+.3f} to {ev.ci95[1]:+.3f})"
    lines = [
        "The dual-temperature rule is a few lines (section 1): the entropy of the untempered row picks T_fork or "
        "T_rest.",
        f"Task model at (1, 1): pass@1 {ev21.mean_b:.3f}, pass@{n_pk} {ev_cov.mean_b:.3f} on held-out Countdown "
        "problems.",
        f"**Is the write-up's (2, 1) better than (1, 1)?** {SAID[verdict(ev21, 'greater')]}: pass@1 {ci(ev21)}.",
        f"**Does it buy coverage?** {SAID[verdict(ev_cov, 'greater')]}: pass@{n_pk} {ci(ev_cov)}.",
        "**The paper's shape** (raising T_fork helps, lowering it hurts, T_rest matters less): "
        f"{shape['verdict']}; " + "; ".join(f"{p['what']}: {ci(p['evidence'])}" for p in shape["parts"][:2])
        + f". T_fork moves pass@1 more than T_rest either way: {SAID[shape['magnitude_verdict']]} "
        f"(F = {shape['fork_swing']:+.3f}, R = {shape['rest_swing']:+.3f}).",
        f"Highest pass@1 in the grid: {best} (descriptive). Fork share {fork_base:.2f} at (1, 1), {fork_hot:.2f} "
        f"at ({hot:g}, {hot:g}).",
        f"SmolLM2: the same rule at (2, 1) raises the fork share from {lm_summary[0]['fork share']:.2f} to "
        f"{lm_summary[1]['fork share']:.2f} on {n_word_problems} word problems (qualitative)."]
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
