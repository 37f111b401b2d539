"""Prefill each distinct prompt once when ``generate`` samples several completions of it.

``model.generate(..., num_return_sequences=n)`` -- and TRL's GRPO, which puts every prompt ``num_generations``
times in a row into one batch -- first runs the *prefill*: one forward pass over every row's whole prompt, which
fills the KV cache. With ``n`` copies of each prompt that pass computes every prompt ``n`` times over. On the toy
models of this series it is a third of a held-out evaluation's time.

:func:`shared_prefill` (a context manager) and :func:`install_shared_prefill` (for good) make the prefill of one
``generate`` call compute only the distinct rows when the batch's rows come in runs of ``k > 1`` identical rows
(same token ids, same attention mask), then repeat the last position's logits and every layer's cached keys and
values ``k`` times. Everything after the prefill -- the decoding loop, the sampling, its random numbers -- is
transformers' own, unchanged.

**Same numbers.** A row's forward pass does not depend on the other rows of its batch as long as the matrix
products compute each row alike whatever the batch size, which holds for torch's CPU kernels here:
``tests/unit/test_shared_prefill.py`` checks that the sampled token ids are exactly those of the plain ``generate``,
and every RL run of the series repeats its committed results with it. Where that could fail (a GPU, whose kernels
pick tile sizes by shape), it is off: only CPU models are deduplicated. A batch whose rows are not in runs of
identical rows, a cache that is not transformers' dynamic cache, or any model input it does not know is passed
through untouched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

__all__ = ["install_shared_prefill", "run_length", "shared_prefill"]

_ROW_KEYS = ("attention_mask", "position_ids", "token_type_ids")  # (batch, length) inputs the prefill may slice
_PASS_KEYS = ("cache", "past_key_values", "use_cache", "output_attentions", "output_hidden_states", "return_dict",
              "logits_to_keep", "cache_position")  # inputs without a batch dimension, passed as they are


def run_length(input_ids: torch.Tensor, *row_inputs: torch.Tensor) -> int:
    """``k`` if the rows of ``input_ids`` (and of each of ``row_inputs``, e.g. the attention mask, all
    ``(batch, length)``) come in consecutive runs of exactly ``k`` identical rows (``k`` the length of the first
    run, dividing the batch), else 1."""
    b = int(input_ids.shape[0])
    if b < 2 or input_ids.dim() != 2:
        return 1
    rows = torch.cat([input_ids, *(x.to(input_ids.dtype) for x in row_inputs)], dim=1)
    same_as_first = (rows == rows[0]).all(dim=1)
    k = int(same_as_first.long().cumprod(0).sum())
    if k < 2 or b % k:
        return 1
    groups = rows.view(b // k, k, -1)
    if not bool((groups == groups[:, :1]).all()):
        return 1
    return k


def _layers(cache: Any) -> list[Any] | None:
    layers = getattr(cache, "layers", None)
    if not isinstance(layers, list) or not all(hasattr(x, "keys") and hasattr(x, "values") for x in layers):
        return None
    return layers


def _shared(orig: Any) -> Any:
    def _prefill(input_ids: torch.Tensor, generation_config: Any, model_kwargs: dict[str, Any], *args: Any,
                 **kwargs: Any) -> Any:
        cache = model_kwargs.get("cache", model_kwargs.get("past_key_values"))
        unknown = [k for k, v in model_kwargs.items()
                   if k not in _ROW_KEYS + _PASS_KEYS and (torch.is_tensor(v) or k.endswith("_values"))]
        rowwise = {key: v for key in _ROW_KEYS if (v := model_kwargs.get(key)) is not None}
        k = 1
        if (input_ids.device.type == "cpu" and not unknown and cache is not None and _layers(cache) is not None
                and cache.get_seq_length() == 0
                and all(torch.is_tensor(v) and tuple(v.shape) == tuple(input_ids.shape) for v in rowwise.values())):
            k = run_length(input_ids, *rowwise.values())
        if k == 1:
            return orig(input_ids, generation_config, model_kwargs, *args, **kwargs)
        sub = dict(model_kwargs) | {key: v[::k] for key, v in rowwise.items()}
        out = orig(input_ids[::k], generation_config, sub, *args, **kwargs)
        for layer in _layers(cache) or []:
            layer.keys = layer.keys.repeat_interleave(k, dim=0)
            layer.values = layer.values.repeat_interleave(k, dim=0)
        out["logits"] = out.logits.repeat_interleave(k, dim=0)
        return out

    _prefill.__shared_prefill__ = True  # type: ignore[attr-defined]
    return _prefill


def install_shared_prefill(model: Any) -> Any:
    """Give ``model`` (a transformers generation model) the shared prefill for good; returns ``model``. Installing
    twice is a no-op; :func:`shared_prefill` does it for one block."""
    orig = getattr(model, "_prefill", None)
    if orig is None or getattr(orig, "__shared_prefill__", False):
        return model
    model._prefill = _shared(orig)
    return model


@contextlib.contextmanager
def shared_prefill(model: Any) -> Iterator[Any]:
    """Within the block, ``model.generate`` prefills each distinct prompt once (see the module docstring)."""
    had = "_prefill" in vars(model)
    before = vars(model).get("_prefill")
    install_shared_prefill(model)
    try:
        yield model
    finally:
        if had:
            model._prefill = before
        else:
            vars(model).pop("_prefill", None)
