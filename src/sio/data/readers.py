"""Read an input directory (CSV, Parquet or Excel) into string-typed frames, one per table.

Every cell is read as text so that validation sees exactly what the file says (codes keep their
leading zeros, a bad date is reported rather than silently turned into null). Typing happens in
`sio.data.validation`, after every problem has been found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sio.data.tables import TABLES, TableSpec


@dataclass
class RawTable:
    """One table as read: all columns Utf8; `line` is the file line (header = 1) of each row."""

    name: str
    file: str
    frame: pl.DataFrame


@dataclass
class RawInput:
    """What was found in an input directory, and the problems met while reading it."""

    directory: Path
    tables: dict[str, RawTable] = field(default_factory=dict)
    read_errors: list[tuple[str, str]] = field(default_factory=list)  # (file, message)


def _to_text(df: pl.DataFrame) -> pl.DataFrame:
    cols = []
    for name, dtype in df.schema.items():
        c = pl.col(name)
        if dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            c = c.dt.date().cast(pl.Utf8)
        elif dtype == pl.Boolean:
            c = (
                pl.when(c.is_null())
                .then(None)
                .when(c)
                .then(pl.lit("true"))
                .otherwise(pl.lit("false"))
            )
        elif dtype != pl.Utf8:
            c = c.cast(pl.Utf8)
        cols.append(c.alias(name))
    out = df.select(cols) if cols else df
    return out.with_columns(pl.col(pl.Utf8).str.strip_chars())


def with_optional_columns(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """`frame` with every optional column of `spec` it lacks added as empty (null) text, so that
    a file written before the column existed reads as if each of its cells were empty."""
    absent = [c for c in spec.optional_columns if c not in frame.columns]
    if not absent:
        return frame
    return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in absent)


def _csv_problem(path: Path) -> str | None:
    """Recognise Norwegian spreadsheet habits that would be misread as comma-separated UTF-8."""
    raw = path.read_bytes()[:65536]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "latin1"
    first = text.splitlines()[0] if text else ""
    if ";" in first and "," not in first:
        return "semicolon"
    return None


def read_table_file(path: Path) -> pl.DataFrame:
    """Read one CSV or Parquet file as text columns."""
    if path.suffix == ".parquet":
        return _to_text(pl.read_parquet(path))
    return _to_text(pl.read_csv(path, infer_schema=False, encoding="utf8"))


class ReadError(ValueError):
    """A file that cannot be read as an input table; the message says why (in the user's
    language)."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


def read_table(path: Path, name: str) -> RawTable:
    """One table from a CSV or Parquet file, refusing Norwegian spreadsheet habits by name."""
    from sio.i18n import _

    habit = _csv_problem(path) if path.suffix == ".csv" else None
    if habit == "latin1":
        raise ReadError(path.name, _("the file is not UTF-8 (Latin-1?); save it as UTF-8 CSV"))
    if habit == "semicolon":
        raise ReadError(
            path.name,
            _(
                "semicolon-separated (Norwegian Excel habit); the format is "
                "comma-separated with decimal point"
            ),
        )
    try:
        return RawTable(name, path.name, read_table_file(path))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise ReadError(path.name, _("cannot read file: {error}").format(error=exc)) from None


def workbook_sheets(book: Path) -> list[str]:
    """The sheet names of an Excel workbook."""
    import fastexcel

    from sio.i18n import _

    try:
        return list(fastexcel.read_excel(str(book)).sheet_names)
    except Exception as exc:  # a corrupt workbook is an input problem, not a crash
        raise ReadError(book.name, _("cannot read workbook: {error}").format(error=exc)) from None


def read_sheet(book: Path, sheet: str) -> RawTable:
    """One table from a sheet (named after the table) of an Excel workbook."""
    from sio.i18n import _

    try:
        df = pl.read_excel(book, sheet_name=sheet, infer_schema_length=0)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise ReadError(book.name, _("cannot read file: {error}").format(error=exc)) from None
    return RawTable(sheet, f"{book.name}[{sheet}]", _to_text(df))


def read_input_dir(directory: Path) -> RawInput:
    """Find and read every table of interfaces.md §1 in `directory`."""
    from sio.i18n import _

    raw = RawInput(directory)
    if not directory.is_dir():
        raw.read_errors.append((str(directory), _("input directory not found")))
        return raw
    sheets: dict[str, Path] = {}
    for book in sorted(directory.glob("*.xlsx")):
        try:
            for sheet in workbook_sheets(book):
                sheets.setdefault(sheet, book)
        except ReadError as exc:
            raw.read_errors.append((exc.file, exc.message))
    for spec in TABLES:
        csv, parquet = directory / f"{spec.name}.csv", directory / f"{spec.name}.parquet"
        try:
            if csv.exists():
                raw.tables[spec.name] = read_table(csv, spec.name)
            elif parquet.exists():
                raw.tables[spec.name] = read_table(parquet, spec.name)
            elif spec.name in sheets:
                raw.tables[spec.name] = read_sheet(sheets[spec.name], spec.name)
            elif not spec.optional:
                raw.read_errors.append(
                    (
                        f"{spec.name}.csv",
                        _("required file is missing (CSV, Parquet or Excel sheet)"),
                    )
                )
        except ReadError as exc:
            raw.read_errors.append((exc.file, exc.message))
    return raw
