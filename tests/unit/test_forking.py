"""utils.forking: next-k means, run lengths, Countdown roles, group tables, scoring alignment."""

import numpy as np
import pytest
import torch

from utils import forking as fk
from utils.entropy import TokenRecord


def test_mean_after_on_a_constructed_sequence():
    h = np.array([5.0, 0.0, 1.0, 2.0, 9.0, 3.0, 3.0])
    got = fk.mean_after(h, [0, 4, 5], k=2)
    # 0 -> mean(0, 1); 4 -> mean(3, 3); 5 has only one token after it: dropped
    assert np.allclose(got, [0.5, 3.0])
    assert fk.mean_after(h, [6], k=1).size == 0
    with pytest.raises(ValueError):
        fk.mean_after(h, [0], k=0)


def test_following_profile_and_forking_vs_random():
    # a fork (3.0) always followed by 0, 0 then 1: the profile after forks is exact
    seq = np.array([3.0, 0.0, 0.0, 1.0] * 25)
    prof = fk.following_profile([seq], fk.fork_positions([seq], 2.0), k=3)
    assert np.allclose(prof, [0.0, 0.0, 1.0])
    res = fk.forking_vs_random([seq], threshold=2.0, k=3, seed=0)
    assert res["after_fork"] == pytest.approx(1 / 3)
    assert res["after_random"] > res["after_fork"]
    assert res["n_fork"] == 25  # the last fork (index 96) still has 3 tokens after it
    assert len(res["profile_random"]) == 3


def test_runs_after_forks():
    h = np.array([0.0, 5.0, 0.0, 0.0, 5.0, 5.0, 0.0])
    # fork at 1 -> 2 low tokens; fork at 4 -> 0 (next forks); fork at 5 -> 1 (end-censored)
    assert fk.runs_after_forks(h, 1.0).tolist() == [2, 0, 1]


def test_shuffle_within_keeps_values():
    seqs = [np.arange(10.0), np.arange(3.0)]
    sh = fk.shuffle_within(seqs, seed=0)
    assert [sorted(s) for s in sh] == [sorted(s) for s in seqs]
    assert not np.array_equal(sh[0], seqs[0])


def test_countdown_roles_hand_made():
    assert fk.countdown_roles("8*5=40,40-7=33") == (
        ["operand", "operator", "operand", "=", "result digit", "result digit", "separator ','"]
        + ["operand", "operand", "operator", "operand", "=", "result digit", "result digit"]
    )
    assert fk.countdown_roles("12+3=15", eos=True)[-1] == "end (EOS)"
    assert len(fk.countdown_roles("12+3=15", eos=True)) == len("12+3=15") + 1
    assert "other" in fk.countdown_roles("8 *5=40")  # off-format characters
    # token lists: one role per token, multi-character (special) tokens are "other"
    assert fk.countdown_roles(["8", "*", "<bos>", "5", "=", "4"]) == [
        "operand", "operator", "other", "operand", "=", "result digit"]


def test_group_table():
    ent = [np.array([0.0, 2.0, 0.0]), np.array([4.0])]
    lab = [["a", "b", "a"], ["b"]]
    t = fk.group_table(ent, lab, threshold=1.0)
    assert t.loc["b", "mean_entropy"] == pytest.approx(3.0) and t.loc["a", "mean_entropy"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc["b", "share_high"] == pytest.approx(1.0) and t.loc["a", "share_of_forks"] == pytest.approx(0.0, abs=1e-12)
    assert t["share_of_forks"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        fk.group_table(ent, [["a"], ["b"]], 1.0)


def _rec(tok, h):
    return TokenRecord(0, tok, 0, h, None, None)


def test_token_table_and_tops():
    recs = [[_rec(" Wait", 2.0), _rec(",", 0.0), _rec(" wait", 1.5), _rec("\n", 0.001), _rec(",", 0.002)]]
    t = fk.token_table(recs, threshold=1.0)
    assert t.loc["wait", "count"] == 2 and t.loc["wait", "n_high"] == 2
    assert t.loc[",", "n_low"] == 2 and t.loc["⏎", "count"] == 1
    assert fk.top_forking_tokens(t, 1).index[0] == "wait"
    assert fk.top_low_entropy_tokens(t, 1).index[0] == ","


class _Toy(torch.nn.Module):
    """A causal 'LM' whose logits at position t depend only on the token at t."""

    def __init__(self, V=7):
        super().__init__()
        self.emb = torch.nn.Embedding(V, V)
        torch.manual_seed(0)
        self.emb.weight.data = torch.randn(V, V) * 2

    def forward(self, input_ids, attention_mask=None):
        return type("Out", (), {"logits": self.emb(input_ids)})()


class _Tok:
    eos_token_id = 6

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [int(c) for c in text]}

    def decode(self, ids):
        return "".join(str(i) for i in ids)


def test_score_completions_alignment_and_padding():
    model, tok = _Toy(), _Tok()
    prompts, comps = ["12", "3"], [[4, 5, 0], "21"]
    recs = fk.score_completions(model, tok, prompts, comps, batch_size=2, append_eos=True)
    assert [len(r) for r in recs] == [4, 3]
    from utils.entropy import token_entropy

    W = model.emb.weight.data
    # the entropy of completion token j is that of the distribution at the previous token
    assert recs[0][0].entropy == pytest.approx(float(token_entropy(W[2])), abs=1e-5)  # after prompt "12"
    assert recs[0][1].entropy == pytest.approx(float(token_entropy(W[4])), abs=1e-5)
    assert recs[1][0].entropy == pytest.approx(float(token_entropy(W[3])), abs=1e-5)
    assert recs[1][2].token_id == 6
    p = torch.softmax(W[2], -1)[4].item()
    assert recs[0][0].prob == pytest.approx(p, rel=1e-4)
    # batching does not change the numbers
    one = fk.score_completions(model, tok, prompts[1:], comps[1:], batch_size=1, append_eos=True)
    assert [r.entropy for r in one[0]] == pytest.approx([r.entropy for r in recs[1]], abs=1e-6)


def test_token_kinds():
    got = fk.token_kinds([" The", " answer", "ing", " is", " 4", "2", ".", "\n", "<|im_end|>", "So"])
    assert got == [
        "word start", "word start", "word piece", "word start", "number", "number",
        "punctuation / symbol", "whitespace / newline", "special", "word start",
    ]
    assert set(got) <= set(fk.TOKEN_KINDS)


def test_share_above():
    assert fk.share_above([np.array([0.0, 2.0, 0.5])], 0.5) == pytest.approx(2 / 3)


def test_score_completions_checks_temperature_and_batch_size():
    from utils.toy_lm import load_task_model

    model, tok = load_task_model()
    for t in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
            fk.score_completions(model, tok, ["8 5 7>33:"], ["8*5=40"], temperature=t)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        fk.score_completions(model, tok, ["8 5 7>33:"], ["8*5=40"], batch_size=0)
    a = fk.score_completions(model, tok, ["8 5 7>33:"], ["8*5=40"], temperature=np.float32(0.5))
    b = fk.score_completions(model, tok, ["8 5 7>33:"], ["8*5=40"], temperature=0.5)
    assert [r.entropy for r in a[0]] == [r.entropy for r in b[0]]


def test_after_fork_pairs_sequence_is_the_unit():
    # sequence 0: a fork (3.0) followed by calm tokens; sequence 1 has no fork; sequence 2 forks at its end only
    seqs = [np.array([3.0, 0.0, 0.0, 1.0, 1.0]), np.array([0.5, 0.5, 0.5]), np.array([0.0, 0.0, 3.0])]
    a, b = fk.after_fork_pairs(seqs, threshold=2.0, k=2, seed=0)
    assert a.shape == b.shape == (1,)
    assert a[0] == pytest.approx(0.0)  # mean of the 2 tokens after the fork


def test_per_sequence_rates():
    ent = [np.array([2.0, 0.0, 2.0]), np.array([0.0, 0.0])]
    lab = [["x", "y", "y"], ["x", "x"]]
    r = fk.per_sequence_rates(ent, lab, 1.0, ["x", "y"])
    assert r["x"].tolist() == pytest.approx([1.0, 0.0], abs=1e-12)
    assert r["y"][0] == pytest.approx(0.5) and np.isnan(r["y"][1])
    with pytest.raises(ValueError):
        fk.per_sequence_rates([np.zeros(2)], [["x"]], 1.0, ["x"])


def test_score_completions_at_several_temperatures_equals_one_at_a_time():
    model, tok = _Toy(), _Tok()
    prompts, comps = ["12", "3"], [[4, 5, 0], "21"]
    both = fk.score_completions_at(model, tok, prompts, comps, [0.7, 1.0], batch_size=2)
    for t in (0.7, 1.0):
        one = fk.score_completions(model, tok, prompts, comps, batch_size=1, temperature=t)
        assert [[r.entropy for r in x] for x in both[t]] == [pytest.approx([r.entropy for r in x], abs=1e-6) for x in one]
    assert both[0.7][0][0].entropy < both[1.0][0][0].entropy  # a sharper distribution
    with pytest.raises(ValueError):
        fk.score_completions(model, tok, prompts, comps, temperature=0.0)
