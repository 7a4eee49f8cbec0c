"""The CSV dialect of an input file: the documented one, or Norwegian Excel's, told apart.

interfaces.md §1 documents UTF-8, comma-separated, decimal point; that stays the default and is
read as it always was. Norwegian Excel saves "CSV" as semicolon-separated, with decimal commas,
often in Windows-1252 and with a byte order mark and CRLF line endings. `detect` recognises that
dialect when it is unambiguous — the header separates its columns by semicolons only, and the
bytes are either UTF-8 or Windows-1252 — and `read_dialect` reads such a file as text columns,
with decimal commas in the numeric columns turned into decimal points. A header with both commas
and semicolons, or bytes that are neither encoding, is refused with a message saying why.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

_BOM = b"\xef\xbb\xbf"
# the numeric columns of interfaces.md §1 (the only ones where a comma can be a decimal comma)
DECIMAL_COLUMNS: frozenset[str] = frozenset(
    {"reiseindeks", "netto_driftsutgifter", "antall", "beloep", "omfang"}
)
_DECIMAL_COMMA = r"^\s*-?\d*,\d+\s*$"


class DialectError(ValueError):
    """The dialect cannot be told (the message says why, in the user's language)."""


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written."""

    separator: str = ","
    encoding: str = "utf-8"  # or "cp1252"
    bom: bool = False
    crlf: bool = False

    @property
    def documented(self) -> bool:
        """Whether this is the format of interfaces.md §1 (a BOM or CRLF change nothing)."""
        return self.separator == "," and self.encoding == "utf-8"


def detect(path: Path) -> Dialect:
    """The dialect of the CSV file at `path`, from its first 64 KiB (a character cut at their
    end is not an encoding error)."""
    from sio.i18n import _

    with path.open("rb") as fh:
        raw = fh.read(65536)
    bom = raw.startswith(_BOM)
    body = raw[len(_BOM) :] if bom else raw
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
        encoding = "utf-8"
    except UnicodeDecodeError:
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError:
            raise DialectError(
                _("the file is neither UTF-8 nor Windows-1252; save it as UTF-8 CSV")
            ) from None
        encoding = "cp1252"
    first = text.split("\n", 1)[0]
    crlf = first.endswith("\r")
    commas, semicolons = first.count(","), first.count(";")
    if commas and semicolons:
        raise DialectError(
            _(
                "the header has both commas and semicolons, so the column separator cannot be "
                "told; save the file as comma-separated UTF-8 CSV"
            )
        )
    return Dialect(";" if semicolons else ",", encoding, bom, crlf)


def describe(dialect: Dialect, decimal_comma: bool) -> str:
    """What was detected, as a list for the console ("semicolon-separated, decimal comma, …")."""
    from sio.i18n import _

    parts = []
    if dialect.separator == ";":
        parts.append(_("semicolon-separated"))
    if decimal_comma:
        parts.append(_("decimal comma"))
    parts.append("Windows-1252" if dialect.encoding == "cp1252" else "UTF-8")
    if dialect.bom:
        parts.append(_("byte order mark"))
    if dialect.crlf:
        parts.append("CRLF")
    return ", ".join(parts)


def read_dialect(path: Path, dialect: Dialect) -> tuple[pl.DataFrame, bool]:
    """The file as text columns (as `pl.read_csv(..., infer_schema=False)` gives them), with
    decimal commas of the numeric columns as decimal points; and whether there were any."""
    raw = path.read_bytes()
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    text = raw.decode(dialect.encoding)
    frame = pl.read_csv(
        io.BytesIO(text.encode("utf-8")), separator=dialect.separator, infer_schema=False
    )
    if dialect.separator != ";":
        return frame, False
    cols = [c for c in frame.columns if c in DECIMAL_COLUMNS]
    found = bool(cols) and bool(
        frame.select(pl.any_horizontal(pl.col(c).str.contains(_DECIMAL_COMMA).any() for c in cols))
        .to_series()
        .any()
    )
    if found:
        frame = frame.with_columns(
            pl.when(pl.col(c).str.contains(_DECIMAL_COMMA))
            .then(pl.col(c).str.replace(",", ".", literal=True))
            .otherwise(pl.col(c))
            .alias(c)
            for c in cols
        )
    return frame, found
