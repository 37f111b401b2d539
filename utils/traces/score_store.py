"""Stored scores: a corpus of traces scored once (``data/scores_*.npz``, made by ``python -m utils.traces scores``),
read back, with a slice scored again live and checked against the store.

* :func:`save_scores` / :func:`load_scores` -- write and read the per-token entropies and log-probabilities that
  :func:`utils.forking.score_completions_at` gives.
* :func:`score_with_store` -- score a corpus from its store, re-scoring a slice live as a check;
  :func:`store_line` says what it did in words.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from utils.entropy import TokenRecord
from utils.forking import score_completions_at

__all__ = ["SCORES_SCHEMA", "load_scores", "save_scores", "score_with_store", "store_line", "trace_key"]

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
            a = int(starts[j])
            recs.append([TokenRecord(k, tokenizer.decode([int(tid)]), int(tid), float(ent[a + k]),
                                     math.exp(float(lp[a + k])), -float(lp[a + k])) for k, tid in enumerate(c)])
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
