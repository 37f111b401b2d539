"""The machinery every exercise check shares: the one-sentence failure, the comparison, the one-line report and the
registry of checks. The checks themselves are in :mod:`utils.exercises` (and :mod:`utils.exercises_baseline` for
notebook 05's mechanism), which both import this module and not each other's internals."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["CHECKS", "ExerciseFailed", "close", "exercise_done", "register", "run_check"]


class ExerciseFailed(AssertionError):
    """Raised inside a check's body with the one sentence to show the learner."""


def close(got: Any, want: Any, what: str, atol: float = 1e-5) -> None:
    g = torch.as_tensor(got, dtype=torch.float64) if not isinstance(got, torch.Tensor) else got.detach().double()
    w = torch.as_tensor(want, dtype=torch.float64) if not isinstance(want, torch.Tensor) else want.detach().double()
    if g.shape != w.shape:
        raise ExerciseFailed(f"{what}: expected shape {tuple(w.shape)}, got {tuple(g.shape)}")
    if not torch.allclose(g, w, atol=atol, rtol=1e-4, equal_nan=True):
        i = int((g - w).abs().nan_to_num(math.inf).flatten().argmax())
        raise ExerciseFailed(f"{what}: expected {w.flatten()[i].item():.6g}, got {g.flatten()[i].item():.6g} "
                             f"(first of the entries that differ)")


def run_check(name: str, cases: Iterable[Callable[[], None]]) -> None:
    """Run ``cases`` (each raises :class:`ExerciseFailed` with a sentence, or returns); print one line."""
    n = 0
    try:
        for case in cases:
            case()
            n += 1
    except NotImplementedError:
        print(f"✗ {name}: not implemented yet -- replace `raise NotImplementedError` with your code")
        return
    except ExerciseFailed as e:
        print(f"✗ {name}: {e}")
        return
    except Exception as e:  # noqa: BLE001 - the learner's code may raise anything; say where, in one line
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"✗ {name}: your code raised {type(e).__name__}: {e} (line {where.lineno})")
        return
    print(f"✓ {name}: all {n} checks passed")


#: Every check, by name (tests/test_exercises.py runs each notebook's solution through its check).
CHECKS: dict[str, Callable[..., None]] = {}


def register(fn: Callable[..., None]) -> Callable[..., None]:
    """Add a check to :data:`CHECKS` (a decorator)."""
    CHECKS[fn.__name__] = fn
    return fn


def exercise_done(check: Callable[[Callable[..., Any]], None], fn: Callable[..., Any]) -> bool:
    """Does the learner's ``fn`` pass ``check``? Runs the check silently; when it does not pass, prints one line
    saying the next cells use the library's version instead (so a notebook runs on before the exercise is done)."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        check(fn)
    ok = buf.getvalue().lstrip().startswith("✓")
    if not ok:
        print(f"(exercise not done yet: the next cells use the library's version of {getattr(fn, '__name__', 'it')})")
    return ok
