"""Output that reads on a narrow terminal: the year's table folded into one block per municipality
when the full table is wider than the console, and the parameter list as one entry per path.

A block keeps every figure of the full table, each on its own line with its label, numbers
right-aligned and never cut or wrapped; the estimates footnote follows, wrapped between parameter
paths (a path is never cut). On a console wide enough for the whole table, the table is printed
as it always was (`sio.report.table.render_year_table`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from sio.results import AnnualResult

__all__ = ["render_year", "render_year_blocks"]


def render_year(results: Sequence[AnnualResult], year: int, console: Console) -> None:
    """The year's figures: the table if it fits the console, else one block per municipality."""
    from sio.report.common import TABLE_COLUMNS
    from sio.report.table import fitting_columns, render_year_table

    if fitting_columns(results, year, console.width) == TABLE_COLUMNS:
        render_year_table(results, year, console)
    else:
        render_year_blocks(results, year, console)


def render_year_blocks(results: Sequence[AnnualResult], year: int, console: Console) -> None:
    """One block per municipality (number, name, model, months, then each amount on a line),
    then the national totals, the unit and the estimates footnote."""
    from sio.i18n import _, format_kroner
    from sio.report.common import (
        amounts_note,
        cell_text,
        column_labels,
        national_total_label,
        rows_of_year,
        totals,
        year_title,
    )
    from sio.report.estimates import rows_to_mark, table_note
    from sio.results import AMOUNT_COLUMNS

    rows = rows_of_year(results, year)
    marks = rows_to_mark(rows)
    labels = column_labels()
    sums = totals(rows)
    label_width = max(len(labels[c]) for c in AMOUNT_COLUMNS)
    figures = [cell_text(r, c) for r in rows for c in AMOUNT_COLUMNS]
    figures += [format_kroner(v) for v in sums.values()]
    number_width = max((len(f) for f in figures), default=1)

    def amounts(texts: Sequence[str]) -> None:
        for col, text in zip(AMOUNT_COLUMNS, texts, strict=True):
            line = f"  {labels[col]:<{label_width}}  {text:>{number_width}}"
            console.print(Text(line, style="bold" if col == "netto" else ""), soft_wrap=True)

    console.print(Text(year_title(year), style="bold"), soft_wrap=True)
    for r in rows:
        console.print()
        head = _("{code} {name} — model {model}, {months} months").format(
            code=r.kommunenummer,
            name=cell_text(r, "navn", r.kommunenummer in marks),
            model=cell_text(r, "modell"),
            months=r.maaneder,
        )
        console.print(Text(head, style="bold"), soft_wrap=True)
        amounts([cell_text(r, c) for c in AMOUNT_COLUMNS])
    console.print()
    console.print(Text(national_total_label(), style="bold"), soft_wrap=True)
    amounts([format_kroner(sums[c]) for c in AMOUNT_COLUMNS])
    console.print()
    console.print(Text(amounts_note()))
    footnote = table_note(rows)
    if footnote:  # wrapped between words, never inside the address
        console.print(Text(footnote, overflow="fold"))
