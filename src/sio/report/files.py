"""File outputs: the output contract (interfaces.md §4) as CSV, Parquet, Excel or JSON
(`write_results`, format by suffix), and an Excel report workbook with one sheet per year
(headers in the reader's language, kroner formats, totals) and a sheet about the figures."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from sio.i18n import _, language
from sio.report.common import (
    TABLE_COLUMNS,
    amounts_note,
    atomic_path,
    column_labels,
    estimate_paths,
    model_label,
    national_total_label,
    rows_of_year,
    totals,
)
from sio.results import AMOUNT_COLUMNS, OUTPUT_COLUMNS, AnnualResult

__all__ = [
    "ESTIMATE_SEPARATOR",
    "RESULT_FORMATS",
    "RESULT_SHEET",
    "write_csv",
    "write_results",
    "write_xlsx",
]

# Separator of the parameter paths in the `estimerte_parametere` cell of the CSV.
ESTIMATE_SEPARATOR = ";"
# Excel number format of whole kroner: Excel shows "," as the reader's own grouping
# separator, so Norwegian Excel displays "1 234 567".
KRONER_FORMAT = "#,##0"
# File suffixes `write_results` understands.
RESULT_FORMATS: tuple[str, ...] = (".csv", ".parquet", ".xlsx", ".json")
# Name of the one sheet of the contract table in Excel.
RESULT_SHEET = "resultater"


def results_csv(results: Sequence[AnnualResult]) -> str:
    """``results`` as CSV text (UTF-8, comma, header = OUTPUT_COLUMNS), sorted by year and
    municipality number; estimate paths are joined with ";"."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for r in sorted(results, key=lambda r: (r.aar, r.kommunenummer)):
        row = r.to_dict()
        row["estimerte_parametere"] = ESTIMATE_SEPARATOR.join(r.estimerte_parametere)
        writer.writerow([row[col] for col in OUTPUT_COLUMNS])
    return buf.getvalue()


def results_json(results: Sequence[AnnualResult]) -> str:
    """``results`` as the JSON array of the output contract, sorted by year and municipality."""
    ordered = [r.to_dict() for r in sorted(results, key=lambda r: (r.aar, r.kommunenummer))]
    text = _indented_rows(ordered)
    if text is None:
        text = json.dumps(ordered, ensure_ascii=False, indent=2)
    return text + "\n"


def _indented_rows(rows: list[dict[str, Any]]) -> str | None:
    """``json.dumps(rows, ensure_ascii=False, indent=2)`` for objects whose values are text,
    integers or lists of text (a result's), each value written by the encoder's own C function
    for text, and each distinct list once (the municipalities share a few lists of estimated
    parameters); None for anything else. With ``indent`` set, ``json.dumps`` goes through its
    pure-Python encoder: more than twice the time on a national year."""
    escape = json.encoder.encode_basestring  # what ensure_ascii=False writes text with
    lists: dict[tuple[Any, ...], str] = {}
    objects: list[str] = []
    for row in rows:
        if not row:
            return None
        members: list[str] = []
        for key, value in row.items():
            kind = type(value)
            if kind is str:
                text = escape(value)
            elif kind is int:
                text = int.__repr__(value)
            elif kind is list:
                items = tuple(value)
                try:
                    found = lists.get(items)
                    if found is None:
                        found = lists[items] = (
                            "[\n      " + ",\n      ".join(map(escape, items)) + "\n    ]"
                            if items
                            else "[]"
                        )
                except TypeError:  # an item that is not text (unhashable, or not a string)
                    return None
                text = found
            else:
                return None
            if type(key) is not str:
                return None
            members.append("    " + escape(key) + ": " + text)
        objects.append("  {\n" + ",\n".join(members) + "\n  }")
    return "[\n" + ",\n".join(objects) + "\n]" if objects else "[]"


def write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` through a temporary file, so it is never half-written."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(results: Sequence[AnnualResult], path: Path) -> None:
    """Write ``results`` as CSV (see `results_csv`)."""
    write_text(results_csv(results), path)


def write_results(results: Sequence[AnnualResult], path: Path) -> None:
    """Write ``results`` as the output contract (interfaces.md §4) in the format of the file
    suffix: ``.csv``, ``.parquet``, ``.xlsx`` or ``.json`` (case-insensitive).

    Exactly the columns of OUTPUT_COLUMNS in contract order, one row per result, sorted by year
    and municipality number; amounts, ``aar`` and ``maaneder`` are integers (whole kroner);
    ``kommunenummer`` is text (keeps its leading zero). ``estimerte_parametere`` is a list of
    strings in Parquet and JSON and the paths joined with ";" in CSV and Excel (empty when none).
    Excel: one sheet named ``resultater``, header row = the column names. JSON: the array of
    ``sio compute --format json``. The file is written to a temporary file beside ``path`` and
    renamed into place, so ``path`` is never half-written. ValueError for any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RESULT_FORMATS:
        raise ValueError(
            _("unknown output format '{suffix}' of {path}: use {formats}").format(
                suffix=path.suffix, path=path.name, formats=", ".join(RESULT_FORMATS)
            )
        )
    if suffix == ".csv":
        write_csv(results, path)
        return
    if suffix == ".json":
        write_text(results_json(results), path)
        return
    ordered = sorted(results, key=lambda r: (r.aar, r.kommunenummer))
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            _results_frame(ordered).write_parquet(tmp)
        else:
            _write_results_xlsx(ordered, tmp)


_TEXT_COLUMNS = ("kommunenummer", "navn", "modell")


def _results_frame(results: Sequence[AnnualResult]) -> pl.DataFrame:
    """The contract table as a frame: text columns Utf8, numbers Int64, estimates List(Utf8)."""
    schema: dict[str, pl.DataType] = {
        col: (pl.Utf8() if col in _TEXT_COLUMNS else pl.Int64()) for col in OUTPUT_COLUMNS
    }
    schema["estimerte_parametere"] = pl.List(pl.Utf8)
    data = {
        col: [
            list(r.estimerte_parametere) if col == "estimerte_parametere" else getattr(r, col)
            for r in results
        ]
        for col in OUTPUT_COLUMNS
    }
    return pl.DataFrame(data, schema=schema)


def _write_results_xlsx(results: Sequence[AnnualResult], path: Path) -> None:
    import xlsxwriter  # only when a workbook is written

    workbook = xlsxwriter.Workbook(str(path))
    try:
        sheet = workbook.add_worksheet(RESULT_SHEET)
        bold = workbook.add_format({"bold": True})
        kroner = workbook.add_format({"num_format": KRONER_FORMAT})
        for c, col in enumerate(OUTPUT_COLUMNS):
            sheet.write_string(0, c, col, bold)
            sheet.set_column(c, c, 44 if col == "estimerte_parametere" else 16)
        for i, r in enumerate(results, start=1):
            for c, col in enumerate(OUTPUT_COLUMNS):
                if col == "estimerte_parametere":
                    sheet.write_string(i, c, ESTIMATE_SEPARATOR.join(r.estimerte_parametere))
                elif col in _TEXT_COLUMNS:
                    sheet.write_string(i, c, str(getattr(r, col)))
                elif col in AMOUNT_COLUMNS:
                    sheet.write_number(i, c, int(getattr(r, col)), kroner)
                else:
                    sheet.write_number(i, c, int(getattr(r, col)))
        sheet.freeze_panes(1, 0)
    finally:
        workbook.close()


def write_xlsx(
    results_by_year: Mapping[int, Sequence[AnnualResult]],
    path: Path,
    *,
    note: str | None = None,
    lang: str = "nb",
) -> None:
    """Write an Excel workbook: one sheet per year (named by the year) with a header row, one row
    per municipality, a national-totals row with SUM formulas and an "estimated parameters"
    column; then a sheet "Om tallene" with ``note`` (e.g. that the data are synthetic), how the
    figures are built and which parameters are estimates. Texts are in ``lang`` (default nb)."""
    with language(lang), atomic_path(Path(path)) as tmp:
        import xlsxwriter  # only when a workbook is written

        workbook = xlsxwriter.Workbook(str(tmp))
        try:
            formats = _formats(workbook)
            for year in sorted(results_by_year):
                _write_year_sheet(
                    workbook, formats, year, rows_of_year(results_by_year[year], year)
                )
            _write_about_sheet(workbook, formats, results_by_year, note)
        finally:
            workbook.close()


def _formats(workbook: Any) -> dict[str, Any]:
    return {
        "header": workbook.add_format(
            {"bold": True, "bg_color": "#DCE6F1", "bottom": 1, "text_wrap": True, "valign": "top"}
        ),
        "header_num": workbook.add_format(
            {
                "bold": True,
                "bg_color": "#DCE6F1",
                "bottom": 1,
                "text_wrap": True,
                "valign": "top",
                "align": "right",
            }
        ),
        "kroner": workbook.add_format({"num_format": KRONER_FORMAT}),
        "int": workbook.add_format({"num_format": "0"}),
        "text": workbook.add_format({}),
        "total_text": workbook.add_format({"bold": True, "top": 1}),
        "total_kroner": workbook.add_format({"bold": True, "top": 1, "num_format": KRONER_FORMAT}),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "bold": workbook.add_format({"bold": True}),
        "note": workbook.add_format({"bold": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
    }


def _write_year_sheet(
    workbook: Any, formats: Mapping[str, Any], year: int, rows: Sequence[AnnualResult]
) -> None:
    """Header in row 1, municipalities from row 2, national totals in the row after them."""
    sheet = workbook.add_worksheet(str(year))
    labels = column_labels()
    columns = (*TABLE_COLUMNS, "estimerte_parametere")
    for c, col in enumerate(columns):
        numeric = col in AMOUNT_COLUMNS or col == "maaneder"
        sheet.write_string(0, c, labels[col], formats["header_num" if numeric else "header"])
        width = 44 if col == "estimerte_parametere" else (20 if col == "navn" else 15)
        sheet.set_column(c, c, width)
    sheet.set_row(0, 30)
    for i, r in enumerate(rows, start=1):
        for c, col in enumerate(columns):
            if col in AMOUNT_COLUMNS:
                sheet.write_number(i, c, int(getattr(r, col)), formats["kroner"])
            elif col == "maaneder":
                sheet.write_number(i, c, r.maaneder, formats["int"])
            elif col == "modell":
                sheet.write_string(i, c, model_label(r.modell), formats["text"])
            elif col == "estimerte_parametere":
                sheet.write_string(i, c, ", ".join(r.estimerte_parametere), formats["text"])
            else:  # kommunenummer as text: it keeps its leading zero
                sheet.write_string(i, c, str(getattr(r, col)), formats["text"])
    total_row = len(rows) + 1
    sums = totals(rows)
    for c, col in enumerate(columns):
        if col in AMOUNT_COLUMNS:
            from xlsxwriter.utility import xl_rowcol_to_cell

            first = xl_rowcol_to_cell(1, c)
            last = xl_rowcol_to_cell(max(total_row - 1, 1), c)
            formula = f"=SUM({first}:{last})" if rows else "=0"
            sheet.write_formula(total_row, c, formula, formats["total_kroner"], sums[col])
        elif col == "navn":
            sheet.write_string(total_row, c, national_total_label(), formats["total_text"])
        else:
            sheet.write_blank(total_row, c, None, formats["total_text"])
    sheet.freeze_panes(1, 2)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    sheet.write_string(total_row + 2, 0, amounts_note())


def _write_about_sheet(
    workbook: Any,
    formats: Mapping[str, Any],
    results_by_year: Mapping[int, Sequence[AnnualResult]],
    note: str | None,
) -> None:
    sheet = workbook.add_worksheet(_("About the figures"))
    sheet.set_column(0, 0, 110)
    sheet.write_string(0, 0, _("About the figures"), formats["title"])
    row = 2
    if note:
        sheet.write_string(row, 0, note, formats["note"])
        row += 2
    lines = [
        _("The figures are computed by the SIO rules from the data given to the calculation."),
        amounts_note(),
        _("Total grant = activity grant + lump-sum grant + earmarked grant + income supplement."),
        _("Net = total grant − extraction − top-up financing."),
        _("The national-totals row sums the municipalities in the sheet."),
    ]
    for line in lines:
        sheet.write_string(row, 0, line, formats["wrap"])
        row += 1
    row += 1
    sheet.write_string(row, 0, _("Estimated parameters"), formats["bold"])
    row += 1
    any_estimate = False
    for year in sorted(results_by_year):
        paths = estimate_paths(rows_of_year(results_by_year[year], year))
        if paths:
            any_estimate = True
            text = _("{year}: {paths}").format(year=year, paths=", ".join(paths))
            sheet.write_string(row, 0, text, formats["wrap"])
            row += 1
    if any_estimate:
        sheet.write_string(
            row,
            0,
            _(
                "These parameters are estimates, not confirmed values: figures that use them "
                "are uncertain."
            ),
            formats["wrap"],
        )
    else:
        sheet.write_string(row, 0, _("No estimated parameters were used."), formats["wrap"])
