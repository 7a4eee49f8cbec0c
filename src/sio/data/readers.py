"""Read an input directory (CSV, Parquet or Excel) into string-typed frames, one per table.

Every cell is read as text so that validation sees exactly what the file says (codes keep their
leading zeros, a bad date is reported rather than silently turned into null). Typing happens in
`sio.data.validation`, after every problem has been found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sio.data.tables import TABLES


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
    return _to_text(
        pl.read_csv(
            path,
            infer_schema=False,
            encoding="utf8",
        )
    )


def read_input_dir(directory: Path) -> RawInput:
    """Find and read every table of interfaces.md §1 in `directory`."""
    from sio.i18n import _

    raw = RawInput(directory)
    if not directory.is_dir():
        raw.read_errors.append((str(directory), _("input directory not found")))
        return raw
    xlsx = sorted(directory.glob("*.xlsx"))
    sheets: dict[str, Path] = {}
    for book in xlsx:
        try:
            import fastexcel

            for sheet in fastexcel.read_excel(str(book)).sheet_names:
                sheets.setdefault(sheet, book)
        except Exception as exc:  # a corrupt workbook is an input problem, not a crash
            raw.read_errors.append(
                (book.name, _("cannot read workbook: {error}").format(error=exc))
            )
    for spec in TABLES:
        csv, parquet = directory / f"{spec.name}.csv", directory / f"{spec.name}.parquet"
        try:
            if csv.exists():
                habit = _csv_problem(csv)
                if habit == "latin1":
                    raw.read_errors.append(
                        (csv.name, _("the file is not UTF-8 (Latin-1?); save it as UTF-8 CSV"))
                    )
                    continue
                if habit == "semicolon":
                    raw.read_errors.append(
                        (
                            csv.name,
                            _(
                                "semicolon-separated (Norwegian Excel habit); the format is "
                                "comma-separated with decimal point"
                            ),
                        )
                    )
                    continue
                raw.tables[spec.name] = RawTable(spec.name, csv.name, read_table_file(csv))
            elif parquet.exists():
                raw.tables[spec.name] = RawTable(spec.name, parquet.name, read_table_file(parquet))
            elif spec.name in sheets:
                book = sheets[spec.name]
                df = pl.read_excel(book, sheet_name=spec.name, infer_schema_length=0)
                raw.tables[spec.name] = RawTable(
                    spec.name, f"{book.name}[{spec.name}]", _to_text(df)
                )
            elif not spec.optional:
                raw.read_errors.append(
                    (
                        f"{spec.name}.csv",
                        _("required file is missing (CSV, Parquet or Excel sheet)"),
                    )
                )
        except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
            raw.read_errors.append(
                (f"{spec.name}", _("cannot read file: {error}").format(error=exc))
            )
    return raw
