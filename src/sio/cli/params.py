"""`sio params list` and `sio params show`: browse the parameter tree — values at a date, units,
evidence and references."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from sio import i18n
from sio.cli.common import EXIT_BAD_INPUT, BadInput, err, input_errors, load_params, out
from sio.cli.names import NorwegianGroup
from sio.cli.trace_view import evidence_label
from sio.i18n import _

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
    table = Table(title=_("Parameters on {date}").format(date=on.isoformat()))
    for col in (_("path"), _("value"), _("unit"), _("from"), _("evidence")):
        table.add_column(col)
    paths = params.paths(prefix)
    if not paths:
        err.print(_("No parameter under '{p}'").format(p=prefix))
        raise typer.Exit(EXIT_BAD_INPUT)
    for path in paths:
        p = params.get(path)
        dv = p.at(on)
        if dv is None:
            table.add_row(path, "—", p.unit, "", "")
            continue
        v = dv.value
        val = fmt_exact(v, 4) if isinstance(v, Fraction) else str(v)
        style = "yellow" if dv.evidence == "estimate" else ""
        table.add_row(
            path, val, p.unit, dv.start.isoformat(), evidence_label(dv.evidence), style=style
        )
    out.print(table)


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
