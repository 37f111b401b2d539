"""utils.infra.prefill: each distinct prompt prefilled once, the same sampled tokens as plain ``generate``."""

from __future__ import annotations

import pytest
import torch

from utils.infra import prefill as sp
from utils.rlvr.tasks import make_standin


@pytest.fixture(scope="module")
def standin() -> tuple:
    model, tok = make_standin(n_embd=32, n_layer=2, n_head=2, seed=3)
    tok.padding_side = "left"
    return model.eval(), tok


def _sample(model, tok, prompts, n: int, seed: int = 0, **kw) -> torch.Tensor:
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    torch.manual_seed(seed)
    with torch.no_grad():
        return model.generate(**enc, do_sample=True, top_k=0, top_p=1.0, max_new_tokens=12, num_return_sequences=n,
                              pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, **kw)


def test_run_length() -> None:
    a = torch.tensor([[1, 2], [1, 2], [3, 4], [3, 4]])
    assert sp.run_length(a) == 2
    assert sp.run_length(a, torch.ones_like(a)) == 2
    mask = torch.tensor([[1, 1], [0, 1], [1, 1], [1, 1]])   # same ids, other mask: not the same row
    assert sp.run_length(a, mask) == 1
    assert sp.run_length(torch.tensor([[1, 2], [1, 2], [1, 2], [3, 4]])) == 1    # runs of unequal length
    assert sp.run_length(torch.tensor([[1, 2], [3, 4]])) == 1
    assert sp.run_length(torch.tensor([[1, 2]])) == 1
    assert sp.run_length(torch.tensor([[5, 5]] * 6)) == 6


@pytest.mark.parametrize("prompts", [["12 + 3", "4 * 5 - 6", "7"], ["1+1", "2+2"]], ids=["padded", "same length"])
def test_same_tokens_as_plain_generate(standin: tuple, prompts: list[str]) -> None:
    model, tok = standin
    plain = _sample(model, tok, prompts, n=4, seed=1)
    with sp.shared_prefill(model):
        calls = []
        orig = sp.run_length
        try:
            sp.run_length = lambda *a: calls.append(orig(*a)) or calls[-1]   # type: ignore[assignment]
            shared = _sample(model, tok, prompts, n=4, seed=1)
        finally:
            sp.run_length = orig   # type: ignore[assignment]
    assert calls == [4]                       # the prefill saw runs of 4 copies and computed one of each
    assert torch.equal(shared, plain)         # token ids: integers, exactly the same
    assert "_prefill" not in vars(model)      # the block leaves the model as it was


def test_rows_that_are_not_copies_pass_through(standin: tuple) -> None:
    model, tok = standin
    plain = _sample(model, tok, ["1+2", "3+4", "5+6"], n=1, seed=2)
    with sp.shared_prefill(model):
        shared = _sample(model, tok, ["1+2", "3+4", "5+6"], n=1, seed=2)
    assert torch.equal(shared, plain)


def test_install_is_idempotent(standin: tuple) -> None:
    model, _ = make_standin(seed=4)
    sp.install_shared_prefill(model)
    first = vars(model)["_prefill"]
    sp.install_shared_prefill(model)
    assert vars(model)["_prefill"] is first
    with sp.shared_prefill(model):
        assert vars(model)["_prefill"] is first   # already installed: the block keeps it
    assert vars(model)["_prefill"] is first
