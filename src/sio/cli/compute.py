"""`sio compute` (one year's annual figures of every municipality, as a table, JSON, CSV, Parquet
or Excel) and `sio demo` (the whole scheme on the built-in synthetic data, with a report)."""

from __future__ import annotations

import sys
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
    load_source,
    out,
    read_ahead,
    source_options,
    table_console,
    warn_ended_phase_outs,
    warn_problems,
)
from sio.cli.short_run import short_run
from sio.i18n import _

if TYPE_CHECKING:
    from sio.data.model import InputData
    from sio.engine import Engine, YearResult
    from sio.results import AnnualResult

__all__ = ["compute", "compute_year", "demo"]


@short_run
def compute(
    year: Annotated[int, typer.Option("--aar", help=_("The year to compute."))],
    data: Annotated[
        Path | None, typer.Option("--data", help=_("Input directory (interfaces.md §1)."))
    ] = None,
    db: Annotated[
        bool, typer.Option("--db", help=_("Compute from the database (SIO_DATABASE_URL)."))
    ] = False,
    versjon: Annotated[
        int | None, typer.Option("--versjon", help=_("Data version (with --db; default newest)."))
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=_("table, json or csv."))] = "table",
    override: Annotated[
        Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--ut", help=_("Write to this file (.parquet and .xlsx by their suffix).")),
    ] = None,
    kommune: Annotated[
        list[str] | None,
        typer.Option("--kommune", help=_("Only this municipality (NNNN; may be repeated).")),
    ] = None,
) -> None:
    """Compute every municipality's annual figures for one year."""
    if fmt not in ("table", "json", "csv"):
        err.print(_("--format must be table, json or csv"))
        raise typer.Exit(EXIT_BAD_INPUT)
    source = source_options(data, db, versjon)
    ahead = read_ahead(source, evaluation=False)  # read while the engine is imported
    from sio.engine import Engine
    from sio.report.files import results_csv, results_json, write_results, write_text
    from sio.trace import fmt_exact

    with input_errors():
        params = load_params(override)
        if not db:
            inp, data_version = load_source(source, params, evaluation=False, ahead=ahead)
        else:  # through the database's own driver where it can (`sio.store.direct`)
            from sio.store.direct import load_version

            inp, data_version = load_version(params, versjon, evaluation=False)
        codes = _check_kommuner(inp, kommune or [])
        result = compute_year(Engine(inp, params), inp, year)
        if data_version is not None:
            from sio.store.direct import store_results

            store_results(result, data_version)
            err.print(
                _("Data version {v}, parameter version {p}.").format(
                    v=data_version, p=params.version
                ),
                style="dim",
            )
    for b in result.project_cost_breaches:
        err.print(
            _("{code} {year}: project costs {amount} kr exceed the limit of {limit} kr").format(
                code=b.kommunenummer,
                year=b.aar,
                amount=fmt_exact(b.beloep),
                limit=fmt_exact(b.grense),
            ),
            style="yellow",
        )
    warn_ended_phase_outs(result)
    rows = result.results
    if codes:
        rows = [r for r in rows if r.kommunenummer in codes]
    if not rows:
        err.print(
            _("No municipality participates in {year}: there are no figures.").format(year=year),
            style="yellow",
            markup=False,
        )
    if out_file is not None and out_file.suffix.lower() in (".parquet", ".xlsx"):
        write_results(rows, out_file)
        return
    if fmt == "json":
        text = results_json(rows)
    elif fmt == "csv":
        text = results_csv(rows)
    else:
        from rich.console import Console

        from sio.cli.blocks import render_year

        console = Console(record=True, width=220) if out_file else table_console()
        render_year(rows, year, console)
        if out_file is None:
            return
        text = console.export_text()
    if out_file:
        write_text(text, out_file)
    else:
        sys.stdout.write(text)


def compute_year(engine: Engine, inp: InputData, year: int) -> YearResult:
    """The year's figures; a year the rules lack data for, outside the population data, is
    refused naming the years the data cover (and the first figure the rules missed)."""
    from sio.rules.uttrekk import DataGap

    try:
        return engine.compute_year(year)
    except DataGap as exc:
        years = inp.befolkning.get_column("aar")
        first, last = years.min(), years.max()
        if not isinstance(first, int) or not isinstance(last, int) or first <= year <= last:
            raise
        raise BadInput(
            _(
                "{year} is outside the data: the population table covers {first}–{last}; "
                "nothing was computed"
            ).format(year=year, first=first, last=last)
            + f" ({exc})"
        ) from None


def _check_kommuner(inp: InputData, codes: list[str]) -> set[str]:
    """The municipality codes of ``--kommune``, each of them in the data."""
    known = set(inp.kommuner.get_column("kommunenummer").to_list())
    for code in codes:
        if code not in known:
            raise BadInput(
                _("the municipality {code} is not in the data (kommuner)").format(code=code)
            )
    return set(codes)


def demo(
    out_dir: Annotated[Path, typer.Option("--ut", help=_("Report folder."))] = Path("sio-demo"),
    first: Annotated[int, typer.Option("--fra-aar", help=_("First year."))] = 2016,
    last: Annotated[int, typer.Option("--til-aar", help=_("Last year."))] = 2024,
    override: Annotated[
        Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """Compute the whole scheme 2016–2024 on the built-in (synthetic) demo data and report it."""
    from rich.progress import Progress

    from sio.cli.blocks import render_year
    from sio.data.demo import write_demo_data
    from sio.data.validation import load_input
    from sio.engine import Engine
    from sio.report import write_report

    data_dir = out_dir / "inndata"
    with input_errors():
        params = load_params(override)
        write_demo_data(data_dir)
        inp, problems = load_input(data_dir, params)
        warn_problems(problems)
        engine = Engine(inp, params)
        results: dict[int, list[AnnualResult]] = {}
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(_("Computing"), total=last - first + 1)
            for y in range(first, last + 1):
                results[y] = engine.compute_year(y).results
                progress.advance(task)
    note = _(
        "Synthetic demo data: real municipalities, codes, mergers, models and dates; "
        "persons, vedtak, expenditure and population are synthetic."
    )
    out.print(f"[bold yellow]{note}[/bold yellow]")
    console = table_console()
    for y, rows in results.items():
        render_year(rows, y, console)
    files = write_report(results, out_dir, note=note, lang=i18n.get_language())
    out.print(_("Report written:"))
    for f in files:
        out.print(f"  {f}")
