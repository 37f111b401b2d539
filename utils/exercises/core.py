"""The machinery every exercise check shares: the one-sentence failure, the comparison, the one-line report and the
registry of checks. The checks themselves are in one module per notebook (:mod:`utils.exercises.nb01` ...
``nb06``), which each import this module and not each other's internals."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["CHECKS", "ExerciseFailed", "close", "register", "run_check", "slips", "use"]


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


def _same(a: Any, b: Any, atol: float) -> bool:
    """Whether ``a`` and ``b`` have one shape and agree within ``atol`` (and rtol 1e-4; NaN equals NaN)."""
    a = a.detach().double() if isinstance(a, torch.Tensor) else torch.as_tensor(a, dtype=torch.float64)
    b = b.detach().double() if isinstance(b, torch.Tensor) else torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=atol, rtol=1e-4, equal_nan=True))


def slips(got: Any, want: Any, wrong: dict[str, Any], what: str, atol: float = 1e-5) -> None:
    """When ``got`` is not ``want`` but equals one of the usual mistakes in ``wrong`` (sentence -> what that mistake
    returns), raise :class:`ExerciseFailed` with ``what: sentence``; otherwise return (``close`` then reports any
    other difference). A mistake that happens to give the right answer on a case is never named."""
    if not isinstance(got, torch.Tensor) or _same(got, want, atol):
        return
    for why, bad in wrong.items():
        if _same(got, bad, atol):
            raise ExerciseFailed(f"{what}: {why}")


#: The outcome of the last check run (:func:`use` reads it): None before any, else (passed, why not).
_LAST: list[tuple[bool, str] | None] = [None]


def run_check(name: str, cases: Iterable[Callable[[], None]]) -> bool:
    """Run ``cases`` (each raises :class:`ExerciseFailed` with a sentence, or returns); print one line.

    Returns whether every case passed (the notebooks' check functions return None, so a cell shows only the line)."""
    n = 0
    why = ""
    try:
        for case in cases:
            case()
            n += 1
    except NotImplementedError:
        why = "not implemented yet"
        print(f"✗ {name}: not implemented yet -- replace `raise NotImplementedError` with your code")
    except ExerciseFailed as e:
        why = str(e)
        print(f"✗ {name}: {e}")
    except Exception as e:  # noqa: BLE001 - the learner's code may raise anything; say where, in one line
        where = traceback.extract_tb(e.__traceback__)[-1]
        why = f"your code raised {type(e).__name__}"
        print(f"✗ {name}: your code raised {type(e).__name__}: {e} (line {where.lineno})")
    else:
        print(f"✓ {name}: all {n} checks passed")
    _LAST[0] = (not why, why)
    return not why


def use(learner_fn: Callable[..., Any], check: Callable[[Callable[..., Any]], Any], library_fn: Callable[..., Any],
        name: str) -> Callable[..., Any]:
    """The function the next cells use: ``learner_fn`` when it passes ``check``, else ``library_fn``.

    Runs the check (which prints its one line) and prints one more line that says which function the next cells
    use: ``→ Exercise 1.1 done: the next cells use your `entropy_from_logits``` when it passes, else e.g.
    ``→ Exercise 1.1 not done yet: the next cells use the series' utils.entropy.token_entropy``, so the notebook goes on with the library's
    version (:mod:`utils.exercises.solutions` adapts it to the exercise's signature where they differ). In a notebook:
    ``find_forks = use(find_forks, check_find_forks, fork_tokens, "Exercise 1.2")``."""
    _LAST[0] = None
    check(learner_fn)
    outcome = _LAST[0]
    if outcome is not None and outcome[0]:
        print(f"→ {name} done: the next cells use your `{getattr(learner_fn, '__name__', name)}`")
        return learner_fn
    lib = f"{getattr(library_fn, '__module__', '') or ''}.{getattr(library_fn, '__qualname__', repr(library_fn))}".lstrip(".")
    state = "not done yet" if outcome is None or outcome[1] == "not implemented yet" else "does not pass its check yet"
    print(f"→ {name} {state}: the next cells use the series' {lib}")
    return library_fn


#: Every check, by name (tests/unit/test_exercises.py runs each notebook's solution through its check).
CHECKS: dict[str, Callable[..., None]] = {}


def register(fn: Callable[..., None]) -> Callable[..., None]:
    """Add a check to :data:`CHECKS` (a decorator)."""
    CHECKS[fn.__name__] = fn
    return fn

