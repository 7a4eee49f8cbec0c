"""The payment file in the Norwegian Excel dialect, offered beside the documented one.

`sio utbetaling kjor --excel-csv` (and `sio etteroppgjoer --excel-csv`) also write
``utbetaling-<periode>-excel.csv``: the same rows and columns as the payment file, separated by
semicolons, the amount with a decimal comma, CRLF line ends, UTF-8 with a byte order mark — what
Norwegian Excel opens by double-click as columns and numbers. The documented payment file
(comma-separated, decimal point) is written as always; this one is an extra.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sio.utbetaling.model import Brev, Kjoring

__all__ = ["excel_csv", "write_excel_csv"]


def excel_csv(kjoring: Kjoring, brever: Sequence[Brev]) -> str:
    """The payment rows of a run as Norwegian Excel writes CSV (without the byte order mark)."""
    from sio.report.payment_file import COLUMNS, payment_rows

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in payment_rows(kjoring, brever):
        amount = r.beloep.replace(".", ",")
        writer.writerow(
            [r.kommunenummer, r.navn, r.organisasjonsnummer, amount, r.periode, r.referanse]
        )
    return buf.getvalue()


def write_excel_csv(kjoring: Kjoring, brever: Sequence[Brev], folder: Path) -> Path:
    """Write ``utbetaling-<periode>-excel.csv`` into `folder`; return its path."""
    from sio.report.common import atomic_path

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"utbetaling-{kjoring.periode}-excel.csv"
    with atomic_path(path) as tmp:
        tmp.write_bytes(excel_csv(kjoring, brever).encode("utf-8-sig"))
    return path
