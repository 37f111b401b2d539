"""Argument checks shared by the library's public functions: one clear ``ValueError`` instead of a wrong answer.

* :func:`temperature` -- a finite number >= :data:`MIN_TEMPERATURE` (``allow_zero=True``: 0 too, for greedy
  decoding); numpy and torch scalars are accepted, ``bool``, NaN and infinities are not.
* :func:`whole` -- a whole number (``int``, a numpy integer, or an integral float such as ``8.0``); ``2.7`` is
  rejected, never truncated.
* :func:`positive_int` -- a whole number >= 1 (sizes, counts, chunk and batch sizes).
* :func:`seed` -- a whole number from 0 to :data:`MAX_SEED` (``random.Random(-5)`` is ``random.Random(5)``).
* :func:`seeds` -- a non-empty list of distinct whole numbers from 0 to :data:`MAX_SEED` (a repeated seed is not an
  independent sample).
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

__all__ = ["MAX_SEED", "MIN_TEMPERATURE", "positive_int", "seed", "seeds", "temperature", "whole"]

#: The lowest sampling temperature accepted (0 aside, where greedy decoding is meant). Below it sampling is greedy
#: decoding in all but name, and logits / T overflows float32 near 1e-38 (``1e-40`` gave NaN probabilities).
MIN_TEMPERATURE = 0.01
#: The largest seed accepted: NumPy's and torch's seeding take 32-bit numbers (``np.random.seed(2**32)`` fails).
MAX_SEED = 2**32 - 1


def _scalar(value: Any) -> Any:
    """A 0-d numpy array or a one-element torch tensor as a Python number; anything else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        return item()
    return value


def temperature(value: Any, name: str = "temperature", allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite number >= :data:`MIN_TEMPERATURE` (or 0 with ``allow_zero``), else
    ``ValueError``."""
    v = _scalar(value)
    if isinstance(v, bool) or not isinstance(v, Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(v)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "a finite number >= 0 (0: greedy)" if allow_zero else "a finite number > 0"
        raise ValueError(f"{name} must be {need}, got {value!r}")
    if 0 < v < MIN_TEMPERATURE:
        greedy = "; 0 is greedy decoding" if allow_zero else ""
        raise ValueError(f"{name} must be >= {MIN_TEMPERATURE:g} (lower ones are greedy in all but name and overflow "
                         f"the logits{greedy}), got {value!r}")
    return v


def whole(value: Any, name: str, minimum: int | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number (``8`` or ``8.0``; not ``7.5``, ``True`` or ``"8"``) and at least
    ``minimum``, else ``ValueError``."""
    v = _scalar(value)
    if isinstance(v, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(v, Integral):
        out = int(v)
    elif isinstance(v, Real) and math.isfinite(float(v)) and float(v).is_integer():
        out = int(v)
    else:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return out


def positive_int(value: Any, name: str) -> int:
    """``value`` as an ``int`` if it is a whole number >= 1 (a size, a count, a batch size), else ``ValueError``."""
    return whole(value, name, minimum=1)


def seed(value: Any, name: str = "seed") -> int:
    """``value`` as an ``int`` if it is a whole number from 0 to :data:`MAX_SEED`, else ``ValueError`` (a negative seed
    is not another seed: Python's ``random`` folds it to its absolute value, so -5 would repeat 5)."""
    v = whole(value, name, minimum=0)
    if v > MAX_SEED:
        raise ValueError(f"{name} must be <= {MAX_SEED} (2^32 - 1, NumPy's and torch's largest seed), got {value!r}")
    return v


def seeds(values: Any, name: str = "seeds") -> list[int]:
    """``values`` as a list of ints if it is a non-empty sequence of distinct whole numbers in [0, :data:`MAX_SEED`],
    else ``ValueError`` (a repeated seed repeats the same sample: counting it twice would shrink the confidence
    interval for nothing)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of whole numbers >= 0, got {values!r:.60}")
    out = [whole(v, f"every one of {name}", minimum=0) for v in values]
    if any(s > MAX_SEED for s in out):
        raise ValueError(f"every one of {name} must be <= {MAX_SEED} (2^32 - 1, NumPy's and torch's largest seed), "
                         f"got {max(out)}")
    if not out:
        raise ValueError(f"{name} is empty: pass at least one seed")
    repeated = sorted({s for s in out if out.count(s) > 1})
    if repeated:
        raise ValueError(f"{name} must be distinct (a repeated seed is the same sample again, not an independent one); "
                         f"repeated: {', '.join(map(str, repeated))}")
    return out
