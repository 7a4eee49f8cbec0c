"""File outputs: CSV with the columns of the output contract, and an Excel workbook with one
sheet per year (headers in the reader's language, kroner formats, totals) and a sheet about the
figures."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

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

__all__ = ["ESTIMATE_SEPARATOR", "write_csv", "write_xlsx"]

# Separator of the parameter paths in the `estimerte_parametere` cell of the CSV.
ESTIMATE_SEPARATOR = ";"
# Excel number format of whole kroner: Excel shows "," as the reader's own grouping
# separator, so Norwegian Excel displays "1 234 567".
KRONER_FORMAT = "#,##0"


def write_csv(results: Sequence[AnnualResult], path: Path) -> None:
    """Write ``results`` as CSV (UTF-8, comma, header = OUTPUT_COLUMNS), sorted by year and
    municipality number; estimate paths are joined with ";"."""
    ordered = sorted(results, key=lambda r: (r.aar, r.kommunenummer))
    with atomic_path(Path(path)) as tmp, tmp.open("w", encoding="utf-8", newline="") as fp:
        writer = csv.writer(fp)
        writer.writerow(OUTPUT_COLUMNS)
        for r in ordered:
            row = r.to_dict()
            row["estimerte_parametere"] = ESTIMATE_SEPARATOR.join(r.estimerte_parametere)
            writer.writerow([row[col] for col in OUTPUT_COLUMNS])


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
