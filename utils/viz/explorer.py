"""The threshold explorer of notebook 02: where does a fork threshold cut a real trace?

* :func:`threshold_explorer` -- a static table and trace at a few thresholds (what a headless run stores), plus an
  ipywidgets slider when a live front end is attached (:func:`live_frontend`);
* :class:`StaticExplorer` -- the static part alone (HTML in Jupyter, plain text elsewhere).

Entropies are in nats; the shares come from :func:`utils.forking.share_above`.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

import numpy as np

from utils.entropy import PAPER_P80_NATS, TokenRecord
from utils.forking import share_above

__all__ = ["SLIDER_NOTE", "StaticExplorer", "live_frontend", "threshold_explorer"]

#: The line the static explorer ends with (what a live run adds).
SLIDER_NOTE = "Run live (JupyterLab, Colab, VS Code), a slider appears below to move the threshold and re-mark the trace."


def live_frontend() -> bool:
    """Whether this kernel talks to a live notebook front end that can show widgets (JupyterLab / Notebook 7 set
    ``JPY_SESSION_NAME``, Colab imports ``google.colab``, VS Code sets ``VSCODE_PID``), as opposed to a headless
    run (``make reproduce``, nbval), whose stored output would be a widget's text repr.
    ``FORKING_TOKENS_WIDGETS=1`` / ``0`` forces the answer."""
    import os
    import sys

    forced = os.environ.get("FORKING_TOKENS_WIDGETS")
    if forced is not None:
        return forced.strip().lower() in ("1", "true", "yes", "on")
    return "google.colab" in sys.modules or "JPY_SESSION_NAME" in os.environ or "VSCODE_PID" in os.environ


class StaticExplorer:
    """What the explorer shows at a few fixed thresholds: a table (the share of all tokens at or above each line,
    and how many tokens of the shown trace it marks), the trace once, marked at ``marked`` (default: the last
    threshold), and one line saying that a live run adds a slider. HTML in Jupyter, plain text elsewhere."""

    def __init__(
        self,
        records: Sequence[TokenRecord],
        seqs: Sequence[np.ndarray],
        thresholds: dict[str, float],
        max_tokens: int | None = None,
        marked: str | None = None,
    ) -> None:
        from utils.viz import ColoredTokens

        if not thresholds:
            raise ValueError("no thresholds given: pass {name: nats}.")
        shown = list(records)[:max_tokens] if max_tokens else list(records)
        hs = [r.entropy for r in shown if r.entropy is not None]
        self.rows = [(name, thr, share_above(seqs, thr), sum(h >= thr for h in hs)) for name, thr in thresholds.items()]
        self.n_shown = len(hs)
        self.marked = marked if marked is not None else list(thresholds)[-1]
        if self.marked not in thresholds:
            raise ValueError(f"marked={self.marked!r} is not one of the thresholds {list(thresholds)}")
        vmax = max(thresholds.values()) * 1.5 or 1.0
        self.view = ColoredTokens.from_records(shown, threshold=thresholds[self.marked], vmax=vmax)

    def _repr_html_(self) -> str:
        head = ("<tr><th>threshold</th><th>nats</th><th>share of all tokens at or above</th>"
                f"<th>tokens marked in the trace below (of {self.n_shown})</th></tr>")
        body = "".join(f"<tr><td>{html.escape(n)}</td><td>{t:.3f}</td><td>{s:.1%}</td><td>{k}</td></tr>"
                       for n, t, s, k in self.rows)
        return (f"<table>{head}{body}</table><p>The trace, underlined at <b>{html.escape(self.marked)}</b>:</p>"
                f"{self.view._repr_html_()}<p><i>{html.escape(SLIDER_NOTE)}</i></p>")

    def __str__(self) -> str:
        lines = [f"{n:>30}: {t:.3f} nats -> {s:.1%} of all tokens at or above; {k} of {self.n_shown} tokens in the trace"
                 for n, t, s, k in self.rows]
        lines += [f"\nthe trace, [token|H] at or above {self.marked}:\n{self.view}", SLIDER_NOTE]
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


def threshold_explorer(
    records: Sequence[TokenRecord],
    seqs: Sequence[np.ndarray],
    thresholds: dict[str, float],
    interactive: bool | None = None,
    max_tokens: int | None = None,
    marked: str | None = None,
) -> tuple[StaticExplorer, Any]:
    """A static rendering at ``thresholds`` (always: see :class:`StaticExplorer`), and an ipywidgets slider
    when ``interactive`` (default: :func:`live_frontend`) and ipywidgets is importable (else None): moving it
    re-marks ``records``' forking tokens and prints the share of all tokens in ``seqs`` at or above the
    threshold. Returns ``(static, widget)``; display the static part, then the widget if it is not None.
    A headless run (``make reproduce``, nbval) gets no widget, so its stored output is the table, the trace and
    one line saying a slider appears when run live."""
    static = StaticExplorer(records, seqs, thresholds, max_tokens=max_tokens, marked=marked)
    if interactive is None:
        interactive = live_frontend()
    if not interactive:
        return static, None
    try:
        import ipywidgets as w
        from IPython.display import HTML, display
    except ImportError:
        return static, None
    from utils.viz import ColoredTokens

    hi = float(max(np.max(np.concatenate([np.asarray(s) for s in seqs])), max(thresholds.values())))
    vmax = max(thresholds.values()) * 1.5 or 1.0
    shown = list(records)[:max_tokens] if max_tokens else list(records)
    slider = w.FloatSlider(value=PAPER_P80_NATS, min=0.0, max=round(hi, 2), step=0.01, description="threshold", readout_format=".2f")
    out = w.Output()

    def redraw(change: Any = None) -> None:
        thr = slider.value
        with out:
            out.clear_output(wait=True)
            print(f"{share_above(seqs, thr):.1%} of all tokens have entropy >= {thr:.2f} nats")
            display(HTML(ColoredTokens.from_records(shown, threshold=thr, vmax=vmax)._repr_html_()))

    slider.observe(redraw, names="value")
    redraw()
    return static, w.VBox([slider, out])
