"""utils.viz.explorer: the static rendering a headless run stores, and when a slider is offered."""

import numpy as np
import pytest

from utils.viz import explorer as ex
from utils.entropy import TokenRecord


def _rec(tok, h):
    return TokenRecord(0, tok, 0, h, None, None)


def test_threshold_explorer_static_output(monkeypatch):
    recs = [_rec(" a", 0.0), _rec(" b", 2.0), _rec(" c", 0.5)]
    static, widget = ex.threshold_explorer(recs, [np.array([0.0, 2.0, 0.5])], {"low": 0.1, "high": 1.0}, interactive=False)
    assert widget is None
    text = str(static)
    assert "66.7% of all tokens at or above" in text and "33.3% of all tokens at or above" in text
    assert "[ b|2.00]" in text and text.count("[ b|2.00]") == 1  # the trace is shown once
    assert text.rstrip().endswith(ex.SLIDER_NOTE)
    page = static._repr_html_()
    assert "<table>" in page and "slider appears" in page and "VBox" not in page
    # headless (no live front end): no widget, whatever ipywidgets says
    for var in ("JPY_SESSION_NAME", "VSCODE_PID", "FORKING_TOKENS_WIDGETS"):
        monkeypatch.delenv(var, raising=False)
    assert ex.live_frontend() is False
    assert ex.threshold_explorer(recs, [np.array([0.0, 2.0, 0.5])], {"low": 0.1})[1] is None
    monkeypatch.setenv("FORKING_TOKENS_WIDGETS", "1")
    assert ex.live_frontend() is True
    with pytest.raises(ValueError):
        ex.StaticExplorer(recs, [np.zeros(3)], {"low": 0.1}, marked="nope")
