"""`sio scenario kjor FILE`: run a scenario file (docs/scenarios.md) — parameter overrides,
participation changes, a population projection, service-use assumptions and uncertain inputs over
a horizon — on the data (``--data DIR`` or ``--db``), in this process or on a Dask cluster, and
write the fan charts and tables to ``--ut DIR``.

Exit codes: 0 success, 2 a mistake in the scenario file, its population file, the options or the
data (every one listed as ``file: key: rule``), 1 anything unexpected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sio.cli.common import (
    EXIT_BAD_INPUT,
    err,
    input_errors,
    load_params,
    load_source,
    out,
    source_options,
    table_console,
)
from sio.cli.names import NorwegianGroup
from sio.i18n import _

__all__ = ["scenario_app"]

EXECUTORS = ("inprocess", "dask")

scenario_app = typer.Typer(
    cls=NorwegianGroup,
    add_completion=False,
    no_args_is_help=True,
    help=_("Scenarios: projections and national rollouts with uncertainty."),
)


@scenario_app.callback()
def _scenario() -> None:
    """Scenarios: projections and national rollouts with uncertainty."""


@scenario_app.command(
    "kjor",
    help=_("Run a scenario file on the data and write fan charts, tables and JSON."),
)
def run(
    file: Annotated[Path, typer.Argument(metavar="FIL", help=_("The scenario file (YAML)."))],
    data: Annotated[
        Path | None, typer.Option("--data", help=_("Input directory (interfaces.md §1)."))
    ] = None,
    db: Annotated[
        bool, typer.Option("--db", help=_("Compute from the database (SIO_DATABASE_URL)."))
    ] = False,
    versjon: Annotated[
        int | None, typer.Option("--versjon", help=_("Data version (with --db; default newest)."))
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help=_("inprocess (default) or dask."))
    ] = "inprocess",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help=_("Address of a Dask scheduler (tcp://HOST:8786); without it a local cluster."),
        ),
    ] = None,
    arbeidere: Annotated[
        int, typer.Option("--arbeidere", help=_("Workers of the local Dask cluster."))
    ] = 2,
    ut: Annotated[
        Path | None, typer.Option("--ut", help=_("Directory to write the results to."))
    ] = None,
) -> None:
    """Run a scenario file on the data and write fan charts, tables and JSON."""
    if executor not in EXECUTORS:
        err.print(_("--executor must be inprocess or dask"))
        raise typer.Exit(EXIT_BAD_INPUT)
    if scheduler is not None and executor != "dask":
        err.print(_("--scheduler goes with --executor dask"))
        raise typer.Exit(EXIT_BAD_INPUT)
    if arbeidere < 1:
        err.print(_("--arbeidere must be at least 1"))
        raise typer.Exit(EXIT_BAD_INPUT)
    from sio.scenario.spec import ScenarioInvalid, load_scenario

    try:
        scenario = load_scenario(file)
    except ScenarioInvalid as exc:
        _problems(_("The scenario file has {n} mistake(s); nothing was computed:"), exc.problems)
    source = source_options(data, db, versjon)
    from sio.scenario.anchor import ScenarioDataError
    from sio.scenario.population import ProjectionInvalid
    from sio.scenario.run import run_scenario

    client = _connect(scheduler) if scheduler is not None else None
    try:
        with input_errors():
            params = load_params(None)
            inp, _version = load_source(source, params)
            try:
                result = run_scenario(
                    scenario,
                    inp,
                    params,
                    executor=executor,
                    workers=arbeidere,
                    client=client,
                )
            except (ScenarioDataError, ProjectionInvalid) as exc:
                _problems(_("The scenario cannot be computed ({n} problem(s)):"), exc.problems)
    finally:
        if client is not None:
            client.close()
    for w in result.anchor.warnings:
        err.print(w, style="yellow", markup=False, highlight=False, soft_wrap=True)
    _print_summary(result)
    if ut is not None:
        from sio.scenario.output import write_outputs

        written = write_outputs(result, ut)
        for p in written:
            out.print(_("Wrote {path}").format(path=p), markup=False, highlight=False)


def _connect(address: str) -> Any:
    """A client of the Dask scheduler at `address`, before anything is computed; exit 2 if it
    cannot be reached."""
    from distributed import Client

    try:
        return Client(address, timeout="20s")  # type: ignore[no-untyped-call]
    except OSError as exc:
        err.print(
            _("Error: cannot reach the Dask scheduler {address}: {msg}").format(
                address=address, msg=exc
            ),
            style="bold red",
            markup=False,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _problems(title: str, problems: list[str]) -> None:
    err.print(title.format(n=len(problems)), style="bold red", markup=False)
    for line in problems:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _mill(kroner: int) -> str:
    """Whole kroner as million kroner with one decimal, in the current language."""
    from sio.i18n import format_number

    return format_number(kroner / 1_000_000, 1)


def _print_summary(result: object) -> None:
    """The national figures per year: median and the 10th–90th percentile."""
    from rich.table import Table

    from sio.scenario.output import figure_labels
    from sio.scenario.run import ScenarioResult
    from sio.scenario.summary import NATIONAL, summarise

    assert isinstance(result, ScenarioResult)
    s = summarise(result)
    labels = figure_labels()
    sc = result.scenario
    out.print(
        _(
            "{name}: anchor year {year}, {horizon} years, {draws} draws (seed {seed}), "
            "executor {executor}"
        ).format(
            name=sc.navn,
            year=result.anchor.year,
            horizon=result.anchor.horizon,
            draws=result.draws.count,
            seed=sc.usikkerhet.seed,
            executor=result.executor,
        ),
        markup=False,
        highlight=False,
    )
    table = Table(title=_("National figures, NOK million: median (p10 – p90)"))
    table.add_column(_("Year"))
    shown = (("uttrekk", "scenario"), ("tilskudd", "scenario"), ("netto", "scenario"))
    for name, _kind in shown:
        table.add_column(labels[name], justify="right")
    table.add_column(_("State's net cost against the baseline"), justify="right")
    for i, year in enumerate(s.years):
        cells = [str(year)]
        for name, kind in (*shown, ("statens_kostnad", "differanse")):
            p10, p50, p90 = (int(v) for v in s.national[kind][i, NATIONAL.index(name)])
            cells.append(
                _mill(p50) if p10 == p90 else f"{_mill(p50)}\n({_mill(p10)} – {_mill(p90)})"
            )
        table.add_row(*cells)
    table_console().print(table)
    if result.estimates:
        from sio.cli.common import estimate_note

        estimate_note(list(result.estimates))
