"""`write_results` (sio.report.files): the output contract of interfaces.md §4 as CSV, Parquet,
Excel and JSON, read back and compared with hand-built results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from sio.report import files
from sio.report.files import RESULT_SHEET, write_results
from sio.results import AMOUNT_COLUMNS, OUTPUT_COLUMNS, AnnualResult

ESTIMATES = ("aktivitetstilskudd.enhetspris.HJSPL.STANDARD", "uttrekk.deflator")

# Given out of order: the files are sorted by year, then municipality number.
RESULTS: tuple[AnnualResult, ...] = (
    AnnualResult(
        kommunenummer="4601",
        navn="Bergen",
        aar=2021,
        modell="A",
        maaneder=12,
        uttrekk=3_210_987_654,  # beyond 32-bit integers
        toppfinansiering=12_345_678,
        aktivitetstilskudd=2_900_000_001,
        rundsumtilskudd=321_098_765,
        oeremerket_tilskudd=0,
        inntektspaaslag=28_000_000,
        tilskudd=3_249_098_766,
        netto=3_249_098_766 - 3_210_987_654 - 12_345_678,
        estimerte_parametere=ESTIMATES,
    ),
    AnnualResult(
        kommunenummer="0301",
        navn="Oslo",
        aar=2021,
        modell="B",
        maaneder=7,
        uttrekk=1_000_000,
        toppfinansiering=0,
        aktivitetstilskudd=0,
        rundsumtilskudd=0,
        oeremerket_tilskudd=1_000_000,
        inntektspaaslag=40_000,
        tilskudd=1_040_000,
        netto=40_000,
        estimerte_parametere=(),
    ),
    AnnualResult(
        kommunenummer="1804",
        navn="Bodø",
        aar=2020,
        modell="utfasing",
        maaneder=0,
        uttrekk=0,
        toppfinansiering=0,
        aktivitetstilskudd=0,
        rundsumtilskudd=0,
        oeremerket_tilskudd=0,
        inntektspaaslag=750_000,
        tilskudd=750_000,
        netto=750_000,
        estimerte_parametere=("inntektspaaslag.nedtrapping.aar_1",),
    ),
    AnnualResult(
        kommunenummer="5001",
        navn="Trondheim",
        aar=2021,
        modell="A",
        maaneder=12,
        uttrekk=500_000,
        toppfinansiering=10_000,
        aktivitetstilskudd=100_000,
        rundsumtilskudd=50_000,
        oeremerket_tilskudd=0,
        inntektspaaslag=20_000,
        tilskudd=170_000,
        netto=170_000 - 500_000 - 10_000,  # negative
        estimerte_parametere=ESTIMATES,
    ),
)

ORDERED = sorted(RESULTS, key=lambda r: (r.aar, r.kommunenummer))
TEXT = ("kommunenummer", "navn", "modell")
INTEGERS = ("aar", "maaneder", *AMOUNT_COLUMNS)


def expected_rows(joined: bool) -> list[dict[str, Any]]:
    """The hand-built results as rows of the contract; estimates joined with ";" or a list."""
    rows = []
    for r in ORDERED:
        row = r.to_dict()
        if joined:
            row["estimerte_parametere"] = ";".join(r.estimerte_parametere)
        rows.append(row)
    return rows


def test_the_hand_built_rows_add_up() -> None:
    for r in RESULTS:
        grants = r.aktivitetstilskudd + r.rundsumtilskudd + r.oeremerket_tilskudd
        assert r.tilskudd == grants + r.inntektspaaslag
        assert r.netto == r.tilskudd - r.uttrekk - r.toppfinansiering


def test_json_is_the_array_of_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    write_results(RESULTS, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == expected_rows(joined=False)
    assert all(list(obj) == list(OUTPUT_COLUMNS) for obj in data)
    assert data[1]["kommunenummer"] == "0301"
    assert isinstance(data[0]["uttrekk"], int)
    assert "Bodø" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes


def test_csv_has_the_contract_columns_and_joined_estimates(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_results(RESULTS, path)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == list(OUTPUT_COLUMNS)
    rows = frame.with_columns(
        [pl.col(c).cast(pl.Int64) for c in INTEGERS]
        + [pl.col("estimerte_parametere").fill_null("")]
    ).to_dicts()
    assert rows == expected_rows(joined=True)
    assert frame.get_column("kommunenummer").to_list() == ["1804", "0301", "4601", "5001"]


def test_parquet_keeps_types_and_the_estimates_as_a_list(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    write_results(RESULTS, path)
    frame = pl.read_parquet(path)
    assert frame.columns == list(OUTPUT_COLUMNS)
    assert frame.schema["estimerte_parametere"] == pl.List(pl.Utf8)
    for col in TEXT:
        assert frame.schema[col] == pl.Utf8, col
    for col in INTEGERS:
        assert frame.schema[col] == pl.Int64, col
    assert frame.to_dicts() == expected_rows(joined=False)


def test_excel_has_one_sheet_with_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_results(RESULTS, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [RESULT_SHEET]
    values = list(book[RESULT_SHEET].iter_rows(values_only=True))
    assert values[0] == OUTPUT_COLUMNS
    for got, want in zip(values[1:], expected_rows(joined=True), strict=True):
        row = dict(zip(OUTPUT_COLUMNS, got, strict=True))
        row["estimerte_parametere"] = row["estimerte_parametere"] or ""  # empty cell = none
        assert row == want
        for col in INTEGERS:
            assert isinstance(row[col], int), col
        for col in TEXT:
            assert isinstance(row[col], str), col


def test_an_empty_result_list_gives_a_header_only(tmp_path: Path) -> None:
    write_results([], tmp_path / "empty.parquet")
    frame = pl.read_parquet(tmp_path / "empty.parquet")
    assert frame.columns == list(OUTPUT_COLUMNS) and frame.height == 0
    write_results([], tmp_path / "empty.json")
    assert json.loads((tmp_path / "empty.json").read_text(encoding="utf-8")) == []


def test_the_suffix_is_read_without_regard_to_case(tmp_path: Path) -> None:
    write_results(RESULTS, tmp_path / "OUT.JSON")
    assert json.loads((tmp_path / "OUT.JSON").read_text(encoding="utf-8"))[0]["aar"] == 2020


@pytest.mark.parametrize("name", ["out.txt", "out.xls", "out"])
def test_an_unknown_suffix_is_a_clear_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.csv, \.parquet, \.xlsx, \.json"):
        write_results(RESULTS, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.parquet"
    write_results(RESULTS[:1], path)
    before = path.read_bytes()

    def broken(_results: object) -> pl.DataFrame:
        raise RuntimeError("disk full")

    monkeypatch.setattr(files, "_results_frame", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_results(RESULTS, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_writing_again_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_results(RESULTS, path)
    write_results(RESULTS[1:2], path)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.get_column("kommunenummer").to_list() == ["0301"]
