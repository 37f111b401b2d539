"""utils.rlvr.run and the command line: one run end to end on the stand-in, what its results file holds, parallel
runs, the CLI reproducing the notebooks' run path exactly, and the CLI's one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from utils.config import REPO_ROOT
from utils.results import ResultsError
from utils.rlvr import Job, load_config, load_runs, run_condition, run_many, sample_batches
from utils.rlvr.__main__ import main

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

TINY = ["steps=2", "eval_every=1", "eval_n=4", "eval_samples=2", "prompts_per_step=2", "num_generations=4",
        "train_size=32", "max_completion_length=8", "final_samples=4"]


@pytest.mark.parametrize(
    "sets",
    [
        ["condition=random", "rho=0.2"],
        ["condition=bottom", "rho=0.2", "normaliser=selected"],
        ["condition=role", "rho=0.2", "optimizer=sgd", "learning_rate=0.1"],
        ["advantage=entropy", "variant=seed"],
    ],
)
def test_cli_run_writes_a_complete_results_file(tmp_path: Path, sets: list[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["run", "--config", "configs/countdown_top20.yaml", "--standin", "--profile", "ci",
                 "--out", str(out), "--set", *TINY, *sets]) == 0
    r = json.loads(out.read_text())
    assert r["schema"] == "forking-tokens/rlvr-run/1" and r["seed"] == 0 and r["profile"] == "ci"
    assert r["eval"]["step"] == [0, 1, 2] and len(r["eval"]["pass1"]) == 3
    assert r["train"]["step"] == [1, 2] and len(r["train"]["entropy"]) == 2 and len(r["train"]["update_norm"]) == 2
    assert set(r["final"]["pass_at_k"]) == {"1", "2", "4"}
    if "advantage=entropy" in sets:
        assert len(r["train"]["psi_mean"]) == 2 and "psi_baseline" in r["train"]
    else:
        target = 0.8 if "condition=bottom" in sets else 0.2
        assert all(abs(x - target) < 0.1 for x in r["train"]["tokens_kept"])
    assert load_runs(directory=tmp_path)[0]["name"] == r["name"]


def test_cli_reproduces_the_notebook_run_path(tmp_path: Path) -> None:
    """The notebooks train through run_many(Job(load_config(name, profile))); the CLI with the same config and seed
    gives the same run, number for number (one short ci-sized pair)."""
    cfg = load_config("countdown_top20", profile="ci")
    nb = run_many([Job(cfg, 1, str(tmp_path / "nb.json"))], workers=1, threads=1, verbose=False)[0]
    assert main(["run", "--config", "configs/countdown_top20.yaml", "--seed", "1", "--profile", "ci",
                 "--out", str(tmp_path / "cli.json"), "--set", "num_threads=1"]) == 0
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli["eval"] == nb["eval"] and cli["final"] == nb["final"]
    for key in ("reward", "entropy", "tokens_kept", "grad_norm", "update_norm"):
        assert cli["train"][key] == nb["train"][key], key


def test_dry_run_of_the_gpu_config(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "default")   # as in a notebook running its default profile
    assert main(["run", "--config", "configs/scaleup_qwen_gsm8k.yaml", "--dry-run", "--standin", "--profile", "ci"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["dry_run"] and out["trainer"] == "TokenSelectGRPOTrainer" and out["rho"] == 0.2 and out["profile"] == "ci"
    # called in-process (notebook 04 does), --profile must not leave the caller in another profile: its later
    # ledger rows would go to the ci ledger
    assert os.environ["FORKING_TOKENS_PROFILE"] == "default"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "configs/nope.yaml"], "config 'configs/nope.yaml' not found"),
        (["--config", "configs/countdown_top20.yaml", "--profile", "bogus"], "'bogus' is not a run profile"),
        (["--config", "configs/countdown_top20.yaml", "--set", "rho=abc"], "rho must be a number"),
        (["--config", "configs/countdown_top20.yaml", "--set", "stepz=3"], "unknown key 'stepz'"),
        (["--config", "configs/countdown_top20.yaml", "--out", "data/results/04_masked_rlvr/x.json", "--set",
          "steps=1"], None),
    ],
)
def test_cli_errors_are_one_line_before_any_work(args: list[str], message: str | None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    if message is None:  # a committed results folder: writing a new file there is fine, overwriting is not
        target = next((REPO_ROOT / "data" / "results" / "04_masked_rlvr").glob("*.json"), None)
        if target is None:
            pytest.skip("no committed run results")
        args = ["--config", "configs/countdown_top20.yaml", "--out", str(target)]
        message = "committed artifact: pass --force"
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["run", "--config", "x.yaml", "--seed", "-1"], ["run", "--config", "x.yaml", "--set", "novalue"], ["fly"]):
        with pytest.raises(SystemExit) as e:
            main(bad)
        assert e.value.code == 2


def test_load_runs_fails_loudly_on_a_truncated_file(tmp_path: Path) -> None:
    (tmp_path / "a_seed0.json").write_text('{"schema": "forking-tokens/rlvr-run/1", "name": "a", "se')
    with pytest.raises(ResultsError, match="a_seed0.json is truncated or not valid JSON"):
        load_runs(directory=tmp_path)


def test_sample_batches_and_run_many_saves_models(tmp_path: Path) -> None:
    cfg = load_config("countdown_top20", profile="ci").replace(
        task="standin", model="standin", prompts_per_step=2, num_generations=4, train_size=32, max_completion_length=8,
        steps=1, eval_every=0, eval_n=4, eval_samples=2)
    batches = sample_batches(cfg, 2, seed=0)
    assert len(batches) == 2 and batches[0]["advantages"].shape == (8,)
    assert batches[0]["completion_ids"].shape == batches[0]["completion_mask"].shape
    out = run_many([Job(cfg, 0, str(tmp_path / "a.json"), str(tmp_path / "m"))], workers=1, verbose=False)
    assert out[0]["eval"]["step"] == [0, 1] and (tmp_path / "m" / "config.json").exists()
    assert out[0]["timing"]["cpu_s"] > 0
    again = run_condition(cfg, 0, out=tmp_path / "b.json", verbose=False)
    assert again["train"]["entropy"] == out[0]["train"]["entropy"]  # same seed, same run


def test_run_many_resumes_finished_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = load_config("countdown_top20", profile="ci").replace(
        task="standin", model="standin", prompts_per_step=2, num_generations=4, train_size=32, max_completion_length=8,
        steps=1, eval_every=0, eval_n=4, eval_samples=2)
    first = run_many([Job(cfg, 0, str(tmp_path / "a.json"))], workers=1, verbose=False)[0]
    stamp = (tmp_path / "a.json").stat().st_mtime_ns
    jobs = [Job(cfg, 0, str(tmp_path / "a.json")), Job(cfg, 1, str(tmp_path / "b.json"))]
    again = run_many(jobs, workers=1, verbose=True, resume=True)
    assert "1 of 2 runs already finished" in capsys.readouterr().out
    assert (tmp_path / "a.json").stat().st_mtime_ns == stamp and again[0]["train"] == first["train"]
    assert again[1]["seed"] == 1 and (tmp_path / "b.json").exists()
    other = cfg.replace(steps=2)  # another config under the same file name is trained again, not read back
    assert run_many([Job(other, 0, str(tmp_path / "a.json"))], workers=1, verbose=False, resume=True)[0]["timing"]["steps"] == 2


def test_resume_treats_fields_added_later_as_their_defaults(tmp_path: Path) -> None:
    from utils.results import load_json, save_json
    from utils.rlvr.run import finished_run

    cfg = load_config("countdown_top20", profile="ci").replace(
        task="standin", model="standin", prompts_per_step=2, num_generations=4, train_size=32, max_completion_length=8,
        steps=1, eval_every=0, eval_n=4, eval_samples=2)
    run_many([Job(cfg, 0, str(tmp_path / "a.json"))], workers=1, verbose=False)
    r = load_json(tmp_path / "a.json")
    del r["config"]["final_eval_path"]  # as written before that field existed
    save_json(r, tmp_path / "a.json")
    assert finished_run(Job(cfg, 0, str(tmp_path / "a.json"))) is not None
    assert finished_run(Job(cfg.replace(final_eval_path="data/countdown_eval_hard.jsonl"), 0, str(tmp_path / "a.json"))) is None


def test_uncapped_psi_run_logs_alpha_times_entropy(tmp_path: Path) -> None:
    """psi_cap=false (notebook 05's control) trains through the trainer's hook: psi is alpha * H, never capped."""
    out = tmp_path / "r.json"
    assert main(["run", "--config", "configs/countdown_top20.yaml", "--standin", "--profile", "ci", "--out", str(out),
                 "--set", *TINY, "condition=all", "rho=1.0", "advantage=entropy", "psi_cap=false", "alpha=0.4"]) == 0
    t = json.loads(out.read_text())["train"]
    assert all(abs(p - 0.4 * h) < 1e-4 * max(1.0, h) for p, h in zip(t["psi_mean"], t["entropy"]))
    assert max(t["psi_clip_frac"]) < 1e-12  # a share of counted tokens: none binds


def test_run_many_refuses_two_jobs_writing_the_same_file_before_any_work(tmp_path: Path, monkeypatch) -> None:
    """Two jobs with the same results file (or model folder) used to both train, the second silently replacing
    the first's file; they are refused, naming the file, before any job starts."""
    import utils.rlvr.run as run_mod
    from utils.errors import UsageError

    started = []
    monkeypatch.setattr(run_mod, "_run_job", lambda job, threads: started.append(job))
    cfg = load_config("countdown_top20", profile="ci")
    same_out = [Job(cfg, 0, str(tmp_path / "a.json")), Job(cfg, 1, str(tmp_path / "x" / ".." / "a.json"))]
    same_model = [Job(cfg, 0, str(tmp_path / "a.json"), str(tmp_path / "m")),
                  Job(cfg, 1, str(tmp_path / "b.json"), str(tmp_path / "m"))]
    same_default = [Job(cfg, 3), Job(cfg.replace(steps=5), 3)]  # both results_dir()/<name>_seed3.json
    for jobs, what in ((same_out, "results file"), (same_model, "model folder"), (same_default, "results file")):
        with pytest.raises(UsageError, match=f"jobs 0 and 1 would both write the {what} "):
            run_mod.run_many(jobs, workers=1, verbose=False)
    assert started == []


def test_grpo_overrides_may_not_set_the_token_selection() -> None:
    """grpo_overrides={top_entropy_quantile: ...} was silently ignored by the project's trainer (which sets it from
    condition and rho) and silently replaced rho in TRL's own trainer; it is a config error now, before any load."""
    from utils.rlvr.config import ConfigError
    from utils.rlvr.run import build_trainer

    cfg = load_config("countdown_top20", profile="ci")
    with pytest.raises(ConfigError, match="may not set top_entropy_quantile.*condition and rho"):
        cfg.replace(grpo_overrides={"top_entropy_quantile": 0.5})  # refused with the config, before any trainer
    object.__setattr__(cfg, "grpo_overrides", {"top_entropy_quantile": 0.5})  # past the config: build_trainer too
    for stock in (False, True):
        with pytest.raises(ConfigError, match="may not set top_entropy_quantile.*condition and rho"):
            build_trainer(cfg, 0, stock_trl=stock)


def test_cached_evaluation_is_the_evaluation_and_is_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The step-0 evaluation cache: the same numbers as evaluating, read back on the second call, and a different
    model (or setting) is a different entry."""
    import torch

    from utils.rlvr import run as run_mod
    from utils.rlvr.tasks import make_standin, standin_reward

    model, tok = make_standin(seed=5)
    rows = [{"prompt": p} for p in ("1+2", "3*4", "5-6", "7+8")]
    kw = dict(samples=3, max_new_tokens=6, seed=10_000, batch_size=64)
    fresh = run_mod.evaluate_pass_rate(model, tok, rows, standin_reward, **kw)
    first = run_mod.cached_evaluation(model, tok, rows, standin_reward, {"task": "standin"}, cache_dir=tmp_path, **kw)
    assert first["correct"] == fresh["correct"] and first["pass1"] == pytest.approx(fresh["pass1"])
    assert len(list(tmp_path.glob("*.json"))) == 1

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("evaluated again instead of reading the cache")

    monkeypatch.setattr(run_mod, "evaluate_pass_rate", refuse)
    again = run_mod.cached_evaluation(model, tok, rows, standin_reward, {"task": "standin"}, cache_dir=tmp_path, **kw)
    assert again["correct"] == first["correct"]
    monkeypatch.undo()
    with torch.no_grad():
        next(model.parameters()).add_(1e-3)   # other weights: another key
    run_mod.cached_evaluation(model, tok, rows, standin_reward, {"task": "standin"}, cache_dir=tmp_path, **kw)
    run_mod.cached_evaluation(model, tok, rows, standin_reward, {"task": "standin"}, cache_dir=tmp_path,
                              **{**kw, "seed": 1})   # another seed: another key
    assert len(list(tmp_path.glob("*.json"))) == 3
    (next(tmp_path.glob("*.json"))).write_text("{trunc")   # a broken entry is evaluated again, not an error
    run_mod.cached_evaluation(model, tok, rows, standin_reward, {"task": "standin"}, cache_dir=tmp_path, **kw)
