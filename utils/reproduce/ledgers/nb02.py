"""Notebook 02's ledger rows: how entropy is distributed, and which tokens fork."""

from __future__ import annotations

from typing import Any

from utils.reproduce.claims import Ledger
from utils.stats import Evidence, diff_ci, mean_ci


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
    from utils.config import margins
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
