"""The trace of a figure as HTML: nested `<details>` (the same tree `sio explain` prints, with
formulas, parameter values linked to the parameter explorer, and inputs), and one month of the
activity grant down to the vedtak lines (`sio.rules.aktivitetstilskudd.lines_for_month`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import quote

from markupsafe import Markup

from sio.parameters import Use
from sio.rules.aktivitetstilskudd import Line, lines_for_month
from sio.trace import Node, fmt_exact
from sio.web.figures import Figures
from sio.web.fmt import Formatter

__all__ = ["MonthLines", "month_lines", "trace_html"]


def _value(n: Node) -> str:
    if n.value is None:
        return ""
    if isinstance(n.value, Fraction | int):
        return f"{fmt_exact(n.value)} {n.unit}".strip()
    return str(n.value)


def _use(u: Use, f: Formatter) -> Markup:
    v = u.value.value
    val = fmt_exact(v, 4) if isinstance(v, Fraction) else str(v)
    refs = "; ".join(r.title for r in u.value.references)
    estimate = u.value.evidence == "estimate"
    return Markup(
        '<li class="param{cls}"><a class="ds-link" href="/parametere/{href}">{path}</a> = {val} '
        '<span class="muted">({start}; <span class="evidence-{ev}">{ev}</span>; {refs})</span>'
        "</li>"
    ).format(
        cls=" estimate" if estimate else "",
        href=quote(u.path),
        path=u.path,
        val=val,
        start=f.date(u.value.start),
        ev=u.value.evidence,
        refs=refs,
    )


def trace_html(node: Node, f: Formatter, depth: int = 0) -> Markup:
    """`node` and everything below it; the first two levels open."""
    parts = [
        Markup(
            '<details class="ds-details trace"{open}><summary><strong>{label}</strong> = '
            "{value}</summary><div>"
        ).format(open=Markup(" open") if depth < 1 else "", label=node.label, value=_value(node))
    ]
    items: list[Markup] = []
    if node.formula_text:
        items.append(Markup('<li class="formula"><code>{}</code></li>').format(node.formula_text))
    seen: set[tuple[str, dt.date]] = set()
    for u in node.params:
        if (u.path, u.value.start) in seen:
            continue
        seen.add((u.path, u.value.start))
        items.append(_use(u, f))
    items += [Markup('<li class="input">{}</li>').format(i) for i in node.inputs]
    if items:
        parts.append(Markup('<ul class="trace-facts">') + Markup("").join(items) + Markup("</ul>"))
    parts += [trace_html(c, f, depth + 1) for c in node.children]
    parts.append(Markup("</div></details>"))
    return Markup("").join(parts)


@dataclass(frozen=True)
class MonthLines:
    """The vedtak lines of one month and whether they add up to the month's figure."""

    lines: list[Line]
    total_oere: int
    reported_oere: int
    covid: bool
    activity: bool


def month_lines(figures: Figures, year: int, code: str, month: int) -> MonthLines:
    calc = figures.calculator
    my = figures.year(year).get(code)
    mf = None if my is None else next((x for x in my.months if x.maaned == month), None)
    if mf is None or not mf.aktivitet:
        return MonthLines([], 0, 0, False, False)
    lines = lines_for_month(calc.data.vedtak, calc.params, calc.registry, code, (year, month))
    return MonthLines(
        lines, sum(ln.oere for ln in lines), mf.aktivitetstilskudd_oere, mf.covid_erstattet, True
    )
