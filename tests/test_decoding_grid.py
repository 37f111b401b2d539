"""utils.decoding_grid: the dual-temperature grid on the task model, its tables, per-problem comparisons and
results files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from utils import countdown as cd
from utils import decoding_grid as dg
from utils import rollouts, toy_lm
from utils.passk import mean_pass_at_k
from utils.results import ResultsError
from utils.sampling import DualTemperatureLogitsProcessor, dual_temperature_generate


@pytest.fixture(scope="module")
def shipped() -> tuple:
    torch.set_num_threads(1)
    return toy_lm.load_task_model()


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    return cd.load_eval_problems()[:40]


def _fake_runs() -> list[dict]:
    """Runs with known pass@1: cell value = t_fork - t_rest / 10 + seed / 100."""
    runs = []
    for f in (0.5, 1.0, 2.0):
        for r in (0.5, 1.0, 2.0):
            for s in (0, 1, 2):
                runs.append({"t_fork": f, "t_rest": r, "seed": s, "pass1": f - r / 10 + s / 100,
                             "n_samples": 4, "correct_counts": [s % 5, 4, 0]})
    return runs


def test_diagonal_cell_is_plain_temperature(shipped: tuple, problems: list[dict]) -> None:
    model, tok = shipped
    for t in (0.5, 1.0, 2.0):
        cell = dg.run_cell(model, tok, problems, t, t, threshold=0.3, seed=3, n_samples=2, fork_share=False)
        plain = rollouts.evaluate_pass1(model, tok, problems, n_samples=2, temperature=t, seed=3,
                                      max_new_tokens=dg.MAX_NEW_TOKENS)
        assert cell["correct_counts"] == plain["correct_counts"]
        assert cell["pass1"] == plain["pass1"]


def test_threshold_extremes_reduce_to_one_temperature(shipped: tuple, problems: list[dict]) -> None:
    model, tok = shipped
    never = dg.run_cell(model, tok, problems, 3.0, 0.5, threshold=math.inf, seed=1, fork_share=True)
    always = dg.run_cell(model, tok, problems, 0.5, 3.0, threshold=0.0, seed=1, fork_share=True)
    cold = rollouts.evaluate_pass1(model, tok, problems, temperature=0.5, seed=1, max_new_tokens=dg.MAX_NEW_TOKENS)
    assert never["correct_counts"] == always["correct_counts"] == cold["correct_counts"]
    assert never["fork_share"] == 0.0 and always["fork_share"] == 1.0


def test_entropy_threshold_and_fork_share(shipped: tuple, problems: list[dict]) -> None:
    model, tok = shipped
    th = dg.entropy_threshold(model, tok, problems, q=80, seed=0)
    assert th["threshold"] > 0 and th["n_tokens"] > len(problems)
    # seed 0 at (1, 1) draws the very samples the threshold was measured on: ~20% of steps at or above it
    cell = dg.run_cell(model, tok, problems, 1.0, 1.0, th["threshold"], seed=0)
    assert abs(cell["fork_share"] - 0.2) < 0.02
    assert dg.run_cell(model, tok, problems, 1.0, 1.0, th["threshold"], seed=0)["pass1"] == cell["pass1"]  # repeatable
    with pytest.raises(ValueError, match="percentile"):
        dg.entropy_threshold(model, tok, problems, q=100)


def test_run_grid_shapes_and_order(shipped: tuple, problems: list[dict]) -> None:
    model, tok = shipped
    seen = []
    runs = dg.run_grid(model, tok, problems[:10], [0.5, 2.0], [1.0], [0, 1], threshold=0.5, on_run=seen.append)
    assert [(r["t_fork"], r["t_rest"], r["seed"]) for r in runs] == [(0.5, 1.0, 0), (0.5, 1.0, 1), (2.0, 1.0, 0), (2.0, 1.0, 1)]
    assert seen == runs
    assert all(0 <= r["pass1"] <= 1 and 0 <= r["fork_share"] <= 1 and r["n_problems"] == 10 for r in runs)
    only = dg.run_grid(model, tok, problems[:10], [], [], [0], threshold=0.5, cells=[(1.0, 0.5)])
    assert [(r["t_fork"], r["t_rest"]) for r in only] == [(1.0, 0.5)]
    with pytest.raises(ValueError, match="seed"):
        dg.run_grid(model, tok, problems[:10], [1.0], [1.0], [], threshold=0.5)


def test_stats_table_compare_effects() -> None:
    runs = _fake_runs()
    s = dg.cell_stats(runs, (2.0, 1.0))
    assert s["per_seed"] == pytest.approx([1.9, 1.91, 1.92]) and s["sd"] == pytest.approx(0.01)
    tab = dg.grid_table(runs)
    assert tab["t_forks"] == [0.5, 1.0, 2.0] and tab["mean"].shape == (3, 3)
    assert tab["mean"][2, 1] == pytest.approx(1.91)
    eff = dg.axis_effects(runs)
    assert eff["fork"]["raise"] == pytest.approx(1.0) and eff["fork"]["lower"] == pytest.approx(-0.5)
    assert eff["rest"]["range"] == pytest.approx(0.15) and eff["fork"]["range"] == pytest.approx(1.5)
    with pytest.raises(KeyError, match="run_grid"):
        dg.cell_stats(runs, (1.5, 1.0))


def test_passk_curves_and_compare() -> None:
    runs = [r for r in _fake_runs() if (r["t_fork"], r["t_rest"]) in ((1.0, 1.0), (2.0, 1.0))]
    cur = dg.passk_curves(runs)
    assert set(cur) == {"1,1", "2,1"}
    c = cur["1,1"]
    assert c["ks"] == [1, 2, 3, 4] and c["n_seeds"] == 3
    want = np.mean([mean_pass_at_k(4, r["correct_counts"], 2) for r in runs if r["t_fork"] == 1.0])
    assert c["mean"][1] == pytest.approx(want)
    assert all(a <= b + 1e-12 for a, b in zip(c["mean"], c["mean"][1:]))  # pass@k grows with k
    ev = dg.compare_cells(runs, (2.0, 1.0), (1.0, 1.0), k=4)  # same correct counts: no difference at all
    assert ev.diff == pytest.approx(0.0) and ev.n_a == 3 and ev.unit == "problem" and ev.test == "paired t"
    pa = dg.per_problem(runs, (1.0, 1.0), k=1)
    assert pa.tolist() == pytest.approx([np.mean([s % 5 / 4 for s in (0, 1, 2)]), 1.0, 0.0])
    bad = runs + [{**runs[0], "seed": 9, "n_samples": 8}]
    with pytest.raises(ValueError, match="n_samples"):
        dg.passk_curves(bad)


def test_results_roundtrip(tmp_path) -> None:
    obj = {"grid": dg.grid_table(_fake_runs()), "nan": float("nan"), "i": np.int64(3)}
    path = dg.save_grid(obj, "03_test", directory=tmp_path)
    back = dg.load_grid("03_test", directory=tmp_path)
    assert path.name == "03_test.json" and back["nan"] is None and back["i"] == 3
    assert back["grid"]["mean"][2][1] == pytest.approx(1.91)
    with pytest.raises(ValueError):
        dg.save_grid(obj, "a/b", directory=tmp_path)
    with pytest.raises(ResultsError, match="missing; regenerate it with: the notebook 03 cell"):
        dg.load_grid("missing", directory=tmp_path)
    path.write_text(path.read_text()[:40])  # truncated: an error naming the file, not a silent skip
    with pytest.raises(ResultsError, match="03_test.json is truncated or not valid JSON"):
        dg.load_grid("03_test", directory=tmp_path)


def test_heatmap_marks_diagonal_and_highlight() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    ax = dg.plot_grid_heatmap(dg.grid_table(_fake_runs()), highlight=[(2.0, 1.0)])
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sum(p.get_edgecolor()[:3] == (1.0, 1.0, 1.0) for p in rects) == 3  # the 3 diagonal cells
    assert sum(p.get_edgecolor()[:3] == (1.0, 0.0, 0.0) for p in rects) == 1
    plt.close(ax.figure)


def test_generated_steps_cut_at_eos(shipped: tuple) -> None:
    model, tok = shipped
    enc = tok(["8 5 7>33:", "6 3 9>18:"], return_tensors="pt", padding=True, add_special_tokens=False)
    proc = DualTemperatureLogitsProcessor(0.5, 1.5, 1.0, record=True)
    torch.manual_seed(0)
    out = dual_temperature_generate(model, enc, proc, max_new_tokens=24, top_k=0, pad_token_id=tok.pad_token_id)
    ent, fork = proc.history()
    rows = dg.generated_steps(tok, out, enc["input_ids"].shape[1], ent, fork)
    assert len(rows) == 2
    for row, ids in zip(rows, out[:, enc["input_ids"].shape[1]:].tolist()):
        assert [s["id"] for s in row] == ids[: len(row)]
        assert all(s["fork"] == (s["entropy"] >= 0.5) for s in row)
        assert tok.eos_token_id not in [s["id"] for s in row[:-1]]
    with pytest.raises(ValueError, match="reset"):
        dg.generated_steps(tok, out, enc["input_ids"].shape[1], ent[:, :-1], fork[:, :-1])
