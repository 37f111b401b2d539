"""Tests for utils.toy_lm: tokenizer, reproducible training, SFT data, sampling helpers and the shipped
checkpoint (loads offline, reaches its recorded held-out pass@1)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from utils import countdown as cd
from utils import toy_lm


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def shipped() -> tuple:
    return toy_lm.load_task_model()


def test_tokenizer_roundtrip_and_specials() -> None:
    tok = toy_lm.build_tokenizer()
    text = "8 5 7>33:8*5=40,40-7=33"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids == toy_lm._encode(text) and len(ids) == len(text)
    assert tok.decode(ids) == text
    assert tok.padding_side == "left"
    assert len({tok.pad_token_id, tok.eos_token_id, tok.bos_token_id, tok.unk_token_id}) == 4
    batch = tok(["8 5 7>33:", "8 5>13:"], padding=True, return_tensors="pt")
    assert batch["attention_mask"][1, 0] == 0 and batch["input_ids"][1, 0] == tok.pad_token_id
    assert tok("x")["input_ids"] == [tok.unk_token_id]
    assert tok.decode(tok("1+1=2<eos>")["input_ids"], skip_special_tokens=True) == "1+1=2"


def test_training_is_bit_reproducible() -> None:
    kw = dict(steps=15, batch_size=32, warmup=5, verbose=False)
    m1, _, _ = toy_lm.train_task_model(None, seed=3, **kw)
    m2, _, _ = toy_lm.train_task_model(None, seed=3, **kw)
    m3, _, _ = toy_lm.train_task_model(None, seed=4, **kw)
    s1, s2, s3 = m1.state_dict(), m2.state_dict(), m3.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert not all(torch.equal(s1[k], s3[k]) for k in s1)


def test_sft_data_mix_excludes_held_out() -> None:
    held_out = cd.eval_keys()
    sampler = toy_lm._TraceSampler(0, 3, (1, 9), (10, 99), 0.6, held_out)
    n_correct = 0
    for _ in range(2000):
        prompt, completion = sampler.example()
        numbers, target = cd.parse_prompt(prompt)
        assert cd.problem_key(numbers, target) not in held_out
        d = cd.diagnose(numbers, target, completion)
        assert d.reason in (cd.OK, cd.WRONG_TARGET), d  # random traces are legal, only the target may miss
        n_correct += d.ok
    assert 0.6 <= n_correct / 2000 <= 0.75  # p_correct = 0.6 plus random traces that hit the target
    ids, mask, labels = sampler.batch(8)
    assert (labels[:, :9] == -100).all()  # prompt (9 characters) is masked out of the loss
    assert ((labels != -100) <= (mask == 1)).all()


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


def test_sampling_helpers(shipped: tuple) -> None:
    model, tok = shipped
    prompts = ["8 5 7>33:", "6 3 9>18:", "12 5 7>9:"]  # different lengths: left padding must not matter
    batched = toy_lm.sample_completions(model, tok, prompts, temperature=0)
    single = [toy_lm.sample_completions(model, tok, [p], temperature=0)[0] for p in prompts]
    assert batched == single
    assert all("<eos>" not in c and "<pad>" not in c for c in batched)
    a = toy_lm.sample_completions(model, tok, prompts, n=4, temperature=1.0, seed=1)
    assert a == toy_lm.sample_completions(model, tok, prompts, n=4, temperature=1.0, seed=1)
    assert len(a) == 12
    ents = toy_lm.token_entropies(model, tok, prompts, batched)
    assert [len(e) for e in ents] == [len(c) + 1 for c in batched]
    assert [len(r) for r in map(toy_lm.token_roles, batched)] == [len(c) + 1 for c in batched]
    assert toy_lm.token_roles("8*5=40") == ["operand1", "operator", "operand2", "equals", "result", "result", "eos"]


def test_shipped_model_reaches_recorded_pass1(shipped: tuple) -> None:
    model, tok = shipped
    metrics = toy_lm.load_train_info()["metrics"]
    p = metrics["pass1"]["mean"]
    problems = cd.load_eval_problems()
    res = toy_lm.evaluate_pass1(model, tok, problems, n_samples=1, temperature=1.0, seed=7)
    assert len(res["correct_counts"]) == len(problems)
    sd = max(metrics["pass1"]["sd"], math.sqrt(p * (1 - p) / len(problems)))
    assert abs(res["pass1"] - p) <= 3 * sd, (res["pass1"], p, sd)
    assert 0.10 <= res["pass1"] <= 0.40  # an imperfect planner: RL has signal
    assert res["arithmetic"] >= 0.8
