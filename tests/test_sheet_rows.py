"""A problem in a sheet names the row as Excel shows it, also when the header is not on the
first row: a title and empty rows above it, the table starting below empty rows (which the sheet
reader's grid leaves out) or in another column than A (issue 11).

The workbooks are written with openpyxl, cell by cell, the way Excel stores them (empty rows are
not in the file at all); the expected row numbers are the rows one sees in Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from sio.data.readers import read_sheet
from sio.data.tables import TABLES
from sio.data.validation import InputInvalid, load_input
from sio.parameters import ParameterSet
from test_cli import small_world
from test_user_files import _excel_cell


def _book(
    path: Path,
    world: dict[str, list[dict[str, Any]]],
    header_row: int,
    title_row: int | None,
    column: int = 1,
    drop: str | None = None,
) -> Path:
    """Every table of `world` on its own sheet, its header on `header_row`, a title on
    `title_row` (None: none) and nothing else above it; the table from `column` on; the column
    `drop` left out."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in TABLES:
        rows = world.get(spec.name)
        if rows is None:
            continue
        sheet = book.create_sheet(spec.name)
        if title_row is not None:
            sheet.cell(title_row, column, f"{spec.name} fra kommunen, levert 1. mars")
        cols = [c for c in spec.columns if c != drop]
        for j, col in enumerate(cols):
            sheet.cell(header_row, column + j, col)
        for i, r in enumerate(rows, start=1):
            for j, col in enumerate(cols):
                value = _excel_cell(col, r.get(col))
                if value is not None:
                    sheet.cell(header_row + i, column + j, value)
    book.save(path)
    return path


def _two_decisions() -> dict[str, list[dict[str, Any]]]:
    world = small_world()
    world["vedtak"].append(dict(world["vedtak"][0], vedtak_id="V2", omfang="sju"))
    return world


@pytest.mark.parametrize(
    ("title_row", "column"),
    [(None, 1), (2, 1), (1, 1), (2, 3)],
    ids=["empty-rows-above", "title-on-row-2", "title-on-row-1", "table-from-column-C"],
)
def test_a_problem_names_the_excel_row_when_the_header_is_on_row_3(
    tmp_path: Path, params: ParameterSet, title_row: int | None, column: int
) -> None:
    d = tmp_path / "xl"
    d.mkdir()
    _book(d / "inndata.xlsx", _two_decisions(), header_row=3, title_row=title_row, column=column)
    # header on row 3, V1 on row 4, V2 (the bad one) on row 5 — as Excel numbers them
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [str(p) for p in exc.value.problems] == [
        "inndata.xlsx[vedtak]:5: omfang: ikke et tall: 'sju'"
    ]
    assert read_sheet(d / "inndata.xlsx", "vedtak").first_line == 4


def test_a_missing_column_names_the_header_row(tmp_path: Path, params: ParameterSet) -> None:
    d = tmp_path / "xl"
    d.mkdir()
    _book(d / "inndata.xlsx", small_world(), header_row=3, title_row=None, drop="aga_sone")
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [str(p) for p in exc.value.problems] == [
        "inndata.xlsx[kommuner]:3: aga_sone: påkrevd kolonne mangler"
    ]


def test_two_header_rows_are_named_as_excel_shows_them(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "toppfinansiering"
    sheet.cell(2, 1, "Toppfinansiering")  # row 1 is empty
    for row in (4, 5):
        for j, col in enumerate(("kommunenummer", "aar", "beloep"), start=1):
            sheet.cell(row, j, col)
    book.save(tmp_path / "b.xlsx")
    with pytest.raises(ValueError) as exc:
        read_sheet(tmp_path / "b.xlsx", "toppfinansiering")
    assert str(exc.value).startswith("b.xlsx[toppfinansiering]: radene 4, 5 ser alle ut som")
