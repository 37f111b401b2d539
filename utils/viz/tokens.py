"""Token views: tokens shaded by entropy (:class:`ColoredTokens`), a robust top of an entropy colour scale, and a text
colour that contrasts with a cell."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from utils.entropy import TokenRecord

__all__ = ["ColoredTokens", "entropy_color_scale", "text_color"]


def _visible(tok: str) -> str:
    return tok.replace("\n", "⏎").replace("\t", "⇥")


@dataclass(eq=False, repr=False)
class ColoredTokens:
    """Tokens shaded by entropy: HTML in Jupyter, plain text elsewhere.

    The plain-text form marks tokens at or above ``threshold`` as ``[token|H]``; the HTML form
    shades every token by its entropy (white = certain), underlines those at or above ``threshold``
    and shows the exact value on hover. The HTML wraps like text (``white-space: pre-wrap``, a break
    opportunity between two tokens unless they continue one word, long unbroken runs broken anywhere) and starts
    a new line after each newline token, so a long trace reads as a paragraph in JupyterLab, Colab and an HTML export.
    """

    tokens: Sequence[str]
    entropies: Sequence[float | None]
    threshold: float | None = None
    vmax: float | None = None  # default: the largest entropy (1.0 without one)
    unit: str = "nats"

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.entropies):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.entropies)} entropies: pass one entropy per "
                             "token.")
        self.tokens = list(self.tokens)
        self.entropies = list(self.entropies)
        defined = [h for h in self.entropies if h is not None]
        self.vmax = self.vmax if self.vmax is not None else (max(defined) if defined else 1.0) or 1.0

    @classmethod
    def from_records(cls, records: Sequence[TokenRecord], **kw: Any) -> "ColoredTokens":
        return cls([r.token for r in records], [r.entropy for r in records], **kw)

    #: Style of the container: wrap like text, break long unbroken runs (JupyterLab's sanitizer keeps these).
    BOX_STYLE = ("font-family:monospace;line-height:1.9;white-space:pre-wrap;overflow-wrap:anywhere;"
                 "word-break:break-word;max-width:100%")

    def _repr_html_(self) -> str:
        parts = []
        for tok, h in zip(self.tokens, self.entropies):
            if h is None:
                style, title = "background:#eeeeee;color:#777", "no predicting distribution"
            else:
                a = min(1.0, h / self.vmax)
                marked = self.threshold is not None and h >= self.threshold
                border = "border-bottom:2px solid #b30000;" if marked else ""
                style, title = f"background:rgba(215,48,31,{a:.2f});{border}", f"H = {h:.3f} {self.unit}"
            # a newline shows as ⏎ and breaks the line where it is, so indentation after it starts the next line
            text = html.escape(tok.replace("\t", "⇥")).replace("\n", "⏎<br>")
            parts.append(f'<span title="{title}" style="{style};padding:1px 0;white-space:pre-wrap">{text}</span>')
        under = ("; underlined: at or above %.3f %s" % (self.threshold, self.unit)
                 if self.threshold is not None else "")
        legend = (
            f'<div style="font-size:80%;color:#555">shade: entropy from 0 (white) to {self.vmax:.2f} {self.unit} '
            f"(dark red){under}</div>"
        )
        joined = parts[0] if parts else ""
        for prev, tok, part in zip(self.tokens, self.tokens[1:], parts[1:]):
            # a break opportunity between two tokens, except inside a word ("fog" + "gy"); spaces inside a token
            # are break opportunities anyway (pre-wrap), and overflow-wrap breaks any run that is still too long
            inside_word = prev[-1:].isalnum() and tok[:1].isalnum()
            joined += ("" if inside_word else "<wbr>") + part
        return f'<div style="{self.BOX_STYLE}">{joined}</div>{legend}'

    def __str__(self) -> str:
        out = []
        for tok, h in zip(self.tokens, self.entropies):
            t = _visible(tok)
            if h is not None and self.threshold is not None and h >= self.threshold:
                out.append(f"[{t}|{h:.2f}]")
            else:
                out.append(t)
        return "".join(out)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython plain-text fallback
        p.text(str(self))


def text_color(rgba: Sequence[float]) -> str:
    """``"black"`` or ``"white"``, whichever contrasts more with the background colour ``rgba`` (0-1 floats): the
    WCAG contrast ratio from the colour's relative luminance (sRGB linearised). For numbers written on cells."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def entropy_color_scale(values: Sequence[float]) -> float:
    """A robust upper end for color scales: the 99th percentile (at least 1e-6)."""
    v = np.asarray(values, float)
    return max(float(np.percentile(v, 99)) if v.size else 1.0, 1e-6) if not math.isnan(v.sum()) else 1.0
