"""The payment file of a payment run, for the payment system: ``utbetaling-<periode>.csv`` and
``utbetaling-<periode>.xlsx`` with one row per municipality that gets (or owes) money in the run.

Columns, in order: ``kommunenummer, navn, organisasjonsnummer, beloep, periode, referanse``.
``beloep`` is the municipality's total of the run in kroner with two decimals (negative when the
municipality owes the state); the codes are text, leading zeros kept. Municipalities whose lines
add up to zero are left out; a municipality without organisation number is listed with an empty
cell (whether that may be paid is for the caller to decide). Rows are sorted by kommunenummer.
Beside it, ``posteringer-<periode>.csv`` lists every ledger line of the run.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from sio.i18n import _
from sio.report.common import atomic_path
from sio.utbetaling.model import Brev, Kjoring, Postering

__all__ = [
    "COLUMNS",
    "KRONER_OERE_FORMAT",
    "SHEET",
    "PaymentRow",
    "payment_csv",
    "payment_file_names",
    "payment_rows",
    "write_payment_file",
]

COLUMNS: tuple[str, ...] = (
    "kommunenummer",
    "navn",
    "organisasjonsnummer",
    "beloep",
    "periode",
    "referanse",
)
# Excel number format of kroner with øre; Excel shows "," and "." in the reader's own
# separators, so Norwegian Excel displays "1 234,50 kr".
KRONER_OERE_FORMAT = '#,##0.00 "kr";-#,##0.00 "kr"'
SHEET = "utbetaling"


@dataclass(frozen=True)
class PaymentRow:
    """One row of the payment file."""

    kommunenummer: str
    navn: str
    organisasjonsnummer: str  # "" when the municipality has none
    beloep_oere: int
    periode: str
    referanse: str

    @property
    def beloep(self) -> str:
        """The amount in kroner with two decimals and "." as decimal separator: "-1234.50"."""
        return f"{Decimal(self.beloep_oere).scaleb(-2):.2f}"


def payment_rows(kjoring: Kjoring, brever: Sequence[Brev]) -> list[PaymentRow]:
    """The rows of the payment file: one per municipality with a non-zero total, sorted by
    kommunenummer. ValueError if a letter belongs to another run or a municipality has more
    than one letter."""
    rows: list[PaymentRow] = []
    seen: set[str] = set()
    for brev in brever:
        code = brev.mottaker.kommunenummer
        if brev.kjoring.id != kjoring.id:
            raise ValueError(
                _("the letter to {code} belongs to payment run {other}, not {run}").format(
                    code=code, other=brev.kjoring.id, run=kjoring.id
                )
            )
        if code in seen:
            raise ValueError(_("more than one letter for municipality {code}").format(code=code))
        seen.add(code)
        if brev.sum_oere == 0:
            continue
        rows.append(
            PaymentRow(
                kommunenummer=code,
                navn=brev.mottaker.navn,
                organisasjonsnummer=(brev.mottaker.organisasjonsnummer or "").strip(),
                beloep_oere=brev.sum_oere,
                periode=kjoring.periode,
                referanse=brev.referanse,
            )
        )
    return sorted(rows, key=lambda r: r.kommunenummer)


def payment_csv(rows: Sequence[PaymentRow]) -> str:
    """The rows as CSV text: comma separated, header row, "\\n" line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [r.kommunenummer, r.navn, r.organisasjonsnummer, r.beloep, r.periode, r.referanse]
        )
    return buf.getvalue()


def _write_xlsx(rows: Sequence[PaymentRow], path: Path) -> None:
    """One sheet: the header row, then the rows; codes, period and reference as text cells,
    the amount as a number in kroner with a kroner-and-øre format."""
    workbook = xlsxwriter.Workbook(str(path))
    try:
        sheet = workbook.add_worksheet(SHEET)
        bold = workbook.add_format({"bold": True})
        text = workbook.add_format({"num_format": "@"})
        kroner = workbook.add_format({"num_format": KRONER_OERE_FORMAT})
        widths = {"navn": 24, "beloep": 18, "referanse": 26}
        for c, col in enumerate(COLUMNS):
            sheet.write_string(0, c, col, bold)
            sheet.set_column(c, c, widths.get(col, 16), kroner if col == "beloep" else text)
        for i, r in enumerate(rows, start=1):
            sheet.write_string(i, 0, r.kommunenummer, text)
            sheet.write_string(i, 1, r.navn, text)
            if r.organisasjonsnummer:
                sheet.write_string(i, 2, r.organisasjonsnummer, text)
            else:
                sheet.write_blank(i, 2, None, text)
            sheet.write_number(i, 3, float(Decimal(r.beloep_oere).scaleb(-2)), kroner)
            sheet.write_string(i, 4, r.periode, text)
            sheet.write_string(i, 5, r.referanse, text)
        sheet.freeze_panes(1, 0)
    finally:
        workbook.close()


def payment_file_names(kjoring: Kjoring) -> tuple[str, str]:
    """The names of the CSV and the Excel file of a run: ``utbetaling-<periode>.csv``/``.xlsx``."""
    stem = f"utbetaling-{kjoring.periode}"
    return f"{stem}.csv", f"{stem}.xlsx"


def write_payment_file(kjoring: Kjoring, brever: Sequence[Brev], folder: Path) -> list[Path]:
    """Write the payment file of ``kjoring`` as ``utbetaling-<periode>.csv`` (UTF-8) and
    ``utbetaling-<periode>.xlsx`` into ``folder`` (created if missing); return the two paths.

    Both files are written to temporary files first and put in place only when both are
    complete, so a failure leaves neither file half-written (an earlier pair stays as it was).
    """
    rows = payment_rows(kjoring, brever)
    folder = Path(folder)
    csv_name, xlsx_name = payment_file_names(kjoring)
    csv_path, xlsx_path = folder / csv_name, folder / xlsx_name
    with contextlib.ExitStack() as stack:
        csv_tmp = stack.enter_context(atomic_path(csv_path))
        xlsx_tmp = stack.enter_context(atomic_path(xlsx_path))
        with csv_tmp.open("w", encoding="utf-8", newline="") as fp:
            fp.write(payment_csv(rows))
        _write_xlsx(rows, xlsx_tmp)
    return [csv_path, xlsx_path]


LEDGER_COLUMNS: tuple[str, ...] = (
    "id",
    "kjoring_id",
    "kommunenummer",
    "aar",
    "maaned",
    "komponent",
    "art",
    "beloep_oere",
    "data_versjon",
    "parameter_versjon",
    "forrige_data_versjon",
    "forrige_parameter_versjon",
    "begrunnelse",
)


def write_ledger_lines(kjoring: Kjoring, lines: Sequence[Postering], folder: Path) -> Path:
    """Every ledger line of a run as `posteringer-<periode>.csv` (audit and reconciliation);
    amounts in øre, versions and reasons as stored."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LEDGER_COLUMNS)
    for p in lines:
        w.writerow(["" if getattr(p, c) is None else getattr(p, c) for c in LEDGER_COLUMNS])
    path = folder / f"posteringer-{kjoring.periode}.csv"
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
    return path
