"""utils.toy_lm.decoding_grid: the dual-temperature grid on the task model, its tables, per-problem comparisons and
results files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from utils import countdown as cd
from utils.toy_lm import decoding_grid as dg
from utils.viz import decoding as vd
from utils import toy_lm
from utils.toy_lm import rollouts
from utils.passk import mean_pass_at_k
from utils.results import ResultsError


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
    assert never["fork_share"] == pytest.approx(0.0, abs=1e-12) and always["fork_share"] == pytest.approx(1.0)


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


def test_run_grid_in_workers_gives_the_same_runs(shipped: tuple, problems: list[dict]) -> None:
    """Two spawned workers draw the same samples as this process: each run seeds its own sampling."""
    model, tok = shipped
    kw = dict(threshold=0.5, cells=[(1.0, 1.0), (2.0, 1.0), (1.0, 0.5)], n_samples=2)
    one = dg.run_grid(model, tok, problems[:12], [], [], [0, 1], **kw)
    seen = []
    two = dg.run_grid(model, tok, problems[:12], [], [], [0, 1], workers=2, on_run=seen.append, **kw)
    assert [r["correct_counts"] for r in two] == [r["correct_counts"] for r in one]   # integers: exactly the same
    assert [(r["t_fork"], r["t_rest"], r["seed"]) for r in two] == [(r["t_fork"], r["t_rest"], r["seed"]) for r in one]
    assert [r["fork_share"] for r in two] == pytest.approx([r["fork_share"] for r in one], abs=1e-12)
    assert [r["reasons"] for r in two] == [r["reasons"] for r in one] and seen == two
    with pytest.raises(ValueError, match="workers"):
        dg.run_grid(model, tok, problems[:12], [], [], [0], workers=0, **kw)


def test_stats_table_compare_effects() -> None:
    runs = _fake_runs()
    s = dg.cell_stats(runs, (2.0, 1.0))
    assert s["per_seed"] == pytest.approx([1.9, 1.91, 1.92]) and s["sd"] == pytest.approx(0.01)
    tab = dg.grid_table(runs)
    assert tab["t_forks"] == [0.5, 1.0, 2.0] and tab["mean"].shape == (3, 3)
    assert tab["mean"][2, 1] == pytest.approx(1.91)
    with pytest.raises(KeyError, match="run_grid"):
        dg.cell_stats(runs, (1.5, 1.0))


def _crn_runs(p_of_cell, n_problems: int = 200, seeds=(0, 1, 2), n_samples: int = 2,
              temps=(0.5, 1.0, 1.5)) -> list[dict]:
    """Runs on common random numbers: sample j of problem i under seed s is correct when u[s, i, j] < p(cell, i);
    the same u for every cell, as when every cell of a seed starts from the same torch seed."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.1, 0.6, n_problems)  # problems differ in difficulty
    u = rng.uniform(size=(max(seeds) + 1, n_problems, n_samples))
    runs = []
    for f in temps:
        for r in temps:
            p = np.clip(base + p_of_cell(f, r), 0, 1)
            for s in seeds:
                counts = (u[s] < p[:, None]).sum(1)
                runs.append({"t_fork": f, "t_rest": r, "seed": s, "n_samples": n_samples,
                             "correct_counts": counts.tolist(), "pass1": float(counts.mean() / n_samples)})
    return runs


def test_axis_comparisons_pair_every_cell_with_the_centre() -> None:
    runs = _crn_runs(lambda f, r: 0.2 * (f - 1.0))  # only t_fork matters, hotter is better
    cmp = dg.axis_comparisons(runs, center=1.0)
    assert [c["cell"] for c in cmp["fork"]] == [(0.5, 1.0), (1.5, 1.0)]
    assert [c["cell"] for c in cmp["rest"]] == [(1.0, 0.5), (1.0, 1.5)]
    for c in cmp["fork"] + cmp["rest"]:
        ev = c["evidence"]
        assert ev.test == "paired t" and ev.unit == "problem" and ev.n_a == 200
        assert ev.diff == pytest.approx(dg.compare_cells(runs, c["cell"], (1.0, 1.0)).diff)
    assert cmp["fork"][1]["evidence"].ci95[0] > 0 and cmp["fork"][0]["evidence"].ci95[1] < 0
    assert all(c["evidence"].diff == pytest.approx(0.0, abs=1e-12) for c in cmp["rest"])  # same p, same random numbers: identical samples
    with pytest.raises(KeyError, match="run_grid"):
        dg.axis_comparisons(runs, center=0.75)


@pytest.mark.parametrize(("effect", "want"), [
    (lambda f, r: 0.2 * (f - 1.0), "reproduced"),                             # only T_fork moves pass@1
    (lambda f, r: -0.2 * (f - 1.0) + 0.02 * (r - 1.0), "reproduced"),         # T_fork matters more, either sign
    (lambda f, r: 0.2 * (r - 1.0), "not reproduced"),                         # only T_rest moves it
    (lambda f, r: 0.1 * (f - 1.0) - 0.25 * (r - 1.0), "not reproduced"),      # T_rest matters more
    (lambda f, r: 0.0, "inconclusive"),                                       # nothing moves
])
def test_compare_swings(effect, want: str) -> None:
    runs = _crn_runs(effect)
    sw = dg.compare_swings(runs, 0.5, 1.5)
    f = dg.per_problem(runs, (1.5, 1.0)) - dg.per_problem(runs, (0.5, 1.0))
    r = dg.per_problem(runs, (1.0, 1.5)) - dg.per_problem(runs, (1.0, 0.5))
    assert sw["fork_swing"] == pytest.approx(f.mean()) and sw["rest_swing"] == pytest.approx(r.mean())
    assert sw["minus"].diff == pytest.approx(f.mean() - r.mean())
    assert sw["plus"].diff == pytest.approx(f.mean() + r.mean())
    assert sw["minus"].test == sw["plus"].test == "paired t" and sw["minus"].unit == "problem"
    assert sw["verdict"] == want
    with pytest.raises(ValueError, match="lo < center < hi"):
        dg.compare_swings(runs, 1.5, 0.5)


def test_shape_parts_and_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.results import to_jsonable

    runs = _crn_runs(lambda f, r: 0.2 * (f - 1.0))  # the paper's shape: hotter forks help, T_rest does nothing
    shape = dg.shape_parts(runs, low=0.5, high=1.5)
    assert [p["verdict"] for p in shape["parts"]] == ["reproduced"] * 4 and shape["verdict"] == "reproduced"
    assert [p["direction"] for p in shape["parts"]] == ["greater", "less", "greater", "greater"]
    assert shape["parts"][0]["evidence"].diff == pytest.approx(dg.compare_cells(runs, (1.5, 1.0), (1.0, 1.0)).diff)
    assert shape["parts"][2]["evidence"].diff == pytest.approx(shape["fork_swing"] - shape["rest_swing"])
    assert shape["parts"][3]["evidence"].diff == pytest.approx(shape["fork_swing"] + shape["rest_swing"])
    assert to_jsonable(shape)["parts"][2]["evidence"]["test"] == "paired t"  # storable in the ledger
    # the toy's direction: colder forks are better; T_fork still moves pass@1 more than T_rest, in magnitude
    flip = dg.shape_parts(_crn_runs(lambda f, r: -0.2 * (f - 1.0)), low=0.5, high=1.5)
    assert flip["verdict"] == "not reproduced" and flip["magnitude_verdict"] == "reproduced"
    # T_fork as the paper says, but T_rest matters more: part (c) fails
    rest = dg.shape_parts(_crn_runs(lambda f, r: 0.1 * (f - 1.0) - 0.3 * (r - 1.0)), low=0.5, high=1.5)
    assert [p["verdict"] for p in rest["parts"]][:2] == ["reproduced"] * 2 and rest["verdict"] == "not reproduced"
    assert rest["magnitude_verdict"] == "not reproduced"
    ax = vd.plot_axis_comparisons(dg.axis_comparisons(runs), title="t")
    assert len(ax.get_lines()) >= 3 and "95% CI" in ax.get_ylabel()
    plt.close(ax.figure)


def test_compact_runs_keeps_what_comparisons_need() -> None:
    runs = _crn_runs(lambda f, r: 0.1 * (f - 1.0), n_samples=1)
    out = dg.compact_runs(runs)
    assert len(out["runs"]) == len(runs) and all("correct_counts" not in r for r in out["runs"])
    summed = np.array(out["correct_by_cell"]["1.5,1"]) / 3  # three seeds, one sample each
    assert summed == pytest.approx(dg.per_problem(runs, (1.5, 1.0)))


def test_swing_verdict_rule() -> None:
    from utils.stats import compare

    above, below = compare([1.0, 1.1, 0.9], [0.0, 0.1, 0.0], paired=True), compare([0.0, 0.1, 0.0], [1.0, 1.1, 0.9], paired=True)
    zero = compare([0.0, 0.2, -0.1], [0.0, 0.0, 0.0], paired=True)
    assert dg.swing_verdict(above, above) == dg.swing_verdict(below, below) == "reproduced"
    assert dg.swing_verdict(above, below) == dg.swing_verdict(below, above) == "not reproduced"
    assert dg.swing_verdict(above, zero) == dg.swing_verdict(zero, below) == "inconclusive"


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

    ax = vd.plot_grid_heatmap(dg.grid_table(_fake_runs()), highlight=[(2.0, 1.0)])
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert sum(p.get_edgecolor()[:3] == (1.0, 1.0, 1.0) for p in rects) == 3  # the 3 diagonal cells
    assert sum(p.get_edgecolor()[:3] == (1.0, 0.0, 0.0) for p in rects) == 1
    cbar = ax.figure.axes[-1]
    assert cbar.get_ylabel() == dg.COLORBAR_LABELS["pass1"] and "pass@1" in cbar.get_ylabel()  # readable, not a key
    plt.close(ax.figure)
    ax = vd.plot_grid_heatmap(dg.grid_table(_fake_runs()), cbar_label="my label")
    assert ax.figure.axes[-1].get_ylabel() == "my label"
    plt.close(ax.figure)


def _varied_runs() -> list[dict]:
    """Runs whose per-problem counts differ between cells and problems (so that paired differences have a spread)."""
    rng = np.random.default_rng(0)
    return [{"t_fork": f, "t_rest": r, "seed": s, "pass1": f - r / 10 + s / 100, "n_samples": 4,
             "correct_counts": rng.integers(0, 5, size=30).tolist()}
            for f in (0.5, 1.0, 2.0) for r in (0.5, 1.0, 2.0) for s in (0, 1)]


def test_heatmap_numbers_are_readable_and_carry_the_paired_ci() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = _varied_runs()
    diffs = dg.diffs_to(runs, (1.0, 1.0))
    assert len(diffs) == 8 and (1.0, 1.0) not in diffs
    ev = diffs[(2.0, 1.0)]
    assert ev.unit == "problem" and ev.n_a == 30 and ev.diff == pytest.approx(dg.compare_cells(runs, (2.0, 1.0), (1.0, 1.0)).diff)
    ax = vd.plot_grid_heatmap(dg.grid_table(runs), highlight=[(2.0, 1.0)], diffs=diffs)
    texts = ax.texts
    assert len(texts) == 9 and all(t.get_fontsize() >= 9 for t in texts)
    half = (ev.ci95[1] - ev.ci95[0]) / 2
    assert any(t.get_text().endswith(f"± {half:.3f}") for t in texts)  # the difference's 95 % CI, under the mean
    assert sum("baseline" in t.get_text() for t in texts) == 1
    im = ax.images[0]
    for t, v in zip(texts, np.asarray(dg.grid_table(runs)["mean"]).ravel()):  # text colour contrasts with the cell
        from utils.viz import text_color

        assert t.get_color() == text_color(im.cmap(im.norm(v)))
    leg = vd.heatmap_key(ax.figure, "red: the claim's cells")
    assert [t.get_text() for t in leg.get_texts()][1] == "red: the claim's cells" and "uniform" in leg.get_texts()[0].get_text()
    plt.close(ax.figure)


def test_plot_passk_marks_the_judged_k_with_paired_cis() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in _varied_runs() if r["seed"] == 0 and r["t_rest"] == 1.0]
    curves = dg.passk_curves(runs)
    diffs = {f"{c:g},1": dg.compare_cells(runs, (c, 1.0), (1.0, 1.0), k=4) for c in (0.5, 2.0)}
    fig, axes = plt.subplots(1, 2)
    vd.plot_passk({k: (c["ks"], c["mean"]) for k, c in curves.items()}, diffs, 4, "2,1", axes, 30)
    assert any(ln.get_xdata()[0] == 4 for ln in axes[0].lines if ln.get_linestyle() == ":")  # k marked
    assert "95 % CI" in axes[1].get_xlabel() and "n = 30 problems" in axes[1].get_xlabel()
    bold = [t.get_text() for t in axes[1].get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["(2, 1) − (1, 1)"]
    plt.close(fig)
