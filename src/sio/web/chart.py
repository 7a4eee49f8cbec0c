"""An SVG bar chart of one series around zero (national netto per year, a municipality's netto
per month) on its own scale, so that netto — small beside grant and extraction — is visible.
Ticks come from `sio.report.chart.nice_step`, labels in million kroner in the page's language.
Every bar is a `<rect class="bar">` with `data-key` and `data-value` (whole kroner) and a
`<title>`, and the chart has a title and a description for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from sio.report.chart import nice_step
from sio.web.fmt import Formatter

__all__ = ["bar_chart"]

W, H = 640.0, 260.0
LEFT, RIGHT, TOP, BOTTOM = 72.0, 12.0, 16.0, 30.0
POSITIVE, NEGATIVE = "#1f5fa8", "#b3261e"  # blue / red, each ≥ 4.5:1 against white
MILLION = 1_000_000


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[tuple[str, int]],
    title: str,
    desc: str,
    unit: str,
    f: Formatter,
    chart_id: str,
) -> Markup:
    """Bars (label, whole kroner) from a zero line, the scale fitted to the values."""
    if not bars:
        return Markup("")
    top = max(0, *(v for _k, v in bars))
    bottom = min(0, *(v for _k, v in bars))
    step = nice_step(float(max(top - bottom, 1)), 4)
    hi = math.ceil(top / step) * step
    lo = math.floor(bottom / step) * step
    if hi == lo:
        hi = lo + step
    plot_h = H - TOP - BOTTOM
    plot_w = W - LEFT - RIGHT

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_n(W)} {_n(H)}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    ticks = round((hi - lo) / step)
    decimals = 0 if step >= MILLION else (1 if step * 10 >= MILLION else 2)
    for i in range(ticks + 1):
        v = lo + i * step
        yy = y(v)
        label = f.number(Decimal(str(round(v / MILLION, decimals))), decimals)
        out.append(
            f'<line x1="{_n(LEFT)}" x2="{_n(W - RIGHT)}" y1="{_n(yy)}" y2="{_n(yy)}" '
            f'stroke="{"#444" if v == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{_n(LEFT - 6)}" y="{_n(yy + 4)}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(label)}</text>'
        )
    out.append(f'<text x="4" y="{_n(TOP + 4)}" font-size="11" fill="#333">{escape(unit)}</text>')
    slot = plot_w / len(bars)
    width = max(4.0, slot * 0.6)
    for i, (key, value) in enumerate(bars):
        x = LEFT + i * slot + (slot - width) / 2
        y0, y1 = sorted((y(0), y(value)))
        colour = POSITIVE if value >= 0 else NEGATIVE
        out.append(
            f'<rect class="bar" data-key="{escape(key)}" data-value="{value}" x="{_n(x)}" '
            f'y="{_n(y0)}" width="{_n(width)}" height="{_n(max(y1 - y0, 1.0))}" fill="{colour}">'
            f"<title>{escape(key)}: {escape(f.kr(value))}</title></rect>"
            f'<text x="{_n(x + width / 2)}" y="{_n(H - BOTTOM + 16)}" text-anchor="middle" '
            f'font-size="12" fill="#333">{escape(key)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))
