"""Issue 30's findings on inputs read other than given and on unclear errors, replayed (items 4, 5, 7, 8, 9, 10, 12,
14). Fast: no training here -- the command lines are parsed, the configs validated, the checks called directly;
the one trainer built is the stand-in's, without training."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from utils.config import REPO_ROOT, YAMLInputError, load_yaml
from utils.rlvr.config import ConfigError, load_config, run_config_paths


def _write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------------------------------ item 4: repeated options


def test_repeated_set_accumulates_and_a_conflict_names_the_key() -> None:
    """``--set rho=0.5 --set learning_rate=3e-4`` trained rho 0.2 (only the last --set counted)."""
    from utils.infra.cli import UsageError
    from utils.rlvr.__main__ import overrides, parser

    a = parser().parse_args(["run", "--config", "countdown_top20", "--set", "rho=0.5", "--set", "learning_rate=3e-4"])
    cfg = load_config(a.config, profile="ci", **overrides(a.set))
    assert cfg.rho == pytest.approx(0.5) and cfg.learning_rate == pytest.approx(3e-4)
    a = parser().parse_args(["run", "--config", "countdown_top20", "--set", "rho=0.5", "--set", "rho=0.5"])
    assert overrides(a.set) == {"rho": 0.5}  # the same request twice
    a = parser().parse_args(["run", "--config", "countdown_top20", "--set", "rho=0.5", "--set", "rho=0.3"])
    with pytest.raises(UsageError, match="--set rho is given twice, as 0.5 and 0.3"):
        overrides(a.set)


def test_cli_set_conflict_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from utils.rlvr.__main__ import main

    assert main(["run", "--config", "countdown_top20", "--profile", "ci", "--dry-run", "--standin",
                 "--set", "rho=0.5", "--set", "rho=0.3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set rho is given twice" in err


def test_repeated_nargs_options_accumulate_and_keep_defaults_only_when_absent() -> None:
    """``--only 01 --only 03`` ran notebook 03 only; every option taking several values adds up now, and a default
    list (``--seeds``, ``--rungs``) is replaced, not extended."""
    from utils import ladder, reproduce, toy_lm, traces

    assert reproduce.parser().parse_args(["--only", "01", "--only", "03"]).only == ["01", "03"]
    assert reproduce.parser().parse_args([]).only is None
    ev = toy_lm.parser()
    assert ev.parse_args(["evaluate", "--seeds", "3", "--seeds", "4"]).seeds == [3, 4]
    assert ev.parse_args(["evaluate"]).seeds == [0, 1, 2]
    assert ladder.parser().parse_args(["runs", "--rungs", "d48", "--rungs", "d96"]).rungs == ["d48", "d96"]
    assert ladder.parser().parse_args(["runs", "--models", "1", "--models", "2"]).models == [1, 2]
    sc = traces.parser().parse_args(["scores", "--temperatures", "1", "--temperatures", "2"])
    assert sc.temperatures == [1.0, 2.0]


# -------------------------------------------------------------------------------------------- item 5: grpo_overrides


@pytest.mark.parametrize("overrides, message", [
    ({"temperature": 0.001}, "may not set temperature: it comes from the config's field temperature"),
    ({"epsilon": 5}, "may not set epsilon"),
    ({"temperature": 0.0}, "may not set temperature"),
    ({"learning_rate": -1}, "may not set learning_rate"),
    ({"max_steps": 2}, "may not set max_steps: it comes from the config's field steps"),
    ({"seed": 3}, "may not set seed: it comes from the run's seed"),
    ({"logging_steps": 5}, "may not set logging_steps: the runner sets it"),
    ({"num_iterations": 0}, "grpo_overrides.num_iterations must be a finite number >= 1"),
    ({"num_iterations": 1.5}, "grpo_overrides.num_iterations must be a whole number"),
    ("{entropy_coef: .nan}", "grpo_overrides.entropy_coef must be a finite number"),
    ({"gradient_checkpointing": "yes"}, "grpo_overrides.gradient_checkpointing must be true or false"),
])
def test_grpo_overrides_are_checked_with_the_config(tmp_path: Path, overrides: dict | str, message: str) -> None:
    """``grpo_overrides: {temperature: 0.001}`` trained at T = 0.001 while the run JSON recorded 1.0; ``{epsilon: 5}``
    was taken; ``{temperature: 0}``, ``{learning_rate: -1}``, ``{max_steps: 2}`` failed after the model loaded. Now
    the config itself refuses them (a setting with a field is set there: checked and recorded as trained)."""
    p = _write(tmp_path, f"extends: {REPO_ROOT / 'configs' / 'countdown_top20.yaml'}\n"
                         f"grpo_overrides: {overrides if isinstance(overrides, str) else json.dumps(overrides)}\n")
    with pytest.raises(ConfigError, match=message) as e:
        load_config(p, profile="ci")
    assert "c.yaml" in str(e.value)


def test_grpo_overrides_without_a_field_are_kept_and_recorded() -> None:
    cfg = load_config("countdown_entadv_grpo_mu2", profile="ci")
    assert cfg.grpo_overrides == {"num_iterations": 2}
    assert cfg.replace(grpo_overrides={"num_iterations": 2.0}).grpo_overrides == {"num_iterations": 2}


def test_cli_grpo_override_fails_before_the_model_loads(capsys: pytest.CaptureFixture[str]) -> None:
    from utils.rlvr.__main__ import main

    assert main(["run", "--config", "countdown_top20", "--profile", "ci", "--dry-run",
                 "--set", "grpo_overrides={temperature: 0.001}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "grpo_overrides may not set temperature" in err


# ----------------------------------------------------------------------------------------------- item 7: strict YAML


@pytest.mark.parametrize("text, message", [
    ("steps: 2\nprofiles:\n  ci: {steps: 2}\n  ci: {eval_n: 4}\n", "line 4: profiles.ci: this key appears twice"),
    ("steps: 2\nsteps: 3\n", "line 2: steps: this key appears twice"),
    ("steps: 010\n", "steps: 010 is ambiguous (YAML 1.1 reads it as 8: a leading zero makes it octal)"),
    ("eval_every: 1:30\n", "eval_every: 1:30 is ambiguous (YAML 1.1 reads it as 90: a colon makes it base 60)"),
    ("profiles:\n  ci: {steps: 010}\n", "profiles.ci.steps: 010 is ambiguous"),
    ("1: 2\n", "key '1' is not text"),
    ("~: 3\n", "key '~' is not text"),
])
def test_yaml_ambiguities_are_refused_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    """The last of two keys won (a duplicated ``ci:`` block dropped the first whole), ``010`` was 8, ``1:30`` was 90,
    and a key ``1:`` or ``~:`` crashed with a raw TypeError (exit 1)."""
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        load_config(p, profile="ci")
    assert "c.yaml" in str(e.value)


def test_yaml_ambiguities_through_set_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from utils.rlvr.__main__ import main

    for value, message in (("steps=010", "argument --set: steps: 010 is ambiguous (YAML 1.1 reads it as 8"),
                           ("eval_every=1:30", "argument --set: eval_every: 1:30 is ambiguous"),
                           ("grpo_overrides={a: 1, a: 2}", "grpo_overrides: a: this key appears twice")):
        with pytest.raises(SystemExit) as e:
            main(["run", "--config", "countdown_top20", "--profile", "ci", "--dry-run", "--set", value])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_the_strict_loader_reads_what_is_meant() -> None:
    assert load_yaml("a: '010'\nb: 10\nc: 3.0e-5\nd: 0\ne: -0.5\nf: 0x10\ng: [1, 2]\n") == {
        "a": "010", "b": 10, "c": pytest.approx(3e-5), "d": 0, "e": -0.5, "f": 16, "g": [1, 2]}
    assert load_yaml("a: &A {b: 1}\nc: *A\n") == {"a": {"b": 1}, "c": {"b": 1}}  # an alias is not a duplicate
    with pytest.raises(YAMLInputError, match="f.yaml: line 2: y.a: this key appears twice"):
        load_yaml("x: 0\ny: {a: 1, a: 2}\n", "f.yaml")


def test_every_committed_yaml_file_reads_with_the_strict_loader() -> None:
    """Every YAML file of the repository (configs/, margins.yaml with its lists and 3.0e-5 floats, environment.yml)
    reads, and every run config validates in every profile."""
    files = sorted((REPO_ROOT / "configs").glob("*.yaml")) + sorted(REPO_ROOT.glob("*.yml"))
    assert any(p.name == "margins.yaml" for p in files)
    for p in files:
        assert isinstance(load_yaml(p.read_text(encoding="utf-8"), p.name), dict), p.name
    for p in run_config_paths():
        for profile in ("ci", "default", "full"):
            load_config(p, profile=profile)
    from utils.config import margins

    assert margins("04") and margins("06")


def test_margins_yaml_goes_through_the_strict_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from utils import config

    bad = _write(tmp_path, '"04": {a: 1}\n"04": {b: 2}\n', "margins.yaml")
    monkeypatch.setattr(config, "MARGINS_PATH", bad)
    with pytest.raises(ConfigError, match="configs/margins.yaml: line 2: 04: this key appears twice"):
        config.margins("04")


# --------------------------------------------------------------------------------------------- items 8 and 14: seeds


@pytest.mark.parametrize("argv", [
    ["python -m utils.countdown", "make-eval", "--n", "3"],
    ["python -m utils.traces", "problems", "--n", "3"],
])
@pytest.mark.parametrize("seed, message", [("-5", "must be >= 0, got -5"), ("4294967296", "must be <= 4294967295")])
def test_seeds_out_of_range_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                        seed: str, message: str) -> None:
    """``--seed -5`` wrote the same file as ``--seed 5`` (``random.Random`` folds the sign); ``--seed 4294967296``
    failed deep inside NumPy."""
    from utils.countdown.__main__ import main as countdown_main
    from utils.traces import main as traces_main

    main = countdown_main if "countdown" in argv[0] else traces_main
    with pytest.raises(SystemExit) as e:
        main([*argv[1:], "--seed", seed, "--out", str(tmp_path / "x.jsonl")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --seed" in err and message in err
    assert not (tmp_path / "x.jsonl").exists()


def test_seed_checks_in_the_library_and_the_run_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from utils import checks, traces
    from utils.countdown import generate_problems
    from utils.rlvr.__main__ import main

    with pytest.raises(ValueError, match="seed must be >= 0"):
        traces.make_problems(3, seed=-1)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        generate_problems(3, seed=-1)
    with pytest.raises(ValueError, match="must be <= 4294967295"):
        checks.seeds([0, 2**32])
    assert checks.seed(2**32 - 1) == 2**32 - 1
    with pytest.raises(SystemExit) as e:
        main(["run", "--config", "countdown_top20", "--seed", "4294967296", "--dry-run"])
    assert e.value.code == 2 and "argument --seed: must be <= 4294967295" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- item 14: clear errors


@pytest.mark.parametrize("text, message", [
    ("steps: " + "9" * 300 + "\n", "steps must be at most 2147483647"),
    ("learning_rate: " + "9" * 400 + "\n", "learning_rate must be a finite number"),
    ("name: " + "x" * 300 + "\n", "name must be at most 150 bytes"),
])
def test_huge_values_are_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                       message: str) -> None:
    """A 300-digit ``steps`` raised OverflowError and a 300-character name ENAMETOOLONG (exit 1, raw message)."""
    from utils.rlvr.__main__ import main

    p = _write(tmp_path, f"extends: {REPO_ROOT / 'configs' / 'countdown_top20.yaml'}\n{text}")
    with pytest.raises(ConfigError, match=message):
        load_config(p, profile="ci")
    assert main(["run", "--config", str(p), "--profile", "ci", "--dry-run", "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and len(err) < 400


def test_kl_penalty_works_with_a_model_made_in_memory() -> None:
    """``--standin --set beta=0.1`` failed with "Repo id must use alphanumeric chars" (TRL reloads the reference
    model from the policy's Hub id, which a model made in memory, or SmolLM2 from its wheel, does not have): the
    reference is now a frozen copy of the loaded policy."""
    import torch

    from utils.rlvr.run import build_trainer

    cfg = load_config("countdown_top20", profile="ci").replace(beta=0.1)
    trainer, ctx = build_trainer(cfg, 0, standin=True)
    ref, policy = trainer.ref_model, ctx["model"]
    assert ref is not None and ref is not policy
    assert all(not p.requires_grad for p in ref.parameters())
    for (n, a), (_, b) in zip(policy.named_parameters(), ref.named_parameters(), strict=True):
        assert torch.equal(a, b), n
    import trl.trainer.grpo_trainer as grpo

    assert grpo.create_model_from_path.__name__ == "create_model_from_path"  # put back after the build


# --------------------------------------------------------------------------------------------- item 10: claims files


def _claims_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the committed claims files, read instead of them (the committed ones are never touched)."""
    import shutil

    from utils.reproduce import claim_store

    d = tmp_path / "claims"
    shutil.copytree(REPO_ROOT / "data" / "results" / "claims", d)
    monkeypatch.setattr(claim_store, "_claims_dir", lambda profile=None: d)
    return d


def _edit_row(path: Path, change: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if callable(change):
        change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _first_row(data: dict) -> dict:
    return next(iter(data["rows"].values()))


@pytest.mark.parametrize("change, message", [
    (lambda d: _first_row(d).update(verdict="REPRODUCED!!"), "has verdict 'REPRODUCED!!', not one of reproduced"),
    (lambda d: _first_row(d).pop("why"), "lacks why"),
    (lambda d: _first_row(d).update(why="  "), "has no text in why"),
    (lambda d: _first_row(d).update(source="my blog"), "has source 'my blog'"),
    (lambda d: _first_row(d).update(basis="vibes"), "has basis 'vibes'"),
    (lambda d: d.update(rows=[]), "'rows' must map claim ids to rows"),
    (lambda d: d["rows"].update(bogus="text"), "row 'bogus' is str, not a mapping"),
])
def test_invalid_claims_rows_are_refused_before_readme_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str], change: object,
                                                                  message: str) -> None:
    """``"verdict": "REPRODUCED!!"`` in a claims file was published into README with exit 0; a row without ``why``
    or ``rows: []`` crashed with a raw KeyError/AttributeError (exit 1). Now: one line naming the file and row,
    exit 2, before anything is written."""
    import shutil

    from utils.infra.cli import run
    from utils.reproduce.readme import readme_text

    d = _claims_copy(tmp_path, monkeypatch)
    _edit_row(d / "04.json", change)
    readme = tmp_path / "README.md"
    shutil.copy(REPO_ROOT / "README.md", readme)
    before = readme.read_bytes()
    assert run(lambda: readme_text(readme), "python -m utils.reproduce.readme") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "04.json" in err and message in err, err
    assert readme.read_bytes() == before


def test_committed_claims_files_pass_the_row_checks() -> None:
    from utils.reproduce.claims import VERDICTS, load_claims

    rows = load_claims("default")
    assert rows and all(r["verdict"] in VERDICTS for r in rows)


# ------------------------------------------------------------------------------------------- item 12: numbers, paths


def test_gsm8k_reward_reads_commas_only_as_thousands_separators() -> None:
    """``gsm8k_reward`` read ``"1,2"`` as 12: a comma counts only between groups of three digits now."""
    from utils.rlvr.tasks import gsm8k_reward

    ref = ["#### 12"] * 4 + ["#### 1234"] * 3
    got = gsm8k_reward([None] * 7, ["#### 1,2", "so 1,2", "#### 12", "the answer is 12,", "#### 1,234",
                                    "#### 12,34", "1,234."], ref)
    assert got == [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    assert gsm8k_reward([None] * 2, ["#### 3,456,789.5", "1, 2, 3"], ["#### 3456789.5", "#### 3"]) == [1.0, 1.0]


def test_generate_progress_files_are_keyed_by_the_full_path(tmp_path: Path) -> None:
    """Two ``traces generate`` runs whose ``--out`` shared a file name (``a/t.jsonl``, ``b/t.jsonl``) shared one
    progress file, each truncating the other's."""
    from utils.traces import progress_path

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    pa, pb = progress_path(tmp_path / "a" / "t.jsonl"), progress_path(tmp_path / "b" / "t.jsonl")
    assert pa != pb and pa.name.startswith("t.jsonl.") and pa.suffix == ".partial"
    assert progress_path(tmp_path / "link" / "t.jsonl") == pa  # the same file, however it is reached
    assert progress_path(str(tmp_path / "a" / "." / "t.jsonl")) == pa


def test_run_many_duplicate_check_sees_through_symlinked_folders(tmp_path: Path) -> None:
    """The same results file reached through a symlinked folder passed ``run_many``'s duplicate check."""
    from utils.errors import UsageError
    from utils.rlvr.run import Job, _check_distinct_outputs

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    cfg = load_config("countdown_top20", profile="ci")
    jobs = [Job(cfg, 0, str(tmp_path / "real" / "r.json")), Job(cfg, 1, str(tmp_path / "link" / "r.json"))]
    with pytest.raises(UsageError, match="jobs 0 and 1 would both write the results file"):
        _check_distinct_outputs(jobs)
    models = [Job(cfg, 0, str(tmp_path / "a.json"), save_model=str(tmp_path / "real" / "m")),
              Job(cfg, 1, str(tmp_path / "b.json"), save_model=str(tmp_path / "link" / "m"))]
    with pytest.raises(UsageError, match="would both write the model folder"):
        _check_distinct_outputs(models)
    _check_distinct_outputs([Job(cfg, 0, str(tmp_path / "real" / "r.json")), Job(cfg, 1, str(tmp_path / "r.json"))])


# ---------------------------------------------------------------------------------------------- item 9: re-made runs


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(standin=True), "it is a stand-in run"),
    (lambda r: r.update(profile="ci"), "it was run under profile 'ci', not 'default'"),
    (lambda r: r["config"].update(steps=4), "its config differs in steps"),
    (lambda r: r["train"].update(step=r["train"]["step"][:4], reward=r["train"]["reward"][:4]),
     "its training history does not cover steps"),
])
def test_robustness_check_refuses_remade_runs_resume_would_refuse(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  change: object, message: str) -> None:
    """``utils.reproduce.robustness check`` compared re-made runs that were stand-ins, ci-profile or 4 steps long and printed
    holds/FRAGILE; it checks them as resume does now (one line naming the run, exit 2, nothing written)."""
    import shutil

    from utils.reproduce import robustness as rb

    stored = REPO_ROOT / "data" / "results" / "04_masked_rlvr"
    remade = tmp_path / "remade"
    remade.mkdir()
    names = sorted({n for c in rb.HEADLINE_04 for n in (c.a, c.b)})
    for p in stored.glob("*_seed*.json"):
        if p.name.rsplit("_seed", 1)[0] in names:
            shutil.copy(p, remade / p.name)
    rb.check(stored, remade, "nothing")  # the committed runs copied: every run passes
    victim = remade / "04_top20_seed3.json"
    run = json.loads(victim.read_text(encoding="utf-8"))
    change(run)
    victim.write_text(json.dumps(run), encoding="utf-8")
    out = tmp_path / "r.json"
    assert rb.main(["check", "--stored", str(stored), "--perturbed", str(remade), "--perturbation", "x",
                    "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "04_top20 seed 3" in err and message in err, err
    assert not out.exists()


def test_committed_remade_runs_pass_the_check() -> None:
    from utils.reproduce import robustness as rb
    from utils.results import load_json

    for p in sorted(rb.ROBUSTNESS_DIR.glob("*.json")):
        data = load_json(p, schema=rb.SCHEMA)
        contrasts = [c for c in (*rb.HEADLINE_04, *rb.LR3E4_04) if c.claim in data["claims"]]
        rb.check(REPO_ROOT / data["stored"], REPO_ROOT / data["perturbed"], data["perturbation"], contrasts)
