"""A population projection by municipality and age in SSB's format (e.g. statbank table 14288,
"Framskrevet folkemengde 1. januar, etter region, kjønn, alder, år og alternativ"), summed into
the scheme's age groups (`sio.data.tables.AGE_GROUPS`).

The CSV accepted (docs/scenarios.md "Population projection"): UTF-8 (a BOM is allowed), comma or
semicolon separated, a header row, one row per region × (sex) × age × year × alternative:

| column | values |
|---|---|
| ``region`` | ``3118 Indre Østfold``, ``K-3118`` or ``3118``: the first four digits are the code |
| ``alder`` | ``0 år`` … ``105 år eller eldre``, a whole number, or a group (``67-79 år``) |
| ``år`` or ``aar`` | the year (population on 1 January) |
| ``alternativ`` or ``statistikkvariabel`` | has the code: ``Hovedalternativet (MMMM)`` |
| ``kjønn`` (optional) | summed over |
| the value | the one remaining column (``antall``, ``value``, or SSB's column title): persons |

Rows of other alternatives are skipped. Every bad cell is reported as ``file:row: column: rule``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from sio.data.tables import AGE_GROUPS
from sio.i18n import _

__all__ = ["ProjectionInvalid", "age_group", "read_projection"]

_CODE = re.compile(r"(\d{4})")
_ALT = re.compile(r"(?<![A-Z0-9])([LMHK0]{4})(?![A-Z0-9])")
_AGE = re.compile(r"^\s*(\d{1,3})")
_KNOWN = {"region", "alder", "år", "aar", "alternativ", "statistikkvariabel", "kjønn", "kjoenn"}


class ProjectionInvalid(ValueError):
    """The projection file has bad rows; `problems` are the lines ``file:row: column: rule``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems[:20]))


def age_group(text: str) -> str | None:
    """The scheme's age group of an SSB age label (``85 år``, ``105 år eller eldre``, ``90+``)."""
    t = text.strip()
    if t in AGE_GROUPS:
        return t
    m = _AGE.match(t)
    if m is None:
        return None
    age = int(m.group(1))
    if age <= 66:
        return "0-66"
    if age <= 79:
        return "67-79"
    if age <= 89:
        return "80-89"
    return "90+"


def read_projection(file: Path, alternative: str) -> dict[tuple[str, int], dict[str, int]]:
    """{(kommunenummer, year): {age group: persons}} of one alternative."""
    name = str(file)
    text = file.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ProjectionInvalid([f"{name}: " + _("the file is empty")]) from None
    lower = [h.lower() for h in header]
    problems: list[str] = []

    def col(*names: str) -> int | None:
        for n in names:
            if n in lower:
                return lower.index(n)
        return None

    i_region, i_age = col("region"), col("alder")
    i_year = col("år", "aar")
    i_alt = col("alternativ", "statistikkvariabel")
    values = [i for i, h in enumerate(lower) if h not in _KNOWN]
    for label, index in (("region", i_region), ("alder", i_age), ("år", i_year)):
        if index is None:
            problems.append(f"{name}:1: {label}: " + _("column missing"))
    if len(values) != 1:
        problems.append(
            f"{name}:1: "
            + _("expected exactly one value column besides {known}, found: {found}").format(
                known="region, kjønn, alder, år, alternativ/statistikkvariabel",
                found=", ".join(header[i] for i in values) or "-",
            )
        )
    if problems:
        raise ProjectionInvalid(problems)
    assert i_region is not None and i_age is not None and i_year is not None
    i_value = values[0]
    out: dict[tuple[str, int], dict[str, int]] = {}
    seen_alternatives: set[str] = set()
    for row_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            problems.append(
                f"{name}:{row_no}: "
                + _("has {n} cells, the header {m}").format(n=len(row), m=len(header))
            )
            continue
        if i_alt is not None:
            alt = _ALT.search(row[i_alt])
            if alt is None:
                problems.append(
                    f"{name}:{row_no}: {header[i_alt]}: "
                    + _("no alternative code (four letters such as MMMM) in '{text}'").format(
                        text=row[i_alt]
                    )
                )
                continue
            seen_alternatives.add(alt.group(1))
            if alt.group(1) != alternative:
                continue
        code = _CODE.search(row[i_region])
        if code is None:
            problems.append(
                f"{name}:{row_no}: region: "
                + _("no municipality code in '{text}'").format(text=row[i_region])
            )
        group = age_group(row[i_age])
        if group is None:
            problems.append(
                f"{name}:{row_no}: alder: "
                + _("not an age or age group: '{text}'").format(text=row[i_age])
            )
        try:
            year = int(row[i_year].strip())
        except ValueError:
            problems.append(f"{name}:{row_no}: år: " + _("must be a year"))
            continue
        cell = row[i_value].strip().replace(" ", "").replace("\u00a0", "")
        if cell in ("", ".", "..", ":", "-"):
            cell = "0"
        try:
            persons = int(cell)
        except ValueError:
            problems.append(
                f"{name}:{row_no}: {header[i_value]}: "
                + _("must be a whole number of persons, not '{text}'").format(text=row[i_value])
            )
            continue
        if persons < 0:
            problems.append(f"{name}:{row_no}: {header[i_value]}: " + _("must not be negative"))
            continue
        if code is None or group is None:
            continue
        cell_groups = out.setdefault((code.group(1), year), dict.fromkeys(AGE_GROUPS, 0))
        cell_groups[group] += persons
    if problems:
        raise ProjectionInvalid(problems)
    if i_alt is not None and alternative not in seen_alternatives:
        raise ProjectionInvalid(
            [
                f"{name}: "
                + _("the alternative {alt} is not in the file (it has: {found})").format(
                    alt=alternative, found=", ".join(sorted(seen_alternatives)) or "-"
                )
            ]
        )
    return out
