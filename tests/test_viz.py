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
