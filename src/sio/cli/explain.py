"""`sio explain`: how a figure was computed — the trace of a municipality's year (or one
component of it), optionally one month down to the vedtak lines, or a ledger line
(``--postering ID``, see :mod:`sio.cli.posting`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sio.cli.common import (
    EXIT_BAD_INPUT,
    BadInput,
    err,
    estimate_note,
    input_errors,
    load_params,
    load_source,
    out,
    source_options,
)
from sio.cli.trace_view import print_month_lines, trace_tree
from sio.i18n import _

__all__ = ["explain"]


def explain(
    kommune: Annotated[
        str | None, typer.Option("--kommune", help=_("Municipality code NNNN."))
    ] = None,
    year: Annotated[int | None, typer.Option("--aar", help=_("The year."))] = None,
    data: Annotated[Path | None, typer.Option("--data", help=_("Input directory."))] = None,
    db: Annotated[
        bool, typer.Option("--db", help=_("Compute from the database (SIO_DATABASE_URL)."))
    ] = False,
    versjon: Annotated[
        int | None,
        typer.Option("--versjon", help=_("Data version (with --db; default newest).")),
    ] = None,
    maaned: Annotated[
        int | None, typer.Option("--maaned", help=_("Show one month down to the vedtak lines."))
    ] = None,
    komponent: Annotated[
        str | None, typer.Option("--komponent", help=_("Only this component (e.g. uttrekk)."))
    ] = None,
    override: Annotated[
        Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
    ] = None,
    postering: Annotated[
        int | None,
        typer.Option("--postering", help=_("Explain this ledger line (id) down to the vedtak.")),
    ] = None,
) -> None:
    """Show how a figure was computed: formula, parameters with dates and sources, inputs."""
    if postering is not None:
        from sio.cli.posting import explain_posting

        explain_posting(postering, override)
        return
    if kommune is None or year is None:
        err.print(_("give --kommune and --aar (or --postering ID)"))
        raise typer.Exit(EXIT_BAD_INPUT)
    inp_source = source_options(data, db, versjon)
    from sio.cli.compute import compute_year
    from sio.engine import Engine

    with input_errors():
        params = load_params(override)
        inp, _version = load_source(inp_source, params, evaluation=False)
        engine = Engine(inp, params)
        result = compute_year(engine, inp, year)
        my = result.get(kommune)
        if my is None:
            raise BadInput(_("{code} has no money in {year}").format(code=kommune, year=year))
        if maaned is not None and not 1 <= maaned <= 12:
            raise BadInput(_("--maaned must be 1–12"))
    node = my.trace
    if komponent:
        found = next((c for c in node.children if c.label == komponent), None)
        if found is None:
            names = ", ".join(c.label for c in node.children)
            err.print(_("Unknown component; choose one of: {names}").format(names=names))
            raise typer.Exit(EXIT_BAD_INPUT)
        node = found
    out.print(trace_tree(node))
    # the row's list: a component also rests on what it is computed from (the lump sum on the
    # extraction, …), which its own subtree does not repeat
    from sio.report.estimates import present_figures

    estimate_note(my.result.estimerte_parametere, present_figures(my.result))
    if maaned is not None:
        print_month_lines(engine, result, kommune, year, maaned)
