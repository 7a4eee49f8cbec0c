"""A hand-written SVG chart of grant (tilskudd) against extraction (uttrekk): small multiples, one
panel per municipality with the years on the x axis and two bars per year, in million kroner.

Each panel has its own y scale (municipalities differ by orders of magnitude; the question a panel
answers is how the grant compares with the extraction there), with tick labels in "mill. kr".
Every bar is a ``<rect class="bar bar-<series>">`` carrying ``data-kommunenummer``, ``data-year``
and ``data-value`` and a ``<title>`` tooltip, so the chart is readable by tools and screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from sio.i18n import _, format_kroner, format_number
from sio.report.common import ESTIMATE_MARK, column_labels
from sio.results import AnnualResult

__all__ = ["SERIES", "grant_extraction_svg"]

# The two series, in drawing order, and their colours (blue/orange: distinguishable with the
# common colour-vision deficiencies, and in grey print by lightness).
SERIES: tuple[str, ...] = ("tilskudd", "uttrekk")
COLOURS: dict[str, str] = {"tilskudd": "#1f5fa8", "uttrekk": "#e8892b"}

PANEL_W = 360.0
PANEL_H = 230.0
GAP = 18.0
MAX_COLUMNS = 3
PAD_LEFT = 56.0
PAD_RIGHT = 10.0
PAD_TOP = 46.0
PAD_BOTTOM = 28.0
LEGEND_H = 34.0
MILLION = 1_000_000


@dataclass(frozen=True)
class _Point:
    values: Mapping[str, int]
    estimated: bool


@dataclass(frozen=True)
class _Municipality:
    kommunenummer: str
    navn: str
    points: Mapping[int, _Point]


def _f(x: float) -> str:
    """A coordinate with one decimal: short, and stable from run to run."""
    return f"{x:.1f}"


def _collect(results_by_year: Mapping[int, Sequence[AnnualResult]]) -> list[_Municipality]:
    """Municipalities sorted by number, each with its figures per year (name of the last year)."""
    names: dict[str, str] = {}
    points: dict[str, dict[int, _Point]] = {}
    for year in sorted(results_by_year):
        for r in results_by_year[year]:
            if r.aar != year:
                continue
            names[r.kommunenummer] = r.navn
            points.setdefault(r.kommunenummer, {})[year] = _Point(
                values={s: int(getattr(r, s)) for s in SERIES},
                estimated=bool(r.estimerte_parametere),
            )
    return [_Municipality(k, names[k], points[k]) for k in sorted(points)]


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks."""
    if maximum <= 0:
        return float(MILLION)
    raw = maximum / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * power >= raw:
            return m * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def _decimals(step_millions: float) -> int:
    """Decimals needed to show multiples of ``step_millions`` exactly (at most 6)."""
    for d in range(7):
        scaled = step_millions * 10**d
        if abs(scaled - round(scaled)) < 1e-9:
            return d
    return 6


def _legend(has_estimates: bool) -> list[str]:
    labels = column_labels()
    out = ['<g class="legend" transform="translate(0,4)">']
    x = 0.0
    for s in SERIES:
        out.append(
            f'<rect x="{_f(x)}" y="4" width="14" height="14" fill="{COLOURS[s]}" '
            'aria-hidden="true"/>'
        )
        out.append(f'<text x="{_f(x + 20)}" y="16" class="legend-label">{escape(labels[s])}</text>')
        x += 40 + 8.5 * len(labels[s])
    if has_estimates:
        hint = _("{mark} = based on estimated parameters").format(mark=ESTIMATE_MARK)
        out.append(f'<text x="{_f(x + 10)}" y="16" class="legend-label">{escape(hint)}</text>')
    out.append("</g>")
    return out


def _panel(m: _Municipality, years: Sequence[int], x0: float, y0: float) -> list[str]:
    labels = column_labels()
    plot_w = PANEL_W - PAD_LEFT - PAD_RIGHT
    plot_h = PANEL_H - PAD_TOP - PAD_BOTTOM
    top = max((v for p in m.points.values() for v in p.values.values()), default=0)
    step = nice_step(top)
    y_max = step * max(1, math.ceil(top / step))
    decimals = _decimals(step / MILLION)

    def y_of(value: float) -> float:
        return PAD_TOP + plot_h * (1 - max(value, 0) / y_max)

    unit = _("NOK million")
    heading = f"{m.kommunenummer} {m.navn}"
    if any(p.estimated for p in m.points.values()):
        heading += f" {ESTIMATE_MARK}"
    out = [
        f'<g class="panel" transform="translate({_f(x0)},{_f(y0)})" role="group" '
        f'aria-label="{escape(heading)}">',
        f'<text class="panel-title" x="0" y="16">{escape(heading)}</text>',
        f'<text class="axis-unit" x="0" y="{_f(PAD_TOP - 12)}">{escape(unit)}</text>',
    ]
    for k in range(round(y_max / step) + 1):
        tick = k * step
        y = y_of(tick)
        out.append(
            f'<line class="grid" x1="{_f(PAD_LEFT)}" x2="{_f(PAD_LEFT + plot_w)}" '
            f'y1="{_f(y)}" y2="{_f(y)}"/>'
        )
        label = format_number(tick / MILLION, decimals)
        out.append(
            f'<text class="tick" x="{_f(PAD_LEFT - 6)}" y="{_f(y + 4)}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    slot = plot_w / max(len(years), 1)
    bar_w = min(slot * 0.36, 26.0)
    for i, year in enumerate(years):
        centre = PAD_LEFT + slot * (i + 0.5)
        point = m.points.get(year)
        year_label = str(year)
        if point is not None:
            if point.estimated:
                year_label += ESTIMATE_MARK
            for j, s in enumerate(SERIES):
                value = point.values[s]
                bx = centre - bar_w - 1 + j * (bar_w + 2)
                by = y_of(value)
                tooltip = _("{municipality} {year} – {series}: {amount} kr").format(
                    municipality=f"{m.kommunenummer} {m.navn}",
                    year=year,
                    series=labels[s],
                    amount=format_kroner(value),
                )
                out.append(
                    f'<rect class="bar bar-{s}" data-kommunenummer="{escape(m.kommunenummer)}" '
                    f'data-year="{year}" data-value="{value}" x="{_f(bx)}" y="{_f(by)}" '
                    f'width="{_f(bar_w)}" height="{_f(PAD_TOP + plot_h - by)}" '
                    f'fill="{COLOURS[s]}"><title>{escape(tooltip)}</title></rect>'
                )
        out.append(
            f'<text class="year{" missing" if point is None else ""}" x="{_f(centre)}" '
            f'y="{_f(PAD_TOP + plot_h + 17)}" text-anchor="middle">{escape(year_label)}</text>'
        )
    base = PAD_TOP + plot_h
    out.append(
        f'<line class="axis" x1="{_f(PAD_LEFT)}" x2="{_f(PAD_LEFT + plot_w)}" '
        f'y1="{_f(base)}" y2="{_f(base)}"/>'
    )
    out.append("</g>")
    return out


def grant_extraction_svg(results_by_year: Mapping[int, Sequence[AnnualResult]]) -> Markup:
    """The chart as an inline ``<svg>`` element (empty markup when there is nothing to draw)."""
    municipalities = _collect(results_by_year)
    if not municipalities:
        return Markup("")
    years = sorted(results_by_year)
    columns = min(MAX_COLUMNS, len(municipalities))
    rows = math.ceil(len(municipalities) / columns)
    width = columns * PANEL_W + (columns - 1) * GAP
    height = LEGEND_H + rows * PANEL_H + (rows - 1) * GAP
    title = _("Grant and extraction per municipality and year")
    desc = _(
        "Bar chart in million kroner. One panel per municipality, with the years along the "
        "horizontal axis and two bars per year: grant and extraction. Each panel has its own scale."
    )
    has_estimates = any(p.estimated for m in municipalities for p in m.points.values())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_f(width)} '
        f'{_f(height)}" width="{_f(width)}" height="{_f(height)}" role="img" '
        f'aria-labelledby="chart-title chart-desc" aria-label="{escape(title)}">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
        *_legend(has_estimates),
    ]
    for i, m in enumerate(municipalities):
        col, row = i % columns, i // columns
        out.extend(_panel(m, years, col * (PANEL_W + GAP), LEGEND_H + row * (PANEL_H + GAP)))
    out.append("</svg>")
    return Markup("\n".join(out))
