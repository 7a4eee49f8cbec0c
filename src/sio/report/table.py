"""The terminal table of one year: every municipality's grants and extraction, national totals,
and one note naming the figures that rest on estimated parameters (Rich, current language)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sio.i18n import _, format_kroner, language
from sio.report.common import (
    TABLE_COLUMNS,
    amounts_note,
    cell_text,
    column_labels,
    national_total_label,
    rows_of_year,
    totals,
    year_title,
)
from sio.report.estimates import rows_to_mark, table_note
from sio.results import AMOUNT_COLUMNS, AnnualResult

__all__ = [
    "COMPACT_COLUMNS",
    "MINIMAL_COLUMNS",
    "build_year_table",
    "fitting_columns",
    "render_table_text",
    "render_year_table",
]


# Columns kept when the full table is wider than the console: first the four grant components
# go, then the model, the months and the top-up financing.
COMPACT_COLUMNS: tuple[str, ...] = tuple(
    c
    for c in TABLE_COLUMNS
    if c not in ("aktivitetstilskudd", "rundsumtilskudd", "oeremerket_tilskudd", "inntektspaaslag")
)
MINIMAL_COLUMNS: tuple[str, ...] = ("kommunenummer", "navn", "uttrekk", "tilskudd", "netto")
_NUMERIC = frozenset({*AMOUNT_COLUMNS, "maaneder"})


def _cells(rows: Sequence[AnnualResult], columns: Sequence[str]) -> list[list[str]]:
    """Displayed texts: one list per row, the national-totals row last."""
    sums = totals(rows)
    marks = rows_to_mark(rows)
    body = [[cell_text(r, c, r.kommunenummer in marks) for c in columns] for r in rows]
    total = [
        national_total_label()
        if c == "navn"
        else (format_kroner(sums[c]) if c in AMOUNT_COLUMNS else "")
        for c in columns
    ]
    return [*body, total]


def _widths(header: Sequence[str], cells: Sequence[Sequence[str]]) -> list[int]:
    """Width of each column: its widest cell, or its header's longest word (headers wrap)."""
    return [
        max(
            max((cell_len(w) for w in head.split()), default=1),
            *(cell_len(row[i]) for row in cells),
        )
        for i, head in enumerate(header)
    ]


def _table_width(widths: Sequence[int]) -> int:
    """Width of a table with these column widths: one space of padding each side, borders."""
    return sum(w + 2 for w in widths) + len(widths) + 1


def build_year_table(
    results: Sequence[AnnualResult], year: int, columns: Sequence[str] = TABLE_COLUMNS
) -> Table:
    """The Rich table of ``year`` with ``columns`` (rows of other years are left out)."""
    rows = rows_of_year(results, year)
    labels = column_labels()
    header = [labels[c] for c in columns]
    cells = _cells(rows, columns)
    widths = _widths(header, cells)
    table = Table(title=year_title(year), title_style="bold")
    for col, head, width in zip(columns, header, widths, strict=True):
        numeric = col in _NUMERIC
        table.add_column(
            Text(head, no_wrap=False),  # a header wraps between words, never cut
            justify="right" if numeric else "left",
            # Numbers and numbers-like codes keep a fixed width, so they are never cut;
            # names may wrap when the console is narrow.
            width=None if col == "navn" else width,
            no_wrap=col != "navn",
        )
    for row in cells[:-1]:
        table.add_row(*(Text(c) for c in row))
    table.add_section()
    table.add_row(*(Text(c) for c in cells[-1]), style="bold")
    return table


def fitting_columns(results: Sequence[AnnualResult], year: int, width: int) -> tuple[str, ...]:
    """The widest column set (all, compact, minimal) whose table fits in ``width`` characters."""
    rows = rows_of_year(results, year)
    labels = column_labels()
    for columns in (TABLE_COLUMNS, COMPACT_COLUMNS):
        needed = _widths([labels[c] for c in columns], _cells(rows, columns))
        if _table_width(needed) <= width:
            return columns
    return MINIMAL_COLUMNS


def render_year_table(results: Sequence[AnnualResult], year: int, console: Console) -> None:
    """Print the table of ``year`` to ``console``, then the unit and the estimates footnote.
    On a console too narrow for every column, some are left out (and a line says so): the
    municipality, extraction, total grant and net are always shown."""
    rows = rows_of_year(results, year)
    columns = fitting_columns(rows, year, console.width)
    console.print(build_year_table(rows, year, columns))
    console.print(Text(amounts_note()))
    if columns != TABLE_COLUMNS:
        console.print(
            Text(
                _(
                    "Some columns are left out to fit the width of the terminal: "
                    "the CSV, Excel and HTML reports have every column."
                )
            )
        )
    footnote = table_note(rows)
    if footnote:
        console.print(Text(footnote))


def render_table_text(results: Sequence[AnnualResult], year: int, lang: str) -> str:
    """The table of ``year`` as plain text in ``lang`` ("nb" or "en")."""
    console = Console(record=True, width=200, file=io.StringIO(), color_system=None)
    with language(lang):
        render_year_table(results, year, console)
    return console.export_text()
