"""Read an input directory (CSV, Parquet or Excel) into frames, one per table.

Every cell is seen as text so that validation sees exactly what the file says (codes keep their
leading zeros, a bad date is reported rather than silently turned into null). Typing happens in
`sio.data.validation`, after every problem has been found.

A large table may instead be read *natively* (`read_input_dir(..., native=...)`): only the
table's columns, with the types the file gives them (a CSV: unstripped text; a Parquet file: its
own types), so that validation can check it per distinct value and type it without first
turning a million dates and numbers into text. `to_text` gives the text form of such a frame,
cell for cell what a text read gives.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sio.data.tables import EVALUATION_TABLES, TABLE_BY_NAME, TABLES, TableSpec


@dataclass
class RawTable:
    """One table as read: all columns Utf8 (stripped) — or, if `native`, the table's columns as
    the file types them (`text()` gives the text form). Row i is line i + `first_line` of the
    file (2: just below a header on the first line)."""

    name: str
    file: str
    frame: pl.DataFrame
    native: bool = False
    first_line: int = 2  # the line of the first row: a header below a title moves it down

    def text(self) -> pl.DataFrame:
        """The frame with every cell as text, as a text read gives it."""
        return to_text(self.frame) if self.native else self.frame


@dataclass
class RawInput:
    """What was found in an input directory, and the problems met while reading it."""

    directory: Path
    tables: dict[str, RawTable] = field(default_factory=dict)
    read_errors: list[tuple[str, str]] = field(default_factory=list)  # (file, message)


def text_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """The cells of column `name` (of type `dtype`) as the text validation sees: dates as
    YYYY-MM-DD, booleans as true/false, numbers as Polars writes them, surrounding spaces
    stripped."""
    c = pl.col(name)
    if dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
        c = c.dt.date().cast(pl.Utf8)
    elif dtype == pl.Boolean:
        c = pl.when(c.is_null()).then(None).when(c).then(pl.lit("true")).otherwise(pl.lit("false"))
    elif dtype != pl.Utf8:
        c = c.cast(pl.Utf8)
    if dtype.is_numeric() or dtype in (pl.Date, pl.Boolean) or isinstance(dtype, pl.Datetime):
        return c.alias(name)  # written without spaces: stripping would only copy the column
    return c.str.strip_chars().alias(name)


def to_text(df: pl.DataFrame, skip: Collection[str] = ()) -> pl.DataFrame:
    """Every column of `df` (but those in `skip`, kept as they are) as text (`text_expr`)."""
    cols = [pl.col(c) if c in skip else text_expr(c, dtype) for c, dtype in df.schema.items()]
    return df.select(cols) if cols else df


def with_optional_columns(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """`frame` with every optional column of `spec` it lacks added as empty (null) text, so that
    a file written before the column existed reads as if each of its cells were empty."""
    absent = [c for c in spec.optional_columns if c not in frame.columns]
    if not absent:
        return frame
    return frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in absent)


def read_table_file(path: Path) -> pl.DataFrame:
    """Read one CSV or Parquet file as text columns."""
    if path.suffix == ".parquet":
        return to_text(pl.read_parquet(path))
    return to_text(pl.read_csv(path, infer_schema=False, encoding="utf8"))


def read_table_native(path: Path, columns: Sequence[str] | None) -> pl.DataFrame:
    """Read those of `columns` (None: all columns) that one CSV or Parquet file has, typed as the
    file types them (a CSV: all text, not stripped), in the file's column order."""
    if path.suffix == ".parquet":
        if columns is None:
            return pl.read_parquet(path)
        names = list(pl.read_parquet_schema(path))
        return pl.read_parquet(path, columns=[c for c in names if c in columns])
    if columns is None:
        return pl.read_csv(path, infer_schema=False, encoding="utf8")
    names = pl.read_csv(path, infer_schema=False, encoding="utf8", n_rows=0).columns
    return pl.read_csv(
        path, infer_schema=False, encoding="utf8", columns=[c for c in names if c in columns]
    )


class ReadError(ValueError):
    """A file that cannot be read as an input table; the message says why (in the user's
    language)."""

    def __init__(self, file: str, message: str) -> None:
        self.file = file
        self.message = message
        super().__init__(f"{file}: {message}")


def _check_unique_columns(file: str, columns: Sequence[str]) -> None:
    """A header that names a column twice is refused: which of the two is meant is unknowable
    (the readers rename the second `NAME_duplicated_0`)."""
    from sio.i18n import _

    names = set(columns)
    for col in columns:
        base, sep, n = col.rpartition("_duplicated_")
        if sep and n.isdigit() and base in names:
            raise ReadError(
                file,
                _("the column '{column}' occurs more than once in the header").format(column=base),
            )


# the notices of a read that runs ahead (`ReadAhead`), held until its caller takes its result
_held: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "sio_held_notices", default=None
)


def notice(message: str) -> None:
    """Say on the console (standard error, one line) how a file was read, when it was not
    written in the documented format but could be read anyway."""
    held = _held.get()
    if held is not None:
        held.append(message)
        return
    print(message, file=sys.stderr, flush=True)


def _check_not_empty(path: Path) -> None:
    """An empty file (nothing, or only a byte order mark and blank lines) is refused by name."""
    from sio.i18n import _

    if path.stat().st_size <= 65536 and not path.read_bytes().lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise ReadError(path.name, _("the file is empty (not even a header)"))


def read_table(path: Path, name: str, native: bool = False, whole: bool = False) -> RawTable:
    """One table from a CSV or Parquet file.

    A CSV file in the documented format (UTF-8, comma-separated) is read as it is; one that
    Norwegian Excel saved (semicolons, decimal commas, Windows-1252) is read when its dialect is
    unambiguous, and the console says what was detected (`sio.data.csv_dialect`). With `native`
    only the table's columns are read, typed as the file types them (see `RawTable`), or with
    `whole` too every column of the file (its text form is then the text read's, cell for cell);
    a file that cannot be read so is read as text, which names the problem."""
    from sio.data.csv_dialect import DialectError, describe, detect, read_dialect
    from sio.i18n import _

    if path.suffix == ".csv":
        _check_not_empty(path)
        try:
            dialect = detect(path)
        except DialectError as exc:
            raise ReadError(path.name, str(exc)) from None
        if not dialect.documented:
            try:
                frame, decimal_comma = read_dialect(path, dialect)
            except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
                raise ReadError(
                    path.name, _("cannot read file: {error}").format(error=exc)
                ) from None
            _check_unique_columns(path.name, frame.columns)
            notice(
                _("{file}: read as {dialect}").format(
                    file=path.name, dialect=describe(dialect, decimal_comma)
                )
            )
            return RawTable(name, path.name, to_text(frame))
        header = pl.read_csv(path, infer_schema=False, encoding="utf8", n_rows=0).columns
        _check_unique_columns(path.name, header)
    if native:
        spec = TABLE_BY_NAME[name]
        try:
            frame = read_table_native(path, None if whole else spec.all_columns)
            to_text(frame.head(0))  # a column that can never be text: the text read says so
            return RawTable(name, path.name, frame, True)
        except (pl.exceptions.PolarsError, OSError, ValueError):
            pass  # the text read below says what is wrong
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
    """One table from a sheet (named after the table) of an Excel workbook, as Excel writes it:
    date cells, codes as numbers, a title above the header (`sio.data.excel`)."""
    from sio.data.excel import SheetError, read_excel_sheet
    from sio.i18n import _

    file = f"{book.name}[{sheet}]"
    try:
        read = read_excel_sheet(book, sheet)
    except SheetError as exc:
        raise ReadError(file, str(exc)) from None
    except Exception as exc:  # a corrupt sheet is an input problem, not a crash
        raise ReadError(file, _("cannot read file: {error}").format(error=exc)) from None
    return RawTable(sheet, file, to_text(read.frame), first_line=read.first_line)


def _like(name: str, stem: str) -> bool:
    """Whether `name` is the table name `stem` but for case, spaces, digits or the like."""
    simple = "".join(ch for ch in name.lower() if ch.isalpha())
    return simple in (stem.replace("_", ""), stem.replace("_", "") + "s")


def _near_names(directory: Path, stem: str, sheets: dict[str, Path]) -> list[str]:
    """Files in `directory` (and sheets of its workbooks) whose name is the table's but for
    case, spaces, a year or the like (``Vedtak 2020.csv`` for ``vedtak.csv``)."""
    found = []
    for f in sorted(directory.iterdir()):
        if f.suffix.lower() not in (".csv", ".parquet") or f.name == f"{stem}{f.suffix}":
            continue
        if _like(f.stem, stem):
            found.append(f.name)
    found += [f"{book.name}[{sheet}]" for sheet, book in sheets.items() if _like(sheet, stem)]
    return found


def read_input_dir(
    directory: Path,
    native: Collection[str] = (),
    skip: Collection[str] = (),
    whole: Collection[str] = (),
) -> RawInput:
    """Find and read every table of interfaces.md §1 in `directory` but those named in `skip`;
    the tables named in `native` are read natively from CSV and Parquet (see `RawTable`), those
    in `whole` natively with every column of the file: they are turned into text only when they
    are validated, so that the text form need not live as long as the table."""
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
        if spec.name in skip:
            continue
        csv, parquet = directory / f"{spec.name}.csv", directory / f"{spec.name}.parquet"
        try:
            as_read = spec.name in native or spec.name in whole
            if csv.exists():
                raw.tables[spec.name] = read_table(csv, spec.name, as_read, spec.name in whole)
            elif parquet.exists():
                raw.tables[spec.name] = read_table(parquet, spec.name, as_read, spec.name in whole)
            elif spec.name in sheets:
                raw.tables[spec.name] = read_sheet(sheets[spec.name], spec.name)
            elif near := _near_names(directory, spec.name, sheets):
                raw.read_errors.append(
                    (
                        f"{spec.name}.csv",
                        _(
                            "the file is missing, but there is {found}: name it {expected} "
                            "(exactly, in lower case)"
                        ).format(
                            found=", ".join(f"'{n}'" for n in near),
                            expected=f"{spec.name}{Path(near[0]).suffix.lower()}"
                            if not near[0].endswith("]")
                            else spec.name,
                        ),
                    )
                )
            elif not spec.optional:
                raw.read_errors.append(
                    (
                        f"{spec.name}.csv",
                        _("required file is missing (CSV, Parquet or Excel sheet)"),
                    )
                )
        except ReadError as exc:
            raw.read_errors.append((exc.file, exc.message))
        table = raw.tables.get(spec.name)
        if table is not None and table.frame.height == 0 and table.frame.width:
            notice(_("{file}: only a header, no rows").format(file=table.file))
    return raw


def read_for_loading(directory: Path, evaluation: bool = True) -> RawInput:
    """The read of `sio.data.validation.load_input`: the vedtak natively, the evaluation's
    tables natively with every column (their text form is made only while they are checked) —
    or, without `evaluation`, not at all."""
    skip = () if evaluation else EVALUATION_TABLES
    return read_input_dir(directory, native=("vedtak",), skip=skip, whole=EVALUATION_TABLES)


class ReadAhead:
    """`read_for_loading(directory, evaluation)` started in a thread of its own, so that the
    reading (nearly all of it in Polars, which lets go of the GIL) goes on while the command
    imports the modules that validate and compute. `result()` waits for it, then says on the
    console what the reading had to say (`notice`, in its order, as a read there and then
    would) and gives its `RawInput`, or raises what it raised. The thread runs in a copy of the
    caller's context (the language of its messages); it is a daemon: a command that fails
    before it needs the data does not wait for it."""

    def __init__(self, directory: Path, evaluation: bool = True) -> None:
        from sio.data import csv_dialect  # noqa: F401  (imported by the read; here, not there)

        self.directory = directory
        self.evaluation = evaluation
        self._said: list[str] = []
        self._raw: RawInput | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._read,),
            name="sio-read-ahead",
            daemon=True,
        )
        self._thread.start()

    def _read(self) -> None:
        _held.set(self._said)
        try:
            self._raw = read_for_loading(self.directory, self.evaluation)
        except BaseException as exc:  # raised again by `result`, in the caller's thread
            self._error = exc

    def result(self) -> RawInput:
        self._thread.join()
        said, self._said[:] = list(self._said), []
        for message in said:
            notice(message)
        if self._error is not None:
            raise self._error
        assert self._raw is not None
        return self._raw
