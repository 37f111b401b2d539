"""Why Cheng et al.'s psi cannot raise entropy: a state-dependent bonus is a baseline (notebook 05's mechanism).

For any ``b(s)`` that depends on the state (the prefix) only, ``E_{a ~ pi(.|s)}[b(s) grad log pi(a|s)] =
b(s) grad sum_a pi(a|s) = b(s) grad 1 = 0``. The detached entropy ``H_t`` is such a function, so the *uncapped*
bonus ``alpha * H_t`` adds nothing to the expected policy gradient, only noise; the cap ``min(., |A|/kappa)`` makes
psi depend on the outcome (through ``|A|``) and is the only part that can act in expectation.

This module measures that on real GRPO batches:

* :func:`term_gradients` -- per batch, the flattened gradients (ascent directions) of the terms of the loss: the
  advantage term ``sum_t A_t grad log pi / n``, the bonus per unit alpha ``sum_t H_t grad log pi / n`` (the
  uncapped psi is alpha times it), the capped bonus ``sum_t min(alpha H_t, |A|/kappa) grad log pi / n`` at each
  alpha, and the gradient of the mean token entropy; ``n`` is the number of completion tokens (TRL's ``dapo``
  normalisation, the runs' loss);
* :func:`accumulate` -- streams batches through :func:`term_gradients` and keeps only inner products: those of each
  batch's terms with each other, and the Gram matrix of the terms' sums over groups of ``group`` batches (a few
  hundred 344k-parameter gradients would not fit in memory; these products are all the statistics need);
* :func:`monte_carlo` -- the norm of the mean gradient over ``N`` batches against ``N`` (with the ``1/sqrt(N)``
  prediction ``sqrt(tr Sigma / N)``), the unbiased squared norm of the expected gradient, the per-batch noise
  ratio, and the capped bonus's alignment with the advantage and entropy gradients, with 95 % CIs (bootstrap over
  groups of batches; t over batches for the noise ratio).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["MECHANISM_SCHEMA", "accumulate", "load_measure", "measure", "monte_carlo", "term_gradients", "unbiased_sq_norm"]


def term_gradients(
    model: Any, batch: dict[str, Any], alphas: Sequence[float] = (0.4, 4.0), kappa: float = 2.0,
    temperature: float = 1.0,
) -> dict[str, torch.Tensor]:
    """The flattened gradients (float64, ascent directions) of one batch's loss terms, from one forward pass:
    ``"adv"``, ``"H"`` (the bonus per unit alpha, uncapped), ``"cap{alpha:g}"`` for each alpha, ``"entropy"``
    (gradient of the mean completion-token entropy). ``batch`` as :func:`utils.rlvr.minimal.sample_batches` makes it."""
    params = [p for p in model.parameters() if p.requires_grad]
    T = batch["completion_mask"].shape[1]
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, -T - 1 : -1]
    logp_all = torch.log_softmax(logits.float() / temperature, dim=-1)
    logp = logp_all.gather(-1, batch["completion_ids"][..., None]).squeeze(-1)
    ent = -(logp_all.exp() * logp_all).sum(-1)
    m = batch["completion_mask"].float()
    n = m.sum().clamp(min=1.0)
    a = batch["advantages"].float()[:, None].expand_as(logp)
    h = ent.detach()
    weights = {"adv": a, "H": h, **{f"cap{al:g}": torch.minimum(al * h, a.abs() / kappa) for al in alphas}}
    objectives = {k: (w * logp * m).sum() / n for k, w in weights.items()}
    objectives["entropy"] = (ent * m).sum() / n
    out = {}
    names = list(objectives)
    for i, k in enumerate(names):
        grads = torch.autograd.grad(objectives[k], params, retain_graph=i < len(names) - 1, allow_unused=True)
        out[k] = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for g, p in zip(grads, params)]).double()
    return out


def accumulate(
    model: Any, batches: Iterable[dict[str, Any]], group: int = 10, alphas: Sequence[float] = (0.4, 4.0),
    kappa: float = 2.0, temperature: float = 1.0,
) -> dict[str, Any]:
    """Stream ``batches`` (a whole number of groups) through :func:`term_gradients`, keeping inner products only.

    Returns ``{"names", "group", "per_batch": (B, terms, terms) <g_t(i), g_u(i)>, "gram": (terms, terms, G, G)
    <S_t(m), S_u(m')> of the group sums S}`` (numpy float64)."""
    names: list[str] = []
    per_batch, sums, current, n_in = [], [], None, 0
    for b in batches:
        g = term_gradients(model, b, alphas, kappa, temperature)
        names = list(g)
        V = torch.stack([g[k] for k in names])  # (terms, params)
        per_batch.append((V @ V.T).numpy())
        current = V.clone() if current is None else current + V
        n_in += 1
        if n_in == group:
            sums.append(current.float())
            current, n_in = None, 0
    if n_in or not sums:
        raise ValueError(f"need a whole number (>= 1) of groups of {group} batches, got {len(per_batch)} batches")
    S = torch.stack(sums).double()  # (G, terms, params)
    return {"names": names, "group": group, "per_batch": np.stack(per_batch),
            "gram": torch.einsum("mtp,nup->tumn", S, S).numpy()}


def _pair_mean(k: np.ndarray, idx: np.ndarray) -> float:
    """Mean of ``k[i, j]`` over the pairs of positions of ``idx`` that hold *different* units (a bootstrap resample
    repeats units; a unit paired with itself would add its own noise)."""
    vals = k[np.ix_(idx, idx)][idx[:, None] != idx[None, :]]
    return float(vals.mean()) if vals.size else float("nan")


def unbiased_sq_norm(K: np.ndarray, idx: np.ndarray | None = None) -> float:
    """Unbiased estimate of ``||E g||^2`` from the Gram matrix ``K`` of independent vectors: the mean of
    ``<g_i, g_j>`` over pairs of different vectors (the squared norm of the sample mean is biased up by
    ``tr Sigma / N``). Can be < 0 when ``E g`` is 0."""
    return _pair_mean(K, np.arange(K.shape[0]) if idx is None else idx)


def _cos(dot: float, sq_a: float, sq_b: float) -> float:
    """Cosine from unbiased products; clipped to [-1, 1] (the unbiased squared norms can undershoot on a
    resample), NaN when a squared norm is not positive."""
    return float(np.clip(dot / np.sqrt(sq_a * sq_b), -1.0, 1.0)) if sq_a > 0 and sq_b > 0 else float("nan")


def _tq(df: int) -> float:
    from scipy import stats as st

    return float(st.t.ppf(0.975, df))


def _mc_stats(acc: dict[str, Any], scale: dict[str, tuple[int, float]], diag: dict[str, np.ndarray],
              alpha: float, big_alpha: float, idx: np.ndarray) -> dict[str, float]:
    """:func:`monte_carlo`'s statistics on the groups ``idx`` (a bootstrap resample, or all of them)."""
    ix = {k: i for i, k in enumerate(acc["names"])}
    K, g = acc["gram"], acc["group"]
    out: dict[str, float] = {}
    for t, (j, s) in scale.items():
        out[f"sq_{t}"] = unbiased_sq_norm(K[j, j] * s, idx) / g**2
        out[f"tr_{t}"] = float(diag[t][idx].mean()) - out[f"sq_{t}"]
    for a, suf in ((big_alpha, ""), (alpha, "_small")):
        c, ad, en = ix[f"cap{a:g}"], ix["adv"], ix["entropy"]
        cc, aa, ee = (unbiased_sq_norm(K[j, j], idx) for j in (c, ad, en))
        ca, ce = _pair_mean(K[c, ad], idx), _pair_mean(K[c, en], idx)
        out["cos_cap_adv" + suf], out["cos_cap_entropy" + suf] = _cos(ca, cc, aa), _cos(ce, cc, ee)
        out["dot_cap_entropy" + suf] = ce / g**2
    return out


def _boot_ci(boots: Sequence[dict[str, float]], f: Any) -> list[float]:
    """The 95 % percentile interval of ``f`` over the bootstrap statistics ``boots`` (NaNs left out)."""
    v = np.array([f(b) for b in boots], float)
    v = v[np.isfinite(v)]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if v.size else [float("nan")] * 2


def _predicted(b: dict[str, float], N: int, t: str) -> float:
    """``sqrt(||E g||^2 + tr Sigma / N)`` of the term ``t`` from the statistics ``b``."""
    return float(np.sqrt(max(b[f"sq_{t}"], 0.0) + b[f"tr_{t}"] / N))


def _predicted_null(b: dict[str, float], N: int, t: str) -> float:
    """``sqrt(tr Sigma / N)`` of the term ``t`` from the statistics ``b`` (what ``E g = 0`` predicts)."""
    return float(np.sqrt(max(b[f"tr_{t}"], 0.0) / N))


def _stat(b: dict[str, float], key: str) -> float:
    """One statistic of ``b`` (for :func:`_boot_ci`)."""
    return b[key]


def _mc_blocks(K: np.ndarray, diag: np.ndarray, j: int, s: float, N: int, g: int, B: int,
               orders: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The norms of the mean gradient over the disjoint blocks of ``N`` batches, one array per order of the
    groups (for ``N`` = 1 one array of the batches' own norms)."""
    if N == 1:
        return [np.sqrt(diag.reshape(-1))]
    if N % g == 0 and N <= B:
        m, G = N // g, K.shape[2]
        return [np.array([np.sqrt(max(K[j, j][np.ix_(o[q : q + m], o[q : q + m])].sum() * s, 0.0)) / N
                          for q in range(0, G - m + 1, m)]) for o in orders]
    raise ValueError(f"N must be 1 or a multiple of the group size {g} up to {B}, got {N}")


def monte_carlo(
    acc: dict[str, Any], Ns: Sequence[int], alpha: float = 0.4, big_alpha: float = 4.0, n_boot: int = 400,
    repeats: int = 20, seed: int = 0,
) -> dict[str, Any]:
    """The mechanism's numbers from :func:`accumulate`'s products (``B`` batches in ``G`` groups of ``g``).

    * ``curve[term][N]`` for ``psi`` (``alpha * H``, uncapped) and ``adv`` (``N`` = 1 or a multiple of ``g``):
      ``measured`` -- the norm of the mean gradient over a block of N batches, averaged over the disjoint blocks of
      ``repeats`` random orders of the groups (``measured_ci``: t interval over the independent blocks of one
      order, NaN with one block); ``predicted`` -- ``sqrt(||E g||^2 + tr Sigma / N)``; ``predicted_null`` --
      ``sqrt(tr Sigma / N)``, what the argument predicts for psi (``E g = 0``); CIs by bootstrap over groups;
    * ``sq_norm[term]`` -- unbiased ``||E g||^2`` (pairs of different groups), with CI: the baseline's straddles 0;
    * ``noise_ratio`` -- mean over batches of ``||g_psi|| / ||g_adv||``, t interval over batches;
    * ``cos_cap_adv`` / ``cos_cap_entropy`` / ``dot_cap_entropy`` -- the expected capped bonus (at ``big_alpha``;
      ``..._small`` at ``alpha``) against the expected advantage and entropy gradients (unbiased cross products).
    """
    ix = {k: i for i, k in enumerate(acc["names"])}
    P, K, g = acc["per_batch"], acc["gram"], acc["group"]
    B, G = P.shape[0], K.shape[2]
    scale = {"psi": (ix["H"], alpha**2), "adv": (ix["adv"], 1.0)}
    diag = {t: P[:, j, j].reshape(G, g) * s for t, (j, s) in scale.items()}  # per-batch squared norms, by group
    rng = np.random.default_rng(seed)
    stats = partial(_mc_stats, acc, scale, diag, alpha, big_alpha)
    point = stats(np.arange(G))
    boots = [stats(rng.choice(G, G, replace=True)) for _ in range(n_boot)]
    curve: dict[str, dict[int, dict[str, Any]]] = {"psi": {}, "adv": {}}
    orders = [rng.permutation(G) for _ in range(repeats)]
    for t, (j, s) in scale.items():
        for N in Ns:
            blocks = _mc_blocks(K, diag[t], j, s, N, g, B, orders)
            first = blocks[0]
            half = _tq(first.size - 1) * first.std(ddof=1) / np.sqrt(first.size) if first.size > 1 else float("nan")
            pred, null = partial(_predicted, N=N, t=t), partial(_predicted_null, N=N, t=t)
            curve[t][N] = {"measured": float(np.mean([b.mean() for b in blocks])), "blocks": int(first.size),
                           "measured_ci": [float(first.mean() - half), float(first.mean() + half)],
                           "predicted": pred(point), "predicted_ci": _boot_ci(boots, pred),
                           "predicted_null": null(point), "predicted_null_ci": _boot_ci(boots, null)}
    aa = P[:, ix["adv"], ix["adv"]]
    r = np.sqrt(P[aa > 0, ix["H"], ix["H"]] * alpha**2 / aa[aa > 0])  # batches with an advantage signal
    h = _tq(r.size - 1) * r.std(ddof=1) / np.sqrt(r.size)
    keys = [k + suf for suf in ("", "_small") for k in ("cos_cap_adv", "cos_cap_entropy", "dot_cap_entropy")]
    return {
        "batches": B, "group": g, "alpha": alpha, "big_alpha": big_alpha, "curve": curve,
        "sq_norm": {t: {"value": point[f"sq_{t}"], "ci": _boot_ci(boots, partial(_stat, key=f"sq_{t}"))}
                    for t in scale},
        "trace_cov": {t: point[f"tr_{t}"] for t in scale},
        "noise_ratio": {"value": float(r.mean()), "ci": [float(r.mean() - h), float(r.mean() + h)]},
        **{k: {"value": point[k], "ci": _boot_ci(boots, partial(_stat, key=k))} for k in keys},
    }


def _moments(K: np.ndarray, g: int, scale: dict[str, tuple[int, float]], diag: dict[str, np.ndarray],
             idx: np.ndarray) -> dict[str, tuple[float, float]]:
    """``{term: (||E g||^2, tr Sigma)}`` fitted on the groups ``idx`` (for :func:`held_out_curve`)."""
    out = {}
    for t, (j, s) in scale.items():
        sq = unbiased_sq_norm(K[j, j] * s, idx) / g**2
        out[t] = (sq, float(diag[t][idx].mean()) - sq)
    return out


def _held_out_prediction(m: dict[str, tuple[float, float]], N: int, t: str, null: bool = False) -> float:
    """The predicted norm of the term ``t``'s mean gradient over ``N`` batches from the moments ``m`` (with
    ``null``, ``E g`` taken as 0)."""
    sq, tr = m[t]
    return float(np.sqrt(max(0.0 if null else sq, 0.0) + max(tr, 0.0) / N))


def held_out_curve(acc: dict[str, Any], Ns: Sequence[int], alpha: float = 0.4, n_boot: int = 400,
                   seed: int = 0) -> dict[str, Any]:
    """The 1/sqrt(N) prediction made on one half of the batches and checked on the other.

    The first half of :func:`accumulate`'s groups *fits* ``||E g||^2`` and ``tr Sigma`` (as in :func:`monte_carlo`)
    and predicts the norm of the mean gradient over N batches, ``sqrt(||E g||^2 + tr Sigma / N)`` (for the uncapped
    bonus, whose ``E g`` the argument says is 0, also ``sqrt(tr Sigma / N)``), with a bootstrap 95 % interval over the
    fit half's groups. The second half is cut into disjoint blocks of N batches (``N`` = 1 or a multiple of the group
    size, at least two blocks): ``measured`` is the mean over blocks of the block mean's norm, ``measured_ci`` its t
    interval over the blocks -- an error bar at every N, on batches the prediction never saw.
    Returns ``{"fit_batches", "check_batches", "curve": {term: {N: {...}}}}`` for ``psi`` and ``adv``."""
    ix = {k: i for i, k in enumerate(acc["names"])}
    P, K, g = acc["per_batch"], acc["gram"], acc["group"]
    G = K.shape[2]
    fit, check = np.arange(G // 2), np.arange(G // 2, G)
    scale = {"psi": (ix["H"], alpha**2), "adv": (ix["adv"], 1.0)}
    diag = {t: P[:, j, j].reshape(G, g) * s for t, (j, s) in scale.items()}
    rng = np.random.default_rng(seed)

    moments = partial(_moments, K, g, scale, diag)
    point = moments(fit)
    boots = [moments(rng.choice(fit, fit.size, replace=True)) for _ in range(n_boot)]
    curve: dict[str, dict[int, dict[str, Any]]] = {"psi": {}, "adv": {}}
    for t, (j, s) in scale.items():
        for N in Ns:
            if N == 1:
                blocks = np.sqrt(diag[t][check].reshape(-1))
            elif N % g == 0 and 2 * N <= check.size * g:
                m = N // g
                blocks = np.array([np.sqrt(max(K[j, j][np.ix_(check[q:q + m], check[q:q + m])].sum() * s, 0.0)) / N
                                   for q in range(0, check.size - m + 1, m)])
            else:
                raise ValueError(f"N must be 1 or a multiple of {g} with at least two blocks in "
                                 f"{check.size * g} batches, got {N}")
            half = _tq(blocks.size - 1) * blocks.std(ddof=1) / np.sqrt(blocks.size)

            pred = partial(_held_out_prediction, N=N, t=t)
            row: dict[str, Any] = {"blocks": int(blocks.size), "measured": float(blocks.mean()),
                                   "measured_ci": [float(blocks.mean() - half), float(blocks.mean() + half)]}
            for key, null in (("predicted", False), ("predicted_null", True)):
                v = np.array([pred(b, null=null) for b in boots])
                row[key] = pred(point, null=null)
                row[key + "_ci"] = [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]
            curve[t][N] = row
    return {"fit_batches": int(fit.size * g), "check_batches": int(check.size * g), "curve": curve}


MECHANISM_SCHEMA = "forking-tokens/psi-mechanism/1"


def measure(cfg: Any, batches: int, group: int = 10, seed: int = 0, out: str | Path | None = None,
            alphas: Sequence[float] = (0.4, 4.0)) -> dict[str, Any]:
    """Sample ``batches`` training batches of ``cfg`` from its initial policy (exactly as the trainer builds them,
    :func:`utils.rlvr.minimal.sample_batches`) and :func:`accumulate` their term gradients; the products (small) are
    written to ``out`` (atomic JSON) and returned with ``config`` and ``seed``. Read back with :func:`load_measure`."""
    from utils.results import save_json
    from utils.rlvr.minimal import sample_batches
    from utils.rlvr.tasks import load_policy

    model, _ = load_policy(cfg)
    acc = accumulate(model, sample_batches(cfg, batches, seed=seed), group, alphas, cfg.kappa, cfg.temperature)
    rec = {"config": cfg.as_dict(), "seed": seed, "alphas": list(alphas), "names": acc["names"], "group": group,
           "per_batch": acc["per_batch"].tolist(), "gram": acc["gram"].tolist()}
    if out is not None:
        save_json(rec, out, schema=MECHANISM_SCHEMA)
    return {**rec, "per_batch": acc["per_batch"], "gram": acc["gram"]}


def load_measure(path: str | Path, regenerate: str | None = None) -> dict[str, Any]:
    """A :func:`measure` file, with its products as numpy arrays (for :func:`monte_carlo`)."""
    from utils.results import load_json

    rec = load_json(path, schema=MECHANISM_SCHEMA, regenerate=regenerate)
    return {**rec, "per_batch": np.asarray(rec["per_batch"], float), "gram": np.asarray(rec["gram"], float)}
