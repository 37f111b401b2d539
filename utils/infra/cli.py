"""The shape every command line of the series shares (``python -m utils.<module> ...``).

* **Checked first.** Arguments are checked before anything heavy starts (a model load, training, a notebook);
  a bad one gives **one line** on stderr, ``<prog>: error: <what is wrong>``, and exit code **2** (a usage error:
  a bad argument, an unknown profile, a config that does not validate, a committed file without ``--force``, a
  missing or corrupt input file).
* **Any other failure** gives one line too, ``<prog>: error: <Type>: <message> (rerun with --debug for the
  traceback)``, and exit code 1. Ctrl-C (SIGINT) gives ``interrupted`` and exit code 130; SIGTERM gives
  ``interrupted`` too, with exit code 143 (128 + 15, what a shell reports for a process SIGTERM ended, so a
  supervisor can tell a termination from a Ctrl-C). Either way the code below unwinds first (``finally`` blocks,
  atomic writes abandoned), since SIGTERM is raised as :class:`Terminated`, a ``KeyboardInterrupt``.
* **From the first moment.** ``python -m utils.<module>`` installs :func:`install_early_signals` in
  ``utils/__init__`` before torch or any other heavy library imports: a Ctrl-C (or SIGTERM) while they import is
  the same one line and exit code, not a traceback; :func:`run` hands the signals back to the body.
* **Any terminal.** While the body runs, stdout and stderr write what their encoding cannot as escapes
  (``PYTHONIOENCODING=ascii`` and a non-ASCII ``--out``: ``saved to build/\xe9.json``, exit code 0), and a message
  echoing a library's coloured text loses its ANSI codes (:func:`strip_ansi`).
* ``--debug`` shows the traceback instead of the one line.
* Abbreviated options are not accepted (``--forc`` is not ``--force``).

Use: build the parser with :class:`Parser`, parse, then ``return run(lambda: body(args), prog, args.debug)``;
inside ``body`` raise :class:`UsageError` for a bad input found after parsing.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from utils.checks import MAX_SEED
from utils.config import REPO_ROOT, ProfileError
from utils.errors import ModelUnavailableError, UsageError
from utils.results import ResultsError

__all__ = ["MAX_SEED", "Extend", "Parser", "Terminated", "UsageError", "add_debug", "check_range", "check_seeds",
           "finite_float", "install_early_signals", "one_line", "path_arg", "printable", "run", "seed_arg",
           "strip_ansi", "temperature_arg", "whole_number"]




class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds like a Ctrl-C (exit code 143)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def _launched_prog() -> str:
    """``python -m utils.<module>`` as this process was started (``sys.orig_argv``), for the early one line."""
    argv = list(getattr(sys, "orig_argv", []))
    module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else "utils"
    return f"python -m {module}"


def _early_interrupt(signum: int, frame: Any) -> None:
    """The signal handler of :func:`install_early_signals`: nothing has started, so end at once with one line."""
    with contextlib.suppress(Exception):
        sys.stderr.write(f"{_launched_prog()}: interrupted\n")
        sys.stderr.flush()
    os._exit(143 if signum == signal.SIGTERM else 130)


def install_early_signals() -> None:
    """Until :func:`run` starts a command's body, SIGINT and SIGTERM end the process with ``<prog>: interrupted`` and
    exit code 130 / 143 instead of a ``KeyboardInterrupt`` traceback from inside an import (torch takes seconds to
    import; a Ctrl-C in the first second landed there). Called by ``utils/__init__`` for ``python -m utils.<module>``
    only, in the main thread, and only over Python's default handlers; nothing has been written yet, so exiting at
    once loses nothing."""
    if threading.current_thread() is not threading.main_thread():
        return
    for s in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(s) in (signal.default_int_handler, signal.SIG_DFL):
            signal.signal(s, _early_interrupt)


@contextlib.contextmanager
def _body_streams() -> Any:
    """While a body runs: SIGINT raises ``KeyboardInterrupt`` again (after :func:`install_early_signals`), and stdout
    and stderr write what their encoding cannot as backslash escapes instead of failing (a success message naming a
    non-ASCII path under ``PYTHONIOENCODING=ascii`` ended with exit code 1 after the file was written)."""
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGINT) is _early_interrupt:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    before = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if callable(getattr(stream, "reconfigure", None)) and errors not in (None, "backslashreplace"):
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="backslashreplace")
                before.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in before:
            with contextlib.suppress(Exception):
                stream.reconfigure(errors=errors)


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences (colours, cursor moves): a traceback line from a Jupyter kernel or a
    library's coloured message, shown in one plain line."""
    return _ANSI.sub("", text)


@contextlib.contextmanager
def _sigterm_raises() -> Any:
    """While the block runs (in the main thread), SIGTERM raises :class:`Terminated`; the handler is put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _usage_errors() -> tuple[type[BaseException], ...]:
    return (UsageError, ProfileError, ResultsError, FileExistsError, FileNotFoundError, NotADirectoryError,
            IsADirectoryError, ModelUnavailableError)


def printable(text: str) -> str:
    """``text`` with control characters (newlines, carriage returns, NUL, ...) written as escapes, so that a message
    echoing an argument stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def one_line(e: BaseException, first_line: bool = True) -> str:
    """An exception's message on one line, the repository's absolute path left out: its first non-empty line
    (``first_line``, for messages that may carry a library's details below), or all of it with control characters
    escaped (for the series' own messages, which may echo an argument)."""
    text = str(e).strip()
    if first_line:
        text = next((s.strip() for s in text.splitlines() if s.strip()), "")
    text = printable(strip_ansi(text).replace(str(REPO_ROOT) + "/", ""))
    return text or type(e).__name__


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line (``<prog>: error: ...``, exit code 2) and which does
    not accept abbreviated options. Subcommand parsers made with ``add_subparsers`` are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see --help)\n")


def run(body: Callable[[], int | None], prog: str, debug: bool = False) -> int:
    """Run a command's ``body`` and turn its failures into one line and an exit code (see the module docstring)."""
    try:
        with _sigterm_raises(), _body_streams():
            return int(body() or 0)
    except KeyboardInterrupt as e:
        if debug:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except _usage_errors() as e:
        if debug:
            raise
        print(f"{prog}: error: {one_line(e, first_line=False)}", file=sys.stderr)
        return 2
    except Exception as e:
        if debug:
            raise
        print(f"{prog}: error: {type(e).__name__}: {one_line(e)} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1


class Extend(argparse.Action):
    """``action=Extend`` for an option that takes several values (``nargs="*"``/``"+"``): given more than once, its
    values accumulate (``--set a=1 --set b=2`` is ``--set a=1 b=2``; argparse's default keeps only the last), and the
    default applies only when the option is absent (argparse's own ``"extend"`` would add to it)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        current = getattr(namespace, self.dest, None)
        items = [] if current is None or current is self.default else list(current)
        setattr(namespace, self.dest, items + list(values))


def seed_arg(text: str) -> int:
    """An argparse ``type`` for a seed: a whole number from 0 to :data:`MAX_SEED` (a negative seed is not another
    seed: Python's ``random`` folds it to its absolute value)."""
    v = whole_number(0)(text)
    if v > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be <= {MAX_SEED} (2^32 - 1, NumPy's and torch's largest seed), got {v}")
    return v


seed_arg.__name__ = "seed"


def whole_number(minimum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number (``"3"``, not ``"2.7"``), at least ``minimum`` when given."""

    def parse(text: str) -> int:
        try:
            v = int(text.strip())
        except (ValueError, AttributeError):
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if minimum is not None and v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
        return v

    parse.__name__ = "whole number"
    return parse


def finite_float(minimum: float | None = None, above: float | None = None, maximum: float | None = None,
                 ) -> Callable[[str], float]:
    """An argparse ``type``: a finite number, ``>= minimum`` / ``> above`` / ``<= maximum`` when given."""

    def parse(text: str) -> float:
        try:
            v = float(text.strip())
        except (ValueError, AttributeError):
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if minimum is not None and v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v:g}")
        if above is not None and v <= above:
            raise argparse.ArgumentTypeError(f"must be > {above}, got {v:g}")
        if maximum is not None and v > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {v:g}")
        return v

    parse.__name__ = "number"
    return parse


def temperature_arg(text: str) -> float:
    """An argparse ``type`` for a sampling temperature: a finite number >= ``utils.checks.MIN_TEMPERATURE`` (the floor
    every sampler checks), so that a temperature the sampler would refuse fails before any model loads."""
    from utils.checks import MIN_TEMPERATURE

    v = finite_float(above=0.0)(text)
    if v < MIN_TEMPERATURE:
        raise argparse.ArgumentTypeError(f"must be >= {MIN_TEMPERATURE:g} (lower ones are greedy in all but name and "
                                         f"overflow the logits), got {v:g}")
    return v


def path_arg(text: str) -> Path:
    """An argparse ``type`` for a file or folder: a ``Path``; empty text and NUL characters are refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a path cannot be empty")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    return Path(text)


def check_range(option: str, pair: Sequence[int], minimum: int = 1, maximum: int | None = None) -> tuple[int, int]:
    """``(lo, hi)`` from a two-number option, or :class:`UsageError` unless ``minimum <= lo <= hi (<= maximum)``."""
    lo, hi = (int(x) for x in pair)
    if lo > hi:
        raise UsageError(f"{option} LO HI needs LO <= HI, got {lo} {hi}")
    if lo < minimum:
        raise UsageError(f"{option} needs numbers >= {minimum}, got {lo} {hi}")
    if maximum is not None and hi > maximum:
        raise UsageError(f"{option} needs numbers <= {maximum}, got {lo} {hi}")
    return lo, hi


def check_seeds(option: str, seeds: Sequence[int]) -> list[int]:
    """``seeds`` as a list, or :class:`UsageError` unless they are distinct whole numbers >= 0 (``utils.checks.seeds``:
    ``--seeds 0 0 0`` is one sample counted three times, not three independent ones)."""
    from utils.checks import seeds as check

    try:
        return check(seeds, option)
    except ValueError as e:
        raise UsageError(str(e)) from None


def add_debug(parser: argparse.ArgumentParser) -> None:
    """The ``--debug`` flag: show the traceback of an error instead of one line."""
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
