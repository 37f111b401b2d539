"""Checks and coercion of single config values, for :class:`utils.rlvr.config.RunConfig` and its files: a value of
a field's type (:func:`coerce_value`: numbers from text, ints only from whole numbers), within its bounds
(:func:`check_number`), one of its choices (:func:`check_choice`); :class:`ConfigError` (one line naming the field)
otherwise."""

from __future__ import annotations

import math
import types
import typing
from typing import Any

from utils.config import ConfigError

__all__ = ["MAX_NAME_BYTES", "MAX_WHOLE", "check_choice", "check_number", "coerce_int", "coerce_value", "short_repr"]

#: The longest ``name`` (UTF-8 bytes): it names files (``<name>_seed<seed>.json`` and their temporary twins), and a
#: file name longer than 255 bytes is ENAMETOOLONG.
MAX_NAME_BYTES = 150
#: The largest whole number a count field takes (steps, sizes): torch and TRL keep counts in fixed-width integers.
MAX_WHOLE = 2**31 - 1


def short_repr(value: Any) -> str:
    """``value`` for an error message, cut to 40 characters (a 300-digit number stays one short line)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}... ({len(text)} characters)"


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """:class:`ConfigError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def check_number(name: str, v: float, minimum: float | None = None, above: float | None = None,
                 maximum: float | None = None, below: float | None = None, shown: str | None = None,
                 why: str = "") -> None:
    """:class:`ConfigError` unless ``v`` is finite and within the bounds given (``shown``: how to say them)."""
    ok = math.isfinite(v) and (minimum is None or v >= minimum) and (above is None or v > above) and (
        maximum is None or v <= maximum) and (below is None or v < below)
    if not ok:
        bounds = shown or "a finite number " + " and ".join(
            f"{op} {b:g}" for op, b in ((">=", minimum), (">", above), ("<=", maximum), ("<", below)) if b is not None)
        raise ConfigError(f"{name} must be {bounds}{f' ({why})' if why else ''}, got {v!r}")


def coerce_int(name: str, v: Any) -> int:
    """``v`` as an int if it is a whole number (``2.0`` -> 2), else :class:`ConfigError`."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or isinstance(v, float) and not v.is_integer():
        raise ConfigError(f"{name} must be a whole number, got {v!r}")
    return int(v)


def coerce_value(hint: Any, name: str, value: Any) -> Any:
    """A value for field ``name`` of type ``hint`` (a type hint: ``int``, ``float | None``, ``dict[str, Any]``, ...):
    numbers from strings (``"3e-4"``), ints only from whole numbers, ``None`` only for optional types."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0]
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{name} cannot be empty (null)")
    origin = typing.get_origin(hint) or hint
    if origin is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if origin in (int, float):
        v = value
        if isinstance(v, str):
            try:
                v = float(v.strip())
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {value!r}") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        try:
            v = float(v)
        except OverflowError:  # a 300-digit integer: no float holds it
            raise ConfigError(f"{name} must be a finite number, got {short_repr(value)}") from None
        if origin is int:
            if not v.is_integer():
                raise ConfigError(f"{name} must be a whole number, got {short_repr(value)}")
            if abs(v) > MAX_WHOLE:
                raise ConfigError(f"{name} must be at most {MAX_WHOLE} (2^31 - 1), got {short_repr(value)}")
            return int(v)
        if math.isnan(v):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        return v
    if origin is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be text, got {value!r}")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{name} must be a mapping, got {value!r}")
        return dict(value)
    return value  # pragma: no cover - every field type is handled above
