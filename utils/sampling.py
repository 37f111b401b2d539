"""Entropy-dependent ("dual-temperature") sampling for ``model.generate``.

Wang et al. (2025) decode with one temperature for high-entropy *forking* tokens and another for all
other tokens. :class:`DualTemperatureLogitsProcessor` does that as a transformers ``LogitsProcessor``:
at every generation step and for every row of the batch it computes the entropy of the distribution it
receives (the *untempered* scores) and divides that row's logits by ``t_fork`` when the entropy is
``>= threshold`` and by ``t_rest`` otherwise.

Quick use::

    from utils.sampling import DualTemperatureLogitsProcessor, dual_temperature_generate, generated_steps

    proc = DualTemperatureLogitsProcessor(threshold=0.672, t_fork=1.3, t_rest=0.8, record=True)
    out = dual_temperature_generate(model, inputs, proc, max_new_tokens=64, top_p=0.95)
    entropy, is_fork = proc.history()          # [B, steps] each
    steps = generated_steps(tokenizer, out, inputs["input_ids"].shape[1], entropy, is_fork)   # per row: token, entropy, fork

Where it sits in transformers 5.x (checked in 5.24, ``GenerationMixin._get_logits_processor``):
``generate`` builds its own list in this order:

1. the non-sampling processors it creates from the generation config (repetition penalty,
   ``no_repeat_ngram_size``, bad words, ``min_length``/``min_new_tokens``, forced BOS/EOS, ...);
2. **the custom processors passed in ``logits_processor=``**, appended in the order given
   (a custom processor of the *same type* as a built-in one replaces it in place instead);
3. only when ``do_sample=True``: the built-in sampling warpers ``TemperatureLogitsWarper``
   (when ``temperature != 1``), ``TopHLogitsWarper``, ``TopKLogitsWarper`` (``top_k`` -- note the
   library default is ``top_k=50``; pass ``top_k=0`` for untruncated sampling), ``TopPLogitsWarper``,
   ``MinPLogitsWarper``, ``TypicalLogitsWarper``, epsilon and eta cut-offs;
4. watermarking, then ``LogitNormalization`` (``renormalize_logits=True``).

So the processor sees the scores after penalties and masks (1.) but before any truncation, and the
usual "temperature first, then top-k/top-p" order holds when top-k/top-p are given the normal way, as
``generate`` keyword arguments (``top_k=...``, ``top_p=...``). Do *not* put ``TopKLogitsWarper`` /
``TopPLogitsWarper`` instances in ``logits_processor`` ahead of this processor: it would then measure
the entropy of the truncated distribution.

Do not combine with ``generate``'s own ``temperature``: ``generate`` would append its
``TemperatureLogitsWarper`` *after* this processor and the two scalings would multiply. The processor
cannot see the generation config, so use :func:`dual_temperature_generate`, which raises
``ValueError`` for ``temperature != 1`` (as a keyword or in a passed ``generation_config``) and
overrides, with a warning, a model whose own ``generation_config`` sets a temperature.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList, TemperatureLogitsWarper

from utils.entropy import token_entropy

__all__ = ["DualTemperatureLogitsProcessor", "dual_temperature_generate", "generated_steps"]

_UNITS = ("nats", "bits")


def _check_temperature(name: str, value: float) -> float:
    """A finite number > 0 (Python, numpy or 0-d torch scalar) as a float, else ``ValueError``."""
    from utils.checks import temperature

    return temperature(value, name)


class DualTemperatureLogitsProcessor(LogitsProcessor):
    """Divide each row's logits by ``t_fork`` if its entropy is ``>= threshold``, else by ``t_rest``.

    The entropy is that of the scores the processor *receives* (untempered; after ``generate``'s
    penalties and masks, before its top-k/top-p), computed per row in float32 by
    :func:`utils.entropy.token_entropy` (vectorised over rows, one pass per cache-sized chunk of rows,
    no Python loop over rows). Padding does not matter: only the current step's scores are used,
    never ``input_ids``. Masked (``-inf``) tokens count as probability 0.

    Composition (transformers 5.x): pass it in ``logits_processor=LogitsProcessorList([proc])`` and give
    ``top_k`` / ``top_p`` / ``min_p`` as ``generate`` keyword arguments; ``generate`` places its own
    sampling warpers *after* custom processors, so truncation happens on the tempered scores (the usual
    temperature-then-truncation order). Remember ``generate``'s default ``top_k=50``.

    Never combine with ``generate(temperature=...)``: that warper runs after this one and the two
    scalings multiply. :func:`dual_temperature_generate` rejects ``temperature != 1`` with a
    ``ValueError``; prefer it over calling ``model.generate`` directly.

    Args:
        threshold: entropy threshold in ``unit`` (e.g. 0.672 nats, Wang et al.'s 80th percentile);
            must be >= 0 and not NaN (``math.inf`` means "never fork").
        t_fork: temperature for rows with entropy >= threshold (> 0, finite).
        t_rest: temperature for the other rows (> 0, finite).
        unit: ``"nats"`` or ``"bits"``; applies to ``threshold`` and to the recorded entropies.
        record: keep, per call (generation step), the entropies ``[B]`` and fork flags ``[B]``;
            read them with :meth:`history`, clear them with :meth:`reset`. Rows that have already
            finished (EOS) keep being recorded until the whole batch stops: mask them with the output.

    Raises:
        ValueError: on a bad argument (one line naming it).
    """

    def __init__(
        self,
        threshold: float,
        t_fork: float,
        t_rest: float,
        unit: str = "nats",
        record: bool = False,
    ) -> None:
        raw_threshold = threshold
        if hasattr(threshold, "item") and getattr(threshold, "ndim", None) == 0:
            threshold = threshold.item()  # numpy / torch scalars
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise ValueError(f"threshold must be a number >= 0, got {raw_threshold!r}")
        if math.isnan(threshold) or threshold < 0:
            raise ValueError(f"threshold must be >= 0 and not NaN, got {raw_threshold!r}")
        if unit not in _UNITS:
            raise ValueError(f"unit must be one of {', '.join(_UNITS)}, got {unit!r}")
        self.threshold: float = float(threshold)
        self.t_fork: float = _check_temperature("t_fork", t_fork)
        self.t_rest: float = _check_temperature("t_rest", t_rest)
        self.unit: str = unit
        self.record: bool = bool(record)
        self._steps: list[tuple[torch.Tensor, torch.Tensor]] = []
        # Set only by dual_temperature_generate, for one call, when it knows nothing else keeps the
        # scores tensor generate passes in (no output_logits, no other custom processor, plain sampling).
        self._inplace: bool = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(threshold={self.threshold}, t_fork={self.t_fork}, "
            f"t_rest={self.t_rest}, unit={self.unit!r}, record={self.record})"
        )

    def entropy(self, scores: torch.Tensor) -> torch.Tensor:
        """Entropy ``[B]`` (float32, in ``self.unit``, >= 0) of ``softmax(scores)`` per row.

        ``-inf`` scores (masked tokens) count as probability 0; NaN scores raise ``ValueError``.
        """
        return token_entropy(scores, unit=self.unit)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.Tensor) -> torch.Tensor:
        """Return ``scores`` divided row-wise by ``t_fork`` or ``t_rest``.

        Called directly or from a plain ``model.generate`` this returns a new tensor (``scores`` is left
        alone: ``generate`` keeps it as the raw logits when ``output_logits=True``). Inside
        :func:`dual_temperature_generate` it divides ``scores`` in place when that is provably safe,
        which saves allocating (and page-faulting) a fresh ``[B, V]`` buffer every step.

        Args:
            input_ids: ``[B, L]`` tokens so far (unused; accepted for the ``LogitsProcessor`` API).
            scores: ``[B, V]`` next-token scores (logits) for this step.
        """
        if scores.dim() != 2:
            raise ValueError(f"scores must be [batch, vocab], got shape {tuple(scores.shape)}")
        if self.t_fork == self.t_rest and not self.record:  # no entropy needed
            return scores if self.t_fork == 1.0 else self._divide(scores, self.t_fork)
        h = self.entropy(scores)
        is_fork = h >= self.threshold
        if self.record:
            self._steps.append((h, is_fork))
        if self.t_fork == self.t_rest:
            return scores if self.t_fork == 1.0 else self._divide(scores, self.t_fork)
        t = torch.where(
            is_fork,
            torch.tensor(self.t_fork, dtype=scores.dtype, device=scores.device),
            torch.tensor(self.t_rest, dtype=scores.dtype, device=scores.device),
        )
        return self._divide(scores, t.unsqueeze(1))

    def _divide(self, scores: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return scores.div_(t) if self._inplace else scores / t

    def reset(self) -> None:
        """Forget the recorded steps (call between ``generate`` calls; the helper does it for you)."""
        self._steps.clear()

    @property
    def num_steps(self) -> int:
        """Number of recorded steps."""
        return len(self._steps)

    def history(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Recorded ``(entropy, is_fork)``, each ``[B, steps]`` (float32 in ``unit``, bool).

        Raises:
            ValueError: if nothing was recorded (``record=False`` or no step yet) or if the batch size
                changed between steps (several ``generate`` calls without :meth:`reset`).
        """
        if not self._steps:
            why = "record=False" if not self.record else "no generation step has run since reset()"
            raise ValueError(f"no recorded steps ({why})")
        sizes = {h.shape[0] for h, _ in self._steps}
        if len(sizes) > 1:
            raise ValueError(f"recorded steps have different batch sizes {sorted(sizes)}; call reset() between generate calls")
        ent = torch.stack([h for h, _ in self._steps], dim=1)
        fork = torch.stack([f for _, f in self._steps], dim=1)
        return ent, fork


def dual_temperature_generate(
    model: Any,
    inputs: Any,
    processor: DualTemperatureLogitsProcessor,
    **kwargs: Any,
) -> Any:
    """``model.generate(..., do_sample=True)`` with ``processor`` and no competing temperature.

    Args:
        model: a transformers generative model.
        inputs: a ``[B, L]`` tensor of input ids, or a mapping (e.g. a tokenizer's ``BatchEncoding``
            with ``input_ids`` and ``attention_mask``; use left padding for decoder-only models).
        processor: the dual-temperature processor; it is ``reset()`` first and placed after any other
            custom processors given in ``logits_processor=``.
        **kwargs: passed on to ``generate`` (``max_new_tokens``, ``top_k``, ``top_p``, ``pad_token_id``,
            ``return_dict_in_generate``, ...).

    Raises:
        ValueError: ``temperature`` != 1 given (as keyword or in ``generation_config``), ``do_sample``
            false, a ``TemperatureLogitsWarper`` in ``logits_processor``, or ``num_beams`` > 1.
    """
    if not isinstance(processor, DualTemperatureLogitsProcessor):
        raise ValueError(f"processor must be a DualTemperatureLogitsProcessor, got {type(processor).__name__}")
    gen_cfg: GenerationConfig | None = kwargs.pop("generation_config", None)
    temp = kwargs.get("temperature", gen_cfg.temperature if gen_cfg is not None else None)
    if temp is not None and temp != 1.0:
        raise ValueError(
            f"temperature={temp} would multiply with the dual temperatures; leave it at 1 and set t_fork/t_rest"
        )
    do_sample = kwargs.get("do_sample", gen_cfg.do_sample if gen_cfg is not None else None)
    if do_sample is False:
        raise ValueError("dual-temperature decoding needs do_sample=True (temperature does not change greedy decoding)")
    beams = kwargs.get("num_beams", gen_cfg.num_beams if gen_cfg is not None else None)
    if beams is not None and beams > 1:
        raise ValueError(f"num_beams={beams} is not supported; dual-temperature decoding is for plain sampling")
    extra = list(kwargs.pop("logits_processor", None) or [])
    if any(isinstance(p, TemperatureLogitsWarper) for p in extra):
        raise ValueError("logits_processor holds a TemperatureLogitsWarper; drop it and set t_fork/t_rest")
    extra = [p for p in extra if p is not processor]
    if temp is None:  # generate would fall back on the model's own generation_config
        model_temp = getattr(getattr(model, "generation_config", None), "temperature", None)
        if model_temp is not None and model_temp != 1.0:
            warnings.warn(
                f"model.generation_config.temperature={model_temp} is overridden to 1.0 for dual-temperature sampling",
                stacklevel=2,
            )
    if gen_cfg is not None:  # settings go into the config: generate warns on config + kwargs
        gen_cfg = copy.deepcopy(gen_cfg)
        gen_cfg.temperature = 1.0
        gen_cfg.do_sample = True
        kwargs["generation_config"] = gen_cfg
    else:
        kwargs["temperature"] = 1.0
        kwargs["do_sample"] = True
    processor.reset()
    procs = LogitsProcessorList([*extra, processor])
    processor._inplace = _inplace_is_safe(model, gen_cfg, kwargs, extra)
    try:
        if isinstance(inputs, torch.Tensor):
            return model.generate(inputs, logits_processor=procs, **kwargs)
        return model.generate(**dict(inputs), logits_processor=procs, **kwargs)
    finally:
        processor._inplace = False


def _inplace_is_safe(model: Any, gen_cfg: GenerationConfig | None, kwargs: dict[str, Any], extra: list[Any]) -> bool:
    """Whether ``generate``'s plain sampling loop (transformers 5.x ``_sample``) lets the processor
    overwrite the scores it receives: that tensor is a fresh float32 copy of the last position's
    logits, and the only other holder is the ``output_logits`` tuple. Conservative otherwise."""
    if extra:  # another custom processor might keep the tensor it returned
        return False
    if any(kwargs.get(k) is not None for k in ("assistant_model", "prompt_lookup_num_tokens", "synced_gpus")):
        return False
    for key in ("output_logits", "prompt_lookup_num_tokens"):
        for cfg in (gen_cfg, getattr(model, "generation_config", None)):
            if key not in kwargs and cfg is not None and getattr(cfg, key, None):
                return False
    return not kwargs.get("output_logits", False)


def generated_steps(
    tokenizer: Any,
    sequences: Any,
    prompt_len: int,
    entropy: Any,
    is_fork: Any,
    eos_token_id: int | Sequence[int] | None = None,
) -> list[list[dict[str, Any]]]:
    """Per row, the generated tokens with the entropy and fork flag the processor recorded for them.

    Args:
        tokenizer: the model's tokenizer (for the token strings).
        sequences: ``generate``'s output ``[B, prompt_len + steps]``.
        prompt_len: width of the (left-padded) prompt batch.
        entropy, is_fork: ``DualTemperatureLogitsProcessor.history()`` (``[B, steps]`` each).
        eos_token_id: id(s) that end a row (default: the tokenizer's EOS). A row is cut after its first
            EOS (kept, it was a sampled step); later steps were padding and are dropped.

    Returns:
        One list per row of ``{"token", "id", "entropy", "fork"}`` dicts.
    """
    new = sequences[:, prompt_len:]
    if tuple(entropy.shape) != tuple(new.shape) or tuple(is_fork.shape) != tuple(new.shape):
        raise ValueError(
            f"history {tuple(entropy.shape)} does not match the generated tokens {tuple(new.shape)}: "
            "reset the processor before generate (dual_temperature_generate does) and pass this call's output"
        )
    eos = eos_token_id if eos_token_id is not None else tokenizer.eos_token_id
    eos_set = {int(e) for e in (eos if isinstance(eos, (list, tuple, set)) else [eos]) if e is not None}
    rows = []
    for ids, hs, fs in zip(new.tolist(), entropy.tolist(), is_fork.tolist()):
        row = []
        for tid, h, f in zip(ids, hs, fs):
            row.append({"token": tokenizer.decode([tid]), "id": int(tid), "entropy": float(h), "fork": bool(f)})
            if tid in eos_set:
                break
        rows.append(row)
    return rows
