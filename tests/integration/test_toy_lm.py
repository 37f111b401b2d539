"""utils.toy_lm: reproducible training, the SFT data mix, checkpoints (atomic, guarded) and the shipped model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from utils import countdown as cd
from utils import toy_lm

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_training_is_bit_reproducible() -> None:
    kw = dict(steps=15, batch_size=32, warmup=5, verbose=False)
    m1, _, _ = toy_lm.train_task_model(None, seed=3, **kw)
    m2, _, _ = toy_lm.train_task_model(None, seed=3, **kw)
    m3, _, _ = toy_lm.train_task_model(None, seed=4, **kw)
    s1, s2, s3 = m1.state_dict(), m2.state_dict(), m3.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert not all(torch.equal(s1[k], s3[k]) for k in s1)


def test_sft_data_mix_excludes_held_out() -> None:
    """The SFT examples (drawn through a tiny training run's record) never use a held-out key."""
    _, _, info = toy_lm.train_task_model(None, seed=0, steps=1, batch_size=8, warmup=1, verbose=False)
    assert info["held_out_excluded_keys"] == len(cd.eval_keys()) and info["held_out_file"] == "data/countdown_eval.jsonl"
    held_out = cd.eval_keys()
    train = cd.train_dataset(500, seed=0)
    assert not cd.eval_keys(train) & held_out


def test_save_is_atomic_and_loadable(tmp_path: Path) -> None:
    model, tok, info = toy_lm.train_task_model(None, seed=0, steps=2, batch_size=8, warmup=1, verbose=False,
                                               n_embd=16, n_layer=1, n_head=2)
    out = toy_lm.save_task_model(model, tok, tmp_path / "m", info)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary folder left behind
    m2, _ = toy_lm.load_task_model(out)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), m2.state_dict().values()))
    assert toy_lm.task_spec(out).n_numbers == 3 and toy_lm.load_train_info(out)["n_params"] == info["n_params"]


def test_load_missing_dir_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="python -m utils.toy_lm train"):
        toy_lm.load_task_model(tmp_path / "nothing")


def test_shipped_checkpoint_files() -> None:
    d = toy_lm.TASK_MODEL_DIR
    for name in ("model.safetensors", "config.json", "tokenizer.json", toy_lm.INFO_FILE):
        assert (d / name).exists(), name
    assert sum(f.stat().st_size for f in d.iterdir()) < 5_000_000
    info = toy_lm.load_train_info()
    assert {"command", "seed", "steps", "train_wall_time_s", "metrics"} <= set(info)
    assert not str(info.get("held_out_file", "")).startswith("/")


def test_train_cli_never_replaces_a_committed_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    before = (toy_lm.TASK_MODEL_DIR / "model.safetensors").read_bytes()
    assert toy_lm.main(["train", "--out", str(toy_lm.TASK_MODEL_DIR), "--steps", "1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (toy_lm.TASK_MODEL_DIR / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize("keep", [0, 7, 1000, 100_000])
def test_corrupt_or_truncated_weights_name_the_file_and_the_fix(tmp_path: Path, keep: int) -> None:
    """A truncated model.safetensors used to surface as a raw SafetensorError without the file or the fix."""
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(toy_lm.TASK_MODEL_DIR, ckpt)
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:keep])
    with pytest.raises(toy_lm.CheckpointError) as info:
        toy_lm.load_task_model(ckpt)
    msg = str(info.value)
    assert "\n" not in msg and "model.safetensors is corrupt or truncated" in msg
    assert f"python -m utils.toy_lm train --out {ckpt}" in msg


def test_broken_config_and_missing_weights(tmp_path: Path) -> None:
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(toy_lm.TASK_MODEL_DIR, ckpt)
    (ckpt / "config.json").write_text("{")
    with pytest.raises(toy_lm.CheckpointError, match="cannot be loaded .*retrain it with"):
        toy_lm.load_task_model(ckpt)
    (ckpt / "model.safetensors").unlink()
    with pytest.raises(toy_lm.CheckpointError, match="model.safetensors is missing"):
        toy_lm.load_task_model(ckpt)


def test_shipped_checkpoint_fix_names_git_checkout() -> None:
    assert toy_lm.model._checkpoint_fix(toy_lm.TASK_MODEL_DIR) == (
        "restore it with `git checkout -- data/task_model` or retrain it with "
        "`python -m utils.toy_lm train --out data/task_model --force`")


def test_training_examples_longer_than_the_context_fail_clearly() -> None:
    with pytest.raises(ValueError, match="the model's context is 64"):
        toy_lm.train_task_model(None, steps=1, batch_size=64, n_numbers=5, number_range=(100, 999),
                                target_range=(1, 10**9), warmup=1, verbose=False)
