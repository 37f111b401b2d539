"""Token entropy: the uncertainty of the distribution that produced each token.

Conventions used everywhere in the series:

* Entropy is in **nats** unless ``unit="bits"`` is asked for (bits = nats / ln 2). Wang et al.'s
  0.672 threshold is in nats (about 0.97 bits).
* ``logits[..., t, :]`` is the distribution over token ``t + 1``: the entropy *of token t* is the
  entropy of ``logits[..., t - 1, :]``. Position 0 has no predicting distribution.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import torch

LN2 = math.log(2.0)
UNITS = ("nats", "bits")
#: Target size of one working chunk (bytes of float32) when ``chunk_size`` is left to ``None`` and torch runs one
#: thread: small enough that a chunk's two buffers stay in a core's cache (the kernel passes over each chunk four
#: times).
AUTO_CHUNK_BYTES = 2**20
#: The same with more than one thread (and with one, before 2026-12-07): each op on a chunk is a parallel region
#: whose threads must all get the CPU, so small chunks multiply the waits; on the loaded 2-core machine 1 MiB chunks
#: took 3.7 times as long as 8 MiB ones with two threads. See :func:`_chunk_plan`.
THREADED_CHUNK_BYTES = 8 * 2**20

#: The write-up's entropy bands, in bits, as (label, low, high): "< 1 bit: highly certain",
#: "1-3 bits: a small set of plausible continuations", "> 4 bits: no strong preference". The write-up
#: says nothing about 3-4 bits; we name that gap instead of hiding it. (The write-up is the popular
#: article on the two papers that the series treats as a claim sheet; see README's References.)
WRITEUP_BANDS_BITS: tuple[tuple[str, float, float], ...] = (
    ("< 1 bit (certain)", 0.0, 1.0),
    ("1-3 bits (a few options)", 1.0, 3.0),
    ("3-4 bits (the write-up's gap)", 3.0, 4.0),
    ("> 4 bits (no preference)", 4.0, math.inf),
)

#: Wang et al.: 80th percentile of token entropy over Qwen3-8B chain-of-thought traces, in nats.
PAPER_P80_NATS = 0.672


def unit_scale(unit: str) -> float:
    """The factor from nats to ``unit`` (1 for nats, 1/ln 2 for bits); ValueError for anything else."""
    if unit not in UNITS:
        raise ValueError(f"unit must be 'nats' or 'bits', got {unit!r}.")
    return 1.0 if unit == "nats" else 1.0 / LN2


def _entropy_rows_fast(z: torch.Tensor, buf: torch.Tensor, buf2: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the rows of a 2-D tensor: -sum(p * log p) with log p from one fused
    log-softmax pass, computed in float32.

    ``buf`` and ``buf2`` (float32, the chunk's shape) are the only working memory, reused across
    chunks: a fresh allocation per chunk would cost a page fault per page on CPU. Rows holding
    ``-inf`` entries come out NaN here (0 * -inf) and are redone by :func:`_entropy_rows_safe`.
    """
    logp = torch.log_softmax(z, dim=-1, dtype=torch.float32, out=buf) if z.dtype != torch.float32 else torch.log_softmax(z, dim=-1, out=buf)
    p = torch.exp(logp, out=buf2)
    return -p.mul_(logp).sum(dim=-1)


def _entropy_rows_safe(z: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of rows with masked (``-inf``) entries: those entries contribute 0.

    Raises ValueError for NaN entries and for rows with no finite maximum (all ``-inf``, or ``+inf``).
    """
    if torch.isnan(z).any():
        raise ValueError("logits contain NaN; check the model's forward pass (e.g. fp16 overflow).")
    if not torch.isfinite(z.detach().amax(dim=-1)).all():
        raise ValueError("a row of logits has no finite maximum (all -inf, or +inf): it is not a distribution.")
    logp = torch.log_softmax(z, dim=-1)
    p = logp.exp()
    # 0 * log 0 = 0. The -inf entries of log p are replaced by 0 *before* the product, not only after it: a
    # torch.where that merely discards p * (-inf) = NaN still back-propagates NaN into the whole row.
    finite_logp = torch.where(torch.isneginf(logp), torch.zeros((), dtype=logp.dtype), logp)
    return -torch.where(p > 0, p * finite_logp, torch.zeros((), dtype=z.dtype)).sum(dim=-1)


def auto_chunk_rows(V: int, threads: int | None = None) -> int:
    """Rows per chunk :func:`token_entropy` takes by itself over a vocabulary of ``V`` with ``threads`` torch CPU
    threads (default: the current number; 0 for logits on an accelerator): about :data:`AUTO_CHUNK_BYTES` with one
    thread (at least 2 rows), about :data:`THREADED_CHUNK_BYTES` otherwise (at least 1)."""
    threads = torch.get_num_threads() if threads is None else threads
    previous = max(1, THREADED_CHUNK_BYTES // (4 * V))
    return previous if threads != 1 or previous == 1 else max(2, min(previous, AUTO_CHUNK_BYTES // (4 * V)))


def _chunk_plan(n: int, V: int, chunk_size: int | None, threads: int | None = None) -> list[tuple[int, int]]:
    """``(start, stop)`` of each chunk of rows :func:`token_entropy` processes: ``chunk_size`` rows at a time when
    given, else :func:`auto_chunk_rows` rows.

    A row alone in a chunk is summed in another order than a row among others once torch runs more than one
    thread (it splits a single reduction across threads), so the one-thread plan (smaller chunks since 2026-12-07)
    keeps alone exactly the rows the 8 MiB plan keeps alone -- the last row when ``n`` leaves a remainder of one,
    every row when one row exceeds 8 MiB -- and no other: every row gets the same bits as with 8 MiB chunks.
    """
    previous = max(1, THREADED_CHUNK_BYTES // (4 * V))
    rows = chunk_size if chunk_size is not None else auto_chunk_rows(V, threads)
    if chunk_size is not None or rows == previous:
        return [(i, min(i + rows, n)) for i in range(0, n, rows)]
    main = n - 1 if n % previous == 1 else n  # the 8 MiB plan leaves the last row alone
    bounds = [*range(0, main, rows), main]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:  # no other lone row: join it to the chunk before
        del bounds[-2]
    return list(itertools.pairwise(bounds)) + ([(main, n)] if main < n else [])


def token_entropy(logits: torch.Tensor, unit: str = "nats", chunk_size: int | None = None) -> torch.Tensor:
    """Shannon entropy of ``softmax(logits)`` over the last axis.

    Args:
        logits: float tensor ``[..., V]`` (any float dtype; computed in float32). ``-inf`` entries
            (a masked vocabulary) are allowed and contribute nothing.
        unit: ``"nats"`` (natural log, the papers' unit) or ``"bits"`` (divides by ln 2).
        chunk_size: rows of ``V`` processed at a time; bounds the extra memory to one
            two ``chunk_size x V`` float32 buffers. ``None`` picks chunks of about 1 MiB on a CPU with one
            torch thread, 8 MiB otherwise (:func:`auto_chunk_rows`).

    Returns:
        float32 tensor of shape ``logits.shape[:-1]``, values in ``[0, ln V]`` (nats).

    Raises:
        ValueError: for a unit other than nats/bits, a 0-d tensor, an integer tensor, NaN logits,
            a row whose entries are all ``-inf``, or a ``chunk_size`` that is not a whole number >= 1.

    When ``logits.requires_grad`` the result is differentiable (a plain log-softmax form is used); with
    ``-inf`` entries the gradient is finite and equals the gradient of the entropy over the finite entries (the
    masked ones get 0).
    """
    scale = unit_scale(unit)
    if chunk_size is not None:
        from utils.checks import positive_int

        chunk_size = positive_int(chunk_size, "chunk_size (rows per chunk)")
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"logits must be a torch.Tensor, got {type(logits).__name__}.")
    if logits.ndim == 0:
        raise ValueError("logits is a 0-d tensor; entropy needs a vocabulary axis (shape [..., V]).")
    if not torch.is_floating_point(logits):
        raise ValueError(f"logits must be a float tensor, got {logits.dtype}; cast with .float() first.")
    if logits.shape[-1] == 0:
        raise ValueError("logits has an empty vocabulary axis (V = 0).")
    lead = logits.shape[:-1]
    V = logits.shape[-1]
    flat = logits.reshape(-1, V)

    if logits.requires_grad:
        out = _entropy_rows_safe(flat.float())
    else:
        n = flat.shape[0]
        plan = _chunk_plan(n, V, chunk_size, None if flat.device.type == "cpu" else 0)
        out = torch.empty(n, dtype=torch.float32, device=flat.device)
        rows = max([b - a for a, b in plan], default=1)
        buf = torch.empty((rows, V), dtype=torch.float32, device=flat.device)
        buf2 = torch.empty_like(buf)
        with torch.no_grad():
            for a, b in plan:
                out[a:b] = _entropy_rows_fast(flat[a:b], buf[: b - a], buf2[: b - a])
        bad = ~torch.isfinite(out)
        if bad.any():  # masked (-inf) rows, or bad input: redo these rows the safe way
            idx = bad.nonzero().view(-1)
            out[idx] = _entropy_rows_safe(flat[idx].float())
    out = out.clamp_min(0.0)  # -1e-7 from rounding on one-hot rows
    if scale != 1.0:
        out = out * scale
    return out.reshape(lead)


# ---------------------------------------------------------------------------------------------
# Scoring text: per-token records, aligned so that each token gets the distribution that produced it
# ---------------------------------------------------------------------------------------------


@dataclass
class TokenRecord:
    """One token of a scored text.

    ``entropy``, ``prob`` and ``surprisal`` describe the distribution that *produced* this token
    (the model's prediction at the previous position). Position 0 has none: they are ``None``.
    """

    position: int
    token: str
    token_id: int
    entropy: float | None
    prob: float | None
    surprisal: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _token_strings(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    # decode one id at a time: readable pieces for byte-level BPE ("Ġthe" -> " the")
    return [tokenizer.decode([int(i)]) for i in ids]


@torch.no_grad()
def score_texts(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    unit: str = "nats",
    batch_size: int = 8,
    max_length: int | None = None,
) -> list[list[TokenRecord]]:
    """Score many texts: one list of :class:`TokenRecord` per text (batched, right-padded).

    The entropy of token ``t`` comes from ``logits[t - 1]`` (the distribution that produced it);
    token 0 gets ``None``. Padding never leaks into the records.

    Raises ``ValueError`` for a ``batch_size`` that is not a whole number >= 1, an empty text, and a text longer
    than the model's context (the message gives the limit; ``max_length`` truncates instead).
    """
    from utils.checks import positive_int

    scale = unit_scale(unit)
    if isinstance(texts, str):
        raise ValueError("score_texts takes a list of texts; use score_text for a single string.")
    batch_size = positive_int(batch_size, "batch_size")
    if max_length is not None:
        max_length = positive_int(max_length, "max_length")
    limit = context_length(model)
    results: list[list[TokenRecord]] = []
    device = next(model.parameters()).device
    for start in range(0, len(texts), batch_size):
        encs = _encode_texts(model, tokenizer, list(texts[start : start + batch_size]), start, len(texts), limit,
                             max_length)
        L = max(len(e) for e in encs)
        pad = 0
        ids = torch.full((len(encs), L), pad, dtype=torch.long)
        att = torch.zeros((len(encs), L), dtype=torch.long)
        for i, e in enumerate(encs):
            ids[i, : len(e)] = torch.tensor(e)
            att[i, : len(e)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=att.to(device)).logits.float()
        ent = (token_entropy(logits[:, :-1]) * scale).cpu()  # [B, L-1]: distribution over token t+1
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        tok_logp = logp.gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1).cpu()  # [B, L-1]
        for i, e in enumerate(encs):
            strs = _token_strings(tokenizer, e)
            recs = [TokenRecord(0, strs[0], int(e[0]), None, None, None)]
            for t in range(1, len(e)):
                lp = float(tok_logp[i, t - 1])
                recs.append(
                    TokenRecord(
                        position=t,
                        token=strs[t],
                        token_id=int(e[t]),
                        entropy=float(ent[i, t - 1]),
                        prob=math.exp(lp),
                        surprisal=-lp * scale,
                    )
                )
            results.append(recs)
    return results


def _encode_texts(model: Any, tokenizer: Any, batch: list[str], start: int, n_texts: int, limit: int | None,
                  max_length: int | None) -> list[list[int]]:
    """The token ids of a batch of :func:`score_texts` (``start``: its first text's index among ``n_texts``);
    ``ValueError`` for an empty text or one longer than the model's context ``limit``."""
    encs = [
        tokenizer(t, add_special_tokens=False, truncation=max_length is not None, max_length=max_length)[
            "input_ids"
        ]
        for t in batch
    ]
    if any(len(e) == 0 for e in encs):
        raise ValueError("a text encodes to zero tokens; pass non-empty strings.")
    for i, e in enumerate(encs):
        if limit is not None and len(e) > limit:
            which = "the text" if n_texts == 1 else f"text {start + i}"
            raise ValueError(
                f"{which} is {len(e)} tokens long but the model's context is {limit} tokens "
                f"({getattr(model.config, 'model_type', 'this model')}): shorten it, or score its first {limit} "
                f"tokens with score_texts(..., max_length={limit})."
            )
    return encs


def context_length(model: Any) -> int | None:
    """The most positions ``model`` was built for (``max_position_embeddings`` / ``n_positions`` of its config), or
    None when its config does not say."""
    config = getattr(model, "config", None)
    for key in ("max_position_embeddings", "n_positions", "n_ctx"):
        v = getattr(config, key, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def score_text(model: Any, tokenizer: Any, text: str, unit: str = "nats") -> list[TokenRecord]:
    """Score one text: per-token records (token, id, entropy of the distribution that produced it,
    its probability and surprisal), in ``unit``. Position 0 has ``None`` entropy."""
    if not isinstance(text, str) or not text:
        raise ValueError("score_text needs a non-empty string.")
    return score_texts(model, tokenizer, [text], unit=unit, batch_size=1)[0]


def entropies_of(records: Iterable[TokenRecord]) -> np.ndarray:
    """The defined entropies of a record list (position 0 dropped), as a float array."""
    return np.array([r.entropy for r in records if r.entropy is not None], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Summaries: bands, percentiles, shares
# ---------------------------------------------------------------------------------------------


def check_entropies(entropies: Iterable[float] | np.ndarray) -> np.ndarray:
    """Token entropies as a flat float array, the one check of every summary here: at least one, each finite and
    >= 0 (an entropy is never negative; NaN or inf means a broken score), else ``ValueError``."""
    try:
        h = np.asarray(list(entropies) if not isinstance(entropies, np.ndarray) else entropies, float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"entropies must be numbers, got {entropies!r:.60}") from None
    if h.size == 0:
        raise ValueError("no entropies given: score some text first.")
    if not np.all(np.isfinite(h)):
        raise ValueError(f"entropies contain {int(np.sum(~np.isfinite(h)))} NaN or infinite values")
    if np.any(h < 0):
        raise ValueError(f"entropies cannot be negative, got {float(h.min()):g}")
    return h


def band_shares(entropies_nats: Iterable[float] | np.ndarray) -> dict[str, float]:
    """Share of tokens in each of the write-up's bit-bands (:data:`WRITEUP_BANDS_BITS`); input in nats."""
    h = check_entropies(entropies_nats)
    bits = h / LN2
    return {label: float(np.mean((bits >= lo) & (bits < hi))) for label, lo, hi in WRITEUP_BANDS_BITS}


def percentile_threshold(entropies: Iterable[float] | np.ndarray, q: float = 80.0) -> float:
    """The ``q``-th percentile of token entropies: tokens at or above it are the top ``100 - q`` %."""
    h = check_entropies(entropies)
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q is a percentile in [0, 100], got {q}.")
    return float(np.percentile(h, q))


def summarize(entropies_nats: Iterable[float] | np.ndarray) -> dict[str, float]:
    """n, mean, median, 80th percentile, share below 0.01 nats, share above 0.672 nats (all in nats)."""
    h = check_entropies(entropies_nats)
    return {
        "n": int(h.size),
        "mean": float(h.mean()),
        "median": float(np.median(h)),
        "p80": float(np.percentile(h, 80)),
        "share_below_0.01": float(np.mean(h < 0.01)),
        "share_above_0.672": float(np.mean(h >= PAPER_P80_NATS)),
    }


def forks(records: Iterable[TokenRecord], q: float = 80.0) -> list[TokenRecord]:
    """The forking tokens of one scored text: the records whose entropy is at or above the ``q``-th percentile
    of the text's own entropies (position 0, which has none, is skipped), in text order.

    ``forks(score_text(model, tokenizer, "..."))`` gives the top ``100 - q`` % (more on ties)."""
    recs = [r for r in records if r.entropy is not None]
    if not recs:
        raise ValueError("no token has an entropy: score a text of at least two tokens.")
    thr = percentile_threshold([r.entropy for r in recs], q)
    return [r for r in recs if r.entropy >= thr]
