"""utils.rlvr.config: every shipped config parses in every profile; a bad config is rejected completely, up front,
with one line naming the file and the key; run sizes live in the configs' profile blocks only."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.config import PROFILES, REPO_ROOT
from utils.rlvr.config import ConfigError, RunConfig, config_path, load_config, parse_value, run_config_paths

# every run config; configs/margins.yaml holds the notebooks' pre-registered margins, not a run (utils.entropy_bonus.arms)
CONFIGS = run_config_paths()


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO_ROOT / "configs")))
def test_every_config_parses_in_every_profile(path: Path) -> None:
    for prof in PROFILES:
        cfg = load_config(path, profile=prof)
        assert isinstance(cfg, RunConfig) and cfg.name


def test_names_and_paths() -> None:
    assert config_path("countdown_top20") == config_path("configs/countdown_top20.yaml")
    assert load_config("countdown_top20", profile="default").name == "04_top20"
    with pytest.raises(ConfigError, match="not found"):
        load_config("configs/nope.yaml")


def _write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: 3\nstepz: 4\n", "unknown key 'stepz' \\(did you mean 'steps'\\?\\)"),
        ("steps: 3\nprofiles:\n  full: {eval_nn: 4}\n", "profiles.full.*unknown key 'eval_nn'"),  # inactive block
        ("steps: 3\nprofiles:\n  fulll: {steps: 4}\n", "unknown profile block 'fulll'"),
        ("steps: 3\nprofiles:\n  full: {steps: many}\n", "steps must be a number"),
        ("learning_rate: abc\n", "learning_rate must be a number"),
        ("steps: 2.5\n", "steps must be a whole number"),
        ("condition: middle\n", "condition must be one of"),
        ("condition: bottom\nrho: 1.0\n", "bottom keeps 1 - rho"),
        ("rho: 0\n", "rho must be in"),
        ("temperature: -1\n", "temperature must be a finite number > 0"),
        ("track_updates: maybe\n", "track_updates must be true or false"),
        ("- a\n- b\n", "must be a mapping"),
        ("steps: [\n", "not valid YAML"),
        ("extends: missing.yaml\n", "extends 'missing.yaml', which does not exist"),
    ],
)
def test_bad_configs_fail_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        load_config(_write(tmp_path, text), profile="ci")
    assert "\n" not in str(e.value)


def test_numbers_yaml_reads_as_strings_are_floats(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "learning_rate: 3e-4\nsteps: '7'\n"), profile="default")
    assert cfg.learning_rate == pytest.approx(3e-4) and isinstance(cfg.learning_rate, float) and cfg.steps == 7
    assert load_config("countdown_top20", profile="ci", learning_rate="1e-3").learning_rate == pytest.approx(1e-3)


def test_extends_merges_fields_and_profile_blocks(tmp_path: Path) -> None:
    _write(tmp_path, "steps: 10\nrho: 0.2\ncondition: top\nprofiles:\n  ci: {steps: 2, eval_n: 4}\n", "base.yaml")
    child = _write(tmp_path, "extends: base.yaml\nnormaliser: selected\nprofiles:\n  ci: {eval_n: 8}\n", "child.yaml")
    cfg = load_config(child, profile="ci")
    assert (cfg.name, cfg.steps, cfg.eval_n, cfg.rho, cfg.normaliser) == ("child", 2, 8, 0.2, "selected")
    loop = _write(tmp_path, "extends: loop.yaml\n", "loop.yaml")
    with pytest.raises(ConfigError, match="loops"):
        load_config(loop)


def test_replace_and_set_values() -> None:
    cfg = load_config("countdown_top20", profile="ci")
    assert cfg.replace(steps="5").steps == 5
    with pytest.raises(ConfigError, match="unknown key 'stepz'"):
        cfg.replace(stepz=5)
    assert parse_value("0.2") == 0.2 and parse_value("true") is True and parse_value("top") == "top"
    assert parse_value("[1, 2]") == [1, 2] and parse_value("null") is None


def test_notebook_05_configs_differ_only_in_shaping() -> None:
    files = {"grpo": "countdown_entadv_grpo", "paper": "countdown_entadv", "seed": "countdown_entadv_seed"}
    for prof in PROFILES:
        cfgs = {k: load_config(f, profile=prof) for k, f in files.items()}
        assert cfgs["grpo"].advantage == "grpo" and cfgs["paper"].variant == "paper" and cfgs["seed"].variant == "seed"
        strip = lambda c: {k: v for k, v in vars(c).items() if k not in ("name", "advantage", "variant", "alpha")}  # noqa: E731
        assert strip(cfgs["grpo"]) == strip(cfgs["paper"]) == strip(cfgs["seed"])


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(["steps", "rho", "learning_rate", "condition", "eval_n", "bogus", "temperature", "bf16"]),
    value=st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=8),
                    st.lists(st.integers(), max_size=2)),
    profile=st.sampled_from(["ci", "default", "full", "fulll", None]),
)
def test_config_loader_never_crashes_on_junk(tmp_path_factory: pytest.TempPathFactory, key: str, value: object,
                                             profile: str | None) -> None:
    import yaml

    d = tmp_path_factory.mktemp("junk")
    block = {key: value}
    raw = {"steps": 2, "profiles": {profile: block}} if profile else {"steps": 2, **block}
    p = d / "j.yaml"
    p.write_text(yaml.safe_dump(raw))
    try:
        cfg = load_config(p, profile="ci")
    except ConfigError as e:
        assert "\n" not in str(e)
    else:
        assert isinstance(cfg, RunConfig)


def test_new_05_arms_differ_from_their_baselines_only_in_the_intervention() -> None:
    """Notebook 05's arms: each config equals its baseline except the fields of its intervention, and the old
    arms keep their defaults (psi_cap true, no grpo_overrides), so their committed runs still resume."""
    from utils.rlvr import load_config

    def diff(a: str, b: str) -> dict:
        da, db = asdict(load_config(a, profile="full")), asdict(load_config(b, profile="full"))
        return {k: (da[k], db[k]) for k in da if k != "name" and da[k] != db[k]}

    assert diff("countdown_entadv_uncapped", "countdown_entadv") == {"psi_cap": (False, True)}
    assert diff("countdown_entadv_uncapped_a4", "countdown_entadv_a4") == {"psi_cap": (False, True)}
    assert diff("countdown_entadv_cliphigh", "countdown_entadv_grpo_mu2") == {"epsilon_high": (0.28, 0.2)}
    assert diff("countdown_entadv_grpo_mu2", "countdown_entadv_grpo") == {
        "epsilon_high": (0.2, 0.28), "grpo_overrides": ({"num_iterations": 2}, {})}
    for old in ("countdown_entadv", "countdown_entadv_grpo", "countdown_entadv_a4"):
        c = load_config(old, profile="full")
        assert c.psi_cap is True and c.grpo_overrides == {}
