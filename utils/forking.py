"""Forking-token analysis: score a model's own completions, then ask where the entropy sits.

* :func:`score_completions` -- entropy of the distribution that produced each *completion* token, given
  its prompt (the prompt tokens are context only); :func:`score_completions_at` does several temperatures from
  one forward pass. Works for any causal LM in ``transformers``: the
  SmolLM2 traces and the Countdown task model are scored by this one function.
* :func:`save_scores` / :func:`load_scores` / :func:`score_with_store` -- a corpus scored once and stored
  (``data/scores_*.npz``, made by ``python -m utils.traces scores``), read back, with a slice scored again live
  and checked against the store.
* :func:`token_table`, :func:`top_forking_tokens`, :func:`top_low_entropy_tokens` -- which tokens fork.
* :func:`following_profile`, :func:`forking_vs_random` -- mean entropy of the next ``k`` tokens after a
  forking token vs after a random token.
* :func:`low_entropy_runs`, :func:`runs_after_forks`, :func:`shuffle_within` -- run lengths of low-entropy
  tokens, with a shuffled-order null model (same tokens, order destroyed).
* :func:`countdown_roles`, :func:`group_table` -- Countdown token roles (operand, operator, ``=``, result
  digit, separator) and entropy per role.
* :func:`after_fork_pairs`, :func:`per_sequence_rates` -- the same questions with the sequence as the unit, for
  paired comparisons (``utils.stats.compare(..., paired=True)``).
* :func:`share_above` -- the share of tokens at or above a threshold (the explorer of :mod:`utils.viz.explorer` shows it).

Entropies are in nats throughout.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Sequence

import numpy as np
import torch

from utils.entropy import TokenRecord, token_entropy, unit_scale

# ---------------------------------------------------------------------------------------------
# Scoring completions given prompts
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def score_completions_at(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str | Sequence[int]],
    temperatures: Sequence[float],
    batch_size: int = 8,
    unit: str = "nats",
    append_eos: bool = False,
) -> dict[float, list[list[TokenRecord]]]:
    """:func:`score_completions` at several temperatures from one forward pass per batch:
    ``{temperature: records}`` (e.g. a corpus sampled at 0.7, scored at 0.7 and at 1). Each temperature must be a
    finite number > 0, ``batch_size`` a whole number >= 1 (``ValueError`` otherwise)."""
    from utils import checks

    scale = unit_scale(unit)
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions: pass one prompt per completion.")
    temps = [checks.temperature(t) for t in temperatures]
    if not temps:
        raise ValueError("temperatures is empty: pass at least one temperature > 0.")
    batch_size = checks.positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    eos = tokenizer.eos_token_id
    results: dict[float, list[list[TokenRecord]]] = {t: [] for t in temps}
    for start in range(0, len(prompts), batch_size):
        ps = prompts[start : start + batch_size]
        cs = completions[start : start + batch_size]
        seqs, spans = [], []
        for p, c in zip(ps, cs):
            p_ids = tokenizer(p, add_special_tokens=False)["input_ids"]
            if not p_ids:
                raise ValueError("a prompt encodes to zero tokens: the first completion token needs a context.")
            c_ids = list(tokenizer(c, add_special_tokens=False)["input_ids"]) if isinstance(c, str) else [int(i) for i in c]
            if append_eos:
                c_ids = c_ids + [eos]
            seqs.append(p_ids + c_ids)
            spans.append((len(p_ids), c_ids))
        width = max(len(s) for s in seqs)
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        att = torch.zeros_like(ids)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            att[i, : len(s)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=att.to(device)).logits
        # the rows that produced completion tokens: index k-1 .. k-1+len(c)-1 for a prompt of length k
        rows = [logits[i, k - 1 : k - 1 + len(c)] for i, (k, c) in enumerate(spans)]
        raw = torch.cat(rows).float() if rows else logits.new_zeros((0, logits.shape[-1])).float()
        if raw.shape[0] == 0:
            for t in temps:
                results[t].extend([[] for _ in spans])
            continue
        targets = torch.tensor([t for _, c in spans for t in c], device=raw.device)
        for temp in temps:
            flat = raw / temp
            ent_l = (token_entropy(flat) * scale).tolist()
            tok_logp = (flat.gather(-1, targets[:, None]).squeeze(-1) - torch.logsumexp(flat, dim=-1)).tolist()
            j = 0
            for _, c in spans:
                recs = []
                for t, tid in enumerate(c):
                    lp = tok_logp[j]
                    recs.append(TokenRecord(t, tokenizer.decode([tid]), int(tid), ent_l[j], math.exp(lp), -lp * scale))
                    j += 1
                results[temp].append(recs)
    return results


def score_completions(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    completions: Sequence[str | Sequence[int]],
    batch_size: int = 8,
    unit: str = "nats",
    temperature: float = 1.0,
    append_eos: bool = False,
) -> list[list[TokenRecord]]:
    """Per-token records of each completion, scored given its prompt.

    Args:
        prompts: the exact texts the completions were sampled after (tokenized without added special
            tokens, as in generation).
        completions: texts, or -- better -- the sampled token ids (re-tokenizing decoded text can give
            different ids than the ones sampled).
        temperature: logits are divided by it (the sampling temperature gives the distribution each token was
            drawn from; 1.0: the model's own distribution).
        append_eos: also score the step that produced EOS (its record's token is the EOS string).

    Returns:
        one list of :class:`~utils.entropy.TokenRecord` per completion; ``position`` counts from 0 at
        the first completion token, and every record has an entropy (the prompt gives each one a
        predicting distribution).

    Sequences are right-padded, so positions start at 0 for every row and padding never reaches a record. Inputs
    go to the model's device (a GPU when :func:`utils.models.load_lm` put the model there).
    """
    (scored,) = score_completions_at(model, tokenizer, prompts, completions, [temperature], batch_size=batch_size,
                                     unit=unit, append_eos=append_eos).values()
    return scored


# ---------------------------------------------------------------------------------------------
# Stored scores: a corpus scored once, read back, checked live on a slice
# ---------------------------------------------------------------------------------------------

SCORES_SCHEMA = "forking-tokens/token-scores/1"


def trace_key(prompt: str, completion_ids: Sequence[int]) -> str:
    """A short digest naming one trace: its prompt text and its sampled token ids."""
    import hashlib

    return hashlib.sha256((prompt + "\x00" + ",".join(map(str, completion_ids))).encode()).hexdigest()[:20]


def save_scores(path: Any, prompts: Sequence[str], completions: Sequence[Sequence[int]],
                scored: dict[float, list[list[TokenRecord]]], meta: dict[str, Any]) -> Any:
    """Write :func:`score_completions_at`'s records of token-id completions to an ``.npz`` (atomically): per
    temperature the entropy and the log-probability of each completion token, float32 as the model computed them,
    with a :func:`trace_key` per trace and ``meta`` (what scored them, and the command)."""
    import json

    from utils.results import atomic_path

    keys = [trace_key(p, c) for p, c in zip(prompts, completions, strict=True)]
    lengths = np.array([len(c) for c in completions], dtype=np.int64)
    arrays: dict[str, Any] = {"keys": np.array(keys), "lengths": lengths,
                              "meta": np.array(json.dumps({"schema": SCORES_SCHEMA, **meta}, sort_keys=True))}
    for i, (t, recs) in enumerate(sorted(scored.items())):
        if [len(r) for r in recs] != lengths.tolist():
            raise ValueError(f"records at temperature {t} do not match the completions' lengths")
        arrays[f"temperature_{i}"] = np.array(t, dtype=np.float64)
        arrays[f"entropy_{i}"] = np.array([x.entropy for r in recs for x in r], dtype=np.float32)
        arrays[f"logp_{i}"] = np.array([-x.surprisal for r in recs for x in r], dtype=np.float32)  # nats
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
    return path


def load_scores(path: Any, tokenizer: Any, prompts: Sequence[str], completions: Sequence[Sequence[int]],
                ) -> tuple[dict[float, list[list[TokenRecord] | None]], dict[str, Any]]:
    """The stored records of these traces: ``({temperature: [records, or None for a trace the file lacks]}, meta)``
    -- the same :class:`~utils.entropy.TokenRecord` values :func:`score_completions_at` gives (nats).
    :class:`utils.results.ResultsError` for a missing or foreign file."""
    import json

    from utils.results import ResultsError

    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
    except Exception as e:  # noqa: BLE001 - any unreadable file is one clear error
        raise ResultsError(f"{path}: not a readable token-scores file ({type(e).__name__})") from None
    if meta.get("schema") != SCORES_SCHEMA:
        raise ResultsError(f"{path}: schema {meta.get('schema')!r}, expected {SCORES_SCHEMA!r}")
    starts = np.concatenate([[0], np.cumsum(data["lengths"])])
    where = {str(k): i for i, k in enumerate(data["keys"])}
    out: dict[float, list[list[TokenRecord] | None]] = {}
    i = 0
    while f"temperature_{i}" in data:
        t = float(data[f"temperature_{i}"])
        ent, lp = data[f"entropy_{i}"], data[f"logp_{i}"]
        recs: list[list[TokenRecord] | None] = []
        for p, c in zip(prompts, completions, strict=True):
            j = where.get(trace_key(p, c))
            if j is None:
                recs.append(None)
                continue
            a, b = int(starts[j]), int(starts[j + 1])
            recs.append([TokenRecord(k, tokenizer.decode([int(tid)]), int(tid), float(ent[a + k]), math.exp(float(lp[a + k])),
                                     -float(lp[a + k])) for k, tid in enumerate(c)])
        out[t] = recs
        i += 1
    return out, meta


def score_with_store(model: Any, tokenizer: Any, prompts: Sequence[str], completions: Sequence[Sequence[int]],
                     store: Any, live: int | None, temperatures: Sequence[float] | None = None, batch_size: int = 8,
                     tol: float = 1e-3) -> tuple[dict[float, list[list[TokenRecord]]], dict[str, Any]]:
    """:func:`score_completions_at` for a corpus whose scores are stored (:func:`save_scores`): the first ``live``
    traces, rounded up to whole batches of ``batch_size`` (and any the store lacks), are scored now and must agree
    with the stored ones within ``tol`` nats (other CPU kernels move a score by up to about 5e-5 nats, measured with
    ``ATEN_CPU_CAPABILITY=default``; another model or library moves it by far more)
    (:class:`utils.results.ResultsError` otherwise: the store is stale, or the model is not the one that made it);
    the rest are read from ``store``. ``live=None`` (or no store file) scores every trace now.

    Returns ``({temperature: records}, info)``; ``info``: ``live``, ``stored`` and ``checked`` trace counts,
    ``max_diff`` (the largest entropy or log-probability difference between the live and the stored scores, nats)
    and ``meta``."""
    from pathlib import Path

    from utils.results import ResultsError

    temps = list(temperatures) if temperatures is not None else None
    if live is None or not Path(store).exists():
        got = score_completions_at(model, tokenizer, prompts, completions, temps or [1.0], batch_size=batch_size)
        return got, {"live": len(prompts), "stored": 0, "checked": 0, "max_diff": None, "meta": None}
    stored, meta = load_scores(store, tokenizer, prompts, completions)
    # whole batches from the start, as the store was made: a trace's scores depend (in the last digits) on the padded
    # width of its batch, so the same batches repeat the stored numbers exactly on the machine that made them
    live = -(-live // batch_size) * batch_size
    temps = temps or sorted(stored)
    missing_t = [t for t in temps if t not in stored]
    if missing_t:
        raise ResultsError(f"{store}: no scores at temperature {missing_t} (it has {sorted(stored)})")
    now = [i for i in range(len(prompts)) if i < live or any(stored[t][i] is None for t in temps)]
    fresh = score_completions_at(model, tokenizer, [prompts[i] for i in now], [completions[i] for i in now], temps,
                                 batch_size=batch_size) if now else {t: [] for t in temps}
    max_diff = 0.0
    out: dict[float, list[list[TokenRecord]]] = {}
    for t in temps:
        recs = list(stored[t])
        for i, r in zip(now, fresh[t]):
            old = recs[i]
            if old is not None:
                d = max((max(abs(x.entropy - y.entropy), abs(x.surprisal - y.surprisal)) for x, y in zip(r, old)),
                        default=0.0)
                max_diff = max(max_diff, d)
                if d > tol:
                    raise ResultsError(f"{store}: trace {i} scores {d:.2g} nats away from the stored scores (tolerance "
                                       f"{tol:g}); regenerate the file with: {meta.get('command', 'its command')}")
            recs[i] = r
        out[t] = recs  # type: ignore[assignment]
    n_checked = sum(1 for i in now if i < live)
    return out, {"live": len(now), "stored": len(prompts) - len(now), "checked": n_checked, "max_diff": max_diff,
                 "meta": meta}


def store_line(info: dict[str, Any], store: Any) -> str:
    """:func:`score_with_store`'s ``info`` in words: how many traces were scored now, read back, and checked."""
    from pathlib import Path

    if not info["stored"] and not info["checked"]:
        return f"{info['live']} traces scored now"
    agree = "exactly" if info["max_diff"] == 0 else f"within {info['max_diff']:.1e} nats"
    return (f"{info['live']} traces scored now, {info['stored']} read from {Path(store).name}; the {info['checked']} "
            f"re-scored ones agree with the stored scores {agree}")


def entropy_arrays(records_list: Sequence[Sequence[TokenRecord]]) -> list[np.ndarray]:
    """One float array of entropies per sequence (records without an entropy are dropped)."""
    return [np.array([r.entropy for r in recs if r.entropy is not None], dtype=float) for recs in records_list]


def summary_over_groups(groups: dict[Any, Sequence[np.ndarray]]) -> dict[str, dict[str, float]]:
    """:func:`utils.entropy.summarize` of each group's pooled entropies (e.g. one group per sampling seed),
    then per statistic its ``mean``, ``sd`` (ddof=1; 0 for one group) and ``n_groups`` over groups."""
    from utils.entropy import summarize

    if not groups:
        raise ValueError("no groups given: pass {group: [entropy arrays]}.")
    per = [summarize(np.concatenate([np.asarray(h, float) for h in seqs])) for seqs in groups.values()]
    out = {}
    for key in per[0]:
        v = np.array([p[key] for p in per], float)
        out[key] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0, "n_groups": int(v.size)}
    return out


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


def low_entropy_runs(h: np.ndarray, threshold: float) -> np.ndarray:
    """Lengths of the maximal runs of consecutive tokens with entropy below ``threshold``."""
    low = np.asarray(h, float) < threshold
    if low.size == 0:
        return np.zeros(0, dtype=int)
    edges = np.diff(np.concatenate([[0], low.astype(int), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


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


def after_fork_pairs(seqs: Sequence[np.ndarray], threshold: float, k: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
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
