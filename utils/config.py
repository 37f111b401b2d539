"""Run profiles, paths and seeding: read in one place, used everywhere.

The run profile comes from one environment variable, ``FORKING_TOKENS_PROFILE``:

* ``ci``      -- the short profile the tests and CI run (whole series in a few minutes);
* ``default`` -- what a learner runs: each notebook finishes in <= 10 min on 2 CPU cores;
* ``full``    -- the complete reproduction (more seeds, samples and steps).

Unset, it is ``ci`` when ``CI=true`` and ``default`` otherwise.

Outputs: in the ``default`` and ``full`` profiles figures go to ``figures/`` and results to
``data/results/`` (the committed ones). The ``ci`` profile writes to ``build/ci/`` instead, so that
running the tests never overwrites the committed figures and results with short-run versions.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TypeVar

PROFILE_ENV = "FORKING_TOKENS_PROFILE"
PROFILES = ("ci", "default", "full")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"

T = TypeVar("T")


def get_profile() -> str:
    """Return the active run profile (``ci``, ``default`` or ``full``)."""
    raw = os.environ.get(PROFILE_ENV, "").strip().lower()
    if not raw:
        return "ci" if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes") else "default"
    if raw not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={raw!r} is not a run profile; set it to one of {', '.join(PROFILES)} (or unset it)."
        )
    return raw


def pick(ci: T, default: T, full: T, profile: str | None = None) -> T:
    """Choose a value by run profile: ``pick(ci=50, default=500, full=5000)``."""
    p = profile or get_profile()
    return {"ci": ci, "default": default, "full": full}[p]


def figures_dir(profile: str | None = None) -> Path:
    """Where figures go: ``figures/`` (default/full) or ``build/ci/figures`` (ci)."""
    p = profile or get_profile()
    d = REPO_ROOT / "build" / "ci" / "figures" if p == "ci" else REPO_ROOT / "figures"
    d.mkdir(parents=True, exist_ok=True)
    return d


def results_dir(profile: str | None = None) -> Path:
    """Where result JSON goes: ``data/results`` (default/full) or ``build/ci/results`` (ci)."""
    p = profile or get_profile()
    d = REPO_ROOT / "build" / "ci" / "results" if p == "ci" else DATA_DIR / "results"
    d.mkdir(parents=True, exist_ok=True)
    return d


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU runs then repeat bit-for-bit for a fixed thread count).

    It does not switch on ``torch.use_deterministic_algorithms``: the CPU kernels used here are
    deterministic already, and that switch made the task model's backward pass ~10x slower on CPU
    (deterministic embedding backward). The bit-for-bit retraining test guards this.
    """
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover
        pass
