"""Files as people have them: Excel workbooks as Excel writes them, CSV as Norwegian Excel saves it,
and the messages for dates, numbers, empty files and misnamed files (issue 11).

The workbooks are written with openpyxl, with real date cells and numeric cells, the way Excel
stores them; the CSV files are written byte for byte as Norwegian Excel saves "CSV (semikolon-
separert)": Windows-1252, a BOM where Excel puts one, CRLF, decimal commas. Each world is the small
world of `test_cli` (figures of 2016 worked out by hand there), so that reading it right is
asserted by the figures computed from it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from conftest import write_input
from sio.data.readers import read_sheet
from sio.data.validation import InputInvalid, load_input
from sio.engine import Engine
from sio.parameters import ParameterSet
from test_cli import EXPECTED_2016, small_world

_DATES = {"gyldig_fra", "gyldig_til", "fra", "til", "aktivitet_fra"}
_NUMBERS = {"aar", "netto_driftsutgifter", "antall", "beloep", "reiseindeks", "omfang"}


def _excel_cell(col: str, v: Any) -> Any:
    """The cell as Excel stores what a person typed: dates as date cells, numbers as numbers
    (floats), codes as numbers (Excel drops the leading zero of 0301)."""
    if v is None or v == "":
        return None
    if col in _DATES:
        return dt.datetime.fromisoformat(str(v))
    if col in _NUMBERS or col in ("kommunenummer", "kostra_funksjon"):
        try:
            return float(v)
        except ValueError:  # typed text stays text
            return v
    return v


def _workbook(path: Path, world: dict[str, list[dict[str, Any]]], title: bool = True) -> Path:
    from sio.data.tables import TABLES

    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in TABLES:
        rows = world.get(spec.name)
        if rows is None:
            continue
        sheet = book.create_sheet(spec.name)
        if title:  # a title and an empty row above the table, as people make them
            sheet.append([f"{spec.name} — levert av kommunen"])
            sheet.append([])
        sheet.append(list(spec.columns))
        for r in rows:
            sheet.append([_excel_cell(c, r.get(c)) for c in spec.columns])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "dd.mm.yyyy"
        for _i in range(3):  # trailing rows Excel keeps once they were formatted
            sheet.append([""] * len(spec.columns))
    book.save(path)
    return path


def _figures(d: Path, params: ParameterSet) -> dict[str, Any]:
    data, _p = load_input(d, params)
    row = Engine(data, params).compute_year(2016).results[0].to_dict()
    return {k: row[k] for k in EXPECTED_2016}


def test_an_excel_workbook_with_date_cells_gives_the_hand_computed_figures(
    tmp_path: Path, params: ParameterSet
) -> None:
    d = tmp_path / "xl"
    d.mkdir()
    world = small_world()
    world["vedtak"][0]["omfang"] = "7.0"  # an integer stored as a float
    _workbook(d / "inndata.xlsx", world)
    assert _figures(d, params) == EXPECTED_2016


def test_excel_cells_read_as_the_text_the_format_documents(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "utgifter"
    sheet.append(["Netto driftsutgifter 2015"])
    sheet.append(["kommunenummer", "aar", "kostra_funksjon", "netto_driftsutgifter"])
    sheet.append([301, 2015.0, 253, 100000000.0])
    sheet.append([301, 2015, 53, -12.0])
    sheet.append(["0301", "2015", "234", "7"])
    sheet.append([None, None, None, None])
    sheet.append(["", "", "", ""])
    book.save(tmp_path / "b.xlsx")
    table = read_sheet(tmp_path / "b.xlsx", "utgifter")
    assert table.frame.rows() == [
        ("0301", "2015", "253", "100000000"),
        ("0301", "2015", "053", "-12"),
        ("0301", "2015", "234", "7"),
    ]
    assert table.first_line == 3  # the header is on row 2; the first data row is row 3


def test_a_problem_in_a_sheet_names_the_sheet_row(tmp_path: Path, params: ParameterSet) -> None:
    d = tmp_path / "xl"
    d.mkdir()
    world = small_world()
    world["vedtak"][0]["omfang"] = "sju"
    _workbook(d / "inndata.xlsx", world)  # a title, an empty row, the header: data from row 4
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [str(p) for p in exc.value.problems] == [
        "inndata.xlsx[vedtak]:4: omfang: ikke et tall: 'sju'"
    ]


def test_two_rows_that_look_like_the_header_are_refused(
    tmp_path: Path, params: ParameterSet
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "toppfinansiering"
    sheet.append(["Toppfinansiering"])
    sheet.append(["kommunenummer", "aar", "beloep"])
    sheet.append(["kommunenummer", "aar", "beloep"])
    book.save(tmp_path / "b.xlsx")
    with pytest.raises(ValueError) as exc:
        read_sheet(tmp_path / "b.xlsx", "toppfinansiering")
    assert str(exc.value) == (
        "b.xlsx[toppfinansiering]: radene 2, 3 ser alle ut som overskriftsraden; "
        "slett radene over tabellen"
    )


def test_a_norwegian_excel_csv_is_read_and_the_console_says_how(
    tmp_path: Path, params: ParameterSet, capsys: pytest.CaptureFixture[str]
) -> None:
    world = small_world()
    world["kommuner"][0]["navn"] = "Bærum"
    d = write_input(tmp_path / "d", world)
    # as Norwegian Excel saves "CSV (semikolonseparert)": Windows-1252, CRLF, decimal commas
    (d / "kommuner.csv").write_bytes(
        "kommunenummer;navn;gyldig_fra;gyldig_til;aga_sone;reiseindeks;etterfolger\r\n"
        "9001;Bærum;1900-01-01;;1;0,0;\r\n".encode("cp1252")
    )
    (d / "vedtak.csv").write_bytes(
        b"vedtak_id;person_id;kommunenummer;tjeneste;prisgruppe;omfang;enhet;fra;til\r\n"
        b"V1;P1;9001;HJSPL;;7,0;timer_per_uke;2016-01-01;\r\n"
    )
    assert (d / "kommuner.csv").read_bytes().count(b"B\xe6rum") == 1
    assert _figures(d, params) == dict(EXPECTED_2016, navn="Bærum")
    assert capsys.readouterr().err.splitlines() == [
        "kommuner.csv: lest som semikolonseparert, desimalkomma, Windows-1252, CRLF",
        "vedtak.csv: lest som semikolonseparert, desimalkomma, UTF-8, CRLF",
    ]


def test_a_semicolon_csv_in_utf8_with_bom(
    tmp_path: Path, params: ParameterSet, capsys: pytest.CaptureFixture[str]
) -> None:
    d = write_input(tmp_path / "d", small_world())
    text = (d / "befolkning.csv").read_text(encoding="utf-8")
    (d / "befolkning.csv").write_bytes(b"\xef\xbb\xbf" + text.replace(",", ";").encode("utf-8"))
    assert _figures(d, params) == EXPECTED_2016
    assert capsys.readouterr().err.splitlines() == [
        "befolkning.csv: lest som semikolonseparert, UTF-8, BOM (byte order mark)"
    ]


def test_the_documented_format_says_nothing(
    tmp_path: Path, params: ParameterSet, capsys: pytest.CaptureFixture[str]
) -> None:
    d = write_input(tmp_path / "d", small_world())
    assert _figures(d, params) == EXPECTED_2016
    assert capsys.readouterr().err == ""


def _messages(d: Path, params: ParameterSet) -> list[str]:
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    return [str(p) for p in exc.value.problems]


def test_an_ambiguous_separator_is_refused_with_a_reason(
    tmp_path: Path, params: ParameterSet
) -> None:
    d = write_input(tmp_path / "d", small_world())
    text = (d / "deltakelse.csv").read_text(encoding="utf-8")
    (d / "deltakelse.csv").write_text(text.replace(",", ";", 2), encoding="utf-8")
    assert _messages(d, params) == [
        "deltakelse.csv: overskriften har både komma og semikolon, så det er uklart hva som "
        "skiller kolonnene; lagre filen som kommaseparert UTF-8-CSV"
    ]


def test_dates_and_numbers_echo_the_value_they_refuse(tmp_path: Path, params: ParameterSet) -> None:
    world = small_world()
    world["vedtak"][0]["fra"] = "2020-02-31"
    world["vedtak"][0]["til"] = "31.12.2020"
    world["kommuner"][0]["reiseindeks"] = "en"
    world["befolkning"][0]["antall"] = "8000.5"
    world["utgifter"][0]["aar"] = "15"
    d = write_input(tmp_path / "d", world)
    assert _messages(d, params) == [
        "kommuner.csv:2: reiseindeks: ikke et tall (bruk desimalpunktum): 'en'",
        "utgifter.csv:2: aar: ikke et årstall (fire sifre): '15'",
        "befolkning.csv:2: antall: ikke et heltall: '8000.5'",
        "vedtak.csv:2: fra: den dagen finnes ikke: '2020-02-31'",
        "vedtak.csv:2: til: ikke en dato på formen ÅÅÅÅ-MM-DD: '31.12.2020'",
    ]


def test_an_empty_file_is_named(tmp_path: Path, params: ParameterSet) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "utgifter.csv").write_bytes(b"")
    (d / "befolkning.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    assert _messages(d, params) == [
        "utgifter.csv: filen er tom (ikke engang en overskriftslinje)",
        "befolkning.csv: filen er tom (ikke engang en overskriftslinje)",
    ]


def test_a_misnamed_file_is_pointed_at(tmp_path: Path, params: ParameterSet) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "vedtak.csv").rename(d / "Vedtak 2020.csv")
    assert _messages(d, params) == [
        "vedtak.csv: filen mangler, men det finnes 'Vedtak 2020.csv': gi den navnet vedtak.csv "
        "(nøyaktig, med små bokstaver)"
    ]


def _sio(*args: str) -> Any:
    from typer.testing import CliRunner

    from sio.cli import app

    return CliRunner().invoke(app, list(args))


def test_a_header_only_file_is_said(tmp_path: Path, params: ParameterSet) -> None:
    world = small_world()
    world["vedtak"] = []
    d = write_input(tmp_path / "d", world)
    res = _sio("compute", "--data", str(d), "--year", "2016", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert "vedtak.csv: bare overskriftslinjen, ingen rader" in res.stderr.splitlines()
    row = res.stdout.splitlines()[1].split(",")
    assert row[7] == "0"  # no vedtak: no activity grant
    assert row[8] == "6859961"  # the lump sum of the hand computation stands


def test_a_year_outside_the_data_is_refused_naming_the_years(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    res = _sio("compute", "--data", str(d), "--year", "2030")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        "Feil: 2030 ligger utenfor dataene: befolkningstabellen dekker 2015–2016; ingenting ble "
        "beregnet (befolkning: befolkning etter aldersgruppe mangler for 9001 i 2017)"
    ]


def test_a_year_nobody_participates_in_is_said(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    res = _sio("compute", "--data", str(d), "--year", "2015")
    assert res.exit_code == 0
    assert res.stderr.splitlines() == ["Ingen kommune deltar i 2015: det er ingen tall."]


def test_compute_filters_by_municipality(tmp_path: Path) -> None:
    world = small_world()
    second = dict(world["kommuner"][0], kommunenummer="9002", navn="Andreby")
    world["kommuner"].append(second)
    world["deltakelse"].append(dict(world["deltakelse"][0], kommunenummer="9002"))
    world["utgifter"] += [dict(r, kommunenummer="9002") for r in world["utgifter"]]
    world["befolkning"] += [dict(r, kommunenummer="9002") for r in world["befolkning"]]
    d = write_input(tmp_path / "d", world)
    res = _sio("compute", "--data", str(d), "--year", "2016", "--format", "csv")
    assert [line.split(",")[0] for line in res.stdout.splitlines()[1:]] == ["9001", "9002"]
    res = _sio(
        "compute", "--data", str(d), "--year", "2016", "--format", "csv", "--kommune", "9002"
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()[1:]
    assert [line.split(",")[:2] for line in lines] == [["9002", "Andreby"]]
    assert lines[0].split(",")[5] == "68599612"  # the same uttrekk as 9001's, by hand
    res = _sio("compute", "--data", str(d), "--year", "2016", "--kommune", "0301")
    assert res.exit_code == 2
    assert res.stderr.splitlines() == ["Feil: kommunen 0301 finnes ikke i dataene (kommuner)"]


def test_a_misnamed_sheet_is_pointed_at(tmp_path: Path, params: ParameterSet) -> None:
    world = small_world()
    d = write_input(tmp_path / "d", world)
    (d / "vedtak.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Vedtak"
    sheet.append(["vedtak_id"])
    book.save(d / "inndata.xlsx")
    assert _messages(d, params) == [
        "vedtak.csv: filen mangler, men det finnes 'inndata.xlsx[Vedtak]': gi den navnet vedtak "
        "(nøyaktig, med små bokstaver)"
    ]


def test_explain_of_a_year_outside_the_data_names_the_years(tmp_path: Path) -> None:
    d = write_input(tmp_path / "d", small_world())
    res = _sio("forklar", "--data", str(d), "--kommune", "9001", "--aar", "2030")
    assert res.exit_code == 2
    assert res.stderr.splitlines()[0].startswith(
        "Feil: 2030 ligger utenfor dataene: befolkningstabellen dekker 2015–2016; "
    )
