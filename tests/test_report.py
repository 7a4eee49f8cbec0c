"""The report writers: the terminal table, CSV, the Excel workbook and the HTML page with its SVG
chart, checked against a few hand-made results whose totals are computed by hand."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from rich.console import Console

import sio.report
from sio.i18n import get_language, set_language
from sio.report import render_table_text, render_year_table, write_report
from sio.report.chart import nice_step
from sio.report.html import SOFT_HYPHEN, breakable, render_html
from sio.report.table import COMPACT_COLUMNS, MINIMAL_COLUMNS, fitting_columns
from sio.results import AMOUNT_COLUMNS, OUTPUT_COLUMNS, AnnualResult

NBSP = "\u00a0"


def make(
    kommunenummer: str,
    navn: str,
    aar: int,
    *,
    modell: str = "A",
    maaneder: int = 12,
    uttrekk: int,
    toppfinansiering: int,
    aktivitet: int = 0,
    rundsum: int = 0,
    oeremerket: int = 0,
    paaslag: int = 0,
    estimates: tuple[str, ...] = (),
) -> AnnualResult:
    """A result whose grant and net add up, like the engine's."""
    tilskudd = aktivitet + rundsum + oeremerket + paaslag
    return AnnualResult(
        kommunenummer=kommunenummer,
        navn=navn,
        aar=aar,
        modell=modell,
        maaneder=maaneder,
        uttrekk=uttrekk,
        toppfinansiering=toppfinansiering,
        aktivitetstilskudd=aktivitet,
        rundsumtilskudd=rundsum,
        oeremerket_tilskudd=oeremerket,
        inntektspaaslag=paaslag,
        tilskudd=tilskudd,
        netto=tilskudd - uttrekk - toppfinansiering,
        estimerte_parametere=estimates,
    )


ALSTAHAUG_2019 = make(
    "1820", "Alstahaug", 2019, uttrekk=1_000_000, toppfinansiering=100_000,
    aktivitet=800_000, rundsum=300_000, paaslag=134_567,
)  # fmt: skip
RANDABERG_2019 = make(
    "1128", "Randaberg", 2019, uttrekk=2_000_000, toppfinansiering=200_000,
    aktivitet=1_500_000, rundsum=400_000, paaslag=80_000, estimates=("sio.enhetspris.hjspl",),
)  # fmt: skip
SONDRE_LAND_2019 = make(
    "0536", "Søndre Land", 2019, modell="utfasing", maaneder=5, uttrekk=500_000,
    toppfinansiering=0, oeremerket=600_000,
)  # fmt: skip
ALSTAHAUG_2018 = make(
    "1820", "Alstahaug", 2018, uttrekk=900_000, toppfinansiering=90_000,
    aktivitet=700_000, rundsum=280_000, paaslag=36_000,
)  # fmt: skip
RANDABERG_2018 = make(
    "1128", "Randaberg", 2018, uttrekk=1_900_000, toppfinansiering=190_000,
    aktivitet=1_400_000, rundsum=380_000, paaslag=76_000,
    estimates=("sio.deflator", "sio.enhetspris.hjspl"),
)  # fmt: skip

# Deliberately out of order: the writers sort by municipality number.
RESULTS: dict[int, list[AnnualResult]] = {
    2019: [ALSTAHAUG_2019, RANDABERG_2019, SONDRE_LAND_2019],
    2018: [RANDABERG_2018, ALSTAHAUG_2018],
}

# National totals of 2019, by hand:
#   tilskudd 1 234 567 + 1 980 000 + 600 000 = 3 814 567
#   uttrekk  1 000 000 + 2 000 000 + 500 000 = 3 500 000
#   toppfinansiering 100 000 + 200 000 + 0   =   300 000
#   netto    134 567 − 220 000 + 100 000     =    14 567
TOTAL_2019 = {"tilskudd": 3_814_567, "uttrekk": 3_500_000, "toppfinansiering": 300_000}
NETTO_2019 = 14_567
# 2018: tilskudd 1 016 000 + 1 856 000 = 2 872 000; uttrekk 900 000 + 1 900 000 = 2 800 000.
# Growth 2018 → 2019: tilskudd 3 814 567 / 2 872 000 − 1 = +32.8 %; uttrekk 3.5 / 2.8 − 1 = +25 %.


@pytest.fixture(autouse=True)
def _norwegian() -> Iterator[None]:
    set_language("nb")
    yield
    set_language("nb")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rapport")
    set_language("en")  # write_report must use its own `lang`, not the current language
    try:
        paths = write_report(RESULTS, out, note="Syntetiske demodata", lang="nb")
    finally:
        set_language("nb")
    assert [p.name for p in paths] == ["tilskudd.csv", "tilskudd.xlsx", "rapport.html"]
    return out


def test_the_hand_made_results_add_up() -> None:
    assert ALSTAHAUG_2019.tilskudd == 1_234_567
    assert RANDABERG_2019.netto == -220_000
    assert sum(r.netto for r in RESULTS[2019]) == NETTO_2019


def test_write_report_writes_three_files_and_leaves_nothing_else(report_dir: Path) -> None:
    assert sorted(p.name for p in report_dir.iterdir()) == [
        "rapport.html",
        "tilskudd.csv",
        "tilskudd.xlsx",
    ]
    assert get_language() == "nb"


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fp:
        reader = csv.DictReader(fp)
        assert tuple(reader.fieldnames or ()) == OUTPUT_COLUMNS
        return list(reader)


def test_csv_has_every_year_in_contract_columns_and_reads_back(report_dir: Path) -> None:
    rows = _read_csv(report_dir / "tilskudd.csv")
    assert [(r["aar"], r["kommunenummer"]) for r in rows] == [
        ("2018", "1128"),
        ("2018", "1820"),
        ("2019", "0536"),
        ("2019", "1128"),
        ("2019", "1820"),
    ]
    back = []
    for r in rows:
        values: dict[str, Any] = dict(r)
        for col in (*AMOUNT_COLUMNS, "aar", "maaneder"):
            values[col] = int(values[col])
        paths = values["estimerte_parametere"]
        values["estimerte_parametere"] = tuple(paths.split(";")) if paths else ()
        back.append(AnnualResult(**values))
    expected = sorted(
        (r for rows_ in RESULTS.values() for r in rows_), key=lambda r: (r.aar, r.kommunenummer)
    )
    assert back == expected


def test_csv_keeps_leading_zeros_and_joins_estimates_with_semicolons(report_dir: Path) -> None:
    rows = _read_csv(report_dir / "tilskudd.csv")
    by_key = {(r["aar"], r["kommunenummer"]): r for r in rows}
    assert by_key[("2019", "0536")]["navn"] == "Søndre Land"
    assert by_key[("2019", "0536")]["modell"] == "utfasing"
    assert by_key[("2018", "1128")]["estimerte_parametere"] == "sio.deflator;sio.enhetspris.hjspl"
    assert by_key[("2019", "1820")]["tilskudd"] == "1234567"
    assert by_key[("2019", "1128")]["netto"] == "-220000"


# --- Excel -------------------------------------------------------------------------------------


def test_xlsx_has_a_sheet_per_year_and_one_about_the_figures(report_dir: Path) -> None:
    workbook = openpyxl.load_workbook(report_dir / "tilskudd.xlsx")
    assert workbook.sheetnames == ["2018", "2019", "Om tallene"]


def test_xlsx_year_sheet_cells_and_totals_row(report_dir: Path) -> None:
    path = report_dir / "tilskudd.xlsx"
    sheet = openpyxl.load_workbook(path)["2019"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Kommunenummer", "Navn", "Modell", "Måneder"]
    assert header[-1] == "Estimerte parametere"
    col = {name: i + 1 for i, name in enumerate(header)}
    # Data rows sorted by municipality number; the number stays text ("0536").
    assert sheet.cell(2, col["Kommunenummer"]).value == "0536"
    assert sheet.cell(2, col["Modell"]).value == "utfasing"
    assert sheet.cell(4, col["Navn"]).value == "Alstahaug"
    assert sheet.cell(4, col["Tilskudd"]).value == 1_234_567
    assert sheet.cell(4, col["Tilskudd"]).number_format == "#,##0"
    assert sheet.cell(3, col["Estimerte parametere"]).value == "sio.enhetspris.hjspl"
    # Totals row right under the three municipalities: a live SUM formula ...
    assert sheet.cell(5, col["Navn"]).value == "Hele landet"
    assert sheet.cell(5, col["Tilskudd"]).value == "=SUM(K2:K4)"
    # ... whose stored value is the hand-computed national total.
    values = openpyxl.load_workbook(path, data_only=True)["2019"]
    for name, column in (("Tilskudd", "tilskudd"), ("Uttrekk", "uttrekk")):
        assert values.cell(5, col[name]).value == TOTAL_2019[column]
    assert values.cell(5, col["Toppfinansiering"]).value == TOTAL_2019["toppfinansiering"]
    assert values.cell(5, col["Netto"]).value == NETTO_2019


def test_xlsx_about_sheet_gives_the_note_and_the_estimates(report_dir: Path) -> None:
    sheet = openpyxl.load_workbook(report_dir / "tilskudd.xlsx")["Om tallene"]
    text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "Syntetiske demodata" in text
    assert "2018: sio.deflator, sio.enhetspris.hjspl" in text
    assert "2019: sio.enhetspris.hjspl" in text
    assert "Netto = tilskudd − uttrekk − toppfinansiering." in text


# --- HTML --------------------------------------------------------------------------------------


class _Collector(HTMLParser):
    """Start tags with their attributes, and the text, of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page(report_dir: Path) -> str:
    return (report_dir / "rapport.html").read_text(encoding="utf-8")


def test_html_is_one_self_contained_norwegian_page(page: str) -> None:
    parsed = _parse(page)
    html_tags = [attrs for tag, attrs in parsed.tags if tag == "html"]
    assert html_tags == [{"lang": "nb"}]
    assert not [t for t, _a in parsed.tags if t in ("link", "script", "img", "iframe")]
    # The only URLs are the SVG namespace and the link to the parameter list: nothing is fetched.
    assert set(re.findall(r"https?://[^\s\"'<]+", page)) == {
        "http://www.w3.org/2000/svg",
        "http://127.0.0.1:8000/parametere",
    }
    assert "@media print" in page
    assert "Syntetiske demodata" in page


def test_html_svg_has_one_bar_per_series_and_municipality_year(page: str) -> None:
    parsed = _parse(page)
    assert sum(1 for t, _a in parsed.tags if t == "svg") == 1
    expected = {(r.kommunenummer, str(r.aar)) for rows in RESULTS.values() for r in rows}
    assert len(expected) == 5
    for series in ("tilskudd", "uttrekk"):
        bars = [
            a
            for t, a in parsed.tags
            if t == "rect" and f"bar-{series}" in (a.get("class") or "").split()
        ]
        assert len(bars) == 5
        assert {(a["data-kommunenummer"], a["data-year"]) for a in bars} == expected
    values = {
        (a["data-kommunenummer"], a["data-year"]): a["data-value"]
        for t, a in parsed.tags
        if t == "rect" and "bar-tilskudd" in (a.get("class") or "")
    }
    assert values[("1820", "2019")] == "1234567"


def test_html_svg_is_well_formed_and_accessible(page: str) -> None:
    svg_text = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    svg = ET.fromstring(svg_text)
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-title chart-desc"
    title = svg.find(f"{ns}title")
    assert title is not None
    assert title.text == "Tilskudd og uttrekk per kommune og år"
    assert "mill. kr" in svg_text
    legend = " ".join(t.text or "" for t in svg.iter(f"{ns}text"))
    assert "Tilskudd" in legend
    assert "Uttrekk" in legend
    # Bars stand on the same baseline within a panel and the taller value has the taller bar.
    heights = {
        (r.get("data-kommunenummer"), r.get("data-year"), r.get("class")): float(
            r.get("height") or 0
        )
        for r in svg.iter(f"{ns}rect")
        if r.get("data-year")
    }
    assert (
        heights[("1128", "2019", "bar bar-uttrekk")] > heights[("1128", "2019", "bar bar-tilskudd")]
    )


def test_html_tables_totals_growth_and_estimate_marks(page: str) -> None:
    assert "Hele landet" in page
    assert f"1{NBSP}234{NBSP}567" in page
    assert f"3{NBSP}814{NBSP}567" in page  # national grant 2019
    assert f"-220{NBSP}000" in page
    assert "Tilskudd og uttrekk 2019" in page
    assert f"Endring fra 2018: tilskudd +32,8{NBSP}%, uttrekk +25,0{NBSP}%." in page
    assert "Ingen tall for 2017 å sammenligne med." in page
    # only Randaberg rests on estimates: its rows are marked, the note says it once per table
    assert "Randaberg *" in page
    note = (
        "Estimater: andre tall bygger i radene merket * på parametere som er estimater, ikke "
        "bekreftede verdier (det gjør også samlet tilskudd og netto). Parameterne og kildene "
        'deres: sio parametere liste, eller <a href="http://127.0.0.1:8000/parametere">'
    )
    assert page.count(note) == 2  # the tables of 2018 and 2019
    assert "sio.enhetspris.hjspl" not in page.split('id="about"')[0]  # paths only in the method
    assert page.count('class="estimate"') == 2  # Randaberg 2018 and 2019


def test_html_in_english() -> None:
    page = render_html(RESULTS, title="SIO report", note="Synthetic demo data", lang="en")
    assert '<html lang="en">' in page
    assert "National total" in page
    assert "Hele landet" not in page
    assert "1,234,567" in page
    assert "Change from 2018: grant +32.8%, extraction +25.0%." in page
    assert (
        "Estimates: other figures rest in the rows marked * on parameters that are estimates, "
        "not confirmed values (and so do the total grant and the net)." in page
    )
    assert get_language() == "nb"


def test_headers_get_soft_hyphens_only_in_long_compounds() -> None:
    assert breakable("Aktivitetstilskudd") == f"Aktivitets{SOFT_HYPHEN}tilskudd"
    assert breakable("Øremerket tilskudd") == "Øremerket tilskudd"
    assert breakable("Net") == "Net"


# --- terminal table ----------------------------------------------------------------------------


def test_terminal_table_in_norwegian() -> None:
    text = render_table_text(RESULTS[2019], 2019, "nb")
    assert "Tilskudd og uttrekk 2019" in text
    assert "Hele landet" in text
    assert f"1{NBSP}234{NBSP}567" in text
    assert f"3{NBSP}814{NBSP}567" in text
    assert "Øremerket" in text
    assert "utfasing" in text
    assert "Randaberg *" in text
    assert "Alstahaug *" not in text
    assert "Estimater: andre tall bygger i radene merket * på parametere" in text.replace("\n", " ")
    assert "sio.enhetspris.hjspl" not in text
    totals_line = next(line for line in text.splitlines() if "Hele landet" in line)
    assert f"3{NBSP}500{NBSP}000" in totals_line
    assert f"14{NBSP}567" in totals_line


def test_terminal_table_in_english_leaves_the_language_as_it_was() -> None:
    text = render_table_text(RESULTS[2019], 2019, "en")
    assert "Grants and extraction 2019" in text
    assert "National total" in text
    assert "1,234,567" in text
    assert "phase-out" in text
    assert get_language() == "nb"


def test_terminal_table_shows_only_the_year_asked_for() -> None:
    both = [*RESULTS[2018], *RESULTS[2019]]
    text = render_table_text(both, 2018, "nb")
    assert "Søndre Land" not in text
    assert f"2{NBSP}872{NBSP}000" in text


def test_a_narrow_terminal_keeps_the_key_columns_and_says_so() -> None:
    assert fitting_columns(RESULTS[2019], 2019, 200) != COMPACT_COLUMNS
    assert fitting_columns(RESULTS[2019], 2019, 120) == COMPACT_COLUMNS
    assert fitting_columns(RESULTS[2019], 2019, 60) == MINIMAL_COLUMNS
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    render_year_table(RESULTS[2019], 2019, console)
    text = console.export_text()
    assert "Noen kolonner er utelatt" in text
    assert f"3{NBSP}814{NBSP}567" in text  # never cut to "3 814…"
    assert "…" not in text


# --- failure and edge cases --------------------------------------------------------------------


def test_a_failing_writer_leaves_the_previous_report_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_report(RESULTS, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(sio.report, "write_html", broken)
    changed = {2019: [ALSTAHAUG_2019]}
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(changed, tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before


def test_a_report_on_a_year_without_results(tmp_path: Path) -> None:
    paths = write_report({2020: []}, tmp_path / "new" / "dir", lang="en")
    assert all(p.exists() for p in paths)
    sheet = openpyxl.load_workbook(paths[1], data_only=True)["2020"]
    assert sheet.cell(2, 2).value == "National total"
    assert _read_csv(paths[0]) == []
    assert "<svg" not in paths[2].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("maximum", "step"),
    [(0, 1_000_000), (3_814_567, 1_000_000), (57_500_000, 20_000_000), (9_000, 2_500)],
)
def test_chart_ticks_are_round(maximum: int, step: float) -> None:
    assert nice_step(maximum) == step
