"""The HTML report: one self-contained page (inline CSS and SVG, no external resources, a print
stylesheet) with the note on the data, national totals per year with the change from the year
before, a chart of grant against extraction per municipality, and one table per year."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sio.i18n import _, format_kroner, format_percent, get_language, language, ngettext
from sio.report.chart import grant_extraction_svg
from sio.report.common import (
    TABLE_COLUMNS,
    YearTotal,
    amounts_note,
    atomic_path,
    cell_text,
    column_labels,
    estimate_paths,
    national_total_label,
    rows_of_year,
    year_title,
    year_totals,
)
from sio.report.estimates import parameter_page, rows_to_mark, table_note
from sio.results import AMOUNT_COLUMNS, AnnualResult

__all__ = ["TEMPLATE", "breakable", "render_html", "write_html"]

TEMPLATE = "rapport.html.j2"
_NUMERIC = frozenset({*AMOUNT_COLUMNS, "maaneder"})


@dataclass(frozen=True)
class Cell:
    """One table cell as displayed."""

    text: str
    numeric: bool


@dataclass(frozen=True)
class Row:
    """One table row; ``estimated`` rows are marked."""

    cells: list[Cell]
    estimated: bool


@dataclass(frozen=True)
class YearView:
    """Everything the template shows for one year."""

    year: int
    title: str
    totals_line: str
    growth_line: str
    headers: list[Cell]
    rows: list[Row]
    total: Row
    footnote: Markup


@dataclass(frozen=True)
class SummaryRow:
    """One line of the national-totals table."""

    year: int
    municipalities: str
    grant: str
    grant_change: str
    extraction: str
    extraction_change: str
    net: str


@functools.lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The one Jinja environment of the reports and letters: each template is compiled once
    (356 letters took 18 s when each letter built its own)."""
    env = Environment(
        loader=PackageLoader("sio.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["_"] = _
    env.globals["ngettext"] = ngettext
    env.filters["breakable"] = breakable
    env.filters["link_url"] = linked
    return env


# Tails of Norwegian compound words in narrow column headers: a soft hyphen before them lets a
# column break "Aktivitets-/tilskudd" or "Parameter-/versjon" instead of overflowing the page.
_COMPOUND_TAILS = ("tilskudd", "finansiering", "nummer", "påslag", "versjon")
SOFT_HYPHEN = "\u00ad"


def breakable(label: str) -> str:
    """``label`` with soft hyphens before the tails of long compound words."""
    words = []
    for word in label.split(" "):
        for tail in _COMPOUND_TAILS:
            cut = len(word) - len(tail)
            if cut >= 4 and word.lower().endswith(tail):
                word = word[:cut] + SOFT_HYPHEN + word[cut:]
                break
        words.append(word)
    return " ".join(words)


def _change(total: YearTotal, column: str) -> str:
    growth = total.growth(column)
    return "–" if growth is None else format_percent(growth)


def _year_view(year: int, rows: Sequence[AnnualResult], total: YearTotal) -> YearView:
    labels = column_labels()
    sums = total.sums
    totals_line = _(
        "National total {year}: grant {grant} kr, extraction {extraction} kr, "
        "top-up financing {top_up} kr, net {net} kr."
    ).format(
        year=year,
        grant=format_kroner(sums["tilskudd"]),
        extraction=format_kroner(sums["uttrekk"]),
        top_up=format_kroner(sums["toppfinansiering"]),
        net=format_kroner(sums["netto"]),
    )
    if total.previous is None:
        growth_line = _("No figures for {previous} to compare with.").format(previous=year - 1)
    else:
        growth_line = _("Change from {previous}: grant {grant}, extraction {extraction}.").format(
            previous=year - 1,
            grant=_change(total, "tilskudd"),
            extraction=_change(total, "uttrekk"),
        )
    blank = Cell("", False)
    marks = rows_to_mark(rows)
    return YearView(
        year=year,
        title=year_title(year),
        totals_line=totals_line,
        growth_line=growth_line,
        headers=[Cell(breakable(labels[c]), c in _NUMERIC) for c in TABLE_COLUMNS],
        rows=[
            Row(
                [
                    Cell(cell_text(r, c, r.kommunenummer in marks), c in _NUMERIC)
                    for c in TABLE_COLUMNS
                ],
                r.kommunenummer in marks,
            )
            for r in rows
        ],
        total=Row(
            [blank, Cell(national_total_label(), False), blank, blank]
            + [Cell(format_kroner(sums[c]), True) for c in AMOUNT_COLUMNS],
            False,
        ),
        footnote=linked(table_note(rows)),
    )


def linked(text: str) -> Markup:
    """`text` (escaped) with the address of the parameter list in it as a link."""
    url = parameter_page()
    before, found, after = text.partition(url)
    if not found:
        return Markup.escape(text)
    return (
        Markup.escape(before) + Markup('<a href="{0}">{0}</a>').format(url) + Markup.escape(after)
    )


def render_html(
    results_by_year: Mapping[int, Sequence[AnnualResult]],
    *,
    title: str,
    note: str | None,
    lang: str,
) -> str:
    """The report page as a string, in ``lang`` ("nb" or "en")."""
    with language(lang):
        totals = year_totals(results_by_year)
        years = [
            _year_view(t.year, rows_of_year(results_by_year[t.year], t.year), t) for t in totals
        ]
        summary = [
            SummaryRow(
                year=t.year,
                municipalities=ngettext(
                    "{n} municipality", "{n} municipalities", t.municipalities
                ).format(n=t.municipalities),
                grant=format_kroner(t.sums["tilskudd"]),
                grant_change=_change(t, "tilskudd"),
                extraction=format_kroner(t.sums["uttrekk"]),
                extraction_change=_change(t, "uttrekk"),
                net=format_kroner(t.sums["netto"]),
            )
            for t in totals
        ]
        all_paths = estimate_paths(r for rows in results_by_year.values() for r in rows)
        chart: Markup = grant_extraction_svg(results_by_year)
        template = template_environment().get_template(TEMPLATE)
        return template.render(
            lang=get_language(),
            title=title,
            note=note,
            amounts_note=amounts_note(),
            labels=column_labels(),
            summary=summary,
            years=years,
            chart=chart,
            estimate_paths=all_paths,
            parameter_page=parameter_page(),
        )


def write_html(
    results_by_year: Mapping[int, Sequence[AnnualResult]],
    path: Path,
    *,
    title: str,
    note: str | None,
    lang: str,
) -> None:
    """Write the report page to ``path`` (UTF-8); ``path`` is replaced only when it is complete."""
    page = render_html(results_by_year, title=title, note=note, lang=lang)
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(page, encoding="utf-8")
