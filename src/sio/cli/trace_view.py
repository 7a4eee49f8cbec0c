"""How `sio explain` shows a computation: the trace as a tree (formula, parameters with dates,
evidence and sources, inputs) and one month of the activity grant down to its vedtak lines.

Shared by `sio explain` and `sio explain --postering ID`; `evidence_label` also by `sio params`.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import TYPE_CHECKING

import typer

from sio.cli.common import EXIT_FAILURE, err, out
from sio.i18n import _

if TYPE_CHECKING:
    from rich.tree import Tree

    from sio.engine import Engine, YearResult
    from sio.parameters import Use
    from sio.trace import Node

__all__ = ["evidence_label", "print_month_lines", "trace_tree"]


def evidence_label(level: str) -> str:
    """The evidence level in the current language."""
    labels = {
        "confirmed": _("confirmed"),
        "secondary": _("secondary"),
        "estimate": _("estimate"),
        "override": _("override"),
    }
    return labels.get(level, level)


def _use_text(u: Use) -> str:
    from sio.trace import fmt_exact

    v = u.value.value
    val = fmt_exact(v, 4) if isinstance(v, Fraction) else str(v)
    refs = "; ".join(r.title for r in u.value.references)
    return _("{path} = {value} (from {date}, {evidence}; {refs})").format(
        path=u.path,
        value=val,
        date=u.value.start.isoformat(),
        evidence=evidence_label(u.value.evidence),
        refs=refs,
    )


def _value_text(n: Node) -> str:
    from sio.trace import fmt_exact

    if n.value is None:
        return ""
    if isinstance(n.value, Fraction | int):
        return f"{fmt_exact(n.value)} {n.unit}".strip()
    return str(n.value)


def trace_tree(node: Node, parent: Tree | None = None) -> Tree:
    """The trace below ``node`` as a rich tree (added under ``parent`` if given)."""
    from rich.tree import Tree

    label = f"[bold]{node.label}[/bold] = {_value_text(node)}"
    t = Tree(label) if parent is None else parent.add(label)
    if node.formula_text:
        t.add(
            f"[cyan]{node.formula_text}[/cyan]",
        )
    seen: set[tuple[str, dt.date]] = set()
    for u in node.params:  # one line per parameter value, however many months used it
        if (u.path, u.value.start) in seen:
            continue
        seen.add((u.path, u.value.start))
        t.add(f"[magenta]{_use_text(u)}[/magenta]")
    for i in node.inputs:
        t.add(f"[green]{i}[/green]")
    for c in node.children:
        trace_tree(c, t)
    return t


def print_month_lines(engine: Engine, result: YearResult, code: str, year: int, mo: int) -> None:
    """One month of ``code``'s activity grant down to the vedtak lines; exit code 1 if the lines
    do not add up to the figure reported for the month."""
    from rich.table import Table

    from sio.rules.aktivitetstilskudd import lines_for_month
    from sio.trace import fmt_exact

    my = result.get(code)
    assert my is not None
    mf = next((m for m in my.months if m.maaned == mo), None)
    if mf is None or not mf.aktivitet:
        out.print(
            _("{code} is not activity-financed in {year}-{m:02d}.").format(
                code=code, year=year, m=mo
            )
        )
        return
    lines = lines_for_month(engine.data.vedtak, engine.params, engine.registry, code, (year, mo))
    table = Table(title=_("Vedtak lines {code} {year}-{m:02d}").format(code=code, year=year, m=mo))
    table.add_column("vedtak_id")
    table.add_column(_("service"))
    table.add_column("omfang", justify="right")
    table.add_column(_("days"), justify="right")
    table.add_column(_("volume"), justify="right")
    table.add_column(_("unit price (kr)"), justify="right")
    table.add_column("k_aga × k_reise", justify="right")
    table.add_column(_("øre"), justify="right")
    total = 0
    for ln in lines:
        total += ln.oere
        table.add_row(
            f"{ln.vedtak_id} ({_('line')} {ln.line})",
            f"{ln.tjeneste} {ln.prisgruppe}",
            f"{fmt_exact(ln.omfang, 2)} {ln.enhet}",
            str(ln.days),
            fmt_exact(ln.volume, 4),
            fmt_exact(ln.price, 4),
            f"{fmt_exact(ln.k_aga, 6)} × {fmt_exact(ln.k_reise, 6)}",
            fmt_exact(ln.oere),
        )
    out.print(table)
    out.print(
        _("Sum of lines: {total} øre; reported for the month: {reported} øre.").format(
            total=fmt_exact(total), reported=fmt_exact(mf.aktivitetstilskudd_oere)
        )
    )
    if mf.covid_erstattet:
        out.print(_("The month is a Covid month: the grant is the mean of the reference months."))
    elif total != mf.aktivitetstilskudd_oere:  # the trace must reproduce the figure
        err.print(_("The trace does not reproduce the figure."), style="bold red")
        raise typer.Exit(EXIT_FAILURE)
