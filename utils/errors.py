"""Error types that several layers raise and every command line reports as a usage error (one line, exit code 2).

They live here, below everything else, so that a library module can raise them and :mod:`utils.infra.cli` can catch them
without either importing the other (``utils.infra.cli`` once imported ``utils.models`` for its error type, and
``utils.models`` imports ``utils.toy_lm``, whose command line imports ``utils.infra.cli``: an import circle).
"""

from __future__ import annotations

__all__ = ["ModelUnavailableError", "UsageError"]


class UsageError(ValueError):
    """A bad input found after parsing (exit code 2, one line)."""


class ModelUnavailableError(RuntimeError):
    """A model cannot be loaded here; the message says what to do."""
