"""The rendered outputs of a payment run: the statement letter per municipality (HTML, printable to
A4 PDF), the index of the letters, and the payment file (CSV and xlsx), checked against figures
worked out by hand from hand-built letters."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from sio.i18n import get_language, set_language
from sio.report import payment_file, statement
from sio.report.payment_file import write_payment_file
from sio.report.statement import format_oere, render_index, render_statement, write_statements
from sio.utbetaling.model import Brev, Hittil, Kjoring, Mottaker, Postering

NBSP = "\u00a0"
PV = "p-3f2a9c1b7d0e"  # parameter version of the run (as sio.parameters names them)
PV_OLD = "p-91ab22c0d4e1"  # the parameter version a correction corrects

KJORING = Kjoring(
    id=7,
    art="maaned",
    periode="2020-03",
    startet=dt.datetime(2020, 3, 4, 9, 30),
    bruker="analytiker",
    data_versjon=5,
    parameter_versjon=PV,
)


def _line(
    kommunenummer: str,
    maaned: int | None,
    komponent: str,
    art: str,
    beloep_oere: int,
    begrunnelse: str,
    aar: int = 2020,
    **extra: object,
) -> Postering:
    return Postering(
        kommunenummer=kommunenummer,
        aar=aar,
        maaned=maaned,
        komponent=komponent,
        art=art,
        beloep_oere=beloep_oere,
        begrunnelse=begrunnelse,
        data_versjon=5,
        parameter_versjon=PV,
        kjoring_id=7,
        **extra,  # type: ignore[arg-type]
    )


# Indre Østfold: six lines, one a negative correction and one a rounding line without a month.
#   1 234 567,89 + 250 000,00 + 41 666,67 − 12 345,60 − 98 765,43 + 0,42 = 1 415 123,95 kr
INDRE_OESTFOLD = Brev(
    kjoring=KJORING,
    mottaker=Mottaker("3014", "Indre Østfold", "920123456"),
    linjer=(
        _line("3014", 3, "aktivitetstilskudd", "akonto", 123_456_789, "A-konto fra januar 2020"),
        _line("3014", 3, "rundsumtilskudd", "maanedsandel", 25_000_000, "1/12 av rundsum"),
        _line("3014", 3, "inntektspaaslag", "maanedsandel", 4_166_667, "1/12 av påslaget"),
        _line("3014", 1, "aktivitetstilskudd", "avregning", -1_234_560, "Rapportert januar"),
        _line(
            "3014",
            12,
            "aktivitetstilskudd",
            "korreksjon",
            -9_876_543,
            "Rettede vedtaksdata for desember 2019",
            aar=2019,
            forrige_data_versjon=4,
            forrige_parameter_versjon=PV_OLD,
        ),
        _line("3014", None, "rundsumtilskudd", "avrunding", 42, "Avrunding av 2019", aar=2019),
    ),
    hittil=(
        # 4 500 000,00 − 4 376 543,21 = 123 456,79 kr outstanding
        Hittil(aar=2020, til_maaned=3, rettighet_oere=450_000_000, utbetalt_oere=437_654_321),
        # 18 000 000,00 − 18 012 345,67 = −12 345,67 kr (paid ahead of the entitlement)
        Hittil(aar=2019, til_maaned=12, rettighet_oere=1_800_000_000, utbetalt_oere=1_801_234_567),
    ),
    estimerte_parametere=("aktivitetstilskudd.enhetspris.HJSPL.3", "inntektspaaslag.tak"),
)

# Oslo, without organisation number: −6 000,00 + 4 765,50 = −1 234,50 kr (owed to the state).
OSLO = Brev(
    kjoring=KJORING,
    mottaker=Mottaker("0301", "Oslo", None),
    linjer=(
        _line(
            "0301",
            2,
            "oeremerket_tilskudd",
            "korreksjon",
            -600_000,
            "Ny parameterversjon",
            forrige_data_versjon=5,
            forrige_parameter_versjon=PV_OLD,
        ),
        _line("0301", 3, "oeremerket_tilskudd", "maanedsandel", 476_550, "1/12 av tilskuddet"),
    ),
    hittil=(Hittil(aar=2020, til_maaned=3, rettighet_oere=1_000_000, utbetalt_oere=1_000_000),),
)

# Stavanger: a settlement of exactly zero, so no payment.
STAVANGER = Brev(
    kjoring=KJORING,
    mottaker=Mottaker("1103", "Stavanger", "964965226"),
    linjer=(_line("1103", 2, "aktivitetstilskudd", "avregning", 0, "Rapportert februar"),),
    hittil=(Hittil(aar=2020, til_maaned=3, rettighet_oere=0, utbetalt_oere=0),),
)

BREVER = (INDRE_OESTFOLD, OSLO, STAVANGER)


@pytest.fixture(autouse=True)
def _norwegian() -> Iterator[None]:
    set_language("nb")
    yield
    set_language("nb")


def kr(text: str) -> str:
    """A Norwegian amount as written in a test ("1 234,50 kr") with the no-break spaces of Babel."""
    return text.replace(" ", NBSP)


def cell(text: str) -> str:
    """A table cell's text as `_text` gives it: no-break spaces read as spaces."""
    return text.replace(NBSP, " ")


class _TagChecker(HTMLParser):
    """Parses a page and records tags that are not closed in order."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _TagChecker:
    checker = _TagChecker()
    checker.feed(page)
    checker.close()
    assert not checker.errors, checker.errors
    assert checker.stack == [], checker.stack
    return checker


def _text(page: str) -> str:
    """The visible text of a page, the text of each element apart and every run of white space
    (no-break spaces too) as one space; the style sheet left out."""
    without_style = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", " ".join(_parse(without_style).text))


# --- amounts -----------------------------------------------------------------------------------


def test_amounts_are_kroner_with_oere_in_norwegian_and_english() -> None:
    assert format_oere(123_456_789) == kr("1 234 567,89 kr")
    assert format_oere(-123_450) == kr("-1 234,50 kr")
    assert format_oere(5) == kr("0,05 kr")
    assert format_oere(0) == kr("0,00 kr")
    set_language("en")
    assert format_oere(123_456_789) == f"1,234,567.89{NBSP}NOK"


def test_the_total_is_the_sum_of_the_lines() -> None:
    assert INDRE_OESTFOLD.sum_oere == 141_512_395
    assert OSLO.sum_oere == -123_450
    assert STAVANGER.sum_oere == 0


# --- the letter --------------------------------------------------------------------------------


def test_the_letter_has_sender_recipient_date_reference_and_period() -> None:
    text = _text(render_statement(INDRE_OESTFOLD))
    assert "Helsedirektoratet" in text
    assert "Indre Østfold kommune" in text
    assert "Kommunenummer: 3014" in text
    assert "Organisasjonsnummer: 920 123 456" in text
    assert "Dato 4. mars 2020" in text
    assert "Betalingsreferanse SIO-2020-03-K7-3014" in text
    assert "Periode mars 2020" in text
    assert "Melding om utbetaling for mars 2020" in text


def test_the_letter_says_what_is_paid_in_norwegian() -> None:
    text = _text(render_statement(INDRE_OESTFOLD))
    assert "Til utbetaling 1 415 123,95 kr" in text
    assert "Sum denne utbetalingen 1 415 123,95 kr" in text
    assert "Helsedirektoratet utbetaler 1 415 123,95 kr til Indre Østfold kommune." in text
    # the amounts keep together on a line: Babel's no-break spaces are in the page
    assert '<span class="value">' + kr("1 415 123,95 kr") + "</span>" in render_statement(
        INDRE_OESTFOLD
    )


def test_every_line_is_shown_with_its_period_component_kind_reason_and_versions() -> None:
    page = render_statement(INDRE_OESTFOLD)
    rows = re.findall(r"<tbody>(.*?)</tbody>", page, flags=re.S)[0]
    cells = [
        [
            re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", rows, flags=re.S)
    ]
    assert cells == [
        [
            "2019-12",
            "Aktivitetstilskudd",
            "Korreksjon",
            "Rettede vedtaksdata for desember 2019",
            "5 (før: 4)",
            f"{PV} (før: {PV_OLD})",
            kr("-98 765,43 kr"),
        ],
        ["2019", "Rundsumtilskudd", "Avrunding til hele kroner", "Avrunding av 2019", "5", PV,
         kr("0,42 kr")],
        ["2020-01", "Aktivitetstilskudd", "Avregning", "Rapportert januar", "5", PV,
         kr("-12 345,60 kr")],
        ["2020-03", "Aktivitetstilskudd", "A-konto", "A-konto fra januar 2020", "5", PV,
         kr("1 234 567,89 kr")],
        ["2020-03", "Rundsumtilskudd", "Månedsandel", "1/12 av rundsum", "5", PV,
         kr("250 000,00 kr")],
        ["2020-03", "Inntektspåslag", "Månedsandel", "1/12 av påslaget", "5", PV,
         kr("41 666,67 kr")],
    ]  # fmt: skip
    # negative amounts are marked for the eye as well as by the sign: the two negative lines
    # and the negative outstanding amount of 2019
    assert page.count('class="num neg"') == 3


def test_the_year_to_date_table_shows_entitlement_paid_and_outstanding() -> None:
    text = _text(render_statement(INDRE_OESTFOLD))
    assert "2019 desember 18 000 000,00 kr 18 012 345,67 kr -12 345,67 kr" in text
    assert "2020 mars 4 500 000,00 kr 4 376 543,21 kr 123 456,79 kr" in text
    assert "Utbetalt hittil omfatter denne utbetalingen." in text


ESTIMATES_NOTE = (
    "Aktivitetstilskuddet og inntektspåslaget i dette brevet bygger på parametere som ennå er "
    "estimater, ikke bekreftede verdier: når de bekreftes, kommer en eventuell differanse som "
    "korreksjonslinjer i en senere utbetaling. Parameterne og kildene deres står på "
    "http://127.0.0.1:8000/parametere"
)


def test_the_letter_names_the_figures_resting_on_estimates_once() -> None:
    """Indre Østfold's lines rest on an estimated unit price (activity grant) and the estimated
    cap of the supplement: the letter names those two figures once, with the parameter list,
    and prints no parameter path and no marker (the lump-sum grant rests on neither)."""
    page = render_statement(INDRE_OESTFOLD)
    text = _text(page)
    assert text.count(ESTIMATES_NOTE) == 1
    assert "HJSPL" not in text and "inntektspaaslag.tak" not in text and " * " not in text
    assert '<a href="http://127.0.0.1:8000/parametere">' in page
    assert "estimater" not in _text(render_statement(OSLO))


def test_every_kind_of_line_is_explained() -> None:
    text = _text(render_statement(OSLO))
    for kind in (
        "A-konto",
        "Månedsandel",
        "Avregning",
        "Korreksjon",
        "Etteroppgjør",
        "Avrunding til hele kroner",
    ):
        assert kind in text
    assert "Hva linjene betyr" in text


def test_a_negative_total_is_to_be_paid_back_or_set_off_and_a_missing_org_number_is_said() -> None:
    text = _text(render_statement(OSLO))
    assert "Organisasjonsnummer: mangler" in text
    assert "Til tilbakebetaling eller motregning 1 234,50 kr" in text
    assert "Sum denne utbetalingen -1 234,50 kr" in text
    assert (
        "Linjene i denne kjøringen summerer seg til 1 234,50 kr i statens favør: "
        "Oslo kommune skylder 1 234,50 kr." in text
    )
    assert "motregnet i senere utbetalinger eller krevd tilbakebetalt" in text


def test_a_zero_total_says_nothing_is_paid() -> None:
    text = _text(render_statement(STAVANGER))
    assert "Ingen utbetaling 0,00 kr" in text
    assert "ingenting utbetales og ingenting skyldes" in text


def test_the_letter_in_english_and_the_language_is_restored() -> None:
    text = _text(render_statement(INDRE_OESTFOLD, lang="en"))
    assert "Payment statement for March 2020" in text
    assert "Helsedirektoratet pays 1,415,123.95 NOK to Indre Østfold municipality." in text
    assert "Correction" in text and "5 (was: 4)" in text
    assert get_language() == "nb"


def test_a_final_settlement_letter_is_titled_by_its_year() -> None:
    run = Kjoring(9, "etteroppgjoer", "2020", dt.datetime(2021, 4, 20), "analytiker", 8, PV)
    brev = Brev(run, OSLO.mottaker, OSLO.linjer, OSLO.hittil)
    text = _text(render_statement(brev))
    assert "Melding om etteroppgjør 2020" in text
    assert "Betalingsreferanse SIO-2020-K9-0301" in text
    index = _text(render_index([brev]))
    assert "Brev for utbetalingskjøringen: Etteroppgjør 2020" in index


def test_text_from_the_ledger_is_escaped() -> None:
    line = _line("0301", 3, "oeremerket_tilskudd", "maanedsandel", 100, "<b>A & B</b>")
    page = render_statement(Brev(KJORING, Mottaker("0301", "Oslo <x>", None), (line,), ()))
    assert "&lt;b&gt;A &amp; B&lt;/b&gt;" in page
    assert "<b>" not in page and "<x>" not in page
    _parse(page)


@pytest.mark.parametrize("brev", BREVER, ids=lambda b: b.mottaker.kommunenummer)
def test_the_letter_is_well_formed_self_contained_and_printable(brev: Brev) -> None:
    page = render_statement(brev)
    _parse(page)
    assert page.startswith("<!doctype html>")
    assert '<html lang="nb">' in page
    # no scripts and nothing fetched from elsewhere
    assert "<script" not in page.lower()
    # (a link to the parameter list is not fetched; nothing else points elsewhere)
    page_ = page.replace('<a href="http://127.0.0.1:8000/parametere">', "")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page_, re.I)
    assert "@import" not in page and "url(" not in page
    # the print stylesheet: A4, black on white, no row cut in two, header repeated
    assert "@media print" in page
    assert re.search(r"@page\s*\{\s*size:\s*A4;\s*margin:", page)
    assert "break-inside: avoid" in page
    assert "thead { display: table-header-group; }" in page
    assert "color: #000 !important; background: #fff !important;" in page
    assert "<thead>" in page


# --- writing the letters -----------------------------------------------------------------------


def test_write_statements_writes_a_letter_per_municipality_and_an_index(tmp_path: Path) -> None:
    paths = write_statements(BREVER, tmp_path / "brev")
    folder = tmp_path / "brev"
    assert paths == [folder / "0301.html", folder / "1103.html", folder / "3014.html",
                     folder / "index.html"]  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)
    assert (folder / "3014.html").read_text(encoding="utf-8") == render_statement(INDRE_OESTFOLD)
    index = (folder / "index.html").read_text(encoding="utf-8")
    _parse(index)
    for code in ("0301", "1103", "3014"):
        assert f'href="{code}.html"' in index
    text = _text(index)
    assert "Brev for utbetalingskjøringen: mars 2020" in text
    assert "0301 Oslo mangler -1 234,50 kr" in text
    assert "1103 Stavanger 964 965 226 0,00 kr" in text
    assert "3014 Indre Østfold 920 123 456 1 415 123,95 kr" in text
    # paid 1 415 123,95, owed 1 234,50: net 1 413 889,45
    assert "Til utbetaling 1 415 123,95 kr" in text
    assert "Til tilbakebetaling eller motregning 1 234,50 kr" in text
    assert "Netto 1 413 889,45 kr" in text
    assert "1 kommune mangler organisasjonsnummer." in text


def test_write_statements_in_english(tmp_path: Path) -> None:
    write_statements([OSLO], tmp_path, lang="en")
    assert "Organisation number: missing" in _text((tmp_path / "0301.html").read_text("utf-8"))
    assert '<html lang="en">' in (tmp_path / "index.html").read_text("utf-8")


def test_letters_of_different_runs_or_twice_the_same_municipality_are_refused(
    tmp_path: Path,
) -> None:
    other_run = Kjoring(8, "maaned", "2020-04", dt.datetime(2020, 4, 3), "analytiker", 5, PV)
    with pytest.raises(ValueError, match="mer enn én utbetalingskjøring"):
        write_statements([OSLO, Brev(other_run, STAVANGER.mottaker, (), ())], tmp_path)
    with pytest.raises(ValueError, match="0301"):
        write_statements([OSLO, OSLO], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(brever: object, lang: str | None = None) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(statement, "render_index", broken)
    with pytest.raises(RuntimeError):
        write_statements(BREVER, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_run_has_an_index_only(tmp_path: Path) -> None:
    assert write_statements([], tmp_path) == [tmp_path / "index.html"]
    assert "Ingen brev i denne kjøringen." in _text(render_index([]))


# --- the payment file --------------------------------------------------------------------------

EXPECTED_CSV = (
    "kommunenummer,navn,organisasjonsnummer,beloep,periode,referanse\n"
    "0301,Oslo,,-1234.50,2020-03,SIO-2020-03-K7-0301\n"
    "3014,Indre Østfold,920123456,1415123.95,2020-03,SIO-2020-03-K7-3014\n"
)


def test_the_payment_csv_is_exactly_as_expected(tmp_path: Path) -> None:
    paths = write_payment_file(KJORING, BREVER, tmp_path / "ut")
    assert paths == [tmp_path / "ut" / "utbetaling-2020-03.csv",
                     tmp_path / "ut" / "utbetaling-2020-03.xlsx"]  # fmt: skip
    assert paths[0].read_bytes() == EXPECTED_CSV.encode("utf-8")


def test_the_payment_xlsx_has_text_codes_and_numeric_amounts(tmp_path: Path) -> None:
    _csv, xlsx = write_payment_file(KJORING, BREVER, tmp_path)
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values == [
        ["kommunenummer", "navn", "organisasjonsnummer", "beloep", "periode", "referanse"],
        ["0301", "Oslo", None, -1234.5, "2020-03", "SIO-2020-03-K7-0301"],
        ["3014", "Indre Østfold", "920123456", 1415123.95, "2020-03", "SIO-2020-03-K7-3014"],
    ]
    for row in (2, 3):
        assert sheet.cell(row, 1).data_type == "s"
        amount = sheet.cell(row, 4)
        assert amount.data_type == "n"
        assert amount.number_format == '#,##0.00 "kr";-#,##0.00 "kr"'


def test_a_run_where_nobody_gets_money_has_a_header_only(tmp_path: Path) -> None:
    csv_path, xlsx_path = write_payment_file(KJORING, [STAVANGER], tmp_path)
    assert csv_path.read_text(encoding="utf-8") == EXPECTED_CSV.splitlines(keepends=True)[0]
    assert openpyxl.load_workbook(xlsx_path).active.max_row == 1  # type: ignore[union-attr]


def test_the_payment_file_refuses_letters_of_another_run(tmp_path: Path) -> None:
    other_run = Kjoring(8, "maaned", "2020-04", dt.datetime(2020, 4, 3), "analytiker", 5, PV)
    with pytest.raises(ValueError, match="3014 hører til utbetalingskjøring 7, ikke 8"):
        write_payment_file(other_run, BREVER, tmp_path)
    with pytest.raises(ValueError, match="0301"):
        write_payment_file(KJORING, [OSLO, OSLO], tmp_path)


def test_a_failed_payment_file_leaves_the_earlier_files_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_path, xlsx_path = write_payment_file(KJORING, [OSLO], tmp_path)
    before = (csv_path.read_bytes(), xlsx_path.read_bytes())

    def broken(rows: object, path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(payment_file, "_write_xlsx", broken)
    with pytest.raises(OSError, match="disk full"):
        write_payment_file(KJORING, BREVER, tmp_path)
    assert (csv_path.read_bytes(), xlsx_path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [csv_path.name, xlsx_path.name]


# --- printing to PDF ---------------------------------------------------------------------------


def _chromium() -> str:
    """The Chromium executable; a missing one fails the test under CI and skips it elsewhere."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.path.exists("/usr/bin/chromium"):
        found = "/usr/bin/chromium"
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "Chromium (/usr/bin/chromium) is required under CI: apt-get install chromium"
            )
        pytest.skip("Chromium is not installed")
    return found


def _chromium_run(page: Path, tmp_path: Path, *output: str) -> None:
    subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            *output,
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def test_a_letter_prints_to_an_a4_pdf(tmp_path: Path) -> None:
    [letter, *_rest] = write_statements([INDRE_OESTFOLD], tmp_path / "brev")
    pdf = tmp_path / "3014.pdf"
    _chromium_run(letter, tmp_path, f"--print-to-pdf={pdf}")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 5_000
    # every page is A4 portrait: 210 × 297 mm = 595 × 842 pt
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes
    for width, height in boxes:
        assert abs(float(width) - 595.3) < 2 and abs(float(height) - 841.9) < 2


def test_the_index_names_the_estimated_parameters_of_its_totals() -> None:
    """Every figure resting on an estimated parameter says so, the index's totals too."""
    page = _text(render_index(BREVER))
    assert ESTIMATES_NOTE in page  # Indre Østfold's letter rests on them; the others on none
    assert "inntektspaaslag.tak" not in page
    assert "estimater" not in _text(render_index((OSLO,)))
