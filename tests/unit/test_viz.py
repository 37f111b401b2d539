import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from utils import config
from utils.viz import ColoredTokens, entropy_panels, plot_entropy_histogram, save_figure


def test_colored_tokens_html_and_text():
    ct = ColoredTokens(["a", " <b>", "\n"], [None, 2.0, 0.1], threshold=1.0)
    html = ct._repr_html_()
    assert "&lt;b&gt;" in html and "no predicting distribution" in html
    assert str(ct) == "a[ <b>|2.00]⏎"
    # it wraps: pre-wrap (not pre), a break opportunity between tokens, a line break after a newline token
    assert "white-space:pre;" not in html and "white-space:pre\"" not in html and "pre-wrap" in html
    assert html.count("<wbr>") == 2 and "⏎<br></span>" in html and "overflow-wrap:anywhere" in html
    # indentation after a newline inside one token starts the next line
    assert "⏎<br>    def</span>" in ColoredTokens(["\n    def"], [1.0])._repr_html_()
    # no break opportunity inside a word split into tokens ("fog" + "gy"), one before the next word
    assert ColoredTokens(["fog", "gy", " night"], [1.0, 1.0, 1.0])._repr_html_().count("<wbr>") == 1
    with pytest.raises(ValueError, match="one entropy per token"):
        ColoredTokens(["a"], [])


def test_histogram_and_save(monkeypatch, tmp_path):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(config, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setenv("FORKING_TOKENS_PROFILE", "ci")
    ax = plot_entropy_histogram(np.random.default_rng(0).exponential(0.3, 500))
    p = save_figure(ax.figure, "test_hist")
    plt.close(ax.figure)
    assert p.exists() and p.parent == tmp_path / "build" / "ci" / "figures"
    with pytest.raises(ValueError):
        save_figure(ax.figure, "../x.png")


def test_entropy_panels_share_x_and_annotate():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig = entropy_panels({"a": rng.exponential(0.2, 300), "b": rng.exponential(2.0, 300)})
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 2 and axes[0].get_xlim() == axes[1].get_xlim()
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert all("80th pct" in t for t in texts) and len(texts) == 2
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in axes)  # one legend, off the data
    plt.close(fig)


def test_text_color_contrasts():
    from utils.viz import text_color

    assert text_color((1.0, 1.0, 0.0, 1.0)) == "black"  # yellow
    assert text_color((0.27, 0.0, 0.33, 1.0)) == "white"  # viridis' dark purple
    assert text_color((0.13, 0.57, 0.55)) == "black"  # viridis' mid teal: white on it is what issue 22 could not read


def test_training_curves_paired_by_seed():
    import matplotlib.pyplot as plt

    from utils.stats import compare
    from utils.viz import moving_average, paired_key, plot_paired_differences, plot_seed_means

    assert np.allclose(moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5]) and len(moving_average([1.0], 5)) == 1
    rng = np.random.default_rng(0)
    steps = 30
    seed_effect = {s: rng.normal(0, 1, steps) for s in range(4)}  # shared by both arms of a seed: pairing removes it
    series = {"base": {s: seed_effect[s] for s in range(4)},
              "arm": {s: seed_effect[s] + 0.5 + rng.normal(0, 0.01, steps) for s in range(4)}}
    final = {"arm": compare([np.mean(series["arm"][s][-10:]) for s in range(4)],
                            [np.mean(series["base"][s][-10:]) for s in range(4)], paired=True, margin=1.0)}
    fig, (a, b) = plt.subplots(1, 2)
    plot_seed_means(a, series, ["base", "arm", "absent"], {"base": "C0", "arm": "C1"}, ylabel="H (nats)", log=False)
    assert [t.get_text() for t in a.get_legend().get_texts()] == ["base (n = 4 seeds)", "arm (n = 4 seeds)"]
    plot_paired_differences(b, series, ["base", "arm"], {"base": None, "arm": "base"}, {"base": "C0", "arm": "C1"},
                            final=final, margins={"arm": 1.0})
    assert [t.get_text() for t in b.get_legend().get_texts()] == ["arm − base (n = 4 seeds)"]
    mean_line = b.get_lines()[0]
    assert np.allclose(mean_line.get_ydata(), 0.5, atol=0.05)  # the paired difference, not the seeds' spread
    assert b.get_xlim()[1] > steps  # the final value's CI drawn right of the curves
    labels = [h.get_label() for h in paired_key(margins={"arm": 1.0}, n=4)]
    assert any("95 % CI" in t and "n = 4 seeds" in t for t in labels) and any("90 % CI" in t for t in labels)


def _ev(diff, lo, hi, n=10, unit="trace"):
    from utils.stats import Evidence

    return Evidence("paired t", n, n, diff, 0.0, diff, (hi - lo) / 4, n - 1, (lo, hi), (lo, hi), 0.01, 0.1, unit=unit)


def test_notebook_02_figures_draw_the_deciding_interval():
    """Smoke test of notebook 02's three figures: they draw, the test's interval is there with its n, labels are the
    slices (the corpora are in the legend)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from utils.viz import after_forks_figure, threshold_bars, token_roles_figure

    rng = np.random.default_rng(0)
    prof = {"profile_fork": rng.random(5), "profile_random": rng.random(5)}
    after = {name: {"real": prof, "shuffled": prof, "runs": rng.integers(0, 9, 50), "runs_null": rng.integers(0, 9, 50),
                    "evidence": _ev(d, d - 0.05, d + 0.05, unit=u)} for name, d, u in (("a", 0.3, "trace"), ("b", -0.06, "completion"))}
    fig = after_forks_figure(after, 5, decides="b")
    notes = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("n = 10 completions (decides)" in t for t in notes) and len(fig.axes) == 2 * 2 + 2 + 1
    plt.close(fig)
    with pytest.raises(ValueError, match="decides"):
        after_forks_figure(after, 5, decides="c")

    kinds = pd.DataFrame({"n": [30, 40, 5], "share_high": [0.4, 0.3, 0.9]}, index=["word piece", "word start", "rare"])
    roles = pd.DataFrame({"n": [30, 40], "share_high": [0.8, 0.1], "mean_entropy": [0.97, 0.1]}, index=["operator", "="])
    fig = token_roles_figure({"T = 1": kinds, "T = 0.7": kinds}, {"T = 1": _ev(-0.02, -0.06, 0.02)}, roles, decides="T = 1")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "mean H\n0.97 nats" in texts and any("(decides)" in t for t in texts)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["word start", "word piece"]  # n >= 20, by rate
    assert sum("pooled" in t.get_text() for t in fig.axes[0].get_legend().get_texts()) == 2
    plt.close(fig)

    fig = threshold_bars({"corpus A": {"all": 3.3, "right": 3.1}, "corpus B": {"all": 0.6}}, {"corpus A": "r", "corpus B": "b"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["all", "right", "all"][::-1]
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["corpus A", "corpus B"]
    plt.close(fig)


def test_ci_point_draws_the_interval_and_its_text() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils import stats
    from utils.viz import ci_point

    ev = stats.compare([0.3, 0.5, 0.4, 0.6], [0.1, 0.2, 0.2, 0.3], paired=True, labels=("a", "b"), unit="seed")
    fig, ax = plt.subplots()
    ci_point(ax, 1.0, ev, "right of the interval")
    ci_point(ax, 0.0, ev, "above the dot", at="above", fontweight="bold")
    texts = {t.get_text(): t for t in ax.texts}
    assert texts["right of the interval"].xy == pytest.approx((ev.ci95[1], 1.0))
    assert texts["above the dot"].xy == pytest.approx((ev.diff, 0.0)) and texts["above the dot"].get_fontweight() == "bold"
    assert len(ax.containers) == 2   # two error bars
    with pytest.raises(ValueError, match="right"):
        ci_point(ax, 0.0, ev, "x", at="left")
    plt.close(fig)


def _width_px(fig, dpi: int = 110) -> int:
    """The width of ``fig`` as :func:`utils.viz.save_figure` saves it (bbox_inches="tight")."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, bbox_inches="tight", format="png")
    return Image.open(io.BytesIO(buf.getvalue())).size[0]


def test_notebooks_01_02_figures_fit_1000_px_and_draw_the_test():
    """Issue 32: every figure of 01-03 is at most 1000 px wide at its saved resolution; 01_entropy_by_text draws the
    per-text shares with their mean and 95 % CI, and the range the arithmetic allows (issue 29: no test)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from utils.viz import after_forks_figure, entropy_by_text_figure, entropy_panels, token_roles_figure

    rng = np.random.default_rng(0)
    bands = {"mean": 0.835, "sd": 0.11, "n": 6, "ci95_lo": 0.721, "ci95_hi": 0.950}
    fig = entropy_by_text_figure({k: rng.exponential(1.0, 200) for k in ("prose", "math", "code")},
                                 [0.7, 0.8, 0.85, 0.9, 0.95, 1.0], bands, (0.47, 2.03), "a model")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("0.83 [0.72, 0.95], n = 6 texts" in t for t in texts)
    assert any("0.47-2.03 bits" in t for t in texts) and not any("decides" in t for t in texts)
    assert _width_px(fig) <= 1000
    plt.close(fig)
    fig = entropy_panels({f"corpus {i}": rng.exponential(1.0, 300) for i in range(3)}, ncols=2,
                         panel_size=(4.4, 3.2))
    assert _width_px(fig) <= 1000
    plt.close(fig)
    prof = {"profile_fork": rng.random(5), "profile_random": rng.random(5)}
    after = {n: {"real": prof, "shuffled": prof, "runs": rng.integers(0, 9, 50), "runs_null": rng.integers(0, 9, 50),
                 "evidence": _ev(-0.1, -0.2, 0.0)} for n in ("a long corpus name · T = 1", "b", "c")}
    fig = after_forks_figure(after, 5, decides="b")
    assert _width_px(fig) <= 1000
    plt.close(fig)
    kinds = pd.DataFrame({"n": [30, 40], "share_high": [0.4, 0.3]}, index=["word piece", "punctuation / symbol"])
    roles = pd.DataFrame({"n": [30, 40], "share_high": [0.0, 0.8], "mean_entropy": [0.0, 0.97]},
                         index=["separator ','", "operator"])
    fig = token_roles_figure({"T = 1": kinds, "T = 0.7": kinds}, {"T = 1": _ev(-0.02, -0.06, 0.02)}, roles, "T = 1")
    assert _width_px(fig) <= 1000
    roles_ax = fig.axes[1]
    label_x = [t.get_position()[0] for t in roles_ax.texts]
    assert label_x and all(x > 1.0 for x in label_x)  # the mean-H labels sit right of every bar, clear of the ticks
    plt.close(fig)
