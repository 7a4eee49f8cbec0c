"""Hand-written SVG charts of the evaluation report, in the style of `sio.report.chart` (inline
`<svg>` with a title and a description for screen readers, tick steps from `nice_step`, every
mark a element with `data-*` attributes and a `<title>` tooltip):

- `interval_chart`: estimates with their confidence intervals over years or event times, one or
  more series (the ICC by year; the event study, with its zero line and the reference year);
- `funnel_chart`: standardised rates against the expected count with the 95 % and 99.8 % limits;
- `coverage_chart`: one stacked bar per municipality of the shares within, below, above and other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from sio.i18n import format_number
from sio.report.chart import nice_step

__all__ = ["Point", "coverage_chart", "funnel_chart", "interval_chart"]

W, H = 680.0, 280.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 16.0, 34.0, 36.0
PALETTE = ("#1f5fa8", "#e8892b", "#2e7d32", "#8e24aa")
FLAG = "#b3261e"


def _f(x: float) -> str:
    return f"{x:.1f}"


@dataclass(frozen=True)
class Point:
    """One estimate at a position on the x axis (a label), with its interval and flags."""

    x: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    flagged: bool = False


def _scale(lo: float, hi: float) -> tuple[float, float, float]:
    if not math.isfinite(lo) or not math.isfinite(hi):
        return 0.0, 1.0, 0.25
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = nice_step(hi - lo, 4)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _decimals(step: float) -> int:
    for d in range(6):
        if abs(step * 10**d - round(step * 10**d)) < 1e-9:
            return d
    return 5


def _header(chart_id: str, title: str, desc: str, width: float = W, height: float = H) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_f(width)} '
        f'{_f(height)}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]


def _y_axis(lo: float, hi: float, step: float, y_of: object, unit: str) -> list[str]:
    assert callable(y_of)
    out = []
    decimals = _decimals(step)
    ticks = round((hi - lo) / step)
    for i in range(ticks + 1):
        v = lo + i * step
        yy = y_of(v)
        zero = abs(v) < step * 1e-6
        out.append(
            f'<line class="{"axis" if zero else "grid"}" x1="{_f(LEFT)}" x2="{_f(W - RIGHT)}" '
            f'y1="{_f(yy)}" y2="{_f(yy)}" stroke="{"#444" if zero else "#e3e7ed"}"/>'
            f'<text class="tick" x="{_f(LEFT - 6)}" y="{_f(yy + 4)}" text-anchor="end" '
            f'font-size="11" fill="#5b6675">{escape(format_number(v, decimals))}</text>'
        )
    out.append(
        f'<text class="axis-unit" x="4" y="{_f(TOP - 14)}" font-size="11" fill="#5b6675">'
        f"{escape(unit)}</text>"
    )
    return out


def interval_chart(
    series: Mapping[str, Sequence[Point]],
    title: str,
    desc: str,
    unit: str,
    chart_id: str,
    flag_label: str = "",
) -> Markup:
    """Points with interval bars, one colour per series, over the union of the x labels."""
    xs: list[str] = []
    for points in series.values():
        for p in points:
            if p.x not in xs:
                xs.append(p.x)
    values = [
        v
        for points in series.values()
        for p in points
        for v in (p.value, p.low, p.high)
        if v is not None and math.isfinite(v)
    ]
    if not xs or not values:
        return Markup("")
    lo, hi, step = _scale(min(0.0, *values), max(0.0, *values))
    plot_h = H - TOP - BOTTOM
    plot_w = W - LEFT - RIGHT

    def y_of(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * plot_h

    out = _header(chart_id, title, desc)
    out += _y_axis(lo, hi, step, y_of, unit)
    slot = plot_w / len(xs)
    offsets = len(series)
    legend_x = LEFT
    for s_i, (name, points) in enumerate(series.items()):
        colour = PALETTE[s_i % len(PALETTE)]
        if offsets > 1:
            out.append(
                f'<rect x="{_f(legend_x)}" y="6" width="12" height="12" fill="{colour}"/>'
                f'<text x="{_f(legend_x + 16)}" y="16" font-size="12" fill="#1c2430">'
                f"{escape(name)}</text>"
            )
            legend_x += 30 + 7 * len(name)
        for p in points:
            if p.value is None or not math.isfinite(p.value):
                continue
            i = xs.index(p.x)
            cx = LEFT + slot * (i + 0.5) + (s_i - (offsets - 1) / 2) * min(10.0, slot / 4)
            tip = f"{name} {p.x}: {format_number(p.value, 3)}"
            if p.low is not None and p.high is not None:
                tip += f" [{format_number(p.low, 3)}; {format_number(p.high, 3)}]"
            tip += f", n = {p.n}"
            if p.low is not None and p.high is not None and math.isfinite(p.low):
                top_v = p.high if math.isfinite(p.high) else hi
                out.append(
                    f'<line class="ci" x1="{_f(cx)}" x2="{_f(cx)}" y1="{_f(y_of(p.low))}" '
                    f'y2="{_f(y_of(top_v))}" stroke="{colour}" stroke-width="2"/>'
                )
            out.append(
                f'<circle class="point" data-series="{escape(name)}" data-x="{escape(p.x)}" '
                f'data-value="{p.value:.6g}" data-n="{p.n}" cx="{_f(cx)}" '
                f'cy="{_f(y_of(p.value))}" r="4" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    for i, x in enumerate(xs):
        flagged = any(p.flagged for pts in series.values() for p in pts if p.x == x)
        out.append(
            f'<text class="year" x="{_f(LEFT + slot * (i + 0.5))}" y="{_f(H - BOTTOM + 16)}" '
            f'text-anchor="middle" font-size="11" fill="{FLAG if flagged else "#5b6675"}">'
            f"{escape(x)}{'†' if flagged else ''}</text>"
        )
    if flag_label:
        out.append(
            f'<text x="{_f(W - RIGHT)}" y="{_f(H - 4)}" text-anchor="end" font-size="11" '
            f'fill="{FLAG}">{escape(flag_label)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class FunnelPoint:
    """A municipality's standardised rate and its funnel limits."""

    label: str
    expected: float
    ratio: float
    se: float
    n: int


def funnel_chart(points: Sequence[FunnelPoint], title: str, desc: str, chart_id: str) -> Markup:
    """Ratio (observed / expected) against the expected total, with the limits 1 ± z·se drawn as
    curves through the municipalities' own standard errors (sorted by expected)."""
    pts = [p for p in points if math.isfinite(p.ratio) and p.expected > 0]
    if not pts:
        return Markup("")
    z95, z998 = 1.959963984540054, 3.090232306167813
    ys = [p.ratio for p in pts] + [1 + z998 * p.se for p in pts] + [1 - z998 * p.se for p in pts]
    lo, hi, step = _scale(min(0.0, *ys), max(ys))
    x_max = max(p.expected for p in pts)
    x_lo = math.log10(max(min(p.expected for p in pts), 1e-9))
    x_hi = math.log10(x_max) if x_max > 0 else 1.0
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    plot_h = H - TOP - BOTTOM
    plot_w = W - LEFT - RIGHT

    def y_of(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * plot_h

    def x_of(e: float) -> float:
        return LEFT + (math.log10(e) - x_lo) / (x_hi - x_lo) * plot_w

    out = _header(chart_id, title, desc)
    out += _y_axis(lo, hi, step, y_of, "")
    ordered = sorted(pts, key=lambda p: p.expected)
    for z, dash in ((z95, "4 3"), (z998, "")):
        for sign in (1, -1):
            path = " ".join(
                f"{'M' if i == 0 else 'L'}{_f(x_of(p.expected))},{_f(y_of(1 + sign * z * p.se))}"
                for i, p in enumerate(ordered)
            )
            out.append(
                f'<path class="limit" d="{path}" fill="none" stroke="#8a94a3" '
                f'stroke-dasharray="{dash}"/>'
            )
    out.append(
        f'<line x1="{_f(LEFT)}" x2="{_f(W - RIGHT)}" y1="{_f(y_of(1))}" y2="{_f(y_of(1))}" '
        'stroke="#444"/>'
    )
    for p in pts:
        outside = abs(p.ratio - 1) > z95 * p.se
        out.append(
            f'<circle class="point" data-kommunenummer="{escape(p.label)}" '
            f'data-value="{p.ratio:.6g}" data-n="{p.n}" cx="{_f(x_of(p.expected))}" '
            f'cy="{_f(y_of(p.ratio))}" r="4" fill="{FLAG if outside else PALETTE[0]}">'
            f"<title>{escape(p.label)}: {escape(format_number(p.ratio, 3))}, n = {p.n}</title>"
            "</circle>"
        )
    for e in (10**k for k in range(math.floor(x_lo), math.ceil(x_hi) + 1)):
        if 10**x_lo <= e <= 10**x_hi:
            out.append(
                f'<text x="{_f(x_of(e))}" y="{_f(H - BOTTOM + 16)}" text-anchor="middle" '
                f'font-size="11" fill="#5b6675">{escape(format_number(e, 0))}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def coverage_chart(
    rows: Sequence[tuple[str, Mapping[str, float], int]],
    labels: Mapping[str, str],
    title: str,
    desc: str,
    chart_id: str,
) -> Markup:
    """One horizontal bar per row (label, shares by category, n) stacked over the categories."""
    if not rows:
        return Markup("")
    colours = {"within": "#2e7d32", "below": "#e8892b", "above": "#1f5fa8", "other": "#9aa3ae"}
    bar_h, gap, left = 16.0, 6.0, 190.0
    height = TOP + len(rows) * (bar_h + gap) + 10
    width = W
    plot_w = width - left - RIGHT
    out = _header(chart_id, title, desc, width, height)
    x = left
    for cat, colour in colours.items():
        out.append(
            f'<rect x="{_f(x)}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{_f(x + 16)}" y="18" font-size="12" fill="#1c2430">'
            f"{escape(labels.get(cat, cat))}</text>"
        )
        x += 30 + 7 * len(labels.get(cat, cat))
    for i, (label, shares, n) in enumerate(rows):
        y = TOP + i * (bar_h + gap)
        out.append(
            f'<text x="{_f(left - 6)}" y="{_f(y + bar_h - 4)}" text-anchor="end" font-size="11" '
            f'fill="#1c2430">{escape(label)} (n = {n})</text>'
        )
        x = left
        for cat, colour in colours.items():
            share = shares.get(cat) or 0.0
            w = share * plot_w
            if w <= 0:
                continue
            out.append(
                f'<rect class="bar bar-{cat}" data-label="{escape(label)}" '
                f'data-value="{share:.4f}" '
                f'x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(bar_h)}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(labels.get(cat, cat))} "
                f"{escape(format_number(share * 100, 1))} %</title></rect>"
            )
            x += w
    out.append("</svg>")
    return Markup("".join(out))
