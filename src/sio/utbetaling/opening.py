"""Opening balances: what a municipality was paid for a year before this ledger took over.

A store that takes over the payments in the middle of a year (the scheme's first cohort joined in
May 2016; an installation may start later) is given, per municipality and year, what the earlier
system paid for the months up to and including a month (`til_og_med_maaned`; left out: every
month before the ledger's first run). Those months are then outside the ledger, and the runs
settle the balance against their entitlement (`sio.rules.settlement`, decision 0016), so that the
year's final settlement still pays exactly the year's entitlement.

The file (CSV in the documented or the Norwegian Excel dialect, or the first sheet of an xlsx
workbook) has the columns `kommunenummer`, `aar`, `utbetalt_kr` (kroner, at most two decimals)
or `utbetalt_oere` (whole øre), and optionally `til_og_med_maaned` (`6`, `06` or `2016-06`);
`navn` and `merknad` may be there for the reader and are not used. Every row is checked and
every problem reported with file, row and field; either every balance of the file is stored, or
none. The balances are append-only like the ledger: one per municipality and year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, Engine, select

from sio.i18n import _, format_kroner_oere
from sio.rules.participation import Month
from sio.store import ledger
from sio.store.versions import current_user
from sio.utbetaling.model import InngaendeSaldo, Kjoring

__all__ = ["BalanceInvalid", "Problem", "read_balances", "register_balances"]

REQUIRED = ("kommunenummer", "aar")
AMOUNT_COLUMNS = ("utbetalt_kr", "utbetalt_oere")
OPTIONAL = ("til_og_med_maaned", "navn", "merknad")
_KRONER = re.compile(r"^-?\d+([.,]\d{1,2})?$")
_MONTH = re.compile(r"^(?:(\d{4})-)?(\d{1,2})$")


@dataclass(frozen=True)
class Problem:
    """One problem of an opening-balance file: where it is and which rule it breaks."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class BalanceInvalid(ValueError):
    """The file cannot be stored; `problems` says every reason (nothing was stored)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _read_frame(path: Path) -> tuple[str, pl.DataFrame, int]:
    """(the name problems use, the rows as text, the line of the first row)."""
    from sio.data.readers import ReadError, read_table, workbook_sheets

    if not path.is_file():
        raise BalanceInvalid([Problem(path.name, None, None, _("no such file"))])
    try:
        if path.suffix.lower() == ".xlsx":
            from sio.data.excel import SheetError, read_excel_sheet

            sheets = workbook_sheets(path)
            sheet = "inngaende_saldo" if "inngaende_saldo" in sheets else sheets[0]
            name = f"{path.name}[{sheet}]"
            try:
                read = read_excel_sheet(path, sheet, REQUIRED)
            except SheetError as exc:
                raise ReadError(name, str(exc)) from None
            return name, read.frame, read.first_line
        if path.suffix.lower() != ".csv":
            raise ReadError(path.name, _("an opening balance is read from a .csv or .xlsx file"))
        table = read_table(path, "inngaende_saldo")
        return table.file, table.text(), table.first_line
    except ReadError as exc:
        raise BalanceInvalid([Problem(exc.file, None, None, exc.message)]) from None


def _oere(text: str, column: str) -> int | None:
    """An amount in øre from the cell of `column`, or None if it is not one."""
    clean = text.replace("\u00a0", "").replace(" ", "")
    if column == "utbetalt_oere":
        return int(clean) if re.fullmatch(r"-?\d+", clean) else None
    if not _KRONER.match(clean):
        return None
    try:
        return int(Decimal(clean.replace(",", ".")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


def _month(text: str, year: int | None) -> tuple[int | None, str | None]:
    """(the month, None) from a `til_og_med_maaned` cell, or (None, the problem)."""
    m = _MONTH.match(text)
    if m is None:
        return None, _("not a month (6, 06 or YYYY-06): '{value}'").format(value=text)
    if m.group(1) is not None and year is not None and int(m.group(1)) != year:
        return None, _("the month '{value}' is not in the row's year {year}").format(
            value=text, year=year
        )
    month = int(m.group(2))
    if not 1 <= month <= 11:
        return None, _(
            "must be a month from 1 to 11 (a whole year paid before the ledger is settled by "
            "the system that paid it): '{value}'"
        ).format(value=text)
    return month, None


def read_balances(path: Path) -> list[InngaendeSaldo]:
    """The opening balances of a file, every row checked (BalanceInvalid names every problem)."""
    name, frame, first = _read_frame(path)
    problems: list[Problem] = []
    header = first - 1
    cols = frame.columns
    for col in REQUIRED:
        if col not in cols:
            problems.append(Problem(name, header, col, _("required column is missing")))
    amounts = [c for c in AMOUNT_COLUMNS if c in cols]
    if not amounts:
        problems.append(
            Problem(
                name,
                header,
                "utbetalt_kr",
                _("required column is missing (utbetalt_kr in kroner or utbetalt_oere in øre)"),
            )
        )
    elif len(amounts) > 1:
        problems.append(
            Problem(name, header, None, _("give utbetalt_kr or utbetalt_oere, not both"))
        )
    for col in cols:
        if col not in (*REQUIRED, *AMOUNT_COLUMNS, *OPTIONAL):
            problems.append(
                Problem(
                    name,
                    header,
                    col,
                    _("unknown column (the columns are {columns})").format(
                        columns=", ".join((*REQUIRED, *AMOUNT_COLUMNS, OPTIONAL[0]))
                    ),
                )
            )
    if problems:
        raise BalanceInvalid(problems)
    if frame.height == 0:
        raise BalanceInvalid([Problem(name, None, None, _("only the header, no rows"))])
    amount_col = amounts[0]
    out: list[InngaendeSaldo] = []
    seen: dict[tuple[str, int], int] = {}
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = first + i
        cells = {k: ("" if v is None else str(v).strip()) for k, v in row.items()}
        if not any(cells.values()):
            continue
        code = cells["kommunenummer"]
        if not re.fullmatch(r"\d{4}", code):
            problems.append(
                Problem(
                    name,
                    line,
                    "kommunenummer",
                    _("not a municipality code (four digits): '{value}'").format(value=code),
                )
            )
        year: int | None = None
        if re.fullmatch(r"\d{4}", cells["aar"]):
            year = int(cells["aar"])
        else:
            problems.append(
                Problem(
                    name, line, "aar", _("not a year (YYYY): '{value}'").format(value=cells["aar"])
                )
            )
        oere = _oere(cells[amount_col], amount_col)
        if oere is None:
            what = (
                _("not an amount in kroner with at most two decimals: '{value}'")
                if amount_col == "utbetalt_kr"
                else _("not a whole number of øre: '{value}'")
            )
            problems.append(Problem(name, line, amount_col, what.format(value=cells[amount_col])))
        til: int | None = None
        if cells.get("til_og_med_maaned"):
            til, why = _month(cells["til_og_med_maaned"], year)
            if why is not None:
                problems.append(Problem(name, line, "til_og_med_maaned", why))
        if year is not None and re.fullmatch(r"\d{4}", code):
            if (code, year) in seen:
                problems.append(
                    Problem(
                        name,
                        line,
                        None,
                        _("{code} {year} is given twice (also on row {other})").format(
                            code=code, year=year, other=seen[(code, year)]
                        ),
                    )
                )
            seen[(code, year)] = line
        if not problems and year is not None and oere is not None:
            out.append(InngaendeSaldo(code, year, oere, til, f"{name}:{line}"))
    if problems:
        raise BalanceInvalid(problems)
    return out


def _monthly(runs: Sequence[Kjoring]) -> list[Month]:
    out = []
    for r in runs:
        if r.art == "maaned":
            y, m = r.periode.split("-")
            out.append((int(y), int(m)))
    return out


def _known_codes(conn: Connection) -> set[str]:
    from sio.store.schema import INPUT_TABLES

    kommuner = INPUT_TABLES["kommuner"]
    return {str(r[0]) for r in conn.execute(select(kommuner.c.kommunenummer).distinct())}


def _check_against_store(
    conn: Connection, balances: Sequence[InngaendeSaldo]
) -> tuple[list[InngaendeSaldo], list[Problem]]:
    """The balances as they are stored (the last month filled in where the ledger has begun),
    and the problems with what the store holds."""
    problems: list[Problem] = []
    stored = ledger.opening_balances(conn)
    done = _monthly(ledger.list_runs(conn))
    start = min(done) if done else None
    known = _known_codes(conn)
    out: list[InngaendeSaldo] = []

    def problem(b: InngaendeSaldo, field: str | None, message: str) -> None:
        file, _sep, line = b.kilde.rpartition(":")
        problems.append(Problem(file, int(line), field, message))

    for b in balances:
        if b.kommunenummer not in known:
            problem(
                b,
                "kommunenummer",
                _("no municipality {code} in the store's data").format(code=b.kommunenummer),
            )
        old = stored.get((b.kommunenummer, b.aar))
        if old is not None:
            problem(
                b,
                None,
                _(
                    "the opening balance of {code} for {year} is stored already ({amount} kr, "
                    "from {source}, {when} by {user}); stored balances are never changed"
                ).format(
                    code=b.kommunenummer,
                    year=b.aar,
                    amount=format_kroner_oere(old.utbetalt_oere),
                    source=old.kilde,
                    when=old.registrert.strftime("%Y-%m-%d %H:%M") if old.registrert else "?",
                    user=old.bruker,
                ),
            )
            continue
        til = b.til_og_med_maaned
        if start is None:
            out.append(b)
            continue
        if b.aar < start[0] or (til is None and (b.aar != start[0] or start[1] == 1)):
            problem(
                b,
                "til_og_med_maaned" if b.aar >= start[0] else "aar",
                _(
                    "the ledger begins with the run of {start}: an opening balance for {year} "
                    "needs the last month it covers, before the ledger's first run of {year}"
                ).format(start=f"{start[0]}-{start[1]:02d}", year=b.aar),
            )
            continue
        if til is None:
            til = start[1] - 1
        run = [m for (y, m) in done if y == b.aar and m <= til]
        if run:
            problem(
                b,
                "til_og_med_maaned",
                _(
                    "{year}-{month:02d} is paid by the ledger already (its run is made): an "
                    "opening balance covers only months before the ledger's first run of {year}"
                ).format(year=b.aar, month=min(run)),
            )
            continue
        if b.aar == start[0] and til < start[1] - 1:
            problem(
                b,
                "til_og_med_maaned",
                _(
                    "the ledger begins with {start}: the balance must cover the months up to "
                    "{year}-{last:02d}, or they would be paid by neither"
                ).format(start=f"{start[0]}-{start[1]:02d}", year=b.aar, last=start[1] - 1),
            )
            continue
        out.append(InngaendeSaldo(b.kommunenummer, b.aar, b.utbetalt_oere, til, b.kilde))
    return out, problems


def register_balances(engine: Engine, path: Path, user: str | None = None) -> list[InngaendeSaldo]:
    """Read, check and store the opening balances of `path` (all of them, or none)."""
    balances = read_balances(path)

    def check(conn: Connection) -> list[InngaendeSaldo]:
        rows, problems = _check_against_store(conn, balances)
        if problems:
            raise BalanceInvalid(problems)
        return rows

    return ledger.store_opening_balances(engine, user or current_user(), check)
