"""Loading without copies: what the leaner reading and checking of the input must keep as it was.

- A Parquet date column is checked by its least and greatest date (`sio.data.vedtak_fast`): a date
  whose year has five digits is still refused, where the text read refuses it.
- The evaluation's tables are read in their own types with every column of the file and turned
  into text only while they are checked (`load_input`): a column the table does not know is
  still checked for NUL characters, as in a text read.
- A lookup of a municipality's validity adds columns to a table instead of joining it (the rows
  keep their order and number, also when a code is unknown or empty).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from conftest import write_input
from sio.data.validation import InputInvalid, load_input, looked_up
from sio.parameters import ParameterSet
from test_cli import small_world


def test_a_parquet_date_of_year_10000_is_not_a_date(tmp_path: Path, params: ParameterSet) -> None:
    d = write_input(tmp_path / "d", small_world())
    (d / "vedtak.csv").unlink()
    pl.DataFrame(
        {
            "vedtak_id": ["V1", "V2", "V3"],
            "person_id": ["P1", "P2", "P3"],
            "kommunenummer": ["9001"] * 3,
            "tjeneste": ["HJSPL"] * 3,
            "prisgruppe": [None] * 3,
            "omfang": [7.0] * 3,
            "enhet": ["timer_per_uke"] * 3,
            "fra": [dt.date(2016, 1, 1)] * 3,
            # 2016-12-31, and on line 3 the day after 9999-12-31 (days since 1970-01-01): a year
            # of five digits, which is no date YYYY-MM-DD
            "til": pl.Series([17166, 2932897, None], dtype=pl.Int32).cast(pl.Date),
        }
    ).write_parquet(d / "vedtak.parquet")
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [(p.file, p.row, p.field, p.rule) for p in exc.value.problems] == [
        ("vedtak.parquet", 3, "til", "date")
    ]


def test_an_unknown_column_of_kartlegging_is_checked_for_nul(
    tmp_path: Path, params: ParameterSet
) -> None:
    world = small_world()
    d = write_input(tmp_path / "d", world)
    pl.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "kommunenummer": ["9001", "9001"],
            "dato": [dt.date(2016, 3, 1), dt.date(2016, 4, 1)],
            "behovsniva": ["noe_avgrenset", "omfattende"],
            "merknad": ["ok", "a\x00b"],  # not a column of the table
        }
    ).write_parquet(d / "kartlegging.parquet")
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [(p.file, p.row, p.field, p.rule) for p in exc.value.problems] == [
        ("kartlegging.parquet", 3, "merknad", "nul")
    ]


def test_a_lookup_keeps_the_rows_in_order() -> None:
    df = pl.DataFrame({"k": ["b", None, "a", "x", "b"], "v": [1, 2, 3, 4, 5]})
    right = pl.DataFrame({"k": ["a", "b"], "w": [10, 20]})
    out = looked_up(df, right, "k")
    assert out.columns == ["k", "v", "w"]
    assert out.get_column("v").to_list() == [1, 2, 3, 4, 5]
    assert out.get_column("w").to_list() == [20, None, 10, None, 20]


def test_a_lookup_of_a_key_given_twice_repeats_the_row() -> None:
    df = pl.DataFrame({"k": ["a", "b"], "v": [1, 2]})
    right = pl.DataFrame({"k": ["a", "a"], "w": [10, 11]})
    out = looked_up(df, right, "k")
    assert sorted(out.rows()) == [("a", 1, 10), ("a", 1, 11), ("b", 2, None)]
