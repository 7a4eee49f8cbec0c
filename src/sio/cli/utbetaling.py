"""The payment commands: `sio utbetaling kjor|status|kjoringer|inngaende-saldo` and
`sio etteroppgjoer`.

They work on the store named by `SIO_DATABASE_URL` (SQLite by default) and accept
`--override FILE` like `sio compute`. The ledger is the truth: the payment file and the
statements of a run are renderings of it and can be written again at any time by running the
same month again (which posts nothing the second time). A ledger line is explained by
`sio explain --postering ID` (:mod:`sio.cli.posting`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sio import i18n
from sio.cli.common import (
    EXIT_BAD_INPUT,
    NormalPriorityOption,
    err,
    estimate_note,
    out,
    payment_errors,
    payment_params,
    store,
)
from sio.cli.names import NorwegianGroup
from sio.i18n import _, format_kroner_oere, ngettext
from sio.priority import lower as lower_priority

if TYPE_CHECKING:
    from sio.utbetaling.run import RunOutcome, StatusRow

__all__ = ["etteroppgjoer", "status_json", "utbetaling_app"]

utbetaling_app = typer.Typer(
    cls=NorwegianGroup,
    no_args_is_help=True,
    help=_("Payments: monthly runs, status and the ledger."),
)

OverrideOption = Annotated[
    Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
]
OutOption = Annotated[
    Path | None,
    typer.Option("--ut", help=_("Folder for the payment file and the statements.")),
]
FormatOption = Annotated[str, typer.Option("--format", help=_("table or json."))]
ExcelCsvOption = Annotated[
    bool,
    typer.Option(
        "--excel-csv",
        help=_(
            "Also write the payment file as Norwegian Excel reads CSV (semicolons, decimal comma)."
        ),
    ),
]


def _say(text: str) -> None:
    """A sentence wrapped to the console between words, never inside a figure (the no-break
    spaces that group the digits of an amount are not places to wrap, as they are to Rich)."""
    import textwrap

    out.print(
        textwrap.fill(text, width=max(out.width, 40)), markup=False, highlight=False, soft_wrap=True
    )


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        err.print(_("--format must be table or json"))
        raise typer.Exit(EXIT_BAD_INPUT)


def _write_outputs(outcome: RunOutcome, folder: Path) -> list[Path]:
    from sio.report.payment_file import write_ledger_lines, write_payment_file
    from sio.report.statement import write_statements

    files = write_payment_file(outcome.kjoring, outcome.brever, folder)
    files += write_statements(outcome.brever, folder / "brev", lang=i18n.get_language())
    files.append(write_ledger_lines(outcome.kjoring, outcome.lines, folder))
    return files


def _write_files(outcome: RunOutcome, folder: Path, excel_csv: bool) -> list[Path]:
    files = _write_outputs(outcome, folder)
    if excel_csv:
        from sio.cli.payment_dialect import write_excel_csv

        files.insert(1, write_excel_csv(outcome.kjoring, outcome.brever, folder))
    return files


def _move_into(src: Path, dst: Path) -> None:
    """Move the folder `src` into `dst` by renames only (no space needed on the disk)."""
    if not dst.is_dir():
        os.replace(src, dst)
        return
    for child in src.iterdir():
        target = dst / child.name
        if child.is_dir() and target.is_dir():
            _move_into(child, target)
        else:
            os.replace(child, target)
    src.rmdir()


class _Outputs:
    """The payment file and letters of a new run, written inside the run's transaction into a
    hidden folder beside `folder` and moved into place by renames once the run is committed: a
    full disk (or any failed write) then leaves neither ledger lines nor half a payment file.
    A run made before (nothing is posted) is written again the same way."""

    def __init__(self, folder: Path, excel_csv: bool) -> None:
        self.folder = folder
        self.excel_csv = excel_csv
        self.staging = folder.parent / f".{folder.name}.sio-{os.getpid()}"
        self.files: list[Path] | None = None

    def stage(self, outcome: RunOutcome) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        try:
            self.files = _write_files(outcome, self.staging, self.excel_csv)
        except OSError as exc:
            self.discard()
            if isinstance(exc.filename, str):  # name the user's folder, not the hidden one
                exc.filename = exc.filename.replace(str(self.staging), str(self.folder))
            raise

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.files = None

    def finish(self, outcome: RunOutcome) -> None:
        if self.files is None:  # the run was made before: its files are written again
            self.stage(outcome)
        assert self.files is not None
        _move_into(self.staging, self.folder)
        files = [self.folder / f.relative_to(self.staging) for f in self.files]
        _list_files(outcome, self.folder, files)


def _list_files(outcome: RunOutcome, folder: Path, files: list[Path]) -> None:
    out.print(_("Written:"))
    for f in files:
        if f.parent.name != "brev":
            out.print(f"  {f}")
    letters = ngettext("{n} letter", "{n} letters", len(outcome.brever)).format(
        n=len(outcome.brever)
    )
    out.print(f"  {folder / 'brev'}/ ({letters}, index.html)")


def _print_outcome(outcome: RunOutcome, what: str) -> None:
    from rich.table import Table

    run = outcome.kjoring
    when = run.startet.strftime("%Y-%m-%d %H:%M")
    if not outcome.new:
        out.print(
            _(
                "{what} was made before (run {id}, {when}, {user}): nothing more is paid now. "
                "Corrections come with the next month's run."
            ).format(what=what, id=run.id, when=when, user=run.bruker)
        )
    else:
        out.print(
            _("{what}: run {id} stored with {n} ledger lines (data version {dv}, {pv}).").format(
                what=what,
                id=run.id,
                n=len(outcome.lines),
                dv=run.data_versjon,
                pv=run.parameter_versjon,
            )
        )
    table = Table(title=_("Payments of run {id}").format(id=run.id))
    table.add_column(_("municipality"))
    table.add_column(_("lines"), justify="right")
    table.add_column(_("amount (kr)"), justify="right")
    total = 0
    for b in outcome.brever:
        table.add_row(
            f"{b.mottaker.kommunenummer} {b.mottaker.navn}",
            str(len(b.linjer)),
            format_kroner_oere(b.sum_oere),
        )
        total += b.sum_oere
    table.add_row(_("Total"), str(len(outcome.lines)), format_kroner_oere(total), style="bold")
    out.print(table)
    components = {p.komponent for p in outcome.lines} | {"utbetaling"}
    estimate_note(
        sorted({path for b in outcome.brever for path in b.estimerte_parametere}),
        sorted(components),
    )


@utbetaling_app.command("kjor", help=_("Make the payment run of a month (once)."))
def kjor(
    maaned: Annotated[str | None, typer.Option("--maaned", help=_("The month YYYY-MM."))] = None,
    fra: Annotated[
        str | None, typer.Option("--fra", help=_("The first month YYYY-MM (with --til)."))
    ] = None,
    til: Annotated[
        str | None, typer.Option("--til", help=_("The last month YYYY-MM (with --fra)."))
    ] = None,
    override: OverrideOption = None,
    out_dir: OutOption = None,
    excel_csv: ExcelCsvOption = False,
    normal_priority: NormalPriorityOption = False,
) -> None:
    """Make the payment run of a month: advances, month shares, settlements, corrections. With
    --fra and --til, every month from the one to the other in order, stopping at the first
    refusal (the months before it stay run)."""
    lower_priority(normal_priority)  # yield the CPU to a casework service (decision 0022)
    from sio.rules.participation import month_index, month_of
    from sio.utbetaling.run import PaymentError, month_text, parse_month, run_month

    if (maaned is None) == (fra is None and til is None) or (fra is None) != (til is None):
        err.print(_("give either --maaned YYYY-MM or both --fra YYYY-MM and --til YYYY-MM"))
        raise typer.Exit(EXIT_BAD_INPUT)
    with payment_errors():
        if maaned is not None:
            months = [parse_month(maaned)]
        else:
            assert fra is not None and til is not None
            first, last = parse_month(fra), parse_month(til)
            if last < first:
                raise PaymentError(_("--til {til} is before --fra {fra}").format(til=til, fra=fra))
            months = [month_of(i) for i in range(month_index(first), month_index(last) + 1)]
        params, ov = payment_params(override)
    for month in months:
        periode = month_text(month)
        folder = (out_dir / periode) if out_dir and len(months) > 1 else out_dir
        outputs = _Outputs(folder or Path("sio-utbetaling") / periode, excel_csv)
        try:
            with payment_errors():
                outcome = run_month(
                    store(), params, month, overrides=ov, before_commit=outputs.stage
                )
        except BaseException:
            outputs.discard()
            raise
        _print_outcome(outcome, _("The payment run of {month}").format(month=periode))
        outputs.finish(outcome)


def etteroppgjoer(
    aar: Annotated[int, typer.Option("--aar", help=_("The year to settle."))],
    override: OverrideOption = None,
    out_dir: OutOption = None,
    excel_csv: ExcelCsvOption = False,
) -> None:
    """The final settlement of a year: every month brought to its actual figure."""
    from sio.utbetaling.run import run_final_settlement

    outputs = _Outputs(out_dir or Path("sio-utbetaling") / f"etteroppgjoer-{aar}", excel_csv)
    try:
        with payment_errors():
            params, ov = payment_params(override)
            outcome = run_final_settlement(
                store(), params, aar, overrides=ov, before_commit=outputs.stage
            )
    except BaseException:
        outputs.discard()
        raise
    _print_outcome(outcome, _("The final settlement of {year}").format(year=aar))
    outputs.finish(outcome)


def status_json(rows: Sequence[StatusRow]) -> list[dict[str, Any]]:
    """The JSON of `sio utbetaling status`: whole kroner, and øre beside them."""
    from sio.money import kroner_from_oere

    return [
        {
            "kommunenummer": r.kommunenummer,
            "navn": r.navn,
            "aar": r.aar,
            "til_maaned": r.til_maaned,
            "etteroppgjoer": r.etteroppgjoer,
            "rettighet": kroner_from_oere(r.rettighet_oere),
            "utbetalt": kroner_from_oere(r.utbetalt_oere),
            "utestaaende": kroner_from_oere(r.utestaaende_oere),
            "rettighet_oere": r.rettighet_oere,
            "utbetalt_oere": r.utbetalt_oere,
            "utestaaende_oere": r.utestaaende_oere,
            "rettighet_data_versjon": r.data_versjon,
            "rettighet_parameter_versjon": r.parameter_versjon,
            "avrunding": {
                "rettighet_oere": r.avrunding_rettighet_oere,
                "utbetalt_oere": r.avrunding_utbetalt_oere,
            },
            "maaneder": [
                {
                    "maaned": m.maaned,
                    "rettighet": kroner_from_oere(m.rettighet_oere),
                    "utbetalt": kroner_from_oere(m.utbetalt_oere),
                    "utestaaende": kroner_from_oere(m.rettighet_oere - m.utbetalt_oere),
                    "rettighet_oere": m.rettighet_oere,
                    "utbetalt_oere": m.utbetalt_oere,
                    "data_versjoner": m.data_versjoner,
                    "parameter_versjoner": m.parameter_versjoner,
                    "arter": m.arter,
                }
                for m in r.months
            ],
            "inngaende_saldo": (
                None
                if r.saldo is None
                else {
                    "utbetalt_oere": r.saldo.utbetalt_oere,
                    "til_og_med_maaned": r.saldo_til_maaned,
                    "kilde": r.saldo.kilde,
                    "rettighet_oere": r.saldo_rettighet_oere,
                    "utbetalt_med_avregning_oere": r.saldo_utbetalt_oere,
                }
            ),
            "estimerte_parametere": list(r.estimerte_parametere),
        }
        for r in rows
    ]


@utbetaling_app.command("status", help=_("Entitlement, paid and outstanding per month."))
def status_cmd(
    aar: Annotated[int, typer.Option("--aar", help=_("The year."))],
    kommune: Annotated[
        str | None, typer.Option("--kommune", help=_("Only this municipality NNNN."))
    ] = None,
    fmt: FormatOption = "table",
    override: OverrideOption = None,
) -> None:
    """Entitlement (newest data version), what is paid, what is outstanding, per month."""
    from rich.table import Table

    from sio.utbetaling.run import PaymentError, status

    _check_format(fmt)
    with payment_errors():
        params, _ov = payment_params(override)
        rows = status(store(), params, aar, kommune)
        if kommune is not None and not rows:
            raise PaymentError(
                _("{code} has no entitlement or payments in {year}").format(code=kommune, year=aar)
            )
    if fmt == "json":
        print(json.dumps(status_json(rows), ensure_ascii=False, indent=2))
        return
    for r in rows:
        title = _(
            "{code} {name} {year}: entitlement {due} kr, paid {paid} kr, outstanding {left} kr"
        ).format(
            code=r.kommunenummer,
            name=r.navn,
            year=r.aar,
            due=format_kroner_oere(r.rettighet_oere),
            paid=format_kroner_oere(r.utbetalt_oere),
            left=format_kroner_oere(r.utestaaende_oere),
        )
        table = Table(title=title, title_justify="left")
        # the parameter versions get a column only where a line used another version than the
        # entitlement (the usual case is one version throughout: said below the tables)
        other_params = any(m.parameter_versjoner != [r.parameter_versjon] for m in r.months)
        columns = [_("month"), _("entitlement (kr)"), _("paid (kr)"), _("outstanding (kr)")]
        for c in columns:
            table.add_column(c, justify="left" if c == columns[0] else "right")
        table.add_column(_("data versions"))
        if other_params:
            table.add_column(_("parameter versions"))
        if r.saldo is not None:
            cells = [
                _("balance –{month:02d}").format(month=r.saldo_til_maaned),
                format_kroner_oere(r.saldo_rettighet_oere),
                format_kroner_oere(r.saldo_utbetalt_oere),
                format_kroner_oere(r.saldo_rettighet_oere - r.saldo_utbetalt_oere),
                "",
            ]
            table.add_row(*cells, *([""] if other_params else []))
        for m in r.months:
            cells = [
                f"{r.aar}-{m.maaned:02d}",
                format_kroner_oere(m.rettighet_oere),
                format_kroner_oere(m.utbetalt_oere),
                format_kroner_oere(m.rettighet_oere - m.utbetalt_oere),
                ", ".join(str(v) for v in m.data_versjoner),
            ]
            table.add_row(*cells, *([", ".join(m.parameter_versjoner)] if other_params else []))
        if r.etteroppgjoer or r.avrunding_utbetalt_oere:
            cells = [
                _("rounding"),
                format_kroner_oere(r.avrunding_rettighet_oere),
                format_kroner_oere(r.avrunding_utbetalt_oere),
                format_kroner_oere(r.avrunding_rettighet_oere - r.avrunding_utbetalt_oere),
                "",
            ]
            table.add_row(*cells, *([""] if other_params else []))
        out.print(table)
        if r.saldo is not None:
            _say(
                _(
                    "Opening balance: {paid} kr paid before the ledger for {year}-01 to "
                    "{year}-{month:02d} ({source}); the ledger's lines that settle it: "
                    "{settled} kr."
                ).format(
                    paid=format_kroner_oere(r.saldo.utbetalt_oere),
                    year=r.aar,
                    month=r.saldo_til_maaned,
                    source=r.saldo.kilde,
                    settled=format_kroner_oere(r.saldo_utbetalt_oere - r.saldo.utbetalt_oere),
                )
            )
    if rows:
        out.print(
            _(
                "Entitlement from data version {dv} and parameter version {pv}, for the months "
                "run so far{settled}."
            ).format(
                dv=rows[0].data_versjon,
                pv=rows[0].parameter_versjon,
                settled=_(" (the year is finally settled)") if rows[0].etteroppgjoer else "",
            )
        )
        estimate_note(
            sorted({p for r in rows for p in r.estimerte_parametere}),
            sorted({f for r in rows for f in r.figures} | {"utbetaling"}),
        )


@utbetaling_app.command("kjoringer", help=_("Every payment run in the ledger."))
def kjoringer(fmt: FormatOption = "table") -> None:
    """Every payment run: id, kind, period, when, who, versions, lines and sum."""
    _check_format(fmt)
    from rich.table import Table

    from sio.store import ledger

    with payment_errors(), store().connect() as conn:
        runs = ledger.list_runs(conn)
        sums = ledger.run_totals(conn)
    if fmt == "json":
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "art": r.art,
                        "periode": r.periode,
                        "startet": r.startet.isoformat(),
                        "bruker": r.bruker,
                        "data_versjon": r.data_versjon,
                        "parameter_versjon": r.parameter_versjon,
                        "posteringer": sums.get(r.id, (0, 0))[0],
                        "sum_oere": sums.get(r.id, (0, 0))[1],
                    }
                    for r in runs
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table(title=_("Payment runs"))
    for c in (
        "id",
        _("kind"),
        _("period"),
        _("started"),
        _("user"),
        _("data version"),
        _("parameter version"),
        _("lines"),
        _("amount (kr)"),
    ):
        table.add_column(c)
    for r in runs:
        n, s = sums.get(r.id, (0, 0))
        table.add_row(
            str(r.id),
            r.art,
            r.periode,
            r.startet.strftime("%Y-%m-%d %H:%M"),
            r.bruker,
            str(r.data_versjon),
            r.parameter_versjon,
            str(n),
            format_kroner_oere(s),
        )
    out.print(table)


@utbetaling_app.command(
    "inngaende-saldo",
    help=_("Store what was paid before the ledger took over (opening balances from a file)."),
)
def inngaende_saldo(
    fil: Annotated[
        Path,
        typer.Argument(
            help=_(
                "CSV or xlsx: kommunenummer, aar, utbetalt_kr or utbetalt_oere, "
                "til_og_med_maaned (optional)."
            ),
            show_default=False,
        ),
    ],
) -> None:
    """Store opening balances: per municipality and year, what was paid before this ledger took
    over, for the months up to and including til_og_med_maaned (left out: every month before the
    ledger's first run). The runs then pay the rest of the year's entitlement."""
    from rich.table import Table

    from sio.utbetaling.opening import BalanceInvalid, register_balances

    with payment_errors():
        try:
            stored = register_balances(store(), fil)
        except BalanceInvalid as exc:
            for p in exc.problems:
                err.print(str(p), markup=False, highlight=False, soft_wrap=True)
            err.print(_("Nothing was stored."))
            raise typer.Exit(EXIT_BAD_INPUT) from None
    table = Table(title=_("Opening balances stored"), title_justify="left")
    table.add_column(_("municipality"))
    table.add_column(_("year"), justify="right")
    table.add_column(_("months"))
    table.add_column(_("paid before (kr)"), justify="right")
    for b in stored:
        months = (
            _("01 to {month:02d}").format(month=b.til_og_med_maaned)
            if b.til_og_med_maaned is not None
            else _("before the first run")
        )
        table.add_row(b.kommunenummer, str(b.aar), months, format_kroner_oere(b.utbetalt_oere))
    out.print(table)
    _say(
        _(
            "The payment runs pay the rest of each year's entitlement; `sio utbetaling status` "
            "shows the balance beside the months."
        )
    )
