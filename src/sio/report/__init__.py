"""Reports of the annual results (interfaces.md §4) for people: a terminal table, CSV, an Excel
workbook and a self-contained HTML page with an SVG chart, in Norwegian bokmål or English.

:func:`write_report` writes all three files of a report at once: ``tilskudd.csv`` (all years),
``tilskudd.xlsx`` (a sheet per year and "Om tallene") and ``rapport.html``. The files are built in
a staging folder and moved into place only when all of them are complete, so a failure never
leaves a half-written report behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sio.i18n import _, language
from sio.results import AnnualResult

if TYPE_CHECKING:
    from sio.report.files import write_csv, write_xlsx
    from sio.report.html import write_html
    from sio.report.table import render_table_text, render_year_table

# the writers are imported when first used (Jinja2 and XlsxWriter are not needed for JSON)
_LAZY = {
    "write_csv": "sio.report.files",
    "write_xlsx": "sio.report.files",
    "write_html": "sio.report.html",
    "render_table_text": "sio.report.table",
    "render_year_table": "sio.report.table",
}


def _writer(name: str) -> Any:
    """A writer by name: the module's own attribute if set (e.g. replaced in a test), else the
    lazily imported one."""
    found = globals().get(name)
    return found if found is not None else __getattr__(name)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = [
    "CSV_NAME",
    "HTML_NAME",
    "XLSX_NAME",
    "render_table_text",
    "render_year_table",
    "report_title",
    "write_csv",
    "write_html",
    "write_report",
    "write_xlsx",
]

CSV_NAME = "tilskudd.csv"
XLSX_NAME = "tilskudd.xlsx"
HTML_NAME = "rapport.html"


def report_title(years: Sequence[int]) -> str:
    """The title of a report on ``years``, in the current language."""
    ordered = sorted(years)
    if not ordered:
        return _("SIO: grants and extraction")
    span = str(ordered[0]) if ordered[0] == ordered[-1] else f"{ordered[0]}–{ordered[-1]}"
    return _("SIO: grants and extraction {years}").format(years=span)


def write_report(
    results_by_year: Mapping[int, Sequence[AnnualResult]],
    out_dir: Path,
    *,
    note: str | None = None,
    lang: str = "nb",
) -> list[Path]:
    """Write ``tilskudd.csv``, ``tilskudd.xlsx`` and ``rapport.html`` into ``out_dir`` (created
    if missing) and return their paths. ``note`` (e.g. "Syntetiske demodata") is shown at the top
    of the page and in the workbook; ``lang`` is "nb" or "en"."""
    write_csv, write_xlsx, write_html = (
        _writer("write_csv"),
        _writer("write_xlsx"),
        _writer("write_html"),
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    all_results = [r for year in sorted(results_by_year) for r in results_by_year[year]]
    names = (CSV_NAME, XLSX_NAME, HTML_NAME)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".sio-report-"))
    try:
        with language(lang):
            title = report_title(list(results_by_year))
            write_csv(all_results, staging / CSV_NAME)
            write_xlsx(results_by_year, staging / XLSX_NAME, note=note, lang=lang)
            write_html(results_by_year, staging / HTML_NAME, title=title, note=note, lang=lang)
        for name in names:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in names]
