"""TRL ``GRPOTrainer`` subclasses that wire :mod:`utils.rlvr.losses` into training, at two hooks.

* :class:`TokenSelectGRPOTrainer` overrides ``get_high_entropy_mask`` (TRL calls it when
  ``top_entropy_quantile < 1``) to return the ``top``/``bottom``/``random``/``role`` selection, optionally reweighted
  for the ``selected`` normaliser.
* :class:`EntropyAdvantageGRPOTrainer` wraps ``_get_per_token_logps_and_entropies``: TRL computes the current
  policy's entropies (at the sampling temperature, in nats, from the same forward pass as the log-probs) and only
  *then* reads ``inputs["advantages"]``; the wrapper replaces the (B,) advantages with shaped (B, T) ones in
  between, which TRL's ``_compute_loss`` accepts as they are. No extra forward pass.

**Where the selection is made.** The ``count`` rule (default, and what every config of the project uses) selects
``ceil(rho * N)`` tokens among the ``N`` completion tokens of the *micro-batch on this process*, as the authors' code
does per GPU micro-batch; under ``accelerate launch`` with several processes each rank selects from its own tokens.
TRL's own rule (``mask_rule="quantile"`` with ``condition="top"``) thresholds at a quantile of the entropies
*gathered across all ranks*, so a rank may keep more or fewer than ``ceil(rho * N)`` of its tokens. With one process
(every CPU run here) the two differ only in ties and rounding. ``tests/integration/test_rlvr_trainers.py::test_two_process_run``
checks both on two CPU processes (gloo), and that the ranks end with identical weights and only the main process
writes the results file. (On CPU, ``accelerate launch --cpu --num_processes 2`` starts one process only; two need
``--multi_gpu`` with no GPU visible, see ``tests/launch_distributed.py``.)
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import torch

from utils.rlvr.losses import CONDITIONS, NORMALISERS, adv_plus_psi, entropy_mask, role_mask

try:  # TRL is a hard dependency of the trainers; the loss maths in utils.rlvr.losses needs none of it
    from trl import GRPOTrainer
except ImportError:  # pragma: no cover
    GRPOTrainer = object  # type: ignore[assignment,misc]

__all__ = ["EntropyAdvantageGRPOTrainer", "TokenSelectGRPOTrainer", "reference_from_policy"]


@contextlib.contextmanager
def reference_from_policy(policy: Any) -> Iterator[None]:
    """While a trainer is built (``beta > 0``), its KL reference model is a frozen copy of ``policy`` as it is now.

    TRL builds the reference by loading the policy again from ``policy.config._name_or_path``: a model made in memory
    (the stand-in) has no such path (TRL failed with "Repo id must use alphanumeric chars"), and SmolLM2 from its
    wheel is de-quantised from a GGUF file that ``from_pretrained`` cannot read. A copy of the loaded policy is the
    same starting point for every model, without reading anything again."""
    import trl.trainer.grpo_trainer as grpo

    loader = grpo.create_model_from_path

    def copy_of_policy(model_id: Any, **kwargs: Any) -> Any:
        ref = copy.deepcopy(policy)
        ref.requires_grad_(False)
        return ref.eval()

    grpo.create_model_from_path = copy_of_policy
    try:
        yield
    finally:
        grpo.create_model_from_path = loader


class TokenSelectGRPOTrainer(GRPOTrainer):  # type: ignore[misc,valid-type]
    """GRPOTrainer with the token-selection conditions and the two loss normalisers.

    ``condition="all"`` is plain GRPO. For ``top``/``bottom``/``random``/``role`` the trainer sets TRL's
    ``top_entropy_quantile = rho`` (so TRL computes entropies and calls ``get_high_entropy_mask``) and this class
    returns the condition's mask (:func:`~utils.rlvr.losses.entropy_mask`, or :func:`~utils.rlvr.losses.role_mask`
    with ranks from ``role_ranker(token_strings) -> list[int]``, e.g. :func:`utils.countdown.role_priority`). With
    ``normaliser="selected"`` the mask is returned as float weights ``N_valid / N_selected`` on the selected tokens,
    so that TRL's token-level (``dapo``) sum over all tokens becomes the mean over the selected tokens (exact with
    one micro-batch per optimiser step; per micro-batch otherwise). The ``entropy_coef`` bonus should stay 0 with
    ``selected``.

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
        role_ranker: Any = None,
        **kwargs: Any,
    ) -> None:
        if condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}")
        if normaliser not in NORMALISERS:
            raise ValueError(f"normaliser must be one of {NORMALISERS}, got {normaliser!r}")
        if condition == "role" and role_ranker is None:
            raise ValueError("condition 'role' needs a role_ranker (e.g. utils.countdown.role_priority)")
        args_obj = kwargs.get("args")
        if args_obj is not None:
            # rho = 1 with "top"/"random" keeps everything: same as "all"; bottom needs rho < 1 to keep anything
            args_obj.top_entropy_quantile = 1.0 if condition == "all" else float(rho)
        super().__init__(*args, **kwargs)
        self.condition = condition
        self.rho = float(rho)
        self.normaliser = normaliser
        self.mask_rule = mask_rule
        self.role_ranker = role_ranker
        self._mask_generator = torch.Generator().manual_seed(10_007 + int(mask_seed))
        self._loss_inputs: dict[str, Any] | None = None

    def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor:
        self._loss_inputs = inputs  # the role mask needs the completion ids of this micro-batch
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._loss_inputs = None

    def _role_priority(self, like: torch.Tensor) -> torch.Tensor:
        inputs = self._loss_inputs
        if inputs is None:
            raise RuntimeError("the role mask is only available inside the loss computation")
        ids = inputs["completion_ids"]
        tok = self.processing_class
        ranks = [self.role_ranker(tok.convert_ids_to_tokens(row.tolist())) for row in ids.cpu()]
        return torch.tensor(ranks, dtype=torch.long, device=like.device)

    def get_high_entropy_mask(self, entropies: torch.Tensor, mask: torch.Tensor, threshold: float) -> torch.Tensor:
        if self.condition == "top" and self.mask_rule == "quantile" and self.normaliser == "all":
            sel = super().get_high_entropy_mask(entropies, mask, threshold)  # TRL's own, gathered across ranks
        elif self.condition == "role":
            sel = role_mask(self._role_priority(entropies), mask, self.rho, self._mask_generator)
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
    ``cap=False``: NOT the paper's rule, ``psi = alpha * H_t`` without the cap -- a function of the state alone,
    so its expected policy gradient is zero (notebook 05's control for what the cap does).

    ``H_t`` is the current policy's entropy at the sampling temperature, taken from the forward pass TRL already
    runs in ``_compute_loss`` (hook: ``_get_per_token_logps_and_entropies``), so the overhead is a few element-wise
    ops. Logs ``psi/mean`` (over completion tokens), ``psi/clip_frac`` (share of tokens where ``|A|/kappa`` binds)
    and ``psi/baseline`` (write-up variant); TRL logs ``entropy``.
    """

    def __init__(
        self,
        *args: Any,
        alpha: float = 0.4,
        kappa: float = 2.0,
        variant: str = "paper",
        ema: float = 0.9,
        cap: bool = True,
        **kwargs: Any,
    ) -> None:
        if variant not in ("paper", "seed"):
            raise ValueError(f"variant must be paper or seed, got {variant!r}")
        super().__init__(*args, **kwargs)
        self.alpha, self.kappa, self.variant, self.ema = float(alpha), float(kappa), variant, float(ema)
        self.cap = bool(cap)
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
            shaped, psi, binds = adv_plus_psi(inputs["advantages"], entropies, mask, self.alpha, self.kappa, baseline,
                                              self.cap)
            inputs["advantages"] = shaped
            mode = "train" if self.model.training else "eval"
            n = mask.sum().clamp(min=1).float()
            self._metrics[mode]["psi/mean"].append(float(psi.sum() / n))
            self._metrics[mode]["psi/clip_frac"].append(float(binds.sum() / n))
            if baseline is not None:
                self._metrics[mode]["psi/baseline"].append(float(baseline))
        return logps, entropies, aux
