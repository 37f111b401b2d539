"""Forking-token analysis: score a model's own completions, then ask where the entropy sits.

* :func:`score_completions` -- entropy of the distribution that produced each *completion* token, given
  its prompt (the prompt tokens are context only); :func:`score_completions_at` does several temperatures from
  one forward pass. Works for any causal LM in ``transformers``: the
  SmolLM2 traces and the Countdown task model are scored by this one function.
* A corpus scored once and stored (``data/scores_*.npz``, made by ``python -m utils.traces scores``), read back,
  with a slice scored again live and checked against the store: :mod:`utils.traces.score_store`.
* :func:`token_table`, :func:`top_forking_tokens`, :func:`top_low_entropy_tokens` -- which tokens fork.
* :func:`following_profile`, :func:`forking_vs_random` -- mean entropy of the next ``k`` tokens after a
  forking token vs after a random token.
* :func:`runs_after_forks`, :func:`shuffle_within` -- run lengths of low-entropy
  tokens, with a shuffled-order null model (same tokens, order destroyed).
* :func:`countdown_roles`, :func:`group_table` -- Countdown token roles (operand, operator, ``=``, result
  digit, separator) and entropy per role.
* :func:`after_fork_pairs`, :func:`per_sequence_rates` -- the same questions with the sequence as the unit, for
  paired comparisons (``utils.stats.compare(..., paired=True)``).
* :func:`share_above` -- the share of tokens at or above a threshold (the explorer of :mod:`utils.viz.explorer`
  shows it).

Entropies are in nats throughout.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from utils.entropy import TokenRecord
from utils.forking.scoring import score_completions, score_completions_at  # noqa: F401 (public here)


def entropy_arrays(records_list: Sequence[Sequence[TokenRecord]]) -> list[np.ndarray]:
    """One float array of entropies per sequence (records without an entropy are dropped)."""
    return [np.array([r.entropy for r in recs if r.entropy is not None], dtype=float) for recs in records_list]


# ---------------------------------------------------------------------------------------------
# Which tokens fork
# ---------------------------------------------------------------------------------------------


def normalize_token(tok: str) -> str:
    """A token as a table key: stripped and lower-cased; pure whitespace shown as ``⏎`` / ``␣``."""
    s = tok.strip().lower()
    if s:
        return s
    if "\n" in tok:
        return "⏎" * tok.count("\n")
    return "␣" if tok else "∅"


def token_table(records_list: Sequence[Sequence[TokenRecord]], threshold: float, low: float = 0.01) -> Any:
    """Per normalized token: ``count``, ``n_high`` (entropy >= ``threshold``), ``n_low`` (< ``low``),
    ``fork_rate`` (= n_high / count), ``mean_entropy``. A pandas DataFrame indexed by token."""
    import pandas as pd

    acc: dict[str, list[float]] = defaultdict(list)
    for recs in records_list:
        for r in recs:
            if r.entropy is not None:
                acc[normalize_token(r.token)].append(r.entropy)
    rows = []
    for tok, hs in acc.items():
        h = np.asarray(hs)
        rows.append(
            {
                "token": tok,
                "count": int(h.size),
                "n_high": int((h >= threshold).sum()),
                "n_low": int((h < low).sum()),
                "fork_rate": float((h >= threshold).mean()),
                "mean_entropy": float(h.mean()),
            }
        )
    if not rows:
        raise ValueError("no scored tokens: score some completions first.")
    return pd.DataFrame(rows).set_index("token")


def top_forking_tokens(table: Any, k: int = 15) -> Any:
    """The ``k`` tokens that most often sit at or above the threshold (ties: higher fork rate first)."""
    return table[table["n_high"] > 0].sort_values(["n_high", "fork_rate"], ascending=False).head(k)


def top_low_entropy_tokens(table: Any, k: int = 15) -> Any:
    """The ``k`` tokens that most often have entropy below ``low`` (ties: lower mean entropy first)."""
    t = table[table["n_low"] > 0]
    return t.sort_values(["n_low", "mean_entropy"], ascending=[False, True]).head(k)


#: Token kinds of :func:`token_kinds`, for natural-language traces.
TOKEN_KINDS = ("word start", "word piece", "number", "punctuation / symbol", "whitespace / newline", "special")


def token_kinds(tokens: Sequence[str]) -> list[str]:
    """The kind of each token of one sequence (in order): ``word start`` (letters after a space,
    newline or non-letter, or first in the sequence), ``word piece`` (letters that continue a word: no
    leading space and the previous token ends with a letter), ``number`` (digits, possibly with a leading
    space), ``punctuation / symbol``, ``whitespace / newline`` or ``special`` (``<|...|>``-style markers).

    ``token_kinds([" The", " answer", "ing", " is", " 4", "2", "."])`` gives word start x2, word piece,
    word start, number, number, punctuation / symbol.
    """
    out: list[str] = []
    prev = ""
    for tok in tokens:
        core = tok.strip()
        if tok.startswith("<") and tok.endswith(">") and len(tok) > 2:
            kind = "special"
        elif not core:
            kind = "whitespace / newline"
        elif core.isdigit():
            kind = "number"
        elif core.isalpha():
            continues = tok[0].isalpha() and prev[-1:].isalpha()
            kind = "word piece" if continues else "word start"
        else:
            kind = "punctuation / symbol"
        out.append(kind)
        prev = tok
    return out


# ---------------------------------------------------------------------------------------------
# What follows a forking token
# ---------------------------------------------------------------------------------------------


def mean_after(h: np.ndarray, idx: Sequence[int], k: int) -> np.ndarray:
    """Mean of ``h[i+1 : i+1+k]`` for each ``i`` in ``idx`` that has ``k`` tokens after it (others dropped)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    h = np.asarray(h, dtype=float)
    idx = np.asarray([i for i in idx if 0 <= i and i + k < len(h)], dtype=int)
    if idx.size == 0:
        return np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(h)])
    return (c[idx + 1 + k] - c[idx + 1]) / k


def following_profile(seqs: Sequence[np.ndarray], positions: Sequence[Sequence[int]], k: int) -> np.ndarray:
    """Mean entropy at offsets 1..k after the given positions (one list of positions per sequence);
    only positions with ``k`` tokens after them count, so every offset averages the same positions."""
    rows = []
    for h, idx in zip(seqs, positions):
        h = np.asarray(h, float)
        for i in idx:
            if i + k < len(h):
                rows.append(h[i + 1 : i + 1 + k])
    if not rows:
        raise ValueError(f"no position has {k} tokens after it: use a smaller k or longer sequences.")
    return np.mean(np.stack(rows), axis=0)


def fork_positions(seqs: Sequence[np.ndarray], threshold: float) -> list[np.ndarray]:
    """Indices of tokens at or above ``threshold``, per sequence."""
    return [np.flatnonzero(np.asarray(h) >= threshold) for h in seqs]


def random_positions(seqs: Sequence[np.ndarray], like: Sequence[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """As many uniformly random positions per sequence as ``like`` has (any token, forking or not)."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(len(h), size=min(len(f), len(h)), replace=False)) for h, f in zip(seqs, like)]


def forking_vs_random(seqs: Sequence[np.ndarray], threshold: float, k: int = 5, seed: int = 0) -> dict[str, Any]:
    """Mean entropy of the ``k`` tokens after a forking token (H >= threshold) vs after a random token.

    Returns ``after_fork`` / ``after_random`` (means over positions with ``k`` tokens after them),
    their counts, and the offset profiles ``profile_fork`` / ``profile_random`` (length ``k``).
    """
    forks = fork_positions(seqs, threshold)
    rand = random_positions(seqs, forks, seed)
    af = np.concatenate([mean_after(h, f, k) for h, f in zip(seqs, forks)])
    ar = np.concatenate([mean_after(h, r, k) for h, r in zip(seqs, rand)])
    if af.size == 0 or ar.size == 0:
        raise ValueError(f"no forking token has {k} tokens after it: use a smaller k or a lower threshold.")
    return {
        "k": k,
        "threshold": float(threshold),
        "after_fork": float(af.mean()),
        "after_random": float(ar.mean()),
        "n_fork": int(af.size),
        "n_random": int(ar.size),
        "profile_fork": following_profile(seqs, forks, k),
        "profile_random": following_profile(seqs, rand, k),
    }


def runs_after_forks(h: np.ndarray, threshold: float) -> np.ndarray:
    """For each forking token (H >= threshold), how many low-entropy tokens follow it before the next
    forking token or the end of the sequence (0 when the next token forks too; end-censored)."""
    h = np.asarray(h, float)
    forks = np.flatnonzero(h >= threshold)
    nxt = np.append(forks[1:], len(h))
    return nxt - forks - 1


def shuffle_within(seqs: Sequence[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """Each sequence's entropies in a random order: same values, order destroyed (a null model)."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(np.asarray(h, float)) for h in seqs]


def after_fork_pairs(seqs: Sequence[np.ndarray], threshold: float, k: int = 5, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per sequence, the mean entropy of the ``k`` tokens after its forking tokens (H >= ``threshold``) and after
    as many random positions of the same sequence: two arrays, one pair per sequence that has a fork with ``k``
    tokens after it. Only positions with ``k`` tokens after them are eligible, for forks and random positions
    alike (so the end of a sequence never biases one side). Pass the arrays to ``utils.stats.compare(...,
    paired=True)``: the sequence is the unit, so long sequences do not outweigh short ones."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    rng = np.random.default_rng(seed)
    a, b = [], []
    for h in seqs:
        h = np.asarray(h, float)
        eligible = np.arange(max(0, len(h) - k))
        if eligible.size == 0:
            continue
        f = eligible[h[eligible] >= threshold]
        if f.size == 0:
            continue
        r = rng.choice(eligible, size=f.size, replace=False)
        a.append(mean_after(h, f, k).mean())
        b.append(mean_after(h, r, k).mean())
    return np.asarray(a, float), np.asarray(b, float)


def per_sequence_rates(
    entropies: Sequence[np.ndarray], labels: Sequence[Sequence[str]], threshold: float, groups: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per sequence, the fork rate (share at or above ``threshold``) of each label in ``groups``: one array per
    group, NaN where the sequence has no token of that group. For a paired comparison keep the sequences where
    both groups are present (``~np.isnan(a) & ~np.isnan(b)``)."""
    out: dict[str, list[float]] = {g: [] for g in groups}
    for h, lab in zip(entropies, labels):
        h, lab = np.asarray(h, float), np.asarray(list(lab), dtype=object)
        if h.shape != lab.shape:
            raise ValueError(f"{h.size} entropies but {lab.size} labels in one sequence: pass one label per token.")
        for g in groups:
            m = lab == g
            out[g].append(float((h[m] >= threshold).mean()) if m.any() else float("nan"))
    return {g: np.asarray(v, float) for g, v in out.items()}


# ---------------------------------------------------------------------------------------------
# Countdown token roles
# ---------------------------------------------------------------------------------------------

#: Coarse Countdown roles used here, from :func:`utils.countdown.token_roles`' fine ones.
ROLE_MAP = {
    "operand1": "operand",
    "operand2": "operand",
    "operator": "operator",
    "equals": "=",
    "result": "result digit",
    "separator": "separator ','",
    "eos": "end (EOS)",
    "other": "other",
}


def countdown_roles(completion: str | Sequence[str], eos: bool = False) -> list[str]:
    """The role of each character (or token) of a Countdown completion: ``operand``, ``operator``, ``=``,
    ``result digit``, ``separator ','`` or ``other`` (off-format); with ``eos=True`` a final ``end (EOS)``.

    ``countdown_roles("8*5=40") == ["operand", "operator", "operand", "=", "result digit", "result digit"]``.
    Pass the scored token strings (a list) to get exactly one role per token: a token longer than one
    character (a special token the model wrote, such as ``<bos>``) is ``other``.
    The parsing is :func:`utils.countdown.token_roles`' (one place); this maps its roles to coarse ones.
    """
    from utils.countdown import token_roles

    if not isinstance(completion, str):
        completion = "".join(t if len(t) == 1 else "\x00" for t in completion)
    roles = [ROLE_MAP[r] for r in token_roles(completion)]
    return roles if eos else roles[:-1]


def group_table(entropies: Sequence[np.ndarray], labels: Sequence[Sequence[str]], threshold: float) -> Any:
    """Per label: ``n``, ``mean_entropy``, ``share_high`` (share of this label's tokens at or above
    ``threshold``) and ``share_of_forks`` (share of all tokens at or above it that carry this label)."""
    import pandas as pd

    h = np.concatenate([np.asarray(e, float) for e in entropies])
    lab = np.concatenate([np.asarray(list(l), dtype=object) for l in labels])
    if h.shape != lab.shape:
        raise ValueError(f"{h.size} entropies but {lab.size} labels: pass one label per token.")
    high = h >= threshold
    rows = []
    for g in dict.fromkeys(lab.tolist()):
        m = lab == g
        rows.append(
            {
                "role": g,
                "n": int(m.sum()),
                "mean_entropy": float(h[m].mean()),
                "share_high": float(high[m].mean()),
                "share_of_forks": float((high & m).sum() / max(1, high.sum())),
            }
        )
    return pd.DataFrame(rows).set_index("role").sort_values("mean_entropy", ascending=False)


# ---------------------------------------------------------------------------------------------
# Shares above a threshold
# ---------------------------------------------------------------------------------------------


def share_above(seqs: Sequence[np.ndarray], threshold: float) -> float:
    """Share of all tokens with entropy at or above ``threshold``."""
    h = np.concatenate([np.asarray(s, float) for s in seqs])
    return float((h >= threshold).mean())
