"""Tests for utils.sampling: the dual-temperature logits processor and its generate helper."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel, LogitsProcessorList, TemperatureLogitsWarper

from utils.sampling import DualTemperatureLogitsProcessor, dual_temperature_generate, generated_steps

V = 97
PAD = 0


def _ref_entropy(scores: torch.Tensor) -> torch.Tensor:
    """float64 reference entropy in nats."""
    logp = torch.log_softmax(scores.double(), dim=-1)
    return -(logp.exp() * torch.where(torch.isfinite(logp), logp, torch.zeros_like(logp))).sum(-1)


def _rows_with_entropies() -> torch.Tensor:
    """A [4, V] batch: near one-hot (H ~ 0), uniform (H = ln V), and two in between."""
    g = torch.Generator().manual_seed(0)
    rows = [
        torch.full((V,), -30.0).index_fill_(0, torch.tensor([3]), 30.0),  # ~0 nats
        torch.zeros(V),  # ln V ~ 4.57 nats
        torch.randn(V, generator=g) * 4.0,  # peaked-ish
        torch.randn(V, generator=g) * 0.5,  # flat-ish
    ]
    return torch.stack(rows)


@pytest.fixture(scope="module")
def tiny_model() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=V, n_positions=64, n_embd=32, n_layer=2, n_head=2, pad_token_id=PAD, eos_token_id=1, bos_token_id=1)
    model = GPT2LMHeadModel(cfg).eval()
    return model


def _left_padded_batch() -> tuple[torch.Tensor, torch.Tensor, list[list[int]]]:
    prompts = [[5, 6, 7, 8, 9, 10], [11, 12], [13, 14, 15, 16]]
    L = max(map(len, prompts))
    ids = torch.full((len(prompts), L), PAD, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, L - len(p) :] = torch.tensor(p)
        mask[i, L - len(p) :] = 1
    return ids, mask, prompts


# --- the processor on hand-made scores -------------------------------------------------------------


def test_scaling_applied_exactly_where_entropy_at_or_above_threshold() -> None:
    scores = _rows_with_entropies()
    h = _ref_entropy(scores)
    thr = float((h[2] + h[3]) / 2)
    proc = DualTemperatureLogitsProcessor(threshold=thr, t_fork=2.0, t_rest=0.5, record=True)
    out = proc(torch.zeros(4, 1, dtype=torch.long), scores)
    fork = h >= thr
    assert fork.tolist() == [False, True, h[2] >= thr, h[3] >= thr]
    assert fork.any() and not fork.all()
    expected = torch.where(fork.unsqueeze(1), scores / 2.0, scores / 0.5)
    torch.testing.assert_close(out, expected)
    ent, is_fork = proc.history()
    assert is_fork[:, 0].tolist() == fork.tolist()
    torch.testing.assert_close(ent[:, 0].double(), h, rtol=1e-5, atol=1e-5)


def test_threshold_is_inclusive() -> None:
    scores = _rows_with_entropies()
    proc = DualTemperatureLogitsProcessor(threshold=0.0, t_fork=2.0, t_rest=0.5)
    h = proc.entropy(scores)
    proc = DualTemperatureLogitsProcessor(threshold=float(h[2]), t_fork=2.0, t_rest=0.5, record=True)
    out = proc(torch.zeros(4, 1, dtype=torch.long), scores)
    torch.testing.assert_close(out[2], scores[2] / 2.0)  # entropy == threshold: fork
    assert proc.history()[1][2, 0]


def test_bits_unit_matches_nats() -> None:
    scores = _rows_with_entropies()
    h = _ref_entropy(scores)
    thr_nats = float((h[2] + h[3]) / 2)
    nats = DualTemperatureLogitsProcessor(thr_nats, 1.5, 0.7, unit="nats", record=True)
    bits = DualTemperatureLogitsProcessor(thr_nats / math.log(2), 1.5, 0.7, unit="bits", record=True)
    torch.testing.assert_close(nats(None, scores), bits(None, scores))  # type: ignore[arg-type]
    torch.testing.assert_close(bits.history()[0], nats.history()[0] / math.log(2))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    batch=st.integers(1, 9),
    scale=st.floats(0.05, 8.0),
    t_fork=st.floats(0.1, 5.0),
    t_rest=st.floats(0.1, 5.0),
    q=st.floats(0.0, 1.0),
)
def test_random_batches_per_row(seed: int, batch: int, scale: float, t_fork: float, t_rest: float, q: float) -> None:
    g = torch.Generator().manual_seed(seed)
    # rows of very different sharpness in one batch
    scores = torch.randn(batch, V, generator=g) * (scale * torch.rand(batch, 1, generator=g) * 3)
    h = _ref_entropy(scores)
    thr = float(torch.quantile(h, q))
    proc = DualTemperatureLogitsProcessor(thr, t_fork, t_rest, record=True)
    out = proc(torch.zeros(batch, 1, dtype=torch.long), scores)
    _, fork = proc.history()
    clear = (h - thr).abs() > 1e-4  # rows not within rounding of the threshold
    assert fork[:, 0][clear].tolist() == (h >= thr)[clear].tolist()
    t = torch.where(fork[:, 0], torch.tensor(t_fork), torch.tensor(t_rest))
    torch.testing.assert_close(out, scores / t.unsqueeze(1))


def test_equal_temperatures_equal_plain_temperature_scaling() -> None:
    scores = _rows_with_entropies()
    for thr in (0.0, 1.0, 100.0):
        for record in (False, True):
            proc = DualTemperatureLogitsProcessor(thr, 0.7, 0.7, record=record)
            plain = TemperatureLogitsWarper(0.7)(None, scores)  # type: ignore[arg-type]
            torch.testing.assert_close(proc(None, scores), plain)  # type: ignore[arg-type]


def test_unit_temperatures_leave_scores_unchanged() -> None:
    scores = _rows_with_entropies()
    for record in (False, True):
        proc = DualTemperatureLogitsProcessor(1.0, 1.0, 1.0, record=record)
        out = proc(None, scores)  # type: ignore[arg-type]
        torch.testing.assert_close(out, scores)


def test_masked_scores_give_finite_entropy() -> None:
    scores = _rows_with_entropies()
    scores[:, :10] = -math.inf  # e.g. min_new_tokens / bad words masks
    proc = DualTemperatureLogitsProcessor(1.0, 2.0, 0.5, record=True)
    out = proc(None, scores)  # type: ignore[arg-type]
    ent = proc.history()[0][:, 0]
    assert torch.isfinite(ent).all()
    torch.testing.assert_close(ent.double(), _ref_entropy(scores), rtol=1e-5, atol=1e-5)
    assert torch.isneginf(out[:, :10]).all()


def test_recorder_shapes_and_reset() -> None:
    proc = DualTemperatureLogitsProcessor(1.0, 1.2, 0.8, record=True)
    with pytest.raises(ValueError, match="no recorded steps"):
        proc.history()
    scores = _rows_with_entropies()
    for _ in range(5):
        proc(None, scores)  # type: ignore[arg-type]
    ent, fork = proc.history()
    assert ent.shape == fork.shape == (4, 5)
    assert ent.dtype == torch.float32 and fork.dtype == torch.bool
    assert proc.num_steps == 5
    proc(None, scores[:2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reset"):
        proc.history()
    proc.reset()
    assert proc.num_steps == 0
    off = DualTemperatureLogitsProcessor(1.0, 1.2, 0.8)
    off(None, scores)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record=False"):
        off.history()


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(threshold=1.0, t_fork=0.0, t_rest=1.0), "t_fork"),
        (dict(threshold=1.0, t_fork=1.0, t_rest=-0.5), "t_rest"),
        (dict(threshold=1.0, t_fork=math.nan, t_rest=1.0), "t_fork"),
        (dict(threshold=1.0, t_fork=math.inf, t_rest=1.0), "t_fork"),
        (dict(threshold=-0.1, t_fork=1.0, t_rest=1.0), "threshold"),
        (dict(threshold=math.nan, t_fork=1.0, t_rest=1.0), "threshold"),
        (dict(threshold="0.6", t_fork=1.0, t_rest=1.0), "threshold"),
        (dict(threshold=1.0, t_fork=1.0, t_rest=1.0, unit="nat"), "unit"),
    ],
)
def test_bad_arguments_raise(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word) as info:
        DualTemperatureLogitsProcessor(**kwargs)
    assert "\n" not in str(info.value)


def test_numpy_and_torch_scalars_are_numbers() -> None:
    """Temperatures and thresholds read from a numpy grid (np.float32, np.float64, np.int64) or a 0-d tensor used
    to be refused as "must be a positive number"; NaN stays refused whatever its type."""
    proc = DualTemperatureLogitsProcessor(np.float32(0.672), np.float32(1.5), np.int64(1))
    assert (proc.t_fork, proc.t_rest) == (1.5, 1.0) and proc.threshold == float(np.float32(0.672))
    proc = DualTemperatureLogitsProcessor(torch.tensor(0.5), np.float64(2.0), torch.tensor(0.5))
    assert (proc.threshold, proc.t_fork, proc.t_rest) == (0.5, 2.0, 0.5)
    for bad in (np.float32("nan"), np.float64(-1.0), np.float64("inf"), np.bool_(True)):
        with pytest.raises(ValueError, match="t_fork"):
            DualTemperatureLogitsProcessor(1.0, bad, 1.0)
    with pytest.raises(ValueError, match="threshold"):
        DualTemperatureLogitsProcessor(np.float64("nan"), 1.0, 1.0)


# --- through model.generate ---------------------------------------------------------------------------


def test_generate_left_padded_batch_matches_rows_alone(tiny_model: GPT2LMHeadModel) -> None:
    """Greedy decoding (temperature does not change argmax) so each row can be replayed alone."""
    ids, mask, prompts = _left_padded_batch()
    kw = dict(max_new_tokens=6, do_sample=False, pad_token_id=PAD, return_dict_in_generate=True, output_scores=True, output_logits=True)
    probe = DualTemperatureLogitsProcessor(threshold=0.0, t_fork=1.0, t_rest=1.0, record=True)
    tiny_model.generate(ids, attention_mask=mask, logits_processor=LogitsProcessorList([probe]), **kw)
    thr = float(probe.history()[0].median())  # split this batch's steps roughly in half
    proc = DualTemperatureLogitsProcessor(threshold=thr, t_fork=1.5, t_rest=0.5, record=True)
    out = tiny_model.generate(ids, attention_mask=mask, logits_processor=LogitsProcessorList([proc]), **kw)
    ent, fork = proc.history()
    assert ent.shape == (3, 6)
    # the processor scaled each step's raw logits row-wise by its own entropy
    for step, (raw, sc) in enumerate(zip(out.logits, out.scores)):
        h = _ref_entropy(raw)
        torch.testing.assert_close(ent[:, step].double(), h, rtol=1e-5, atol=1e-5)
        t = torch.where(fork[:, step], 1.5, 0.5).unsqueeze(1)
        torch.testing.assert_close(sc, raw / t)
    assert fork.any() and not fork.all(), "threshold should split this batch"
    # a left-padded row sees the same distributions as the same prompt unpadded
    for i, p in enumerate(prompts):
        solo = DualTemperatureLogitsProcessor(threshold=thr, t_fork=1.5, t_rest=0.5, record=True)
        tiny_model.generate(torch.tensor([p]), logits_processor=LogitsProcessorList([solo]), **kw)
        e1, f1 = solo.history()
        torch.testing.assert_close(e1[0], ent[i], rtol=1e-4, atol=1e-4)
        clear = (ent[i] - thr).abs() > 1e-3
        assert f1[0][clear].tolist() == fork[i][clear].tolist()


def test_runs_before_top_k(tiny_model: GPT2LMHeadModel) -> None:
    """generate's own top-k warper must act on the tempered scores (temperature first)."""
    ids, mask, _ = _left_padded_batch()
    proc = DualTemperatureLogitsProcessor(threshold=4.0, t_fork=1.5, t_rest=0.5, record=True)
    torch.manual_seed(0)
    out = dual_temperature_generate(
        tiny_model,
        {"input_ids": ids, "attention_mask": mask},
        proc,
        max_new_tokens=4,
        top_k=5,
        pad_token_id=PAD,
        return_dict_in_generate=True,
        output_scores=True,
        output_logits=True,
    )
    _, fork = proc.history()
    for step, (raw, sc) in enumerate(zip(out.logits, out.scores)):
        t = torch.where(fork[:, step], 1.5, 0.5).unsqueeze(1)
        kept = torch.isfinite(sc)
        assert (kept.sum(-1) == 5).all()
        torch.testing.assert_close(sc[kept], (raw / t)[kept])
        # entropy measured on the full, untruncated distribution
        torch.testing.assert_close(proc.history()[0][:, step].double(), _ref_entropy(raw), rtol=1e-5, atol=1e-5)


def test_helper_samples_and_resets(tiny_model: GPT2LMHeadModel) -> None:
    ids, mask, _ = _left_padded_batch()
    proc = DualTemperatureLogitsProcessor(threshold=4.0, t_fork=1.2, t_rest=0.8, record=True)
    proc(None, torch.zeros(7, V))  # type: ignore[arg-type]  # stale step from elsewhere
    torch.manual_seed(1)
    seq = dual_temperature_generate(tiny_model, {"input_ids": ids, "attention_mask": mask}, proc, max_new_tokens=5, pad_token_id=PAD)
    assert seq.shape == (3, ids.shape[1] + 5)
    assert proc.history()[0].shape == (3, 5)
    seq2 = dual_temperature_generate(tiny_model, ids[:1], proc, max_new_tokens=3, pad_token_id=PAD)
    assert seq2.shape == (1, ids.shape[1] + 3)
    assert proc.history()[0].shape == (1, 3)


def test_helper_rejects_competing_temperature(tiny_model: GPT2LMHeadModel) -> None:
    ids = torch.tensor([[5, 6, 7]])
    proc = DualTemperatureLogitsProcessor(threshold=1.0, t_fork=1.2, t_rest=0.8)
    with pytest.raises(ValueError, match="temperature=0.7"):
        dual_temperature_generate(tiny_model, ids, proc, temperature=0.7, max_new_tokens=2)
    with pytest.raises(ValueError, match="temperature=1.3"):
        dual_temperature_generate(tiny_model, ids, proc, generation_config=GenerationConfig(temperature=1.3), max_new_tokens=2)
    with pytest.raises(ValueError, match="TemperatureLogitsWarper"):
        dual_temperature_generate(tiny_model, ids, proc, logits_processor=LogitsProcessorList([TemperatureLogitsWarper(0.5)]))
    with pytest.raises(ValueError, match="do_sample"):
        dual_temperature_generate(tiny_model, ids, proc, do_sample=False)
    with pytest.raises(ValueError, match="num_beams"):
        dual_temperature_generate(tiny_model, ids, proc, num_beams=2)
    # temperature=1 is fine
    dual_temperature_generate(tiny_model, ids, proc, temperature=1.0, max_new_tokens=2, pad_token_id=PAD)


def test_helper_overrides_model_default_temperature(tiny_model: GPT2LMHeadModel) -> None:
    ids = torch.tensor([[5, 6, 7]])
    proc = DualTemperatureLogitsProcessor(threshold=1.0, t_fork=1.2, t_rest=0.8, record=True)
    old = tiny_model.generation_config.temperature
    tiny_model.generation_config.temperature = 0.6
    try:
        with pytest.warns(UserWarning, match="overridden to 1.0"):
            out = dual_temperature_generate(
                tiny_model, ids, proc, max_new_tokens=2, pad_token_id=PAD, top_k=0,
                return_dict_in_generate=True, output_scores=True, output_logits=True,
            )
    finally:
        tiny_model.generation_config.temperature = old
    _, fork = proc.history()
    for step, (raw, sc) in enumerate(zip(out.logits, out.scores)):
        t = torch.where(fork[:, step], 1.2, 0.8).unsqueeze(1)
        torch.testing.assert_close(sc, raw / t)  # no extra 0.6 scaling


def test_helper_no_warning_for_plain_model(tiny_model: GPT2LMHeadModel) -> None:
    proc = DualTemperatureLogitsProcessor(threshold=1.0, t_fork=1.2, t_rest=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        dual_temperature_generate(tiny_model, torch.tensor([[5, 6, 7]]), proc, max_new_tokens=2, pad_token_id=PAD)


def test_helper_inplace_path_matches_copy_path(tiny_model: GPT2LMHeadModel) -> None:
    """The helper divides in place only when generate keeps no raw logits; results must not change."""
    ids, mask, _ = _left_padded_batch()
    enc = {"input_ids": ids, "attention_mask": mask}
    kw = dict(max_new_tokens=5, top_k=0, pad_token_id=PAD, return_dict_in_generate=True, output_scores=True)
    proc = DualTemperatureLogitsProcessor(threshold=4.5, t_fork=1.5, t_rest=0.5, record=True)
    torch.manual_seed(3)
    fast = dual_temperature_generate(tiny_model, enc, proc, **kw)  # in place
    h_fast = proc.history()
    torch.manual_seed(3)
    safe = dual_temperature_generate(tiny_model, enc, proc, output_logits=True, **kw)  # copies
    assert torch.equal(fast.sequences, safe.sequences)
    for a, b in zip(fast.scores, safe.scores):
        torch.testing.assert_close(a, b)
    assert torch.equal(h_fast[1], proc.history()[1])  # the fork decisions (booleans)
    assert proc._inplace is False  # only ever on inside the helper


@pytest.fixture(scope="module")
def task_model() -> tuple:
    from utils import toy_lm

    torch.set_num_threads(1)
    return toy_lm.load_task_model()


def test_generated_steps_cut_at_eos(task_model: tuple) -> None:
    model, tok = task_model
    enc = tok(["8 5 7>33:", "6 3 9>18:"], return_tensors="pt", padding=True, add_special_tokens=False)
    proc = DualTemperatureLogitsProcessor(0.5, 1.5, 1.0, record=True)
    torch.manual_seed(0)
    out = dual_temperature_generate(model, enc, proc, max_new_tokens=24, top_k=0, pad_token_id=tok.pad_token_id)
    ent, fork = proc.history()
    rows = generated_steps(tok, out, enc["input_ids"].shape[1], ent, fork)
    assert len(rows) == 2
    for row, ids in zip(rows, out[:, enc["input_ids"].shape[1]:].tolist()):
        assert [s["id"] for s in row] == ids[: len(row)]
        assert all(s["fork"] == (s["entropy"] >= 0.5) for s in row)
        assert tok.eos_token_id not in [s["id"] for s in row[:-1]]
    with pytest.raises(ValueError, match="reset"):
        generated_steps(tok, out, enc["input_ids"].shape[1], ent[:, :-1], fork[:, :-1])
