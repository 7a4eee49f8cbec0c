"""SVG charts of the pages, each with a title and a description for screen readers, ticks from
`sio.report.chart.nice_step` and labels in the page's language.

- `bar_chart`: one series around zero (national netto per year, a municipality's netto per
  month) on its own scale, so that netto — small beside grant and extraction — is visible;
  labels in million kroner. Every bar is a `<rect class="bar">` with `data-key` and
  `data-value` (whole kroner) and a `<title>`.
- `step_chart`: a parameter's dated history as steps (a value holds until the next date);
  every step is a `<path class="step">` with `data-from` (ISO date) and `data-value`, estimated
  values dashed in amber, the date in force marked."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from markupsafe import Markup, escape

from sio.report.chart import nice_step
from sio.web.fmt import Formatter

__all__ = ["bar_chart", "step_chart"]

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


ESTIMATE = "#8a6d00"  # amber, ≥ 4.5:1 against white


def step_chart(
    steps: Sequence[tuple[dt.date, Fraction | None, bool]],
    end: dt.date,
    title: str,
    desc: str,
    unit: str,
    f: Formatter,
    chart_id: str,
    marked: dt.date | None = None,
    divisor: int = 1,
    legend: str = "",
) -> Markup:
    """Steps (from date, value or None for "ends", estimated?) up to `end`, the y scale from
    zero (or the lowest value) to the highest, in units of `divisor` (1 000 000: millions);
    `marked` draws a line at that date, `legend` names the dashed (estimated) steps."""
    values = [float(v) / divisor for _d, v, _e in steps if v is not None]
    if not values:
        return Markup("")
    first = steps[0][0]
    end = max(end, steps[-1][0] + dt.timedelta(days=365))
    top = max(*values, 0.0)
    bottom = min(*values, 0.0)
    step = nice_step(max(top - bottom, 1e-9), 4)
    hi = math.ceil(top / step) * step
    lo = math.floor(bottom / step) * step
    if hi == lo:
        hi = lo + step
    plot_h = H - TOP - BOTTOM
    plot_w = W - LEFT - RIGHT
    span = max((end - first).days, 1)

    def x(d: dt.date) -> float:
        return LEFT + (d - first).days / span * plot_w

    def y(v: float) -> float:
        return TOP + 10 + (hi - v) / (hi - lo) * (plot_h - 10)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart step-chart" '
        f'viewBox="0 0 {_n(W)} {_n(H)}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i in range(round((hi - lo) / step) + 1):
        v = lo + i * step
        label = f.value(Fraction(Decimal(str(round(v, 9)))))
        out.append(
            f'<line x1="{_n(LEFT)}" x2="{_n(W - RIGHT)}" y1="{_n(y(v))}" y2="{_n(y(v))}" '
            f'stroke="{"#444" if v == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{_n(LEFT - 6)}" y="{_n(y(v) + 4)}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(label)}</text>'
        )
    out.append(f'<text x="4" y="12" font-size="11" fill="#333">{escape(unit)}</text>')
    if legend and any(e for _d, _v, e in steps):
        out.append(
            f'<line x1="{_n(W - RIGHT - 150)}" x2="{_n(W - RIGHT - 120)}" y1="8" y2="8" '
            f'stroke="{ESTIMATE}" stroke-width="3" stroke-dasharray="6 3"/>'
            f'<text x="{_n(W - RIGHT - 114)}" y="12" font-size="11" fill="#333">'
            f"{escape(legend)}</text>"
        )
    for year in range(first.year + 1, end.year + 1):
        xx = x(dt.date(year, 1, 1))
        if (end.year - first.year) > 12 and year % 2:
            continue
        out.append(
            f'<line x1="{_n(xx)}" x2="{_n(xx)}" y1="{_n(H - BOTTOM)}" y2="{_n(H - BOTTOM + 4)}" '
            f'stroke="#444"/><text x="{_n(xx)}" y="{_n(H - BOTTOM + 17)}" text-anchor="middle" '
            f'font-size="11" fill="#333">{year}</text>'
        )
    previous: float | None = None
    for i, (start, value, estimated) in enumerate(steps):
        stop = steps[i + 1][0] if i + 1 < len(steps) else end
        if value is None:
            previous = None
            continue
        yy = y(float(value) / divisor)
        rise = f"M{_n(x(start))},{_n(y(previous))} L" if previous is not None else "M"
        colour = ESTIMATE if estimated else POSITIVE
        dash = ' stroke-dasharray="6 3"' if estimated else ""
        text = f"{f.date(start)}: {f.value(value)}"
        out.append(
            f'<path class="step{" estimate" if estimated else ""}" '
            f'data-from="{start.isoformat()}" data-value="{value}" '
            f'd="{rise}{_n(x(start))},{_n(yy)} L{_n(x(stop))},{_n(yy)}" fill="none" '
            f'stroke="{colour}" stroke-width="3"{dash}><title>{escape(text)}</title></path>'
        )
        previous = float(value) / divisor
    if marked is not None and first <= marked <= end:
        xm = x(marked)
        out.append(
            f'<line class="marked" x1="{_n(xm)}" x2="{_n(xm)}" y1="{_n(TOP + 10)}" '
            f'y2="{_n(H - BOTTOM)}" stroke="#b3261e" stroke-width="1.5"/>'
        )
    out.append("</svg>")
    return Markup("".join(out))
