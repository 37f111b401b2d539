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


def test_low_entropy_runs():
    h = np.array([0.0, 0.0, 5.0, 0.0, 5.0, 5.0, 0.0, 0.0, 0.0])
    assert fk.low_entropy_runs(h, 1.0).tolist() == [2, 1, 3]
    assert fk.low_entropy_runs(np.array([5.0, 5.0]), 1.0).tolist() == []
    assert fk.low_entropy_runs(np.zeros(4), 1.0).tolist() == [4]
    assert fk.low_entropy_runs(np.zeros(0), 1.0).tolist() == []


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


def test_summary_over_groups():
    g = {0: [np.zeros(4), np.ones(1)], 1: [np.zeros(5)]}
    s = fk.summary_over_groups(g)
    assert s["share_below_0.01"]["mean"] == pytest.approx(0.9) and s["share_below_0.01"]["n_groups"] == 2
    assert s["share_below_0.01"]["sd"] == pytest.approx(np.std([0.8, 1.0], ddof=1))
    assert fk.summary_over_groups({0: [np.ones(3)]})["mean"]["sd"] == pytest.approx(0.0, abs=1e-12)


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


def _standin_corpus(n: int = 6):
    from utils.rlvr.tasks import make_standin

    model, tok = make_standin(seed=7)
    model.eval()
    rng = np.random.default_rng(0)
    prompts = [f"{a}+{b}=" for a, b in rng.integers(1, 9, size=(n, 2))]
    comps = [[int(t) for t in rng.integers(4, 15, size=int(k))] for k in rng.integers(3, 9, size=n)]
    return model, tok, prompts, comps


def test_stored_scores_read_back_as_the_records(tmp_path):
    model, tok, prompts, comps = _standin_corpus()
    scored = fk.score_completions_at(model, tok, prompts, comps, [0.7, 1.0])
    path = fk.save_scores(tmp_path / "s.npz", prompts, comps, scored, {"command": "make it"})
    back, meta = fk.load_scores(path, tok, prompts, comps)
    assert meta["command"] == "make it" and sorted(back) == [0.7, 1.0]
    for t in (0.7, 1.0):
        assert [[r.token_id for r in recs] for recs in back[t]] == comps
        got = np.array([r.entropy for recs in back[t] for r in recs])
        want = np.array([r.entropy for recs in scored[t] for r in recs])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    # a trace the file lacks reads as None
    missing, _ = fk.load_scores(path, tok, prompts[:1] + ["9+9="], comps[:1] + [[5, 6]])
    assert missing[1.0][1] is None and missing[1.0][0] is not None


def test_score_with_store_checks_a_live_slice_and_refuses_a_stale_store(tmp_path):
    from utils.results import ResultsError

    model, tok, prompts, comps = _standin_corpus()
    full = fk.score_completions_at(model, tok, prompts, comps, [1.0])
    path = fk.save_scores(tmp_path / "s.npz", prompts[:5], comps[:5], {1.0: full[1.0][:5]}, {"command": "redo"})
    got, info = fk.score_with_store(model, tok, prompts, comps, path, live=2, batch_size=2)
    assert (info["live"], info["stored"], info["checked"]) == (3, 3, 2)   # 2 checked + 1 the store lacks; 3 read back
    assert info["max_diff"] == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_allclose([r.entropy for recs in got[1.0] for r in recs],
                               [r.entropy for recs in full[1.0] for r in recs], rtol=0, atol=1e-5)
    every, info = fk.score_with_store(model, tok, prompts, comps, path, live=None)   # live=None: all scored now
    assert info["live"] == len(prompts) and info["stored"] == 0
    stale = {1.0: [[TokenRecord(r.position, r.token, r.token_id, r.entropy + 0.01, r.prob, r.surprisal) for r in recs]
                   for recs in full[1.0][:5]]}
    bad = fk.save_scores(tmp_path / "stale.npz", prompts[:5], comps[:5], stale, {"command": "redo"})
    with pytest.raises(ResultsError, match="regenerate the file with: redo"):
        fk.score_with_store(model, tok, prompts, comps, bad, live=1)
    with pytest.raises(ResultsError, match="temperature"):
        fk.score_with_store(model, tok, prompts, comps, path, live=1, temperatures=[0.7])
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ResultsError, match="token-scores"):
        fk.score_with_store(model, tok, prompts, comps, tmp_path / "junk.npz", live=1)


def test_store_line_says_how_the_corpus_was_scored():
    assert fk.store_line({"live": 30, "stored": 0, "checked": 0, "max_diff": None}, "x.npz") == "30 traces scored now"
    line = fk.store_line({"live": 8, "stored": 22, "checked": 8, "max_diff": 0.0}, "data/s.npz")
    assert line == "8 traces scored now, 22 read from s.npz; the 8 re-scored ones agree with the stored scores exactly"
    assert "within 3.0e-06 nats" in fk.store_line({"live": 8, "stored": 22, "checked": 8, "max_diff": 3e-6}, "s.npz")


def test_score_with_store_scores_whole_batches_live(tmp_path):
    model, tok, prompts, comps = _standin_corpus(n=6)
    full = fk.score_completions_at(model, tok, prompts, comps, [1.0], batch_size=4)
    path = fk.save_scores(tmp_path / "s.npz", prompts, comps, full, {"command": "redo"})
    _, info = fk.score_with_store(model, tok, prompts, comps, path, live=1, batch_size=4)
    assert (info["live"], info["checked"], info["stored"]) == (4, 4, 2)   # one whole batch of 4, as the store was made
