"""Input validation: every problem in one run, named by file, line, field and rule; formats."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import write_input
from sio.data.readers import read_input_dir
from sio.data.validation import InputInvalid, load_input, problems_json, validate_raw
from sio.engine import Engine
from sio.parameters import ParameterSet
from test_cli import EXPECTED_2016, small_world


def _problems(d: Path, params: ParameterSet) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    return [(p.file, p.row, p.field, p.rule) for p in exc.value.problems]


def test_every_problem_is_listed_in_one_run(tmp_path: Path, params: ParameterSet) -> None:
    w = small_world()
    w["kommuner"].append(
        {
            "kommunenummer": "123",
            "navn": "",
            "gyldig_fra": "2020-02-30",
            "aga_sone": "6",
            "reiseindeks": "-1",
        }
    )
    w["deltakelse"].append(
        {"kommunenummer": "9001", "modell": "C", "fra": "2016-06-15", "til": "2016-07-30"}
    )
    w["vedtak"].append(
        {
            "vedtak_id": "V1",
            "person_id": "01017012345",
            "kommunenummer": "9002",
            "tjeneste": "INST_LANG",
            "prisgruppe": "LUKSUS",
            "omfang": "7,5",
            "enhet": "timer_per_uke",
            "fra": "2016-01-01",
        }
    )
    probs = set(_problems(write_input(tmp_path / "d", w), params))
    expected = {
        ("kommuner.csv", 3, "kommunenummer", "code"),
        ("kommuner.csv", 3, "navn", "required"),
        ("kommuner.csv", 3, "gyldig_fra", "date"),
        ("kommuner.csv", 3, "aga_sone", "zone"),
        ("kommuner.csv", 3, "reiseindeks", "negative"),
        ("deltakelse.csv", 3, "modell", "model"),
        ("deltakelse.csv", 3, "fra", "month_start"),
        ("deltakelse.csv", 3, "til", "month_end"),
        ("deltakelse.csv", 3, "fra", "overlap"),
        ("vedtak.csv", 3, "vedtak_id", "duplicate"),
        ("vedtak.csv", 3, "person_id", "pseudonym"),
        ("vedtak.csv", 3, "kommunenummer", "unknown"),
        ("vedtak.csv", 3, "prisgruppe", "price_group"),
        ("vedtak.csv", 3, "omfang", "decimal_comma"),
        ("vedtak.csv", 3, "enhet", "unit_service"),
    }
    assert expected <= probs, expected - probs


def test_problems_as_json(tmp_path: Path, params: ParameterSet) -> None:
    w = small_world()
    w["vedtak"][0]["omfang"] = "-2"
    raw = read_input_dir(write_input(tmp_path / "d", w))
    data, problems = validate_raw(raw, params)
    assert data is None
    parsed = json.loads(problems_json(problems))
    assert len(parsed) == 1
    p = parsed[0]
    assert (p["file"], p["row"], p["field"], p["rule"], p["severity"]) == (
        "vedtak.csv",
        2,
        "omfang",
        "negative",
        "error",
    )
    assert p["message"] and p["message"] != "volume must be 0 or more"  # Norwegian by default


def test_a_warning_does_not_block(tmp_path: Path, params: ParameterSet) -> None:
    w = small_world()
    w["vedtak"][0]["omfang"] = "100"  # above the usual range, below 168 h/week
    _data, problems = load_input(write_input(tmp_path / "d", w), params)
    assert [(p.row, p.field, p.severity) for p in problems] == [(2, "omfang", "warning")]


def test_missing_file_and_column(tmp_path: Path, params: ParameterSet) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "befolkning.csv").unlink()
    text = (d / "vedtak.csv").read_text().replace("enhet,", "enheten,")
    (d / "vedtak.csv").write_text(text)
    probs = _problems(d, params)
    assert ("befolkning.csv", None, None, "read") in probs
    assert ("vedtak.csv", 1, "enhet", "column") in probs


def test_semicolon_and_latin1_are_recognised(tmp_path: Path, params: ParameterSet) -> None:
    """Semicolons and Latin-1 are recognised (issue 11: read when unambiguous, no longer refused):
    the semicolon file reads as its comma twin, and the Latin-1 file's stray line is named with
    its text decoded right."""
    d = write_input(tmp_path / "d", small_world())
    kommuner = (d / "kommuner.csv").read_text(encoding="utf-8")
    (d / "kommuner.csv").write_text(kommuner.replace(",", ";"), encoding="utf-8")
    (d / "deltakelse.csv").write_bytes(
        "kommunenummer,modell,fra,til,aktivitet_fra,covid_saerordning\n9001,A,2016-05-01,,,\n"
        "# Bærum\n".encode("latin-1")
    )
    probs = _problems(d, params)
    assert [p for p in probs if p[0] == "kommuner.csv" or p[3] == "read"] == []
    assert ("deltakelse.csv", 3, "kommunenummer", "code") in probs


def test_parquet_and_excel_give_the_same_result(tmp_path: Path, params: ParameterSet) -> None:
    csv_dir = write_input(tmp_path / "csv", small_world())
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    xl_dir = tmp_path / "xl"
    xl_dir.mkdir()
    import xlsxwriter

    book = xlsxwriter.Workbook(str(xl_dir / "inndata.xlsx"))
    for f in sorted(csv_dir.glob("*.csv")):
        df = pl.read_csv(f, infer_schema=False)
        df.write_parquet(pq_dir / f"{f.stem}.parquet")
        df.write_excel(workbook=book, worksheet=f.stem)
    book.close()
    results = []
    for d in (csv_dir, pq_dir, xl_dir):
        data, _ = load_input(d, params)
        row = Engine(data, params).compute_year(2016).results[0].to_dict()
        results.append({k: row[k] for k in EXPECTED_2016})
    assert results[0] == EXPECTED_2016
    assert results[1] == EXPECTED_2016
    assert results[2] == EXPECTED_2016


def test_one_bad_row_among_many_is_named(tmp_path: Path, params: ParameterSet) -> None:
    w = small_world()
    v = w["vedtak"][0]
    w["vedtak"] = [dict(v, vedtak_id=f"V{i}") for i in range(20_000)]
    w["vedtak"][12_345]["til"] = "2015-12-31"
    probs = _problems(write_input(tmp_path / "d", w), params)
    assert probs == [("vedtak.csv", 12_347, "til", "order")]


def test_parquet_null_boolean_means_true(tmp_path: Path, params: ParameterSet) -> None:
    """An empty covid_saerordning is true (interfaces.md §1), also as a typed Parquet null."""
    d = write_input(tmp_path / "d", small_world())
    (d / "deltakelse.csv").unlink()
    pl.DataFrame(
        {
            "kommunenummer": ["9001"],
            "modell": ["A"],
            "fra": [dt.date(2016, 5, 1)],
            "til": [None],
            "aktivitet_fra": [None],
            "covid_saerordning": [None],
        },
        schema={
            "kommunenummer": pl.Utf8,
            "modell": pl.Utf8,
            "fra": pl.Date,
            "til": pl.Date,
            "aktivitet_fra": pl.Date,
            "covid_saerordning": pl.Boolean,
        },
    ).write_parquet(d / "deltakelse.parquet")
    data, _ = load_input(d, params)
    assert data.deltakelse.get_column("covid_saerordning").to_list() == [True]


def test_a_successor_that_differs_from_ssb_history_is_a_warning(
    tmp_path: Path, params: ParameterSet
) -> None:
    """Enebakk 0229 became 3028 in 2020 (SSB); a file saying 3220 gets a warning, not an error."""
    w = small_world()
    w["kommuner"] += [
        {
            "kommunenummer": "0229",
            "navn": "Enebakk",
            "gyldig_fra": "1900-01-01",
            "gyldig_til": "2019-12-31",
            "aga_sone": "1",
            "reiseindeks": "0",
            "etterfolger": "3220",
        },
        {
            "kommunenummer": "3220",
            "navn": "Enebakk",
            "gyldig_fra": "2020-01-01",
            "aga_sone": "1",
            "reiseindeks": "0",
        },
    ]
    _data, problems = load_input(write_input(tmp_path / "d", w), params)
    assert [(p.file, p.row, p.field, p.rule, p.severity) for p in problems] == [
        ("kommuner.csv", 3, "etterfolger", "history", "warning")
    ]
    assert "3028" in problems[0].message


# -- the optional organisasjonsnummer of kommuner ------------------------------------------------
# Hand computation of the check digit (weights 3 2 7 6 5 4 3 2 over the first eight digits):
# 1·3 + 2·2 + 3·7 + 4·6 + 5·5 + 6·4 + 7·3 + 8·2 = 138 = 12·11 + 6, check digit 11 − 6 = 5, so
# 123456785 is valid and 123456789 is not. Fictional: real numbers begin with 8 or 9.
VALID_ORGNR = "123456785"


def _with_orgnr(d: Path, values: list[str]) -> Path:
    """Add an `organisasjonsnummer` column to kommuner.csv, one value per data row."""
    import csv

    path = d / "kommuner.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == len(values) + 1
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*rows[0], "organisasjonsnummer"])
        for row, value in zip(rows[1:], values, strict=True):
            w.writerow([*row, value])
    return d


def _orgnr_world(values: list[str]) -> dict[str, list[dict[str, Any]]]:
    """small_world with one more municipality (9002, 9003 …) per value after the first."""
    w = small_world()
    for i in range(1, len(values)):
        w["kommuner"].append(
            {
                "kommunenummer": f"{9001 + i}",
                "navn": f"Testby {i}",
                "gyldig_fra": "1900-01-01",
                "aga_sone": "1",
                "reiseindeks": "0",
            }
        )
    return w


def test_organisation_numbers_valid_spaced_and_empty(tmp_path: Path, params: ParameterSet) -> None:
    values = [VALID_ORGNR, "123 456 785", "", " 123456785 "]
    d = _with_orgnr(write_input(tmp_path / "d", _orgnr_world(values)), values)
    data, problems = load_input(d, params)
    assert problems == []
    assert data.kommuner.schema["organisasjonsnummer"] == pl.Utf8
    assert data.kommuner.select("kommunenummer", "organisasjonsnummer").rows() == [
        ("9001", "123456785"),
        ("9002", "123456785"),  # spaces removed: the compact form
        ("9003", None),  # empty: unknown
        ("9004", "123456785"),
    ]


def test_organisation_numbers_invalid_are_named_by_row_and_rule(
    tmp_path: Path, params: ParameterSet
) -> None:
    values = [VALID_ORGNR, "123456789", "12345678", "1234567851", "12345678X", "123 456 784"]
    d = _with_orgnr(write_input(tmp_path / "d", _orgnr_world(values)), values)
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    problems = exc.value.problems
    assert [(p.file, p.row, p.field, p.rule) for p in problems] == [
        ("kommuner.csv", 3, "organisasjonsnummer", "check_digit"),
        ("kommuner.csv", 4, "organisasjonsnummer", "orgnr"),  # eight digits
        ("kommuner.csv", 5, "organisasjonsnummer", "orgnr"),  # ten digits
        ("kommuner.csv", 6, "organisasjonsnummer", "orgnr"),  # a letter
        ("kommuner.csv", 7, "organisasjonsnummer", "check_digit"),  # spaced, last digit wrong
    ]
    assert str(problems[0]) == (
        "kommuner.csv:3: organisasjonsnummer: feil kontrollsiffer: ikke et gyldig "
        "organisasjonsnummer"
    )
    assert str(problems[1]) == (
        "kommuner.csv:4: organisasjonsnummer: et organisasjonsnummer har ni siffer "
        "(mellomrom er tillatt)"
    )


def test_without_the_organisation_number_column_the_input_is_as_before(
    tmp_path: Path, params: ParameterSet
) -> None:
    d = write_input(tmp_path / "d", small_world())
    assert "organisasjonsnummer" not in (d / "kommuner.csv").read_text(encoding="utf-8")
    data, problems = load_input(d, params)
    assert problems == []
    assert data.kommuner.get_column("organisasjonsnummer").to_list() == [None]
    assert data.kommuner.schema["organisasjonsnummer"] == pl.Utf8
    row = Engine(data, params).compute_year(2016).results[0].to_dict()
    assert {k: row[k] for k in EXPECTED_2016} == EXPECTED_2016


def test_organisation_number_as_a_parquet_integer(tmp_path: Path, params: ParameterSet) -> None:
    d = write_input(tmp_path / "d", small_world())
    kommuner = pl.read_csv(d / "kommuner.csv", infer_schema=False)
    (d / "kommuner.csv").unlink()
    kommuner.with_columns(
        pl.lit(123456785, dtype=pl.Int64).alias("organisasjonsnummer")
    ).write_parquet(d / "kommuner.parquet")
    data, problems = load_input(d, params)
    assert problems == []
    assert data.kommuner.get_column("organisasjonsnummer").to_list() == [VALID_ORGNR]
