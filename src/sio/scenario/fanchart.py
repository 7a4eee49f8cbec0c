"""A hand-written SVG fan chart of one figure per year: the band from p10 to p90 of the draws,
the median (p50) as a line, and the baseline's median as a dashed line, in million kroner.

The scale's ticks come from `sio.report.chart.nice_step` (the report's own), labels in the page's
language (`sio.i18n.format_number`). Every point is a ``<circle class="p50">`` with
``data-year``, ``data-p10``, ``data-p50``, ``data-p90`` (whole kroner) and a ``<title>``, and the
chart has a title and a description for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from sio.i18n import _, format_kroner, format_number
from sio.report.chart import nice_step

__all__ = ["fan_chart"]

W, H = 640.0, 280.0
LEFT, RIGHT, TOP, BOTTOM = 72.0, 16.0, 20.0, 34.0
BAND, LINE, BASE = "#9ec3e6", "#1f5fa8", "#e8892b"
MILLION = 1_000_000


def _n(x: float) -> str:
    return f"{x:.1f}"


def fan_chart(
    chart_id: str,
    title: str,
    years: Sequence[int],
    bands: Sequence[tuple[int, int, int]],
    baseline: Sequence[int] | None = None,
) -> Markup:
    """`bands[i]` = (p10, p50, p90) of `years[i]`; `baseline[i]` the baseline's p50."""
    if not years:
        return Markup("")
    values = [v for b in bands for v in b] + list(baseline or [])
    top, bottom = max(0, *values), min(0, *values)
    step = nice_step(float(max(top - bottom, 1)), 4)
    hi = math.ceil(top / step) * step
    lo = math.floor(bottom / step) * step
    if hi == lo:
        hi = lo + step
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(years) - 1) if len(years) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * plot_h

    desc = _(
        "Fan chart in million kroner: the shaded band runs from the 10th to the 90th percentile "
        "of the draws, the solid line is the median, the dashed line the baseline's median."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart fan" viewBox="0 0 {_n(W)} '
        f'{_n(H)}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    ticks = round((hi - lo) / step)
    decimals = 0 if step >= MILLION else (1 if step * 10 >= MILLION else 2)
    for k in range(ticks + 1):
        v = lo + k * step
        yy = y(v)
        out.append(
            f'<line x1="{_n(LEFT)}" x2="{_n(W - RIGHT)}" y1="{_n(yy)}" y2="{_n(yy)}" '
            f'stroke="{"#444" if v == 0 else "#ddd"}" stroke-width="1"/>'
            f'<text x="{_n(LEFT - 6)}" y="{_n(yy + 4)}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(format_number(v / MILLION, decimals))}</text>'
        )
    out.append(
        f'<text x="4" y="{_n(TOP - 6)}" font-size="11" fill="#333">'
        f"{escape(_('NOK million'))}</text>"
    )
    upper = [f"{_n(x(i))},{_n(y(b[2]))}" for i, b in enumerate(bands)]
    lower = [f"{_n(x(i))},{_n(y(b[0]))}" for i, b in reversed(list(enumerate(bands)))]
    out.append(f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{BAND}"/>')
    if baseline is not None:
        pts = " ".join(f"{_n(x(i))},{_n(y(v))}" for i, v in enumerate(baseline))
        out.append(
            f'<polyline class="baseline" points="{pts}" fill="none" stroke="{BASE}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
        )
    pts = " ".join(f"{_n(x(i))},{_n(y(b[1]))}" for i, b in enumerate(bands))
    out.append(
        f'<polyline class="median" points="{pts}" fill="none" stroke="{LINE}" stroke-width="2"/>'
    )
    # the legend, top right: band, median, baseline
    lx = W - RIGHT - 300
    out.append(
        f'<g class="legend" font-size="11" fill="#333">'
        f'<rect x="{_n(lx)}" y="2" width="16" height="10" fill="{BAND}"/>'
        f'<text x="{_n(lx + 20)}" y="11">p10–p90</text>'
        f'<line x1="{_n(lx + 80)}" x2="{_n(lx + 98)}" y1="7" y2="7" stroke="{LINE}" '
        f'stroke-width="2"/><text x="{_n(lx + 102)}" y="11">{escape(_("median"))}</text>'
    )
    if baseline is not None:
        out.append(
            f'<line x1="{_n(lx + 170)}" x2="{_n(lx + 188)}" y1="7" y2="7" stroke="{BASE}" '
            f'stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{_n(lx + 192)}" y="11">{escape(_("baseline (median)"))}</text>'
        )
    out.append("</g>")
    every = max(1, math.ceil(len(years) / 12))
    for i, (year, b) in enumerate(zip(years, bands, strict=True)):
        tip = _("{year}: median {p50} kr (p10 {p10}, p90 {p90})").format(
            year=year, p50=format_kroner(b[1]), p10=format_kroner(b[0]), p90=format_kroner(b[2])
        )
        out.append(
            f'<circle class="p50" data-year="{year}" data-p10="{b[0]}" data-p50="{b[1]}" '
            f'data-p90="{b[2]}" cx="{_n(x(i))}" cy="{_n(y(b[1]))}" r="3" fill="{LINE}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        if i % every == 0 or i == len(years) - 1:
            out.append(
                f'<text x="{_n(x(i))}" y="{_n(H - BOTTOM + 18)}" text-anchor="middle" '
                f'font-size="12" fill="#333">{year}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))
