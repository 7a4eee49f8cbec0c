"""Reading input files natively: only the table's columns, and the CSV habits check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from conftest import write_input
from sio.data.readers import read_table, to_text
from sio.data.validation import InputInvalid, load_input
from sio.parameters import ParameterSet
from test_cli import small_world


def test_a_character_cut_by_the_habits_check_is_not_latin1(
    tmp_path: Path, params: ParameterSet
) -> None:
    """The habits check looks at the first 64 KiB; an 'æ' (two bytes in UTF-8) across that
    boundary is still UTF-8."""
    w = small_world()
    d = write_input(tmp_path / "d", w)
    header, first = (d / "vedtak.csv").read_text(encoding="utf-8").splitlines()
    for pad in range(100):
        rows = [first.replace("P1", "P" + "x" * pad, 1)]
        rows += [first.replace("V1", f"V{i}", 1).replace("P1", f"Pæ{i}", 1) for i in range(2, 2000)]
        data = ("\n".join([header, *rows]) + "\n").encode("utf-8")
        if data[65535] == 0xC3:  # the first byte of "æ" is the last byte looked at
            break
    else:
        raise AssertionError("no padding puts an 'æ' across the boundary")
    (d / "vedtak.csv").write_bytes(data)
    loaded, _p = load_input(d, params)
    assert loaded.vedtak.height == 1999
    assert loaded.vedtak.get_column("person_id").to_list()[1] == "Pæ2"


def test_native_read_takes_only_the_tables_columns(tmp_path: Path) -> None:
    path = tmp_path / "vedtak.parquet"
    pl.DataFrame(
        {
            "merknad": ["x"],
            "vedtak_id": ["V1"],
            "fra": [dt.date(2016, 1, 1)],
            "omfang": [7.5],
        }
    ).write_parquet(path)
    table = read_table(path, "vedtak", native=True)
    assert table.native
    assert table.frame.columns == ["vedtak_id", "fra", "omfang"]
    assert table.frame.schema["fra"] == pl.Date
    assert to_text(table.frame).rows() == [("V1", "2016-01-01", "7.5")]
    assert table.text().rows() == [("V1", "2016-01-01", "7.5")]


def test_native_csv_read_keeps_the_cells_as_written(tmp_path: Path) -> None:
    path = tmp_path / "vedtak.csv"
    path.write_text("vedtak_id,ekstra,omfang\n V1 ,a,7.5\n", encoding="utf-8")
    table = read_table(path, "vedtak", native=True)
    assert table.frame.rows() == [(" V1 ", "7.5")]
    assert table.text().rows() == [("V1", "7.5")]


def test_bytes_that_are_not_text_are_a_read_problem(tmp_path: Path, params: ParameterSet) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "vedtak.csv").unlink()
    pl.DataFrame(
        {
            "vedtak_id": ["V1"],
            "person_id": pl.Series([b"\xff\xfe"], dtype=pl.Binary),
            "kommunenummer": ["9001"],
            "tjeneste": ["HJSPL"],
            "prisgruppe": [None],
            "omfang": ["7"],
            "enhet": ["timer_per_uke"],
            "fra": ["2016-01-01"],
            "til": [None],
        }
    ).write_parquet(d / "vedtak.parquet")
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [(p.file, p.row, p.field, p.rule) for p in exc.value.problems] == [
        ("vedtak.parquet", None, None, "read")
    ]
