"""`sio params list` and `sio params show`: browse the parameter tree — values at a date, units,
evidence and references."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sio import i18n
from sio.cli.common import (
    EXIT_BAD_INPUT,
    BadInput,
    err,
    input_errors,
    load_params,
    out,
    table_console,
)
from sio.cli.names import NorwegianGroup
from sio.cli.trace_view import evidence_label
from sio.i18n import _

if TYPE_CHECKING:
    from sio.parameters import ParameterSet

__all__ = ["params_app"]

params_app = typer.Typer(
    cls=NorwegianGroup, no_args_is_help=True, help=_("Browse the parameter tree.")
)


def _parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(_("Not a date YYYY-MM-DD: {text}").format(text=text))
        raise typer.Exit(EXIT_BAD_INPUT) from None


@params_app.command("liste", help=_("Every parameter with its value at a date, unit and evidence."))
def params_list(
    prefix: Annotated[str, typer.Argument(help=_("Only paths under this prefix."))] = "",
    at: Annotated[
        str | None, typer.Option("--dato", help=_("Date YYYY-MM-DD (default today)."))
    ] = None,
    override: Annotated[
        Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """Every parameter with its value at a date, unit and evidence."""
    from rich.table import Table

    from sio.trace import fmt_exact

    on = _parse_date(at)
    with input_errors():
        params = load_params(override)
    paths = params.paths(prefix)
    if not paths:
        err.print(_("No parameter under '{p}'").format(p=prefix))
        raise typer.Exit(EXIT_BAD_INPUT)
    entries: list[tuple[str, str, str, str, str, str]] = []
    for path in paths:
        p = params.get(path)
        dv = p.at(on)
        if dv is None:
            entries.append((path, "—", p.unit, "", "", ""))
            continue
        v = dv.value
        val = fmt_exact(v, 4) if isinstance(v, Fraction) else str(v)
        style = "yellow" if dv.evidence == "estimate" else ""
        entries.append(
            (path, val, p.unit, dv.start.isoformat(), evidence_label(dv.evidence), style)
        )
    title = _("Parameters on {date}").format(date=on.isoformat())
    header = (_("path"), _("value"), _("unit"), _("from"), _("evidence"))
    widths = [max(len(h), *(len(e[i]) for e in entries)) for i, h in enumerate(header)]
    console = table_console()
    if sum(widths) + 3 * len(widths) + 1 > console.width:  # a path is never cut: one per entry
        console.print(title, style="bold", markup=False, highlight=False)
        for path, val, unit, start, evidence, style in entries:
            console.print(path, markup=False, highlight=False, soft_wrap=True)
            rest = "    " + "  ".join(x for x in (val, unit, start, evidence) if x)
            console.print(rest, style=style, markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=title)
    for col in header:
        table.add_column(col, no_wrap=True)
    for path, val, unit, start, evidence, style in entries:
        table.add_row(path, val, unit, start, evidence, style=style)
    console.print(table)


@params_app.command(
    "vis",
    help=_("One parameter: description, unit, every dated value with evidence and references."),
)
def params_show(
    path: Annotated[str, typer.Argument(help=_("The parameter path."))],
    at: Annotated[
        str | None, typer.Option("--dato", help=_("Mark the value in force on this date."))
    ] = None,
    override: Annotated[
        Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """One parameter: description, unit, every dated value with evidence and references."""
    from rich.table import Table

    from sio.trace import fmt_exact

    with input_errors():
        params = load_params(override)
        if not params.has(path):
            under = params.paths(path)
            if under:
                for sub in under:
                    out.print(sub)
                return
            raise BadInput(_("unknown parameter '{path}'").format(path=path))
    p = params.get(path)
    on = _parse_date(at) if at else None
    current = p.at(on) if on else None
    out.print(f"[bold]{p.path}[/bold]")
    out.print(p.description)
    if p.label_en and i18n.get_language() == "en":
        out.print(p.label_en)
    out.print(_("unit: {unit}    file: {file}").format(unit=p.unit, file=p.file))
    if p.documentation:
        out.print(p.documentation)
    table = Table()
    for col in (_("from"), _("value"), _("evidence"), _("reference")):
        table.add_column(col)
    for v in p.values:
        val = (
            "—"
            if v.value is None
            else (fmt_exact(v.value, 4) if isinstance(v.value, Fraction) else str(v.value))
        )
        refs = "\n".join(f"{r.title} {r.href}".strip() for r in v.references)
        mark = " ◀" if current is v else ""
        table.add_row(v.start.isoformat() + mark, val, evidence_label(v.evidence), refs)
    out.print(table)
    if on is not None and current is not None and path.startswith(_PRICE_ROOT + "."):
        with input_errors():
            out.print(_indexed_price(params, path, on), markup=False, soft_wrap=True)


_PRICE_ROOT = "aktivitetstilskudd.enhetspris"


def _indexed_price(params: ParameterSet, path: str, on: dt.date) -> str:
    """The unit price in force in the month of `on` as the activity grant uses it: the base
    value indexed by the deflator of each year since (scheme.md §6), and where it came from."""
    from sio.rules.aktivitetstilskudd import unit_price
    from sio.trace import fmt_exact

    service, group = path[len(_PRICE_ROOT) + 1 :].split(".", 1)
    base = params.at(path, dt.date(on.year, on.month, 1))
    price = unit_price(params, service, group, (on.year, on.month))
    assert isinstance(base.value, Fraction)
    if base.start.year >= on.year:
        return _(
            "Unit price in force in {month}: {price} kr (the base value from {start}, not yet "
            "indexed)"
        ).format(month=f"{on.year}-{on.month:02d}", price=fmt_exact(price), start=base.start)
    return _(
        "Unit price in force in {month}: {price} kr (base value {base} kr from {start}, indexed "
        "by uttrekk.deflator for {first}–{last})"
    ).format(
        month=f"{on.year}-{on.month:02d}",
        price=fmt_exact(price),
        base=fmt_exact(base.value),
        start=base.start,
        first=base.start.year + 1,
        last=on.year,
    )
