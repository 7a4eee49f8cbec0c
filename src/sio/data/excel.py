"""A sheet of an Excel workbook as text columns, the way a person wrote it in Excel.

Read with fastexcel (Calamine): every cell as text, so that validation sees what the sheet says.
What Excel does to a table is undone where the meaning is certain:

- a date cell (Excel writes it as a date-time at midnight) is its date, ``YYYY-MM-DD``;
- a whole number stored as a float (``7.0``) is the whole number (fastexcel gives ``7``);
- a code that Excel turned into a number (``301`` for ``0301``) gets its leading zeros back, in
  the columns where the code and its width are known (municipality codes 4, KOSTRA functions 3);
- empty rows at the end, and columns without a header and without a value, are not rows or
  columns of the table;
- a title or notes above the table: the header is the one row among the first twenty that names
  every required column of the table, if exactly one row does.

The first data row's line in the sheet is given with the frame, so that problems name sheet rows
as Excel shows them: Calamine's grid begins at the first row with a value, so empty rows above a
title or a header are counted from the sheet itself (`first_filled_row`).
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from sio.data.tables import TABLE_BY_NAME

# columns holding a code of known width, which Excel shows as a number without its leading zeros
CODE_WIDTHS: dict[str, int] = {"kommunenummer": 4, "etterfolger": 4, "kostra_funksjon": 3}
_HEADER_SEARCH = 20
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class SheetError(ValueError):
    """The sheet cannot be read as a table (the message says why, in the user's language)."""


@dataclass(frozen=True)
class Sheet:
    """A sheet's table as text columns, and the sheet row of its first data row."""

    frame: pl.DataFrame
    first_line: int


def _header_row(grid: pl.DataFrame, required: tuple[str, ...], first_row: int = 1) -> int:
    """The index of the header row in `grid` (rows of text cells, the first of them on sheet row
    `first_row`): the first row, unless exactly one of the first rows names every required
    column."""
    from sio.i18n import _

    found = []
    for i, row in enumerate(grid.head(_HEADER_SEARCH).iter_rows()):
        names = {str(v).strip() for v in row if v is not None}
        if all(col in names for col in required):
            found.append(i)
    if not found or found[0] == 0:
        return 0
    if len(found) > 1:
        raise SheetError(
            _("rows {rows} all look like the header; delete the rows above the table").format(
                rows=", ".join(str(i + first_row) for i in found)
            )
        )
    return found[0]


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str | None:
    """The name of the worksheet part of `sheet` inside the workbook package, if found."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rids = [s.get(f"{_REL}id") for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet]
    if not rids or rids[0] is None:
        return None
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = [r.get("Target") for r in rels.iter(f"{_PKG}Relationship") if r.get("Id") == rids[0]]
    if not targets or targets[0] is None:
        return None
    if targets[0].startswith("/"):
        return targets[0].lstrip("/")
    return posixpath.normpath(posixpath.join("xl", targets[0]))


def first_filled_row(path: Path, sheet: str) -> int:
    """The sheet row (1-based, as Excel shows it) of the first row with a value in `sheet`: where
    Calamine's grid begins. 1 if the workbook's parts cannot be followed (the grid then counts
    from row 1, as before)."""
    try:
        with zipfile.ZipFile(path) as book:
            part = _sheet_part(book, sheet)
            if part is None:
                return 1
            with book.open(part) as stream:
                row_number = 0
                for _event, el in ElementTree.iterparse(stream):
                    if el.tag == f"{_MAIN}row":
                        row_number = int(el.get("r") or row_number + 1)
                        if any(
                            (v.text or "").strip()
                            for c in el.iter(f"{_MAIN}c")
                            for v in (*c.iter(f"{_MAIN}v"), *c.iter(f"{_MAIN}t"))
                        ):
                            return row_number
                        el.clear()
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ElementTree.ParseError):
        return 1
    return 1


def _cell_text(col: str) -> pl.Expr:
    """The cells of `col` as validation should see them: dates without the midnight, codes of
    known width with their leading zeros."""
    c = pl.col(col).str.strip_chars()
    c = pl.when(c.str.contains(_MIDNIGHT)).then(c.str.extract(_MIDNIGHT, 1)).otherwise(c)
    width = CODE_WIDTHS.get(col)
    if width is not None:
        short = c.str.contains(rf"^\d{{1,{width - 1}}}$")
        c = pl.when(short).then(c.str.zfill(width)).otherwise(c)
    return c.alias(col)


def read_excel_sheet(book: Path, sheet: str, required: tuple[str, ...] | None = None) -> Sheet:
    """The table of `sheet` in the workbook `book` (see the module docstring); the header is
    found by the columns of the input table named like the sheet, or by `required`."""
    import fastexcel

    from sio.i18n import _

    reader = fastexcel.read_excel(str(book))
    grid = reader.load_sheet_by_name(sheet, header_row=None, dtypes="string").to_polars()
    spec = TABLE_BY_NAME.get(sheet)
    first_row = first_filled_row(book, sheet)
    if required is None:
        required = spec.columns if spec else ()
    header = _header_row(grid, required, first_row)
    rows = grid.slice(header + 1)
    names: list[str] = []
    keep: list[str] = []
    head = grid.row(header) if grid.height else tuple(None for _c in grid.columns)
    for raw_col, value in zip(grid.columns, head, strict=True):
        name = "" if value is None else str(value).strip()
        if not name:
            if rows.get_column(raw_col).drop_nulls().str.strip_chars().ne("").any():
                name = raw_col  # a column with values but no header: the check names it
            else:
                continue
        if name in names:
            raise SheetError(
                _("the column '{column}' occurs more than once in the header").format(column=name)
            )
        names.append(name)
        keep.append(raw_col)
    frame = rows.select(pl.col(c).alias(n) for c, n in zip(keep, names, strict=True))
    frame = frame.select(_cell_text(n) for n in names) if names else frame
    if names:  # trailing empty rows are not rows of the table
        filled = frame.select(
            pl.any_horizontal(pl.col(n).is_not_null() & (pl.col(n) != "") for n in names)
        ).to_series()
        last = filled.arg_true().max() if filled.any() else -1
        frame = frame.head(int(last) + 1 if isinstance(last, int) else 0)
    return Sheet(frame, first_row + header + 1)
