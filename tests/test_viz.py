import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from utils import config
from utils.viz import ColoredTokens, plot_entropy_histogram, save_figure


def test_colored_tokens_html_and_text():
    ct = ColoredTokens(["a", " <b>", "\n"], [None, 2.0, 0.1], threshold=1.0)
    html = ct._repr_html_()
    assert "&lt;b&gt;" in html and "no predicting distribution" in html
    assert str(ct) == "a[ <b>|2.00]⏎"
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
