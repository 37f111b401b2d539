"""utils.traces: seeded problems with right answers, answer extraction, stored scores."""

import json
import re

import numpy as np
import pytest

from utils import forking as fk
from utils import traces as tr
from utils.entropy import TokenRecord
from utils.traces import score_store as ss


def test_problems_are_seeded_distinct_and_cover_templates():
    a, b = tr.make_problems(60, seed=0), tr.make_problems(60, seed=0)
    assert a == b
    assert a != tr.make_problems(60, seed=1)
    assert len({p.question for p in a}) == 60
    assert {p.template for p in a} == set(tr.TEMPLATES)


def _numbers(q):
    return [int(x) for x in re.findall(r"\d+", q)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_answers_match_the_question(seed):
    for p in tr.make_problems(120, seed=seed):
        n = _numbers(p.question)
        expect = {
            "buy_give": lambda: n[0] + n[1] - n[2],
            "groups": lambda: n[0] * n[1],
            "share": lambda: n[0] // n[1],
            "price": lambda: n[2] * n[0] + n[1],
            "spend": lambda: n[0] - n[1] - n[2],
            "pages": lambda: n[0] * n[1],
        }[p.template]()
        assert p.answer == expect, p
        assert p.answer > 0
        if p.template == "share":
            assert n[0] % n[1] == 0


def test_shipped_problems_are_the_seeded_ones():
    if not tr.PROBLEMS_PATH.exists():
        pytest.skip("data/math_problems.jsonl not generated")
    shipped = tr.load_problems()
    assert shipped == tr.make_problems(len(shipped), seed=0)


@pytest.mark.parametrize(
    "text, want",
    [
        ("12 + 7 = 19, 19 - 5 = 14. The answer is 14.", 14),
        ("The answer is: 1,200 dollars", 1200),
        ("answer = 42", 42),
        ("First 3, then 4. So she has 9 left", 9),  # no "answer is": last number
        ("The answer is 5. Wait, 6 is wrong; the answer is 7.", 7),  # the last "answer is" wins
        ("The answer is -3.", -3),
        ("no numbers here", None),
        ("", None),
    ],
)
def test_extract_answer(text, want):
    assert tr.extract_answer(text) == want


def test_is_correct():
    assert tr.is_correct("so the answer is 54.", 54)
    assert not tr.is_correct("so the answer is 45.", 54)
    assert not tr.is_correct("I do not know", 54)


def test_make_problems_rejects_bad_n():
    with pytest.raises(ValueError):
        tr.make_problems(0)


def test_generate_traces_checks_its_arguments_before_using_the_model():
    """No model is touched (None would fail) before a bad argument is reported."""
    probs = tr.make_problems(2)
    for kw, msg in [(dict(samples=0), "samples"), (dict(batch_size=0), "batch_size"),
                    (dict(max_new_tokens=0), "max_new_tokens"), (dict(temperature=float("nan")), "temperature"),
                    (dict(temperature=-1.0), "temperature"), (dict(samples=1.5), "samples")]:
        with pytest.raises(ValueError, match=msg):
            tr.generate_traces(None, None, probs, **kw)
    with pytest.raises(ValueError, match="whole number"):
        tr.make_problems(2.5)  # type: ignore[arg-type]


def test_answer_source():
    assert tr.answer_source("so the answer is 54.") == "stated"
    assert tr.answer_source("the answer is N equation, 10 > 2") == "last number"
    assert tr.answer_source("no idea") is None and tr.answer_source("") is None


def test_generate_keeps_its_progress_file_in_build_not_next_to_out(tmp_path, monkeypatch):
    """`generate` showed its progress in `<out>.partial` next to --out, truncating and then deleting whatever file
    had that name (unguarded, even without --force); the progress file now lives in build/progress/."""
    import types

    import utils.models as models
    import utils.traces.cli as traces_cli
    from utils.config import BUILD_DIR

    out = tmp_path / "traces.jsonl"
    neighbour = tmp_path / "traces.jsonl.partial"
    neighbour.write_text("not the progress file\n", encoding="utf-8")
    seen = []

    def fake_generate(model, tok, probs, on_batch=None, **kw):
        rows = [{"correct": True, "problem": i} for i in range(2)]
        on_batch(rows)
        seen.append(tr.progress_path(out).read_text(encoding="utf-8"))
        return rows

    monkeypatch.setattr(models, "load_lm", lambda name: (None, None, types.SimpleNamespace(loaded=name)))
    monkeypatch.setattr(traces_cli, "generate_traces", fake_generate)
    assert tr.main(["generate", "--n", "2", "--samples", "1", "--out", str(out)]) == 0
    assert neighbour.read_text(encoding="utf-8") == "not the progress file\n"  # untouched
    assert seen and seen[0].count("\n") == 2  # progress was written in build/progress/
    assert tr.progress_path(out).parent == BUILD_DIR / "progress"
    assert not tr.progress_path(out).exists()  # and removed at the end
    assert out.read_text(encoding="utf-8").count("\n") == 2


def test_scores_cli_writes_a_store_and_refuses_bad_arguments(tmp_path, monkeypatch, capsys):
    """``python -m utils.traces scores``: the store a notebook reads back; arguments checked before the model loads."""
    import types

    import utils.models as models
    from utils.rlvr.tasks import make_standin

    model, tok = make_standin(seed=1)
    rows = [{"prompt": "1+2=", "completion_ids": [5, 6, 7], "temperature": 0.7},
            {"prompt": "3+4=", "completion_ids": [8, 9], "temperature": 0.7}]
    traces = tmp_path / "t.jsonl"
    traces.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert tr.main(["scores", "--traces", str(traces), "--out", str(tmp_path / "s.json")]) == 2   # not .npz
    assert "npz" in capsys.readouterr().err
    monkeypatch.setattr(models, "load_lm", lambda name, verbose=False: (model.eval(), tok, types.SimpleNamespace(
        loaded="standin", source="test")))
    out = tmp_path / "s.npz"
    assert tr.main(["scores", "--traces", str(traces), "--out", str(out)]) == 0
    back, meta = ss.load_scores(out, tok, [r["prompt"] for r in rows], [r["completion_ids"] for r in rows])
    assert sorted(back) == [0.7, 1.0] and meta["n"] == 2 and "--temperatures 0.7 1.0" in meta["command"]
    assert all(recs is not None for recs in back[0.7])


def _row(pid, correct, finished, completion="The answer is 5.", n_tok=3, **kw):
    return {"id": f"{pid}-s0", "problem_id": pid, "question": f"question {pid}?", "answer": 5, "extracted": 5 if correct else 4,
            "completion": completion, "completion_ids": list(range(n_tok)), "correct": correct, "finished": finished, **kw}


def test_corpus_line_and_format_trace():
    rows = [_row("p0", True, True, n_tok=2), _row("p0", False, False, n_tok=9), _row("p1", False, True, n_tok=4),
            _row("p2", False, True, n_tok=5)]
    line = tr.corpus_line(rows, "toy")
    assert line.startswith("**toy**: 4 traces of 3 problems; 25.0% give the right answer, 75% ended on their own")
    assert line.endswith("tokens per trace: median 4, max 9.")  # median of 2, 4, 5, 9 is 4.5, shown to 0 places
    text = tr.format_trace(rows[1])
    assert text.splitlines()[0] == "Q: question p0?" and "cut at the token limit" in text and text.endswith("A: The answer is 5.")
    with pytest.raises(ValueError, match="no traces"):
        tr.corpus_line([], "empty")


def test_pick_traces_prefers_a_stated_right_answer_that_ended():
    rows = [_row("p0", True, False), _row("p1", True, True, completion="it is 5"), _row("p2", False, True),
            _row("p3", True, True)]
    assert tr.pick_traces(rows) == [("right", 3), ("wrong", 2)]  # p0 did not end; p1 is right only by its last number
    assert tr.pick_traces(rows[:2]) == [("right", 1)]  # no wrong trace that ended: no "wrong" entry
    countdown = [{"prompt": "8 6 3>26:", "completion": "6*3=18,18+8=26", "correct": True, "seed": 0}]
    assert tr.pick_traces(countdown) == [("right", 0)]
    assert tr.trace_heading(countdown[0]) == "problem `8 6 3>26:` (sampling seed 0)"
    assert "right by accident" in tr.trace_heading(rows[1]) and "the last number" in tr.trace_heading(rows[1])
    assert "the number after 'the answer is'" in tr.trace_heading(rows[3]) and "accident" not in tr.trace_heading(rows[3])


def test_per_problem_pools_each_problems_traces():
    import numpy as np

    rows = [_row("p0", True, True), _row("p1", False, True), _row("p0", False, True)]
    hs = [np.array([1.0, 3.0]), np.array([0.5]), np.array([2.0])]
    got = tr.per_problem(rows, hs, lambda rs, h: (len(rs), float(h.mean())))
    assert got["p0"][0] == 2 and got["p0"][1] == pytest.approx(2.0) and got["p1"] == (1, pytest.approx(0.5))
    with pytest.raises(ValueError, match="pass one array per row"):
        tr.per_problem(rows, hs[:2], lambda rs, h: 0.0)


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
    path = ss.save_scores(tmp_path / "s.npz", prompts, comps, scored, {"command": "make it"})
    back, meta = ss.load_scores(path, tok, prompts, comps)
    assert meta["command"] == "make it" and sorted(back) == [0.7, 1.0]
    for t in (0.7, 1.0):
        assert [[r.token_id for r in recs] for recs in back[t]] == comps
        got = np.array([r.entropy for recs in back[t] for r in recs])
        want = np.array([r.entropy for recs in scored[t] for r in recs])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    # a trace the file lacks reads as None
    missing, _ = ss.load_scores(path, tok, prompts[:1] + ["9+9="], comps[:1] + [[5, 6]])
    assert missing[1.0][1] is None and missing[1.0][0] is not None


def test_score_with_store_checks_a_live_slice_and_refuses_a_stale_store(tmp_path):
    from utils.results import ResultsError

    model, tok, prompts, comps = _standin_corpus()
    full = fk.score_completions_at(model, tok, prompts, comps, [1.0])
    path = ss.save_scores(tmp_path / "s.npz", prompts[:5], comps[:5], {1.0: full[1.0][:5]}, {"command": "redo"})
    got, info = ss.score_with_store(model, tok, prompts, comps, path, live=2, batch_size=2)
    assert (info["live"], info["stored"], info["checked"]) == (3, 3, 2)   # 2 checked + 1 the store lacks; 3 read back
    assert info["max_diff"] == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_allclose([r.entropy for recs in got[1.0] for r in recs],
                               [r.entropy for recs in full[1.0] for r in recs], rtol=0, atol=1e-5)
    every, info = ss.score_with_store(model, tok, prompts, comps, path, live=None)   # live=None: all scored now
    assert info["live"] == len(prompts) and info["stored"] == 0
    stale = {1.0: [[TokenRecord(r.position, r.token, r.token_id, r.entropy + 0.01, r.prob, r.surprisal) for r in recs]
                   for recs in full[1.0][:5]]}
    bad = ss.save_scores(tmp_path / "stale.npz", prompts[:5], comps[:5], stale, {"command": "redo"})
    with pytest.raises(ResultsError, match="regenerate the file with: redo"):
        ss.score_with_store(model, tok, prompts, comps, bad, live=1)
    with pytest.raises(ResultsError, match="temperature"):
        ss.score_with_store(model, tok, prompts, comps, path, live=1, temperatures=[0.7])
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ResultsError, match="token-scores"):
        ss.score_with_store(model, tok, prompts, comps, tmp_path / "junk.npz", live=1)


def test_store_line_says_how_the_corpus_was_scored():
    assert ss.store_line({"live": 30, "stored": 0, "checked": 0, "max_diff": None}, "x.npz") == "30 traces scored now"
    line = ss.store_line({"live": 8, "stored": 22, "checked": 8, "max_diff": 0.0}, "data/s.npz")
    assert line == "8 traces scored now, 22 read from s.npz; the 8 re-scored ones agree with the stored scores exactly"
    assert "within 3.0e-06 nats" in ss.store_line({"live": 8, "stored": 22, "checked": 8, "max_diff": 3e-6}, "s.npz")


def test_score_with_store_scores_whole_batches_live(tmp_path):
    model, tok, prompts, comps = _standin_corpus(n=6)
    full = fk.score_completions_at(model, tok, prompts, comps, [1.0], batch_size=4)
    path = ss.save_scores(tmp_path / "s.npz", prompts, comps, full, {"command": "redo"})
    _, info = ss.score_with_store(model, tok, prompts, comps, path, live=1, batch_size=4)
    assert (info["live"], info["checked"], info["stored"]) == (4, 4, 2)   # one whole batch of 4, as the store was made
