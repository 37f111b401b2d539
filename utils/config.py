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

YAML (:func:`load_yaml`): every YAML file of the project (run configs, ``configs/margins.yaml``, ``--set`` values) is
read by one strict loader, which refuses what YAML 1.1 reads other than a reader means: a key given twice (the last
would win, dropping the first block whole), a key that is not text (``1:``, ``~:``), an integer with a leading zero
(``010`` is octal 8) and a sexagesimal number (``1:30`` is 90).
"""

from __future__ import annotations

import functools
import os
import random
import re
from pathlib import Path
from typing import Any, TypeVar

from utils.errors import UsageError

PROFILE_ENV = "FORKING_TOKENS_PROFILE"
PROFILES = ("ci", "default", "full")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
BUILD_DIR = REPO_ROOT / "build"

T = TypeVar("T")


class ProfileError(ValueError):
    """An unknown run profile (the message says which ones exist)."""


class YAMLInputError(UsageError):
    """A YAML text the strict loader refuses (:func:`load_yaml`); the message names the file, line and key."""


#: Integers YAML 1.1 reads other than they look: a leading zero (``010`` -> 8, octal) or base 60 (``1:30`` -> 90).
_AMBIGUOUS_NUMBER = re.compile(r"[-+]?0[0-9_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


@functools.cache
def _strict_loader() -> type:
    """The :class:`yaml.SafeLoader` subclass :func:`load_yaml` reads with (built on first use: PyYAML is imported
    only by the commands that read YAML)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that checks the whole node tree before building it: no key twice in one mapping,
        text keys only, no leading-zero or sexagesimal numbers (:class:`YAMLInputError` naming the key)."""

        where = "YAML"
        one_line = False  # a one-line text (a --set value): no line number in messages

        def construct_document(self, node: Any) -> Any:
            self._check(node, "", set())
            return super().construct_document(node)

        def _fail(self, node: Any, key: str, what: str) -> None:
            at = self.where if self.one_line else f"{self.where}: line {node.start_mark.line + 1}"
            raise YAMLInputError(f"{at}: {key + ': ' if key else ''}{what}")

        def _check(self, node: Any, path: str, seen: set[int]) -> None:
            if id(node) in seen:  # an alias of a node checked already (or a recursive one)
                return
            seen.add(id(node))
            if isinstance(node, yaml.MappingNode):
                keys: set[str] = set()
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.tag == "tag:yaml.org,2002:merge":
                        self._check(v, path, seen)
                        continue
                    if not isinstance(k, yaml.ScalarNode) or k.tag != "tag:yaml.org,2002:str":
                        shown = k.value if isinstance(k, yaml.ScalarNode) else type(k).__name__
                        self._fail(k, path, f"key {shown!r} is not text (quote it, e.g. '{shown}':)")
                    name = f"{path}.{k.value}" if path else k.value
                    if k.value in keys:
                        self._fail(k, name, "this key appears twice in one mapping (YAML keeps only the last); "
                                            "give it once")
                    keys.add(k.value)
                    self._check(v, name, seen)
            elif isinstance(node, yaml.SequenceNode):
                for i, v in enumerate(node.value):
                    self._check(v, f"{path}[{i}]", seen)
            elif node.tag in _NUMBER_TAGS and node.style is None and _AMBIGUOUS_NUMBER.fullmatch(node.value):
                reading = self.construct_object(node)
                why = "a colon makes it base 60" if ":" in node.value else "a leading zero makes it octal"
                self._fail(node, path, f"{node.value} is ambiguous (YAML 1.1 reads it as {reading!r}: {why}); "
                                       "write the number you mean, or quote it if it is text")

    return StrictLoader


def load_yaml(text: str, where: str = "YAML") -> Any:
    """``text`` read as YAML by the strict loader (see the module docstring); ``where`` (a file name, an option)
    starts every error message. Raises :class:`YAMLInputError` for what the loader refuses and ``yaml.YAMLError``
    for text that is not YAML."""
    loader = _strict_loader()(text)
    loader.where, loader.one_line = where, "\n" not in text.strip()
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


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


class ConfigError(UsageError):
    """A config file or override is invalid; the message names the file and the key (a ``ValueError``; the command
    lines give it as one line with exit code 2)."""


MARGINS_PATH = REPO_ROOT / "configs" / "margins.yaml"


def margins(section: str = "05") -> dict[str, Any]:
    """The ``section`` block of ``configs/margins.yaml`` (margins and pre-registered choices, with reasons)."""
    import yaml

    try:
        data = load_yaml(MARGINS_PATH.read_text(encoding="utf-8"), "configs/margins.yaml")
    except YAMLInputError as e:  # a key given twice, 010, 1:30 (the strict loader's message names the key)
        raise ConfigError(str(e)) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"configs/margins.yaml: cannot be read ({type(e).__name__})") from None
    if not isinstance(data, dict) or section not in data:
        raise ConfigError(f"configs/margins.yaml: no section {section!r}")
    return data[section]
