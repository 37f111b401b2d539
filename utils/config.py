"""Run profiles, paths and seeding: read in one place, used everywhere.

The run profile comes from one environment variable, ``FORKING_TOKENS_PROFILE``:

* ``ci``      -- the short profile the tests and CI run (whole series in a few minutes);
* ``default`` -- what a learner runs: each notebook finishes in <= 10 min on 2 CPU cores;
* ``full``    -- the complete reproduction (more seeds, samples and steps).

Unset, it is ``ci`` when ``CI=true`` and ``default`` otherwise; case and surrounding spaces do not matter
(``CI`` is ``ci``), anything else is rejected by :func:`resolve_profile`, the one place every entry point
(notebooks, ``utils.reproduce``, ``utils.rlvr``) checks a profile.

Outputs (:func:`figures_dir`, :func:`results_dir`):

* ``default`` writes the committed ``figures/`` and ``data/results/``;
* ``full`` writes its results to ``data/results/full/`` (committed: the default notebooks show them in their
  "precomputed" sections, read through :func:`precomputed_dir`) and its figures to ``build/full/figures``;
* ``ci`` writes everything under ``build/ci/``, so running the tests never overwrites committed files.
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
BUILD_DIR = REPO_ROOT / "build"

T = TypeVar("T")


class ProfileError(ValueError):
    """An unknown run profile (the message says which ones exist)."""


def resolve_profile(value: str | None = None) -> str:
    """The run profile ``value`` names (``None``: the environment's, see :func:`get_profile`), normalised to
    lower case; raises :class:`ProfileError` for anything but ``ci``, ``default`` or ``full``."""
    if value is None:
        return get_profile()
    raw = str(value).strip().lower()
    if raw not in PROFILES:
        raise ProfileError(f"{value!r} is not a run profile; use one of {', '.join(PROFILES)}")
    return raw


def get_profile() -> str:
    """Return the active run profile (``ci``, ``default`` or ``full``) from ``FORKING_TOKENS_PROFILE``."""
    raw = os.environ.get(PROFILE_ENV, "").strip().lower()
    if not raw:
        return "ci" if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes") else "default"
    if raw not in PROFILES:
        raise ProfileError(
            f"{PROFILE_ENV}={os.environ.get(PROFILE_ENV)!r} is not a run profile; set it to one of "
            f"{', '.join(PROFILES)} (or unset it)."
        )
    return raw


def pick(ci: T, default: T, full: T, profile: str | None = None) -> T:
    """Choose a value by run profile: ``pick(ci=50, default=500, full=5000)``."""
    return {"ci": ci, "default": default, "full": full}[resolve_profile(profile)]


def figures_dir(profile: str | None = None) -> Path:
    """Where figures go: ``figures/`` (default), ``build/full/figures`` (full) or ``build/ci/figures`` (ci)."""
    p = resolve_profile(profile)
    d = REPO_ROOT / "figures" if p == "default" else BUILD_DIR / p / "figures"
    d.mkdir(parents=True, exist_ok=True)
    return d


def results_dir(profile: str | None = None) -> Path:
    """Where result JSON goes: ``data/results`` (default), ``data/results/full`` (full) or ``build/ci/results``."""
    p = resolve_profile(profile)
    d = {"default": DATA_DIR / "results", "full": DATA_DIR / "results" / "full", "ci": BUILD_DIR / "ci" / "results"}[p]
    d.mkdir(parents=True, exist_ok=True)
    return d


def notebooks_out_dir(profile: str | None = None) -> Path:
    """Where ``utils.reproduce`` writes executed notebooks: ``notebooks/`` (default) or ``build/<profile>/notebooks``."""
    p = resolve_profile(profile)
    return REPO_ROOT / "notebooks" if p == "default" else BUILD_DIR / p / "notebooks"


def precomputed_dir() -> Path:
    """The committed results of the ``full`` profile, which every profile's notebooks may show
    ("precomputed by ``make reproduce PROFILE=full``")."""
    return DATA_DIR / "results" / "full"


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
