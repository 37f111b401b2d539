"""Entropy-guided RL with verifiable rewards, on top of TRL's ``GRPOTrainer``.

Two 2025 papers, reproduced at laptop scale (see ``shared/papers.md`` for the facts quoted here):

* **Wang et al.** ("Beyond the 80/20 rule"): keep the policy-gradient loss only on the top-rho share of
  tokens by entropy (rho = 0.2). Conditions here: ``all`` (rho = 1), ``top`` (top-rho), ``bottom`` (the
  complement, bottom 1-rho) and ``random`` (as many tokens as ``top`` keeps, drawn uniformly at random: the
  control that shows it is *which* tokens, not *how many*).
* **Cheng et al.** ("Reasoning with exploration"): add to each token's advantage
  ``psi(H_t) = min(alpha * H_t.detach(), |A_t| / kappa)`` (alpha = 0.4, kappa = 2 with GRPO).

Everything numerical is a pure function first (:func:`entropy_mask`, :func:`masked_policy_loss`,
:func:`entropy_advantage`, :func:`entropy_advantage_seed_variant`), unit-tested without a trainer; the trainers
only wire them into TRL at two hooks:

* :class:`TokenSelectGRPOTrainer` overrides ``get_high_entropy_mask`` (TRL calls it when
  ``top_entropy_quantile < 1``) to return the ``top``/``bottom``/``random`` selection, optionally reweighted for
  the ``selected`` normaliser.
* :class:`EntropyAdvantageGRPOTrainer` wraps ``_get_per_token_logps_and_entropies``: TRL computes the current
  policy's entropies (at the sampling temperature, in nats, from the same forward pass as the log-probs) and only
  *then* reads ``inputs["advantages"]``; the wrapper replaces the (B,) advantages with shaped (B, T) ones in
  between, which TRL's ``_compute_loss`` accepts as they are. No extra forward pass.

Entry point: ``python -m utils.rlvr run --config configs/countdown_top20.yaml --seed 0`` or
:func:`run_condition` from a notebook; results go to ``results_dir() / f"{name}_seed{seed}.json"``
(schema in :func:`run_condition`), read back with :func:`load_results`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from utils.config import REPO_ROOT, get_profile, results_dir, seed_everything
from utils.entropy import token_entropy

__all__ = [
    "CONDITIONS",
    "NORMALISERS",
    "RESULTS_SCHEMA",
    "EntropyAdvantageGRPOTrainer",
    "RunConfig",
    "TokenSelectGRPOTrainer",
    "build_trainer",
    "entropy_advantage",
    "entropy_advantage_seed_variant",
    "entropy_mask",
    "evaluate_pass_rate",
    "extrapolated_update_flops",
    "gsm8k_reward",
    "load_config",
    "llama_like",
    "load_results",
    "make_standin",
    "masked_policy_loss",
    "n_selected",
    "normaliser_comparison",
    "policy_batch",
    "Job",
    "run_condition",
    "run_many",
    "update_cost",
]

CONDITIONS = ("all", "top", "bottom", "random")
NORMALISERS = ("all", "selected")
MaskMode = Literal["top", "bottom", "random"]
RESULTS_SCHEMA = "forking-tokens/rlvr-run/1"


# ============================================================================================ token masks


def n_selected(n_valid: int, rho: float) -> int:
    """Tokens the ``top``/``random`` selections keep out of ``n_valid``: ``ceil(rho * n_valid)`` (the authors'
    code keeps the top ``ceil(rho * N)``), at least 1 when there is any token, and computed with a small tolerance
    so that e.g. ``0.2 * 10`` gives 2, not 3, despite floating point."""
    if not 0.0 < rho <= 1.0:
        raise ValueError(f"rho must be in (0, 1], got {rho}")
    if n_valid <= 0:
        return 0
    return min(n_valid, max(1, math.ceil(rho * n_valid - 1e-9)))


def entropy_mask(
    entropies: torch.Tensor,
    completion_mask: torch.Tensor,
    rho: float,
    mode: MaskMode = "top",
    generator: torch.Generator | None = None,
    rule: Literal["count", "quantile"] = "count",
) -> torch.Tensor:
    """Which completion tokens keep their policy-gradient loss.

    Args:
        entropies: (B, T) per-token entropies (any unit; only the order matters).
        completion_mask: (B, T), 1/True for real completion tokens, 0 for padding.
        rho: share kept by ``top`` (and, in count, by ``random``); ``bottom`` keeps the rest (1 - rho).
        mode: ``"top"`` highest-entropy tokens; ``"bottom"`` the exact complement of ``top`` among valid tokens;
            ``"random"`` as many tokens as ``top`` keeps, uniformly at random among valid tokens (``generator``
            seeds it).
        rule: ``"count"`` (default) keeps exactly ``n_selected(N, rho)`` tokens, ties broken deterministically
            by flat position (earlier wins), as the authors' code does per micro-batch. ``"quantile"`` is TRL's
            ``get_high_entropy_mask``: keep ``H >= torch.quantile(H_valid, 1 - rho)`` (ties at the threshold all
            kept, so the share can exceed rho); ``bottom`` is then ``H < threshold``, disjoint from ``top`` by
            construction.

    Returns:
        Bool tensor (B, T). Padding is never selected; ``top | bottom`` equals the valid tokens and
        ``top & bottom`` is empty. Empty or all-padding batches give an all-False mask.
    """
    if entropies.shape != completion_mask.shape:
        raise ValueError(f"shape mismatch: entropies {tuple(entropies.shape)} vs mask {tuple(completion_mask.shape)}")
    if mode not in ("top", "bottom", "random"):
        raise ValueError(f"mode must be top, bottom or random, got {mode!r}")
    valid = completion_mask.bool()
    out = torch.zeros_like(valid)
    n_valid = int(valid.sum())
    if n_valid == 0:
        return out
    k = n_selected(n_valid, rho)
    flat_valid_idx = valid.reshape(-1).nonzero(as_tuple=True)[0]
    if mode == "random":
        if rule == "quantile":
            k = int(entropy_mask(entropies, completion_mask, rho, "top", rule="quantile").sum())
        perm = torch.randperm(n_valid, generator=generator, device="cpu")[:k].to(flat_valid_idx.device)
        out.view(-1)[flat_valid_idx[perm]] = True
        return out
    vals = entropies.detach().reshape(-1)[flat_valid_idx].float()
    if rule == "quantile":
        threshold = torch.quantile(vals, 1.0 - rho) if rho < 1.0 else vals.min()
        top = valid & (entropies.detach().float() >= threshold)
    elif rule == "count":
        # stable sort on -H: equal entropies keep their flat order, so earlier positions win ties
        order = torch.sort(-vals, stable=True).indices
        top = torch.zeros_like(valid)
        top.view(-1)[flat_valid_idx[order[:k]]] = True
    else:
        raise ValueError(f"rule must be count or quantile, got {rule!r}")
    return top if mode == "top" else valid & ~top


def masked_policy_loss(
    per_token_loss: torch.Tensor,
    completion_mask: torch.Tensor,
    selected: torch.Tensor | None,
    normaliser: Literal["all", "selected"] = "all",
) -> torch.Tensor:
    """Token-level (DAPO-style) aggregate of a per-token loss restricted to ``selected`` tokens.

    ``"all"`` divides the sum over selected tokens by the number of *all* completion tokens (Wang et al.'s formula
    and TRL); ``"selected"`` divides by the number of selected tokens (the authors' released code), which makes the
    gradient about ``1/rho`` times larger for a top-rho selection. ``selected=None`` keeps every token.
    """
    m = completion_mask.to(per_token_loss.dtype)
    sel = m if selected is None else m * selected.to(per_token_loss.dtype)
    total = (per_token_loss * sel).sum()
    if normaliser == "all":
        return total / m.sum().clamp(min=1.0)
    if normaliser == "selected":
        return total / sel.sum().clamp(min=1.0)
    raise ValueError(f"normaliser must be all or selected, got {normaliser!r}")


def normaliser_comparison(
    logps: torch.Tensor,
    advantages: torch.Tensor,
    completion_mask: torch.Tensor,
    entropies: torch.Tensor,
    rho: float = 0.2,
    mode: MaskMode = "top",
) -> dict[str, float]:
    """Gradient size of one condition under both normalisers, on the same batch.

    ``logps`` is a leaf-like (B, T) tensor (``requires_grad``) standing in for the policy's log-probs;
    the loss is the on-policy GRPO surrogate ``-A * logp``. Returns the gradient norms for ``"all"`` and
    ``"selected"``, their ratio, and ``n_valid / n_selected`` (the ratio predicted exactly by the formulas).
    """
    sel = entropy_mask(entropies, completion_mask, rho, mode)
    adv = advantages if advantages.dim() == 2 else advantages[:, None].expand_as(logps)
    out: dict[str, float] = {}
    for norm in NORMALISERS:
        lp = logps.detach().clone().requires_grad_(True)
        masked_policy_loss(-adv * lp, completion_mask, sel, norm).backward()
        out[f"grad_norm_{norm}"] = float(lp.grad.norm())
    out["ratio"] = out["grad_norm_selected"] / max(out["grad_norm_all"], 1e-30)
    out["n_valid_over_n_selected"] = float(completion_mask.bool().sum()) / max(float(sel.sum()), 1.0)
    out["share_selected"] = float(sel.sum()) / max(float(completion_mask.bool().sum()), 1.0)
    return out


# ====================================================================================== advantage shaping


def _broadcast_adv(adv: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if adv.dim() == 1:
        return adv[:, None].expand_as(like)
    if adv.shape != like.shape:
        raise ValueError(f"advantages {tuple(adv.shape)} do not match entropies {tuple(like.shape)}")
    return adv


def entropy_advantage(
    adv: torch.Tensor,
    entropy: torch.Tensor,
    mask: torch.Tensor | None = None,
    alpha: float = 0.4,
    kappa: float = 2.0,
) -> torch.Tensor:
    """Cheng et al.'s shaped advantage ``A_t + psi(H_t)``, ``psi = min(alpha * H_t.detach(), |A_t| / kappa)``.

    Args:
        adv: (B,) per-sequence GRPO advantages or (B, T) per-token ones.
        entropy: (B, T) token entropies of the current policy (nats); detached here, no gradient flows through it.
        mask: optional (B, T) completion mask; psi is 0 on padding.
        alpha, kappa: the paper's defaults with GRPO (0.4, 2). ``kappa > 1`` keeps ``sign(A_t + psi) == sign(A_t)``
            for ``A_t < 0`` since ``psi <= |A_t| / kappa < |A_t|``; a zero-advantage group gets psi = 0.

    Returns:
        (B, T) shaped advantages. psi is always >= 0 (entropy is non-negative).
    """
    return adv_plus_psi(adv, entropy, mask, alpha, kappa)[0]


def adv_plus_psi(
    adv: torch.Tensor,
    entropy: torch.Tensor,
    mask: torch.Tensor | None = None,
    alpha: float = 0.4,
    kappa: float = 2.0,
    baseline: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shared core: returns ``(A + psi, psi, clip_binds)``. ``baseline=None`` is the paper's rule;
    a float gives the seed variant ``min(alpha * max(H - b, 0), |A| / kappa)``."""
    if kappa <= 0:
        raise ValueError("kappa must be > 0 (and > 1 to keep the sign)")
    a = _broadcast_adv(adv, entropy).to(entropy.dtype if entropy.is_floating_point() else torch.float32)
    h = entropy.detach().to(a.dtype)
    raw = alpha * (h if baseline is None else (h - baseline).clamp(min=0.0))
    cap = a.abs() / kappa
    psi = torch.minimum(raw, cap)
    binds = raw > cap
    if mask is not None:
        m = mask.bool()
        psi = psi * m
        binds = binds & m
    return a + psi, psi, binds


def entropy_advantage_seed_variant(
    adv: torch.Tensor,
    entropy: torch.Tensor,
    mask: torch.Tensor | None,
    baseline: float,
    alpha: float = 0.4,
    kappa: float = 2.0,
) -> torch.Tensor:
    """NOT the paper's rule. The popular write-up's reading, "a bonus for tokens whose entropy rises above a moving
    baseline": ``psi = min(alpha * max(H_t - b, 0), |A_t| / kappa)`` with ``b`` an exponential moving average of
    the batch-mean entropy (kept by :class:`EntropyAdvantageGRPOTrainer` with ``variant="seed"``). Same clip, so the
    sign is kept as well. Cheng et al. publish no baseline: see ``shared/papers.md``."""
    return adv_plus_psi(adv, entropy, mask, alpha, kappa, baseline=baseline)[0]


# ============================================================================================== trainers

try:  # TRL is a hard dependency of this module, but keep the pure functions importable without it
    from trl import GRPOConfig, GRPOTrainer
except ImportError:  # pragma: no cover
    GRPOTrainer = object  # type: ignore[assignment,misc]
    GRPOConfig = None  # type: ignore[assignment]


class TokenSelectGRPOTrainer(GRPOTrainer):  # type: ignore[misc,valid-type]
    """GRPOTrainer with the four token-selection conditions and the two loss normalisers.

    ``condition="all"`` is plain GRPO. For ``top``/``bottom``/``random`` the trainer sets TRL's
    ``top_entropy_quantile = rho`` (so TRL computes entropies and calls ``get_high_entropy_mask``) and this class
    returns :func:`entropy_mask` for the condition. With ``normaliser="selected"`` the mask is returned as float
    weights ``N_valid / N_selected`` on the selected tokens, so that TRL's token-level (``dapo``) sum over all tokens
    becomes the mean over the selected tokens (exact with one micro-batch per optimiser step; per micro-batch
    otherwise). The ``entropy_coef`` bonus should stay 0 with ``selected``.

    Logs ``tokens_kept`` (share of completion tokens selected) next to TRL's ``entropy``.
    """

    def __init__(
        self,
        *args: Any,
        condition: str = "all",
        rho: float = 1.0,
        normaliser: str = "all",
        mask_rule: str = "count",
        mask_seed: int = 0,
        **kwargs: Any,
    ) -> None:
        if condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}")
        if normaliser not in NORMALISERS:
            raise ValueError(f"normaliser must be one of {NORMALISERS}, got {normaliser!r}")
        args_obj = kwargs.get("args")
        if args_obj is not None:
            # rho = 1 with "top"/"random" keeps everything: same as "all"; bottom needs rho < 1 to keep anything
            args_obj.top_entropy_quantile = 1.0 if condition == "all" else float(rho)
        super().__init__(*args, **kwargs)
        self.condition = condition
        self.rho = float(rho)
        self.normaliser = normaliser
        self.mask_rule = mask_rule
        self._mask_generator = torch.Generator().manual_seed(10_007 + int(mask_seed))

    def get_high_entropy_mask(self, entropies: torch.Tensor, mask: torch.Tensor, threshold: float) -> torch.Tensor:
        if self.condition == "top" and self.mask_rule == "quantile" and self.normaliser == "all":
            sel = super().get_high_entropy_mask(entropies, mask, threshold)  # TRL's own, gathered across ranks
        else:
            sel = entropy_mask(entropies, mask, self.rho, self.condition, self._mask_generator, self.mask_rule)  # type: ignore[arg-type]
        mode = "train" if self.model.training else "eval"
        n_valid = mask.bool().sum().clamp(min=1)
        self._metrics[mode]["tokens_kept"].append(float(sel.sum() / n_valid))
        if self.normaliser == "selected":
            return sel.float() * (n_valid.float() / sel.sum().clamp(min=1).float())
        return sel


class EntropyAdvantageGRPOTrainer(TokenSelectGRPOTrainer):
    """Cheng et al. 2025: GRPO with per-token advantages ``A_t + psi(H_t)``.

    ``variant="paper"``: ``psi = min(alpha * H_t.detach(), |A_t| / kappa)`` (the published rule).
    ``variant="seed"``: NOT the paper's rule, the popular write-up's "bonus for tokens whose entropy rises above a
    moving baseline": ``psi = min(alpha * max(H_t - b, 0), |A_t| / kappa)``, ``b`` an exponential moving average
    (decay ``ema``) of the batch-mean entropy, initialised to the first batch's mean and updated after use.

    ``H_t`` is the current policy's entropy at the sampling temperature, taken from the forward pass TRL already
    runs in ``_compute_loss`` (hook: ``_get_per_token_logps_and_entropies``), so the overhead is a few element-wise
    ops. Logs ``psi/mean`` (over completion tokens), ``psi/clip_frac`` (share of tokens where ``|A|/kappa`` binds)
    and ``psi/baseline`` (seed variant); TRL logs ``entropy``.
    """

    def __init__(
        self,
        *args: Any,
        alpha: float = 0.4,
        kappa: float = 2.0,
        variant: str = "paper",
        ema: float = 0.9,
        **kwargs: Any,
    ) -> None:
        if variant not in ("paper", "seed"):
            raise ValueError(f"variant must be paper or seed, got {variant!r}")
        super().__init__(*args, **kwargs)
        self.alpha, self.kappa, self.variant, self.ema = float(alpha), float(kappa), variant, float(ema)
        self.entropy_baseline: float | None = None
        self._shaping_inputs: dict[str, Any] | None = None

    def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor:
        inputs = dict(inputs)  # shallow copy: buffered inputs are reused when num_iterations > 1
        self._shaping_inputs = inputs
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._shaping_inputs = None

    def _get_per_token_logps_and_entropies(self, model: Any, *args: Any, **kwargs: Any) -> Any:
        logps, entropies, aux = super()._get_per_token_logps_and_entropies(model, *args, **kwargs)
        inputs = self._shaping_inputs
        if inputs is not None and kwargs.get("compute_entropy") and entropies is not None:
            self._shaping_inputs = None  # shape once per loss computation
            mask = inputs["completion_mask"]
            if "tool_mask" in inputs:
                mask = mask * inputs["tool_mask"]
            baseline = None
            if self.variant == "seed":
                m = mask.bool()
                batch_mean = float(entropies.detach()[m].float().mean()) if m.any() else 0.0
                if self.entropy_baseline is None:
                    self.entropy_baseline = batch_mean
                baseline = self.entropy_baseline
                if self.model.training:
                    self.entropy_baseline = self.ema * self.entropy_baseline + (1 - self.ema) * batch_mean
            shaped, psi, binds = adv_plus_psi(inputs["advantages"], entropies, mask, self.alpha, self.kappa, baseline)
            inputs["advantages"] = shaped
            mode = "train" if self.model.training else "eval"
            n = mask.sum().clamp(min=1).float()
            self._metrics[mode]["psi/mean"].append(float(psi.sum() / n))
            self._metrics[mode]["psi/clip_frac"].append(float(binds.sum() / n))
            if baseline is not None:
                self._metrics[mode]["psi/baseline"].append(float(baseline))
        return logps, entropies, aux


# ============================================================================================ run config


@dataclass
class RunConfig:
    """One training condition. Every field can be set in a YAML/JSON config file (see ``configs/``).

    ``profiles: {ci: {...}, default: {...}, full: {...}}`` in a config file overrides fields per run profile
    (``utils.config.get_profile()``). ``grpo_overrides`` is passed to ``trl.GRPOConfig`` last.
    """

    name: str = "run"
    task: str = "countdown"  # countdown | gsm8k | standin
    model: str = "task_model"  # task_model (utils.toy_lm) | standin | a path or Hub id
    steps: int = 200
    prompts_per_step: int = 8
    num_generations: int = 8
    learning_rate: float = 1e-4
    beta: float = 0.0
    temperature: float = 1.0
    max_completion_length: int = 24
    condition: str = "all"  # all | top | bottom | random
    rho: float = 1.0  # top keeps rho, bottom keeps 1 - rho, random keeps as many as top
    normaliser: str = "all"  # all (paper formula, TRL) | selected (authors' code)
    mask_rule: str = "count"  # count (exact ceil(rho N), per micro-batch) | quantile (TRL's threshold rule)
    advantage: str = "grpo"  # grpo | entropy (Cheng et al.)
    alpha: float = 0.4
    kappa: float = 2.0
    variant: str = "paper"  # paper | seed (NOT the paper's rule; moving-baseline reading)
    ema: float = 0.9
    loss_type: str = "dapo"
    epsilon: float = 0.2
    epsilon_high: float = 0.28
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    gradient_accumulation_steps: int = 1
    train_size: int = 4000
    eval_every: int = 25
    eval_n: int = 100
    eval_samples: int = 4  # samples per held-out problem for pass@1 (mean correctness)
    eval_temperature: float | None = None  # None: same as temperature
    eval_batch_size: int = 512
    final_samples: int = 0  # > 0: pass@k curve at the end from this many samples per problem
    success_threshold: float = 1.0  # reward >= this counts as solved
    bf16: bool = False
    num_threads: int | None = None  # torch.set_num_threads; 1 is faster for the toy model when the CPU is shared
    system_prompt: str | None = None  # gsm8k: instruction appended to each question
    grpo_overrides: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {CONDITIONS}, got {self.condition!r}")
        if self.normaliser not in NORMALISERS:
            raise ValueError(f"normaliser must be one of {NORMALISERS}, got {self.normaliser!r}")
        if self.advantage not in ("grpo", "entropy"):
            raise ValueError(f"advantage must be grpo or entropy, got {self.advantage!r}")
        if not 0.0 < self.rho <= 1.0:
            raise ValueError(f"rho must be in (0, 1], got {self.rho}")
        if self.condition == "bottom" and self.rho >= 1.0:
            raise ValueError("bottom keeps 1 - rho of the tokens: use rho < 1 (e.g. 0.2 for the bottom 80%)")

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def load_config(path: str | Path, profile: str | None = None, **overrides: Any) -> RunConfig:
    """Read a YAML (``.yaml``/``.yml``) or JSON run config; apply its ``profiles[<profile>]`` block, then
    ``overrides``. Relative paths are looked up from the current directory, then from the repo root."""
    p = Path(path)
    if not p.exists() and (REPO_ROOT / p).exists():
        p = REPO_ROOT / p
    text = p.read_text()
    if p.suffix in (".yaml", ".yml"):
        import yaml

        raw = yaml.safe_load(text) or {}
    else:
        raw = json.loads(text)
    raw = dict(raw)
    profiles = raw.pop("profiles", None) or {}
    prof = profile or get_profile()
    raw.update(profiles.get(prof, {}) or {})
    raw.update(overrides)
    raw.setdefault("name", p.stem)
    known = {f.name for f in dataclasses.fields(RunConfig)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{p}: unknown config keys {sorted(unknown)}; known: {sorted(known)}")
    return RunConfig(**raw)


# =================================================================================== tasks and models

STANDIN_CHARS = "0123456789+-*/=,>: "


def make_standin(
    n_embd: int = 32, n_layer: int = 2, n_head: int = 2, n_positions: int = 64, extra_vocab: int = 0, seed: int = 0
) -> tuple[Any, Any]:
    """A tiny random char-level GPT-2 and its tokenizer (pad=0, eos=1), for tests, dry runs and benchmarks.
    ``extra_vocab`` adds unused tokens to mimic a large LM head."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<eos>": 1}
    for c in STANDIN_CHARS:
        vocab[c] = len(vocab)
    for i in range(extra_vocab):
        vocab[f"<x{i}>"] = len(vocab)
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tk.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tk.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>")
    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(vocab), n_embd=n_embd, n_layer=n_layer, n_head=n_head, n_positions=n_positions,
        bos_token_id=1, eos_token_id=1, pad_token_id=0,
    )
    return GPT2LMHeadModel(cfg), tok


def standin_reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """Trivial reward for the stand-in task: 1.0 if the completion contains ``=``."""
    return [1.0 if "=" in _text(c) else 0.0 for c in completions]


def _text(x: Any) -> str:
    if isinstance(x, list) and x and isinstance(x[-1], dict):
        return str(x[-1].get("content", ""))
    return str(x)


_NUM_RE = re.compile(r"-?\d[\d,]*\.?\d*")


def _last_number(text: str) -> float | None:
    if "####" in text:
        text = text.split("####")[-1]
    nums = _NUM_RE.findall(text)
    for s in reversed(nums):
        try:
            return float(s.replace(",", "").rstrip("."))
        except ValueError:
            continue
    return None


def gsm8k_reward(prompts: Sequence[Any], completions: Sequence[Any], answer: Sequence[str], **kwargs: Any) -> list[float]:
    """GSM8K reward: 1.0 when the last number in the completion (after ``####`` if present) equals the reference
    answer (the number after ``####`` in the dataset's ``answer`` column), else 0.0."""
    out = []
    for c, a in zip(completions, answer, strict=True):
        ref, got = _last_number(str(a)), _last_number(_text(c))
        out.append(1.0 if ref is not None and got is not None and abs(ref - got) < 1e-6 else 0.0)
    return out


def _load_model(cfg: RunConfig, standin: bool = False) -> tuple[Any, Any]:
    if standin or cfg.model == "standin":
        return make_standin()
    from utils import toy_lm

    if toy_lm.is_task_model_dir(cfg.model):  # "task_model" or any Countdown checkpoint directory
        return toy_lm.load_task_model(toy_lm.resolve_model_dir(cfg.model))
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(cfg.model)
    dtype = torch.bfloat16 if cfg.bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok


def _load_task(cfg: RunConfig, seed: int, standin: bool = False) -> tuple[Any, list[dict[str, Any]], Callable[..., list[float]]]:
    """(train dataset, held-out rows, reward function) for ``cfg.task``."""
    from datasets import Dataset

    if standin or cfg.task == "standin":
        import random

        rng = random.Random(seed)
        rows = [{"prompt": f"{rng.randint(1, 9)} {rng.randint(1, 9)}>{rng.randint(10, 50)}:"} for _ in range(cfg.train_size)]
        erng = random.Random(2506)
        held = [{"prompt": f"{erng.randint(1, 9)} {erng.randint(1, 9)}>{erng.randint(10, 50)}:"} for _ in range(cfg.eval_n)]
        return Dataset.from_list(rows), held, standin_reward
    if cfg.task == "countdown":
        from utils import countdown, toy_lm

        # the difficulty (count of numbers, ranges, held-out file) is the checkpoint's own
        spec = toy_lm.task_spec(cfg.model) if toy_lm.is_task_model_dir(cfg.model) else toy_lm.task_spec("task_model")
        train = countdown.train_dataset(cfg.train_size, seed=seed, n_numbers=spec.n_numbers,
                                        number_range=spec.number_range, target_range=spec.target_range,
                                        eval_path=spec.eval_path)
        held = countdown.load_eval_problems(spec.eval_path, n=cfg.eval_n)
        return train, held, countdown.countdown_reward
    if cfg.task == "gsm8k":
        from datasets import load_dataset

        instr = cfg.system_prompt or "Solve the problem. End with the final answer after '####'."

        def to_prompt(r: dict[str, Any]) -> dict[str, Any]:
            return {"prompt": [{"role": "user", "content": f"{r['question']}\n{instr}"}], "answer": r["answer"]}

        train = load_dataset("openai/gsm8k", "main", split="train").map(to_prompt, remove_columns=["question"])
        test = load_dataset("openai/gsm8k", "main", split="test").select(range(cfg.eval_n)).map(to_prompt)
        train = train.shuffle(seed=seed).select(range(min(cfg.train_size, len(train))))
        return train, [dict(r) for r in test], gsm8k_reward
    raise ValueError(f"unknown task {cfg.task!r}; use countdown, gsm8k or standin")


# ============================================================================================ evaluation


@torch.no_grad()
def evaluate_pass_rate(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    reward_fn: Callable[..., list[float]],
    samples: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 24,
    seed: int = 0,
    batch_size: int = 512,
    success_threshold: float = 1.0,
) -> dict[str, Any]:
    """Sample ``samples`` completions per held-out row (seeded, RNG state restored afterwards) and score them.

    Returns ``{"pass1": mean correctness, "correct": per-row counts, "n": samples}``; pass@k for k <= n follows
    from ``utils.passk.mean_pass_at_k(n, correct, k)``.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    prompts = [r["prompt"] for r in rows]
    texts = [
        tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) if isinstance(p, list) else p
        for p in prompts
    ]
    extra_keys = [k for k in (rows[0].keys() if rows else []) if k != "prompt"]
    correct = [0] * len(rows)
    old_side = getattr(tokenizer, "padding_side", "right")
    tokenizer.padding_side = "left"
    per_batch = max(1, batch_size // max(samples, 1))
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            for s in range(0, len(rows), per_batch):
                chunk = texts[s : s + per_batch]
                enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
                out = model.generate(
                    **enc, do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                    max_new_tokens=max_new_tokens, num_return_sequences=samples,
                    pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                )
                comps = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
                idx = [s + i // samples for i in range(len(comps))]
                kw = {k: [rows[i][k] for i in idx] for k in extra_keys}
                rewards = reward_fn([prompts[i] for i in idx], comps, **kw)
                for i, r in zip(idx, rewards, strict=True):
                    correct[i] += int(r is not None and r >= success_threshold)
    finally:
        tokenizer.padding_side = old_side
        if was_training:
            model.train()
    total = len(rows) * samples
    return {"pass1": sum(correct) / total if total else float("nan"), "correct": correct, "n": samples}


# ============================================================================================== running


def _versions() -> dict[str, str]:
    import accelerate
    import datasets
    import transformers
    import trl

    return {
        "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
        "trl": trl.__version__, "datasets": datasets.__version__, "accelerate": accelerate.__version__,
    }


def build_trainer(
    cfg: RunConfig, seed: int, standin: bool = False, output_dir: str | Path | None = None
) -> tuple[Any, dict[str, Any]]:
    """Build the TRL trainer for ``cfg`` (model, data and reward from ``cfg.task``/``cfg.model``; ``standin=True``
    swaps in the tiny random model and the stand-in task, e.g. to dry-run a GPU config on CPU).

    Returns ``(trainer, ctx)`` with ``ctx = {"model", "tokenizer", "held_out", "reward_fn"}``.
    """
    seed_everything(seed)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    model, tok = _load_model(cfg, standin)
    train, held, reward_fn = _load_task(cfg, seed, standin)
    use_cpu = not torch.cuda.is_available()
    grpo_kwargs: dict[str, Any] = dict(
        output_dir=str(output_dir or (REPO_ROOT / "build" / "rlvr_tmp" / cfg.name)),
        per_device_train_batch_size=cfg.prompts_per_step * cfg.num_generations // cfg.gradient_accumulation_steps,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="constant",
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        beta=cfg.beta,
        temperature=cfg.temperature,
        loss_type=cfg.loss_type,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high,
        max_steps=cfg.steps,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=use_cpu,
        bf16=cfg.bf16,
        dataloader_num_workers=0,
        disable_dropout=True,
        gradient_checkpointing=False,  # TRL's default is True: an extra forward per backward, pointless on CPU
        seed=seed,
        data_seed=seed,
    )
    grpo_kwargs.update(cfg.grpo_overrides)
    args = GRPOConfig(**grpo_kwargs)
    common = dict(
        model=model, reward_funcs=reward_fn, args=args, train_dataset=train, processing_class=tok,
        condition=cfg.condition, rho=cfg.rho, normaliser=cfg.normaliser, mask_rule=cfg.mask_rule, mask_seed=seed,
    )
    if cfg.advantage == "entropy":
        trainer = EntropyAdvantageGRPOTrainer(alpha=cfg.alpha, kappa=cfg.kappa, variant=cfg.variant, ema=cfg.ema, **common)
    else:
        trainer = TokenSelectGRPOTrainer(**common)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # logs are read from state.log_history instead of printed
    return trainer, {"model": model, "tokenizer": tok, "held_out": held, "reward_fn": reward_fn}


def _series(history: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    steps, vals = [], []
    for h in history:
        if key in h and "step" in h:
            steps.append(int(h["step"]))
            vals.append(float(h[key]))
    return steps, vals


def run_condition(
    cfg: RunConfig,
    seed: int,
    out: str | Path | None = None,
    standin: bool = False,
    dry_run: bool = False,
    verbose: bool = True,
    save_model: str | Path | None = None,
) -> dict[str, Any]:
    """Train one condition with one seed, evaluate held-out pass@1 every ``cfg.eval_every`` steps, write JSON.

    ``save_model``: a folder to ``save_pretrained`` the trained policy (and its tokenizer) into, e.g. for
    comparing its entropies with the base model's afterwards (``result["model_dir"]``).

    Returns the results dict (also written to ``out`` or ``results_dir() / f"{cfg.name}_seed{seed}.json"``;
    re-running recomputes and overwrites). ``dry_run=True`` builds the trainer and returns without training or
    writing. Schema (``"schema": "forking-tokens/rlvr-run/1"``)::

        name, seed, profile, schema, config (RunConfig as dict), versions, device,
        eval:  {step: [...], pass1: [...], n_problems, samples_per_problem, temperature}
        train: {step: [...], reward: [...], entropy: [...], tokens_kept: [...], step_time: [...],
                psi_mean: [...], psi_clip_frac: [...]}          (psi_* only for advantage="entropy")
        final: {pass1, pass_at_k: {k: value} (if final_samples > 0), coverage (idem), samples}
        timing: {total_s, train_s, eval_s, cpu_s, median_step_s, mean_step_s, steps}
                 (cpu_s: this process' CPU time, close to the wall time on a quiet core with 1 thread)
    """
    t_start, cpu_start = time.perf_counter(), time.process_time()
    trainer, ctx = build_trainer(cfg, seed, standin=standin)
    if dry_run:
        return {"name": cfg.name, "dry_run": True, "trainer": type(trainer).__name__, "config": asdict(cfg)}
    from transformers import TrainerCallback

    model, tok, held, reward_fn = ctx["model"], ctx["tokenizer"], ctx["held_out"], ctx["reward_fn"]
    eval_temp = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    is_main = trainer.accelerator.is_main_process
    evals: dict[str, list[Any]] = {"step": [], "pass1": []}
    eval_time = [0.0]

    def do_eval(step: int) -> None:
        if not is_main or cfg.eval_n <= 0:
            return
        t0 = time.perf_counter()
        m = trainer.accelerator.unwrap_model(trainer.model)
        r = evaluate_pass_rate(
            m, tok, held, reward_fn, samples=cfg.eval_samples, temperature=eval_temp,
            max_new_tokens=cfg.max_completion_length, seed=10_000 + step, batch_size=cfg.eval_batch_size,
            success_threshold=cfg.success_threshold,
        )
        evals["step"].append(step)
        evals["pass1"].append(r["pass1"])
        eval_time[0] += time.perf_counter() - t0
        if verbose:
            print(f"[{cfg.name} seed {seed}] step {step:4d}  held-out pass@1 {r['pass1']:.3f}", flush=True)

    class EvalCallback(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            do_eval(0)

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            s = state.global_step
            if cfg.eval_every > 0 and s % cfg.eval_every == 0 and s != cfg.steps:
                do_eval(s)

    trainer.add_callback(EvalCallback())
    t_train = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t_train
    do_eval(cfg.steps)
    final: dict[str, Any] = {"pass1": evals["pass1"][-1] if evals["pass1"] else None}
    if cfg.final_samples > 0 and is_main:
        from utils.passk import coverage, pass_at_k_curve

        t0 = time.perf_counter()
        r = evaluate_pass_rate(
            trainer.accelerator.unwrap_model(trainer.model), tok, held, reward_fn, samples=cfg.final_samples,
            temperature=eval_temp, max_new_tokens=cfg.max_completion_length, seed=99_991,
            batch_size=cfg.eval_batch_size, success_threshold=cfg.success_threshold,
        )
        eval_time[0] += time.perf_counter() - t0
        final.update(
            pass_at_k={str(k): v for k, v in pass_at_k_curve(cfg.final_samples, r["correct"]).items()},
            coverage=coverage(r["correct"]), samples=cfg.final_samples, correct=r["correct"],
        )
    hist = trainer.state.log_history
    train: dict[str, Any] = {}
    steps, train["reward"] = _series(hist, "reward")
    train["step"] = steps
    for key, name in [("entropy", "entropy"), ("tokens_kept", "tokens_kept"), ("step_time", "step_time"),
                      ("psi/mean", "psi_mean"), ("psi/clip_frac", "psi_clip_frac"), ("psi/baseline", "psi_baseline"),
                      ("completions/mean_length", "mean_length")]:
        _, vals = _series(hist, key)
        if vals:
            train[name] = vals
    st = train.get("step_time", [])
    result = {
        "schema": RESULTS_SCHEMA,
        "name": cfg.name,
        "seed": seed,
        "profile": get_profile(),
        "config": asdict(cfg),
        "versions": _versions(),
        "device": str(trainer.accelerator.device),
        "standin": standin,
        "eval": {"step": evals["step"], "pass1": evals["pass1"], "n_problems": len(held),
                 "samples_per_problem": cfg.eval_samples, "temperature": eval_temp},
        "train": train,
        "final": final,
        "timing": {
            "total_s": time.perf_counter() - t_start, "train_s": train_s, "eval_s": eval_time[0],
            "cpu_s": time.process_time() - cpu_start,
            "median_step_s": statistics.median(st) if st else None, "mean_step_s": statistics.fmean(st) if st else None,
            "steps": cfg.steps,
        },
    }
    if is_main and save_model is not None:
        trainer.accelerator.unwrap_model(trainer.model).save_pretrained(str(save_model), safe_serialization=True)
        tok.save_pretrained(str(save_model))
        result["model_dir"] = str(save_model)
    if is_main:
        path = Path(out) if out is not None else results_dir() / f"{cfg.name}_seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        result["path"] = str(path)
        path.write_text(json.dumps(result, indent=1))
    return result


def load_results(pattern: str = "*.json", directory: str | Path | None = None) -> list[dict[str, Any]]:
    """All run-result dicts matching ``pattern`` in ``directory`` (default ``results_dir()``), sorted by name and
    seed; files of other schemas are skipped. ``pandas.json_normalize`` flattens them for plotting."""
    d = Path(directory) if directory is not None else results_dir()
    out = []
    for p in sorted(d.glob(pattern)):
        try:
            r = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(r, dict) and r.get("schema") == RESULTS_SCHEMA:
            out.append(r)
    return sorted(out, key=lambda r: (r["name"], r["seed"]))


@dataclass
class Job:
    """One training run for :func:`run_many`: a config, a seed, where its JSON goes (``None``: the default
    ``results_dir()/<name>_seed<seed>.json``) and optionally a folder to save the trained model into."""

    cfg: RunConfig
    seed: int
    out: str | None = None
    save_model: str | None = None


def _run_job(job: Job, threads: int) -> dict[str, Any]:
    cfg = job.cfg if job.cfg.num_threads else job.cfg.replace(num_threads=threads)
    return run_condition(cfg, job.seed, out=job.out, verbose=False, save_model=job.save_model)


def _worker_init(threads: int) -> None:
    import os
    import warnings

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bars in a notebook's output


def run_many(jobs: Sequence[Job], workers: int = 2, threads: int = 1, verbose: bool = True) -> list[dict[str, Any]]:
    """Run independent training jobs, ``workers`` at a time in fresh (spawned) processes with ``threads`` torch
    threads each; returns the results dicts in the order of ``jobs``.

    On a small shared CPU several 1-thread processes beat one multi-threaded run for a model this small. Each
    worker imports TRL once (~10 s) and then takes jobs from the queue. ``workers <= 1`` runs in this process.
    A job's config keeps its own ``num_threads`` if it sets one. Prints one line per finished job.
    """
    jobs = list(jobs)
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    t0 = time.perf_counter()

    def report(i: int, r: dict[str, Any]) -> None:
        results[i] = r
        if verbose:
            done = sum(x is not None for x in results)
            p1 = r["final"].get("pass1")
            p1s = "n/a" if p1 is None else f"{p1:.3f}"
            print(f"[{done:2d}/{len(jobs)}] {r['name']} seed {r['seed']}: final held-out pass@1 {p1s}, "
                  f"{r['timing']['total_s']:.0f} s (median step {r['timing']['median_step_s'] or 0:.2f} s)  "
                  f"[{time.perf_counter() - t0:.0f} s elapsed]", flush=True)

    if workers <= 1:
        for i, j in enumerate(jobs):
            report(i, _run_job(j, threads))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(threads,)) as ex:
            futures = {ex.submit(_run_job, j, threads): i for i, j in enumerate(jobs)}
            for f in as_completed(futures):
                report(futures[f], f.result())
    return [r for r in results if r is not None]


# =========================================================================================== compute claim


def policy_batch(cfg: RunConfig, seed: int = 0, standin: bool = False) -> dict[str, Any]:
    """One batch exactly as TRL's trainer builds it for ``cfg`` (sampled completions, rewards, group advantages),
    plus the policy's per-token log-probs and entropies (nats, at ``cfg.temperature``) on it.

    Returns ``{"model", "trainer", "input_ids", "attention_mask", "completion_mask", "advantages", "logps",
    "entropies", "rewards"}``; ``input_ids`` is prompt + completion, the completion being the last
    ``completion_mask.shape[1]`` tokens. For the normaliser and compute measurements.
    """
    trainer, ctx = build_trainer(cfg.replace(eval_n=0), seed, standin=standin)
    raw = next(iter(trainer.get_train_dataloader()))
    torch.manual_seed(seed)
    inputs = trainer._generate_and_score_completions(raw)
    model = ctx["model"]
    ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
    att = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
    cm = inputs["completion_mask"]
    T = cm.shape[1]
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=att).logits[:, -T - 1 : -1].float() / cfg.temperature
        logp_all = torch.log_softmax(logits, dim=-1)
        ent = token_entropy(logits)
        logps = logp_all.gather(-1, inputs["completion_ids"][..., None]).squeeze(-1)
    return {
        "model": model, "trainer": trainer, "input_ids": ids, "attention_mask": att, "completion_mask": cm,
        "advantages": inputs["advantages"], "logps": logps, "entropies": ent,
        "rewards": inputs.get("rewards"),
    }



def update_cost(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    completion_mask: torch.Tensor,
    advantages: torch.Tensor,
    selected: torch.Tensor | None = None,
    variant: Literal["full", "masked", "sparse_head"] = "masked",
    repeats: int = 5,
) -> dict[str, float]:
    """FLOPs and median wall time of one policy update (forward + backward of the on-policy GRPO surrogate
    ``-A * logp``) on the batch ``input_ids`` whose last ``T = completion_mask.shape[1]`` tokens are the completion.

    * ``"full"``: every completion token keeps its loss.
    * ``"masked"``: the loss is multiplied by ``selected`` (Wang et al., TRL). This is what the paper and its code
      do, and it saves **nothing**: the mask zeroes per-token losses *after* a full forward pass over all positions
      and the full vocabulary, and the backward pass still runs through every layer (the zero rows only make the
      gradient of the LM-head input sparse; dense kernels do not skip them). Same FLOPs as ``"full"``.
    * ``"sparse_head"``: a variant that really saves work (not the paper's code): the backbone runs as usual but the
      LM head (logits, softmax, log-prob) is evaluated, with grad, only at the selected positions. The entropies
      needed for the selection are assumed to come for free from the sampling step (the logits the sampler already
      computed); they are not recomputed here. Saving ~ (1 - rho) of the LM-head cost, which matters when the vocab
      is large (Qwen2.5-0.5B: the 151,936 x 896 head is ~25% of the FLOPs per token) and is ~0 for a char model.

    Returns ``{"flops", "median_s", "loss"}`` (FLOPs counted by ``torch.utils.flop_counter.FlopCounterMode``,
    matmul-type ops only; ``median_s`` over ``repeats`` timed updates after the counted one, NaN if ``repeats=0``).
    """
    from torch.utils.flop_counter import FlopCounterMode

    T = completion_mask.shape[1]
    cm = completion_mask.bool()
    sel = cm if (selected is None or variant == "full") else (selected.bool() & cm)
    adv = _broadcast_adv(advantages, completion_mask.float()).float()
    labels = input_ids[:, -T:]
    head = model.get_output_embeddings()

    def step() -> torch.Tensor:
        model.zero_grad(set_to_none=True)
        if variant == "sparse_head":
            hidden = model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            h = hidden[:, -T - 1 : -1][sel]
            logp = torch.log_softmax(head(h).float(), dim=-1).gather(-1, labels[sel][:, None]).squeeze(-1)
            loss = -(adv[sel] * logp).sum() / cm.sum().clamp(min=1)
        else:
            logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, -T - 1 : -1]
            logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, labels[..., None]).squeeze(-1)
            w = sel.float() if variant == "masked" else cm.float()
            loss = -(adv * logp * w).sum() / cm.sum().clamp(min=1)
        loss.backward()
        return loss.detach()

    with FlopCounterMode(display=False) as fc:
        loss = step()
    flops = float(fc.get_total_flops())
    times = []
    for _ in range(max(0, repeats)):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    model.zero_grad(set_to_none=True)
    return {"flops": flops, "median_s": statistics.median(times) if times else float("nan"), "loss": float(loss)}


# SmolLM2-135M's shape (read from the offline GGUF's metadata: llama.block_count, embedding_length, ...)
SMOLLM2_135M_SHAPE: dict[str, int] = dict(
    hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
    vocab_size=49152,
)


def llama_like(n_layers: int, shape: dict[str, int] | None = None, seed: int = 0) -> Any:
    """A randomly initialised ``LlamaForCausalLM`` with ``shape`` (default SmolLM2-135M's) but ``n_layers`` layers,
    for counting FLOPs (tied embeddings, as SmolLM2)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = dict(SMOLLM2_135M_SHAPE if shape is None else shape)
    cfg["num_hidden_layers"] = n_layers
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**cfg, tie_word_embeddings=True, max_position_embeddings=2048))


def extrapolated_update_flops(
    build: Callable[[int], Any],
    n_layers: int,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    completion_mask: torch.Tensor,
    advantages: torch.Tensor,
    selected: torch.Tensor,
    variants: Sequence[str] = ("full", "sparse_head"),
) -> dict[str, float]:
    """FLOPs of one policy update (:func:`update_cost`) of an ``n_layers``-deep model without building it: count on
    ``build(1)`` and ``build(2)`` and extrapolate linearly in depth. Exact for a stack of identical layers
    (every layer costs the same; embeddings and LM head are counted once in both)."""
    per_depth = {}
    for depth in (1, 2):
        m = build(depth)
        per_depth[depth] = {
            v: update_cost(m, input_ids, attention_mask, completion_mask, advantages, selected, v, repeats=0)["flops"]  # type: ignore[arg-type]
            for v in variants
        }
        del m
    return {v: per_depth[1][v] + (n_layers - 1) * (per_depth[2][v] - per_depth[1][v]) for v in variants}


# ================================================================================================== CLI


def _parse_value(text: str) -> Any:
    """A ``--set`` value: YAML, except that numbers YAML 1.1 reads as strings (``3e-4``, ``1e3``) become floats."""
    import yaml

    v = yaml.safe_load(text)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.rlvr", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train one condition x seed from a config, write metrics JSON")
    r.add_argument("--config", required=True)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default=None, help="output JSON (default: results_dir()/<name>_seed<seed>.json)")
    r.add_argument("--profile", default=None, help="ci | default | full (default: FORKING_TOKENS_PROFILE)")
    r.add_argument("--dry-run", action="store_true", help="parse the config and build the trainer, do not train")
    r.add_argument("--standin", action="store_true", help="tiny random model + stand-in task (no Hub, no task model)")
    r.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override config fields (YAML values)")
    a = parser.parse_args(argv)
    import os

    import yaml

    from utils.config import PROFILE_ENV

    if a.profile:
        os.environ[PROFILE_ENV] = a.profile  # also decides results_dir()

    overrides = {}
    for kv in a.set:
        k, _, v = kv.partition("=")
        overrides[k] = _parse_value(v)
    cfg = load_config(a.config, profile=a.profile, **overrides)
    res = run_condition(cfg, a.seed, out=a.out, standin=a.standin, dry_run=a.dry_run)
    if a.dry_run:
        print(json.dumps({"dry_run": True, "name": cfg.name, "trainer": res["trainer"], "condition": cfg.condition,
                          "rho": cfg.rho, "advantage": cfg.advantage}))
    else:
        print(json.dumps({"path": res.get("path"), "final": {k: v for k, v in res["final"].items() if k != "correct"},
                          "median_step_s": res["timing"]["median_step_s"], "total_s": res["timing"]["total_s"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
