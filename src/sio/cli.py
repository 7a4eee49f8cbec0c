"""The `sio` command: demo, compute, explain and params.

Exit codes: 0 success, 2 bad input (validation problems, bad parameters or overrides, missing
data a rule needs), 1 anything unexpected (a crash). Interfaces are thin: every command calls the
same functions the tests call.

Language: every user-facing text goes through :mod:`sio.i18n` (Norwegian bokmål by default). The
help texts (of the app, each command, option and argument) are translated with ``_()`` when this
module is imported, so they follow the environment variable ``SIO_LANG``
(``SIO_LANG=en sio compute --help`` is in English). The `sio` entry point (:mod:`sio.entry`)
reads ``--lang`` before importing this module, so ``sio --lang en compute --help`` is in English
too; the option is parsed again here, when a command runs, for its messages and output.
Commands get an explicit ``help=_("…")``; their docstrings stay in English for developers.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.tree import Tree

from sio import i18n
from sio.data.model import InputData
from sio.data.validation import InputInvalid, Problem, format_problems, load_input
from sio.engine import Engine, YearResult
from sio.i18n import _
from sio.parameters import (
    ParameterError,
    ParameterLookupError,
    ParameterSet,
    Use,
    apply_override_file,
    load_parameters,
)
from sio.report.common import estimate_footnote
from sio.report.files import results_csv, results_json, write_results, write_text
from sio.results import AnnualResult
from sio.rules.aktivitetstilskudd import lines_for_month
from sio.rules.uttrekk import DataGap
from sio.trace import Node, fmt_exact

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=_("SIO — state funding of care services."),
)
params_app = typer.Typer(no_args_is_help=True, help=_("Browse the parameter tree."))
app.add_typer(params_app, name="params")


def _register_subcommands() -> None:
    from sio.cli_casework import konto_app, serve
    from sio.cli_kommune import kommune_app
    from sio.cli_synth import synth_app
    from sio.cli_utbetaling import etteroppgjoer, utbetaling_app

    app.add_typer(synth_app, name="synth", help=_("Synthetic data sets."))
    app.add_typer(kommune_app, name="kommune", help=_("Municipality codes over time."))
    app.add_typer(
        utbetaling_app, name="utbetaling", help=_("Payments: monthly runs, status and the ledger.")
    )
    app.command("etteroppgjoer", help=_("Make the final settlement of a year (once)."))(
        etteroppgjoer
    )
    app.command("serve", help=_("Start the casework JSON API (OpenAPI at /openapi.json)."))(serve)
    app.add_typer(konto_app, name="konto", help=_("Accounts of the casework service."))


_register_subcommands()

EXIT_BAD_INPUT = 2

out = Console()
err = Console(stderr=True)


def _table_console() -> Console:
    """The console for wide tables: the terminal as it is, or 200 columns when writing to a
    file or a pipe (where nothing wraps and every column should be there)."""
    return out if out.is_terminal else Console(width=200)


class BadInput(Exception):
    """Raised inside commands for anything that should end with exit code 2."""


@app.callback()
def _main(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=_("Language of messages, output and help: nb (default) or en."),
        ),
    ] = None,
) -> None:
    if lang:
        try:
            i18n.set_language(lang)
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None


@contextmanager
def _input_errors() -> Iterator[None]:
    """Turn input problems into a clear message and exit code 2."""
    try:
        yield
    except InputInvalid as exc:
        errors = [p for p in exc.problems if p.severity == "error"]
        err.print(
            _("The input has {n} error(s); nothing was computed:").format(n=len(errors)),
            style="bold red",
        )
        err.print(exc.report(), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (ParameterError, ParameterLookupError, DataGap, BadInput) as exc:
        err.print(_("Error: {msg}").format(msg=exc), style="bold red", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _source_options(
    data: Path | None, db: bool, versjon: int | None
) -> tuple[Path | None, int | None]:
    """(--data DIR, --versjon) after checking that exactly one source is given."""
    if (data is None) == (not db):
        err.print(_("give either --data DIR or --db"))
        raise typer.Exit(EXIT_BAD_INPUT)
    if versjon is not None and not db:
        err.print(_("--versjon goes with --db"))
        raise typer.Exit(EXIT_BAD_INPUT)
    return data, versjon


def _load_source(
    source: tuple[Path | None, int | None], params: ParameterSet
) -> tuple[InputData, int | None]:
    """The input data from a folder, or from the database as of a version (and that version)."""
    data, versjon = source
    if data is not None:
        inp, problems = load_input(data, params)
        _warn(problems)
        return inp, None
    from sio.store.db import open_store
    from sio.store.versions import load_version

    return load_version(open_store(), params, versjon)


def _params(override: Path | None) -> ParameterSet:
    return apply_override_file(load_parameters(), override)


def _warn(problems: Sequence[Problem]) -> None:
    warnings = [p for p in problems if p.severity != "error"]
    if warnings:
        err.print(format_problems(warnings, limit=20), markup=False, highlight=False)


def _render_table(results: Sequence[AnnualResult], year: int, console: Console) -> None:
    from sio.report.table import render_year_table

    render_year_table(results, year, console)


@app.command(help=_("Compute every municipality's annual figures for one year."))
def compute(
    year: Annotated[int, typer.Option("--year", help=_("The year to compute."))],
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
        Path | None, typer.Option("--override", help=_("YAML file of parameter overrides."))
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help=_("Write to this file (.parquet and .xlsx by their suffix).")),
    ] = None,
) -> None:
    """Compute every municipality's annual figures for one year."""
    if fmt not in ("table", "json", "csv"):
        err.print(_("--format must be table, json or csv"))
        raise typer.Exit(EXIT_BAD_INPUT)
    source = _source_options(data, db, versjon)
    with _input_errors():
        params = _params(override)
        inp, data_version = _load_source(source, params)
        result = Engine(inp, params).compute_year(year)
        if data_version is not None:
            from sio.store.db import open_store
            from sio.store.results import store_results

            store_results(open_store(), result, data_version)
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
    rows = result.results
    if out_file is not None and out_file.suffix.lower() in (".parquet", ".xlsx"):
        write_results(rows, out_file)
        return
    if fmt == "json":
        text = results_json(rows)
    elif fmt == "csv":
        text = results_csv(rows)
    else:
        console = Console(record=True, width=220) if out_file else _table_console()
        _render_table(rows, year, console)
        if out_file is None:
            return
        text = console.export_text()
    if out_file:
        write_text(text, out_file)
    else:
        sys.stdout.write(text)


# -- explain -----------------------------------------------------------------------------------


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
    if n.value is None:
        return ""
    if isinstance(n.value, Fraction | int):
        return f"{fmt_exact(n.value)} {n.unit}".strip()
    return str(n.value)


def _tree(node: Node, parent: Tree | None = None) -> Tree:
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
        _tree(c, t)
    return t


@app.command(
    help=_("Show how a figure was computed: formula, parameters with dates and sources, inputs.")
)
def explain(
    kommune: Annotated[
        str | None, typer.Option("--kommune", help=_("Municipality code NNNN."))
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help=_("The year."))] = None,
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
        Path | None, typer.Option("--override", help=_("YAML file of parameter overrides."))
    ] = None,
    postering: Annotated[
        int | None,
        typer.Option("--postering", help=_("Explain this ledger line (id) down to the vedtak.")),
    ] = None,
) -> None:
    """Show how a figure was computed: formula, parameters with dates and sources, inputs."""
    if postering is not None:
        from sio.cli_utbetaling import explain_posting

        explain_posting(postering, override)
        return
    if kommune is None or year is None:
        err.print(_("give --kommune and --year (or --postering ID)"))
        raise typer.Exit(EXIT_BAD_INPUT)
    inp_source = _source_options(data, db, versjon)
    with _input_errors():
        params = _params(override)
        inp, _version = _load_source(inp_source, params)
        engine = Engine(inp, params)
        result = engine.compute_year(year)
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
    out.print(_tree(node))
    # the row's list: a component also rests on what it is computed from (the lump sum on the
    # extraction, …), which its own subtree does not repeat
    footnote = estimate_footnote(list(my.result.estimerte_parametere))
    if footnote:
        out.print(footnote, style="yellow", markup=False, highlight=False)
    if maaned is not None:
        _explain_month(engine, result, kommune, year, maaned)


def _explain_month(engine: Engine, result: YearResult, code: str, year: int, mo: int) -> None:
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
        raise typer.Exit(1)


# -- params ------------------------------------------------------------------------------------


def _parse_date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(_("Not a date YYYY-MM-DD: {text}").format(text=text))
        raise typer.Exit(EXIT_BAD_INPUT) from None


@params_app.command("list", help=_("Every parameter with its value at a date, unit and evidence."))
def params_list(
    prefix: Annotated[str, typer.Argument(help=_("Only paths under this prefix."))] = "",
    at: Annotated[
        str | None, typer.Option("--at", help=_("Date YYYY-MM-DD (default today)."))
    ] = None,
    override: Annotated[
        Path | None, typer.Option("--override", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """Every parameter with its value at a date, unit and evidence."""
    on = _parse_date(at)
    with _input_errors():
        params = _params(override)
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
    "show",
    help=_("One parameter: description, unit, every dated value with evidence and references."),
)
def params_show(
    path: Annotated[str, typer.Argument(help=_("The parameter path."))],
    at: Annotated[
        str | None, typer.Option("--at", help=_("Mark the value in force on this date."))
    ] = None,
    override: Annotated[
        Path | None, typer.Option("--override", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """One parameter: description, unit, every dated value with evidence and references."""
    with _input_errors():
        params = _params(override)
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


# -- demo --------------------------------------------------------------------------------------


@app.command(
    help=_(
        "Compute the whole scheme 2016–2024 on the built-in (synthetic) demo data and report it."
    )
)
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help=_("Report folder."))] = Path("sio-demo"),
    first: Annotated[int, typer.Option("--fra-aar", help=_("First year."))] = 2016,
    last: Annotated[int, typer.Option("--til-aar", help=_("Last year."))] = 2024,
    override: Annotated[
        Path | None, typer.Option("--override", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """Compute the whole scheme 2016–2024 on the built-in (synthetic) demo data and report it."""
    from sio.data.demo import write_demo_data
    from sio.report import write_report
    from sio.report.table import render_year_table

    data_dir = out_dir / "inndata"
    with _input_errors():
        params = _params(override)
        write_demo_data(data_dir)
        inp, problems = load_input(data_dir, params)
        _warn(problems)
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
    console = _table_console()
    for y, rows in results.items():
        render_year_table(rows, y, console)
    files = write_report(results, out_dir, note=note, lang=i18n.get_language())
    out.print(_("Report written:"))
    for f in files:
        out.print(f"  {f}")


# -- the data store ----------------------------------------------------------------------------

data_app = typer.Typer(no_args_is_help=True, help=_("Data versions in the database."))
app.add_typer(data_app, name="data")


@app.command(
    "import",
    help=_("Validate a file or folder and store it as a new, immutable data version."),
)
def import_cmd(
    path: Annotated[Path, typer.Argument(help=_("A file or a folder in the input format."))],
    fmt: Annotated[str, typer.Option("--format", help=_("Problem report: text or json."))] = "text",
    override: Annotated[
        Path | None, typer.Option("--override", help=_("YAML file of parameter overrides."))
    ] = None,
) -> None:
    """Validate a file or folder and store it as a new, immutable data version."""
    from sio.data.validation import problems_json
    from sio.store.db import open_store
    from sio.store.versions import import_path

    try:
        params = _params(override)
        res = import_path(open_store(), path, params)
    except InputInvalid as exc:
        if fmt == "json":
            sys.stdout.write(problems_json(exc.problems) + "\n")
        else:
            errors = [p for p in exc.problems if p.severity == "error"]
            err.print(
                _("The input has {n} error(s); nothing was stored:").format(n=len(errors)),
                style="bold red",
            )
            err.print(exc.report(), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (ParameterError, ParameterLookupError) as exc:
        err.print(_("Error: {msg}").format(msg=exc), style="bold red", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _warn(res.problems)
    if not res.ny:
        out.print(
            _("Nothing new: the same content is already stored as version {v}.").format(
                v=res.versjon
            )
        )
        return
    counts = ", ".join(f"{k} {fmt_exact(v)}" for k, v in res.rader.items() if v)
    out.print(
        _("Stored as data version {v} ({counts}).").format(v=res.versjon, counts=counts or "0")
    )


@data_app.command(
    "versions",
    help=_("List the data versions: when, who, from which source, content hash and rows."),
)
def data_versions(
    fmt: Annotated[str, typer.Option("--format", help=_("table or json."))] = "table",
) -> None:
    """List the data versions: when, who, from which source, content hash and rows."""
    from sio.store.db import open_store
    from sio.store.versions import list_versions

    versions = list_versions(open_store())
    if fmt == "json":
        sys.stdout.write(
            json.dumps([v.to_dict() for v in versions], ensure_ascii=False, indent=2) + "\n"
        )
        return
    table = Table(title=_("Data versions"))
    for col in (_("version"), _("created"), _("user"), _("source"), "sha256", _("rows")):
        table.add_column(col)
    for v in versions:
        table.add_row(
            str(v.versjon),
            v.opprettet.strftime("%Y-%m-%d %H:%M:%S"),
            v.bruker,
            v.kilde,
            v.sha256[:12],
            ", ".join(f"{k} {fmt_exact(n)}" for k, n in v.rader.items() if n),
        )
    out.print(table)


@data_app.command(
    "diff", help=_("What changed between two data versions, by table and municipality.")
)
def data_diff(
    v1: Annotated[int, typer.Argument(help=_("From version."))],
    v2: Annotated[int, typer.Argument(help=_("To version."))],
    fmt: Annotated[str, typer.Option("--format", help=_("table or json."))] = "table",
) -> None:
    """What changed between two data versions, by table and municipality."""
    from sio.store.db import open_store
    from sio.store.versions import diff_versions

    with _input_errors():
        changes = diff_versions(open_store(), v1, v2)
    if fmt == "json":
        sys.stdout.write(json.dumps(changes, ensure_ascii=False, indent=2) + "\n")
        return
    labels = {
        "lagt_til": _("added"),
        "erstattet": _("superseded"),
        "fjernet": _("removed"),
    }
    table = Table(title=_("Changes from version {a} to {b}").format(a=v1, b=v2))
    for col in (_("table"), "kommunenummer", _("change"), _("rows")):
        table.add_column(col)
    for c in changes:
        table.add_row(
            c["tabell"], c["kommunenummer"] or "", labels[c["endring"]], fmt_exact(c["rader"])
        )
    if not changes:
        out.print(_("No changes."))
        return
    out.print(table)


def main() -> None:
    """Entry point: run the app; an unexpected error exits with 1, bad input with 2."""
    app()


if __name__ == "__main__":
    main()
