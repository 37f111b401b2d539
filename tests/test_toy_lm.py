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
