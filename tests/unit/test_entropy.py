"""token_entropy against independent references; score_text alignment on a tiny random GPT-2."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import entropy as scipy_entropy

from utils.entropy import (
    LN2,
    WRITEUP_BANDS_BITS,
    band_shares,
    entropies_of,
    percentile_threshold,
    score_text,
    score_texts,
    summarize,
    token_entropy,
)


def ref_entropy(logits: torch.Tensor) -> torch.Tensor:
    return torch.distributions.Categorical(logits=logits.double()).entropy()


@pytest.mark.parametrize(
    "make",
    [
        lambda g: torch.randn(3, 5, 97, generator=g),  # random
        lambda g: torch.randn(4, 50, generator=g) * 40,  # peaked
        lambda g: torch.zeros(2, 3, 31),  # uniform
        lambda g: torch.randn(2, 1000, generator=g) * 1e4 + 1e6,  # huge logits
    ],
)
def test_matches_categorical_reference(make):
    g = torch.Generator().manual_seed(0)
    x = make(g)
    h = token_entropy(x)
    assert h.shape == x.shape[:-1] and h.dtype == torch.float32
    torch.testing.assert_close(h.double(), ref_entropy(x), atol=2e-5, rtol=1e-5)


def test_matches_scipy_and_uniform_is_log_v():
    x = torch.randn(6, 13, generator=torch.Generator().manual_seed(1))
    p = torch.softmax(x.double(), -1).numpy()
    np.testing.assert_allclose(token_entropy(x).numpy(), scipy_entropy(p, axis=-1), atol=1e-5)
    assert token_entropy(torch.zeros(7)).item() == pytest.approx(math.log(7), abs=1e-6)


def test_one_hot_is_zero_and_bounds():
    x = torch.full((5,), -1e9)
    x[2] = 0.0
    assert token_entropy(x).item() == pytest.approx(0.0, abs=1e-6)
    y = torch.randn(100, 50, generator=torch.Generator().manual_seed(2)) * 5
    h = token_entropy(y)
    assert (h >= 0).all() and (h <= math.log(50) + 1e-5).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_inputs_computed_in_float32(dtype):
    x = (torch.randn(4, 8, 500, generator=torch.Generator().manual_seed(3)) * 8).to(dtype)
    h = token_entropy(x)
    assert h.dtype == torch.float32
    torch.testing.assert_close(h.double(), ref_entropy(x.float()), atol=1e-4, rtol=1e-4)


def test_masked_vocabulary():
    x = torch.randn(3, 40, generator=torch.Generator().manual_seed(4))
    x[0, :30] = -math.inf
    x[1, 1:] = -math.inf  # a single allowed token: entropy 0
    h = token_entropy(x)
    assert torch.isfinite(h).all()
    torch.testing.assert_close(h.double(), ref_entropy(x), atol=1e-5, rtol=1e-5)
    assert h[1].item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_chunked_equals_unchunked(chunk):
    x = torch.randn(5, 9, 211, generator=torch.Generator().manual_seed(5)) * 3
    torch.testing.assert_close(token_entropy(x, chunk_size=chunk), token_entropy(x, chunk_size=10_000), atol=1e-6, rtol=0)


def test_bits():
    x = torch.randn(4, 33, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(token_entropy(x, unit="bits"), token_entropy(x) / LN2)


def test_differentiable_when_requires_grad():
    x = torch.randn(2, 10, requires_grad=True)
    token_entropy(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.tensor(1.0), "0-d"),
        (torch.ones(3, dtype=torch.long), "float"),
        (torch.tensor([0.0, float("nan")]), "NaN"),
        (torch.full((2, 3), -math.inf), "no finite maximum"),
    ],
)
def test_bad_input_one_line_errors(bad, match):
    with pytest.raises(ValueError, match=match) as e:
        token_entropy(bad)
    assert "\n" not in str(e.value)


def test_bad_unit():
    with pytest.raises(ValueError, match="nats"):
        token_entropy(torch.zeros(3), unit="nat")


@pytest.fixture(scope="module")
def tiny_lm():
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {c: i for i, c in enumerate("abcdefghij .")}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="."))
    tk.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=tk)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=1, n_head=2, n_positions=64)).eval()
    return model, tok


def test_score_text_alignment(tiny_lm):
    model, tok = tiny_lm
    text = "abc defg."
    recs = score_text(model, tok, text)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert [r.token_id for r in recs] == ids
    assert recs[0].entropy is None and recs[0].prob is None and recs[0].surprisal is None
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    for t in range(1, len(ids)):  # token t's numbers come from logits[t - 1]
        assert recs[t].entropy == pytest.approx(token_entropy(logits[t - 1]).item(), abs=1e-6)
        p = torch.softmax(logits[t - 1], -1)[ids[t]].item()
        assert recs[t].prob == pytest.approx(p, rel=1e-5)
        assert recs[t].surprisal == pytest.approx(-math.log(p), rel=1e-5)


def test_score_texts_batched_equals_single_and_bits(tiny_lm):
    model, tok = tiny_lm
    texts = ["abc", "hij hij hij ab", "a"]
    batched = score_texts(model, tok, texts, batch_size=3)
    for text, recs in zip(texts, batched):
        single = score_text(model, tok, text)
        assert [r.token for r in recs] == [r.token for r in single]
        np.testing.assert_allclose(entropies_of(recs), entropies_of(single), atol=1e-5)
    bits = score_text(model, tok, texts[1], unit="bits")
    np.testing.assert_allclose(entropies_of(bits), entropies_of(batched[1]) / LN2, rtol=1e-5)


def test_score_text_rejects_empty(tiny_lm):
    with pytest.raises(ValueError):
        score_text(*tiny_lm, "")


def test_bands_percentiles_summary():
    h = np.array([0.0, 0.5, 1.0, 2.0, 2.5, 3.5]) * LN2  # in nats; bits: 0, .5, 1, 2, 2.5, 3.5
    shares = band_shares(h)
    assert list(shares) == [b[0] for b in WRITEUP_BANDS_BITS]
    assert shares["< 1 bit (certain)"] == pytest.approx(2 / 6)
    assert shares["1-3 bits (a few options)"] == pytest.approx(3 / 6)
    assert shares["3-4 bits (the write-up's gap)"] == pytest.approx(1 / 6)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert percentile_threshold(np.arange(101), 80) == pytest.approx(80)
    s = summarize([0.0, 0.001, 1.0, 2.0])
    assert s["share_below_0.01"] == pytest.approx(0.5) and s["n"] == 4
    with pytest.raises(ValueError):
        percentile_threshold([], 80)


# --------------------------------------------------------------------------------- edges (issue: maths at the edges)


def _old_safe_rows(z: torch.Tensor) -> torch.Tensor:
    """The former differentiable form, kept to show finite logits give the same bits as before."""
    logp = torch.log_softmax(z, dim=-1)
    p = logp.exp()
    return -torch.where(p > 0, p * logp, torch.zeros((), dtype=z.dtype)).sum(dim=-1)


def test_gradient_with_masked_entries_is_the_finite_subvocabulary_gradient():
    """A -inf logit used to turn the whole row's gradient into NaN (the discarded branch of the torch.where still
    back-propagated p * (-inf)). Now the gradient is finite, 0 on masked entries, and equals the gradient of the
    entropy over the finite entries alone."""
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 9, generator=g)
    masked = base.clone()
    masked[0, 3] = masked[1, 0] = masked[1, 8] = masked[3, 2] = float("-inf")
    x = masked.clone().requires_grad_(True)
    h = token_entropy(x)
    (h * torch.arange(1.0, 5.0)).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[torch.isinf(masked)] == 0).all()
    for row in range(4):
        keep = torch.isfinite(masked[row])
        sub = base[row, keep].clone().requires_grad_(True)
        hs = token_entropy(sub)
        ((row + 1) * hs).backward()
        torch.testing.assert_close(h[row].detach(), hs.detach())
        torch.testing.assert_close(x.grad[row, keep], sub.grad)


def test_finite_logits_give_the_same_values_as_before():
    """Same values to float32 rounding, not the same bits: the two forms are different reductions, and which
    vectorised kernel a CPU picks for each can change the last bit."""
    g = torch.Generator().manual_seed(1)
    for x in (torch.randn(5, 40, generator=g), torch.randn(3, 7, generator=g) * 60, torch.zeros(2, 11)):
        with_grad = token_entropy(x.clone().requires_grad_(True)).detach()
        torch.testing.assert_close(with_grad, _old_safe_rows(x).clamp_min(0.0), atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(token_entropy(x), token_entropy(x, chunk_size=1), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("chunk", [2.5, 0, -3, True, "4"])
def test_chunk_size_must_be_a_positive_whole_number(chunk):
    with pytest.raises(ValueError, match="chunk_size"):
        token_entropy(torch.zeros(3, 5), chunk_size=chunk)


def test_score_texts_batch_size_and_the_models_context(tiny_lm):
    model, tok = tiny_lm
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        score_texts(model, tok, ["hello"], batch_size=0)
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        score_texts(model, tok, ["hello"], batch_size=1.5)
    from utils.entropy import context_length

    limit = context_length(model)
    long = "a b " * (limit + 10)
    with pytest.raises(ValueError, match=f"the model's context is {limit} tokens"):
        score_text(model, tok, long)
    recs = score_texts(model, tok, [long], max_length=limit)[0]  # the way out the message names
    assert len(recs) == limit


def test_forks_are_the_top_percentile_of_one_text():
    from utils.entropy import TokenRecord, forks

    recs = [TokenRecord(0, "A", 0, None, None, None)] + [TokenRecord(i, f"t{i}", i, float(h), None, None)
                                                           for i, h in enumerate([0.1, 3.0, 0.2, 0.0, 2.0], start=1)]
    got = forks(recs, q=80)
    assert [r.token for r in got] == ["t2"]  # 80th percentile of 5 values: between 2.0 and 3.0
    assert [r.token for r in forks(recs, q=50)] == ["t2", "t5", "t3"][:0] + ["t2", "t3", "t5"]
    with pytest.raises(ValueError):
        forks(recs[:1])


@pytest.mark.parametrize("V", [50257, 49152, 100, 3_000_000])
def test_the_automatic_chunks_leave_alone_the_rows_the_8_mib_chunks_left_alone(V):
    """A row alone in a chunk is summed in another order once torch runs two threads, so the one-thread plan (about
    1 MiB chunks) keeps alone exactly the rows the 8 MiB plan keeps alone (and so gives the same bits): chunks cover
    every row once, in order, and every other chunk has at least 2 rows. With two threads the plan is the 8 MiB one."""
    from utils.entropy import _chunk_plan, auto_chunk_rows

    previous = max(1, 8 * 2**20 // (4 * V))
    assert auto_chunk_rows(V, threads=2) == previous and auto_chunk_rows(V, threads=1) <= previous
    for n in sorted({0, 1, 2, 3, 7, previous - 1, previous, previous + 1, previous + 2, 3 * previous + 1}):
        if V == 3_000_000 and n > 3:
            continue
        old = _chunk_plan(n, V, previous)
        assert _chunk_plan(n, V, None, threads=2) == old
        new = _chunk_plan(n, V, None, threads=1)
        flat = [i for a, b in new for i in range(a, b)]
        assert flat == list(range(n))
        assert {a for a, b in new if b - a == 1} == {a for a, b in old if b - a == 1}
        assert all(b - a <= previous + 1 for a, b in new)  # never much more memory than before


def test_the_automatic_chunks_give_the_values_of_the_8_mib_chunks():
    from utils.entropy import THREADED_CHUNK_BYTES

    V = 3000
    previous = THREADED_CHUNK_BYTES // (4 * V)
    g = torch.Generator().manual_seed(2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for n in (1, previous + 1, 2 * previous + 3):
            x = torch.randn(n, V, generator=g) * 3
            torch.testing.assert_close(token_entropy(x), token_entropy(x, chunk_size=previous), atol=1e-6, rtol=1e-6)
    finally:
        torch.set_num_threads(threads)
