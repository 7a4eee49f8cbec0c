"""`sio synth`: write synthetic data sets in the input format of interfaces.md §1.

`sio synth national --out DIR` writes the synthetic national data set of `sio.data.synth`
(356 synthetic municipalities, codes 9001–9356, and their care users, decisions, population and
expenditure; calibration targets in docs/synthetic-data.md), for one year or, with `--fra-aar`
and `--til-aar`, for several. The same seed gives the same files.
Progress goes to standard error, the summary to standard output. Exit code 2 for bad options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sio.cli.common import EXIT_BAD_INPUT
from sio.cli.names import NorwegianGroup
from sio.i18n import _, format_number

__all__ = ["synth_app"]

FORMATS = ("parquet", "csv")

synth_app = typer.Typer(
    cls=NorwegianGroup,
    add_completion=False,
    no_args_is_help=True,
    help=_("Synthetic data sets in the input format (nothing in them is real)."),
)


@synth_app.callback()
def _synth() -> None:
    """Synthetic data sets in the input format (nothing in them is real)."""


@synth_app.command(
    "nasjonal",
    help=_("Write a synthetic national data set (interfaces.md §1).")
    + "\n\n"
    + _(
        "356 synthetic municipalities with population, care users, decisions (vedtak) and "
        "expenditure; the same seed gives the same files."
    ),
)
def national(
    out: Annotated[Path, typer.Option("--ut", help=_("Directory to write the files to."))],
    seed: Annotated[
        int, typer.Option("--seed", help=_("Random seed: the same seed gives the same files."))
    ] = 1,
    personer: Annotated[
        int, typer.Option("--personer", help=_("Number of care users (default 400 000)."))
    ] = 400_000,
    aar: Annotated[
        int,
        typer.Option(
            "--aar", help=_("The year of participation; the base year is the year before.")
        ),
    ] = 2021,
    fra_aar: Annotated[
        int | None,
        typer.Option(
            "--fra-aar",
            metavar="AAR",
            help=_(
                "With --til-aar: a data set over several years, with decisions in force on "
                "31 December of every year from this one (users enter and leave care over them)."
            ),
        ),
    ] = None,
    til_aar: Annotated[
        int | None,
        typer.Option(
            "--til-aar",
            metavar="AAR",
            help=_("The last year of a data set over several years (with --fra-aar)."),
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help=_("parquet (default) or csv."))] = "parquet",
    effekt: Annotated[
        list[str] | None,
        typer.Option(
            "--effekt",
            metavar="NAVN=X",
            help=_(
                "Plant a known effect after joining: likebehandling=X (narrows the spread "
                "between municipalities in hours for the same need by X) or institusjon=Y "
                "(moves Y of new long-term institution users to home nursing); may be repeated."
            ),
        ),
    ] = None,
    kommunevariasjon: Annotated[
        float | None,
        typer.Option(
            "--kommunevariasjon",
            metavar="SD",
            help=_(
                "Spread between municipalities in home hours for the same need (standard "
                "deviation of the log factor; default 0, or 0.25 with likebehandling)."
            ),
        ),
    ] = None,
) -> None:
    """Write a synthetic national data set (interfaces.md §1).

    356 synthetic municipalities with population, care users, decisions (vedtak) and
    expenditure; the same seed gives the same files.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from sio.data.synth import N_MUNICIPALITIES, TABLE_NAMES, TRUTH_FILE, write_national
    from sio.data.synth_evaluation import CONTROL_CODES, parse_effects

    err = Console(stderr=True)
    problem = None
    if fmt not in FORMATS:
        problem = _("--format must be parquet or csv")
    elif personer < 1:
        problem = _("--personer must be at least 1")
    elif aar < 2017:
        problem = _("--aar must be 2017 or later")
    elif (fra_aar is None) != (til_aar is None):
        problem = _("--fra-aar and --til-aar go together")
    elif fra_aar is not None and til_aar is not None and not (2016 <= fra_aar < aar <= til_aar):
        problem = _(
            "the years must satisfy 2016 ≤ --fra-aar < --aar ≤ --til-aar (participation starts "
            "in --aar)"
        )
    elif til_aar is not None and til_aar > 2050:
        problem = _("--til-aar must be 2050 or earlier")
    try:
        effects = parse_effects(list(effekt or []), kommunevariasjon)
    except ValueError as exc:
        problem = problem or _("--effekt: {error}").format(error=exc)
    if problem is not None:
        err.print(_("Error: {msg}").format(msg=problem), style="bold red", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task(_("Generating synthetic data …"), total=1 + len(TABLE_NAMES))

        def step(name: str) -> None:
            if name == "generate":
                return
            progress.update(
                task,
                advance=1,
                description=_("Writing {file} …").format(file=f"{name}.{fmt}"),
            )

        years = (fra_aar, til_aar) if fra_aar is not None and til_aar is not None else None
        counts = write_national(
            out,
            seed=seed,
            persons=personer,
            year=aar,
            fmt=fmt,
            progress=step,
            effects=effects,
            years=years,
        )
        progress.update(task, advance=1, description=_("Done"))

    console = Console()
    console.print(
        _("Synthetic national data set written to {path}").format(path=out),
        markup=False,
        highlight=False,
    )
    console.print(
        _("The data are synthetic: no real municipality or person is in them."), style="yellow"
    )
    table = Table()
    table.add_column(_("File"))
    table.add_column(_("Rows"), justify="right")
    for name in TABLE_NAMES:
        table.add_row(f"{name}.{fmt}", format_number(counts[name]))
    console.print(table)
    console.print(
        _("Municipalities: {n}").format(n=format_number(N_MUNICIPALITIES)), highlight=False
    )
    console.print(
        _("Control municipalities (never participating): {codes}").format(
            codes=", ".join(CONTROL_CODES)
        ),
        highlight=False,
    )
    planted = ", ".join(f"{k}={v:g}" for k, v in effects.describe().items() if v) or _("none")
    console.print(
        _("Planted effects: {effects} (the truth is in {file})").format(
            effects=planted, file=TRUTH_FILE
        ),
        highlight=False,
    )
    console.print(_("Persons (care users): {n}").format(n=format_number(personer)), highlight=False)
    console.print(
        _("Year {year} (base year {base}), seed {seed}").format(year=aar, base=aar - 1, seed=seed),
        highlight=False,
    )
    if fra_aar is not None:
        console.print(
            _("Years {first}–{last}: decisions in force on 31 December of each").format(
                first=fra_aar, last=til_aar
            ),
            highlight=False,
        )
