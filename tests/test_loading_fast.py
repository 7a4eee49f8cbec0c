"""The fast path of loading vedtak: the same typed data, warnings and errors as the full check.

The fast path (`sio.data.vedtak_fast`) must never accept a table that the row-by-row diagnosis
rejects, and must type an accepted one exactly as the diagnosis and `with_derived` would.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import write_input
from sio.data.readers import read_input_dir, read_table
from sio.data.synth import national_frames
from sio.data.validation import InputInvalid, load_input, validate_raw, vedtak_rules
from sio.data.vedtak_fast import typed_vedtak
from sio.parameters import ParameterSet
from test_cli import small_world


def _both(d: Path, params: ParameterSet) -> tuple[Any, Any]:
    """(data, problems) of the fast path and of the full diagnosis, for the same directory."""
    fast = validate_raw(read_input_dir(d, native=("vedtak",)), params)
    full = validate_raw(read_input_dir(d), params, fast=False)
    return fast, full


def _assert_same(d: Path, params: ParameterSet) -> None:
    (fdata, fprobs), (sdata, sprobs) = _both(d, params)
    assert [str(p) for p in fprobs] == [str(p) for p in sprobs]
    assert (fdata is None) == (sdata is None)
    if fdata is not None:
        assert_frame_equal(fdata.vedtak, sdata.vedtak)
        assert_frame_equal(fdata.vedtak_groups, sdata.vedtak_groups)


def _vedtak(**cells: str) -> dict[str, str]:
    row = {
        "vedtak_id": "V9",
        "person_id": "P9",
        "kommunenummer": "9001",
        "tjeneste": "HJSPL",
        "omfang": "7",
        "enhet": "timer_per_uke",
        "fra": "2016-01-01",
    }
    row.update(cells)
    return row


def _world(*extra: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    w = small_world()
    w["kommuner"].append(
        {
            "kommunenummer": "9002",
            "navn": "Nyby",
            "gyldig_fra": "2010-01-01",
            "gyldig_til": "2019-12-31",
            "aga_sone": "5",
            "reiseindeks": "1.5",
        }
    )
    w["vedtak"] += [
        _vedtak(vedtak_id="V2", kommunenummer="9002", omfang="2.5", til="2018-06-30"),
        _vedtak(
            vedtak_id="V3", tjeneste="INST_KORT", prisgruppe="LINDRENDE", omfang="1", enhet="doegn"
        ),
        _vedtak(vedtak_id="V4", omfang="100"),  # unusual: above 84 hours a week
        _vedtak(vedtak_id="V5", tjeneste="TRYGGHETSALARM", prisgruppe="EGEN", enhet="per_maaned"),
        _vedtak(vedtak_id="V6", tjeneste="STOETTEKONTAKT", omfang="10", enhet="timer_per_maaned"),
        *extra,
    ]
    return w


def test_the_typed_vedtak_and_their_groups(tmp_path: Path, params: ParameterSet) -> None:
    data, problems = load_input(write_input(tmp_path / "d", _world()), params)
    assert [(p.row, p.field, p.rule) for p in problems] == [(5, "omfang", "unusual")]
    v = data.vedtak
    assert v.get_column("vedtak_id").to_list() == ["V1", "V2", "V3", "V4", "V5", "V6"]
    assert v.get_column("line").to_list() == [2, 3, 4, 5, 6, 7]
    assert v.get_column("prisgruppe").to_list() == [
        "STANDARD",
        "STANDARD",
        "LINDRENDE",
        "STANDARD",
        "EGEN",
        "STANDARD",
    ]
    assert v.get_column("omfang_tekst").to_list() == ["7", "2.5", "1", "100", "7", "10"]
    # groups in the order of (kommunenummer, tjeneste, prisgruppe)
    assert data.vedtak_groups.rows() == [
        (0, "9001", "HJSPL", "STANDARD"),
        (1, "9001", "INST_KORT", "LINDRENDE"),
        (2, "9001", "STOETTEKONTAKT", "STANDARD"),
        (3, "9001", "TRYGGHETSALARM", "EGEN"),
        (4, "9002", "HJSPL", "STANDARD"),
    ]
    assert v.get_column("gid").to_list() == [0, 4, 1, 0, 3, 2]
    # volume per day: hours a week / 7, otherwise the volume; per-month units flagged
    assert v.get_column("_q").to_list() == [1.0, 2.5 / 7, 1.0, 100 / 7, 7.0, 10.0]
    assert v.get_column("_m").to_list() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    day_2016 = (dt.date(2016, 1, 1) - dt.date(1970, 1, 1)).days  # 16 801
    assert v.get_column("_fra").to_list() == [day_2016] * 6
    til = v.get_column("_til").to_list()
    assert til[1] == (dt.date(2018, 6, 30) - dt.date(1970, 1, 1)).days
    assert til[0] == til[2] > 2_000_000  # open: far in the future


def test_fast_and_full_agree_on_a_valid_table(tmp_path: Path, params: ParameterSet) -> None:
    _assert_same(write_input(tmp_path / "d", _world()), params)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_fast_and_full_agree_on_synthetic_data(
    tmp_path: Path, params: ParameterSet, fmt: str
) -> None:
    for name, frame in national_frames(persons=3000).items():
        if fmt == "csv":
            frame.write_csv(tmp_path / f"{name}.csv", null_value="")
        else:
            frame.write_parquet(tmp_path / f"{name}.parquet")
    _assert_same(tmp_path, params)


# One broken cell each, the line it is on (V9 is line 8) and the rule it breaks.
BROKEN: list[tuple[dict[str, str], str, str]] = [
    ({"vedtak_id": ""}, "vedtak_id", "required"),
    ({"vedtak_id": "V1"}, "vedtak_id", "duplicate"),
    ({"person_id": ""}, "person_id", "required"),
    ({"person_id": "01017012345"}, "person_id", "pseudonym"),
    ({"kommunenummer": ""}, "kommunenummer", "required"),
    ({"kommunenummer": "901"}, "kommunenummer", "code"),
    ({"kommunenummer": "9003"}, "kommunenummer", "unknown"),
    ({"kommunenummer": "9002", "til": ""}, "kommunenummer", "validity"),
    (
        {"kommunenummer": "9002", "fra": "2009-12-31", "til": "2012-01-01"},
        "kommunenummer",
        "validity",
    ),
    ({"tjeneste": ""}, "tjeneste", "required"),
    ({"tjeneste": "HJEMMEHJELP"}, "tjeneste", "service"),
    ({"prisgruppe": "LINDRENDE"}, "prisgruppe", "price_group"),
    ({"enhet": ""}, "enhet", "required"),
    ({"enhet": "timer"}, "enhet", "unit"),
    ({"enhet": "doegn"}, "enhet", "unit_service"),
    ({"tjeneste": "INST_LANG", "omfang": "1"}, "enhet", "unit_service"),
    ({"omfang": ""}, "omfang", "required"),
    ({"omfang": "7,5"}, "omfang", "decimal_comma"),
    ({"omfang": "sju"}, "omfang", "number"),
    ({"omfang": "1e3"}, "omfang", "number"),
    ({"omfang": "-1"}, "omfang", "negative"),
    ({"omfang": "169"}, "omfang", "range"),
    ({"fra": ""}, "fra", "required"),
    ({"fra": "2016-02-30"}, "fra", "date"),
    ({"fra": "1.1.2016"}, "fra", "date"),
    ({"til": "2016-1-31"}, "til", "date"),
    ({"til": "2015-12-31"}, "til", "order"),
]


@pytest.mark.parametrize(("cells", "field", "rule"), BROKEN)
def test_a_broken_cell_is_named_as_before(
    tmp_path: Path, params: ParameterSet, cells: dict[str, str], field: str, rule: str
) -> None:
    d = write_input(tmp_path / "d", _world(_vedtak(**cells)))
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert ("vedtak.csv", 8, field, rule) in [
        (p.file, p.row, p.field, p.rule) for p in exc.value.problems
    ]
    _assert_same(d, params)


@pytest.mark.parametrize(
    "cells",
    [
        {"kommunenummer": " 9001"},  # spaces around a cell are not part of it
        {"vedtak_id": "V9 "},
        {"person_id": "\u00a0P9"},
        {"prisgruppe": " "},
        {"omfang": " 7.5"},
        {"fra": "2016-01-01 "},
        {"omfang": "84"},  # at the edges of the usual range
        {"omfang": "168"},
        {"omfang": "0"},
        {"omfang": ".5"},
        {"omfang": "3."},
        {"tjeneste": "INST_LANG", "prisgruppe": "SKJERMET", "enhet": "doegn", "omfang": "2.5"},
        {"kommunenummer": "9002", "til": "2019-12-31"},
    ],
)
def test_fast_and_full_agree_on_unusual_but_valid_cells(
    tmp_path: Path, params: ParameterSet, cells: dict[str, str]
) -> None:
    d = write_input(tmp_path / "d", _world(_vedtak(**cells)))
    load_input(d, params)  # valid
    _assert_same(d, params)


def test_parquet_types_read_as_their_text(tmp_path: Path, params: ParameterSet) -> None:
    """Numbers, dates and timestamps in a Parquet file are seen as the text they write as."""
    d = write_input(tmp_path / "d", _world())
    (d / "vedtak.csv").unlink()
    pl.DataFrame(
        {
            "vedtak_id": ["V1", "V2"],
            "person_id": pl.Series([1, 2], dtype=pl.Int64),
            "kommunenummer": ["9001", "9002"],
            "tjeneste": ["HJSPL", "INST_KORT"],
            "prisgruppe": [None, "UTREDNING"],
            "omfang": pl.Series([7.25, 1.0], dtype=pl.Float64),
            "enhet": ["timer_per_uke", "doegn"],
            "fra": [dt.datetime(2016, 1, 1, 12), dt.datetime(2016, 3, 1)],
            "til": pl.Series([None, dt.date(2017, 1, 31)], dtype=pl.Date),
            "ekstra": ["ignored", "column"],
        }
    ).write_parquet(d / "vedtak.parquet")
    data, _p = load_input(d, params)
    v = data.vedtak
    assert v.get_column("person_id").to_list() == ["1", "2"]
    assert v.get_column("omfang_tekst").to_list() == ["7.25", "1.0"]
    assert v.get_column("fra").to_list() == [dt.date(2016, 1, 1), dt.date(2016, 3, 1)]
    assert v.get_column("prisgruppe").to_list() == ["STANDARD", "UTREDNING"]
    assert "ekstra" not in v.columns
    _assert_same(d, params)


@pytest.mark.parametrize(
    ("column", "values", "rules"),
    [
        # NaN is written "NaN", and Polars orders it above every number
        ("omfang", pl.Series([7.0, float("nan")]), ["number", "range"]),
        ("omfang", pl.Series([7.0, 1e-7]), ["number"]),  # written as 1e-7
        ("fra", pl.Series([dt.date(2016, 1, 1), None], dtype=pl.Date), ["required"]),
    ],
)
def test_parquet_values_that_break_a_rule(
    tmp_path: Path, params: ParameterSet, column: str, values: pl.Series, rules: list[str]
) -> None:
    d = write_input(tmp_path / "d", _world())
    (d / "vedtak.csv").unlink()
    frame = pl.DataFrame(
        {
            "vedtak_id": ["V1", "V2"],
            "person_id": ["P1", "P2"],
            "kommunenummer": ["9001", "9001"],
            "tjeneste": ["HJSPL", "HJSPL"],
            "prisgruppe": ["", ""],
            "omfang": [7.0, 7.0],
            "enhet": ["timer_per_uke", "timer_per_uke"],
            "fra": [dt.date(2016, 1, 1)] * 2,
            "til": pl.Series([None, None], dtype=pl.Date),
        }
    ).with_columns(values.alias(column))
    frame.write_parquet(d / "vedtak.parquet")
    with pytest.raises(InputInvalid) as exc:
        load_input(d, params)
    assert [(p.file, p.row, p.field, p.rule) for p in exc.value.problems] == [
        ("vedtak.parquet", 3, column, rule) for rule in rules
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_valid_national_table_takes_the_fast_path(
    tmp_path: Path, params: ParameterSet, fmt: str
) -> None:
    frames = national_frames(persons=2000)
    path = tmp_path / f"vedtak.{fmt}"
    if fmt == "csv":
        frames["vedtak"].write_csv(path, null_value="")
    else:
        frames["vedtak"].write_parquet(path)
    table = read_table(path, "vedtak", native=True)
    codes = frames["kommuner"].select(
        "kommunenummer",
        pl.col("gyldig_fra").alias("gyldig_fra_d"),
        pl.col("gyldig_til").alias("gyldig_til_d"),
    )
    frame = table.frame.with_row_index("_line", offset=2).with_columns(
        pl.col("_line").cast(pl.Int64)
    )
    typed = typed_vedtak(frame, codes, vedtak_rules(params), native=True)
    assert typed is not None
    assert typed.vedtak.height == frames["vedtak"].height


def test_parquet_categorical_and_integer_columns(tmp_path: Path, params: ParameterSet) -> None:
    """Columns a Parquet file stores as categories or integers are seen as their text."""
    d = write_input(tmp_path / "d", _world())
    (d / "vedtak.csv").unlink()
    pl.DataFrame(
        {
            "vedtak_id": ["V1", "V2", "V3"],
            "person_id": ["P1", "P2", "P3"],
            "kommunenummer": pl.Series(["9001", "9002", "9001"], dtype=pl.Categorical),
            "tjeneste": pl.Series(["HJSPL", "HJSPL", "BPA"], dtype=pl.Enum(["BPA", "HJSPL"])),
            "prisgruppe": pl.Series([None, "STANDARD", None], dtype=pl.Categorical),
            "omfang": pl.Series([7, 3, 10], dtype=pl.Int64),
            "enhet": ["timer_per_uke"] * 3,
            "fra": [dt.date(2016, 1, 1)] * 3,
            "til": pl.Series([None, dt.date(2017, 1, 31), None], dtype=pl.Date),
        }
    ).write_parquet(d / "vedtak.parquet")
    data, _p = load_input(d, params)
    v = data.vedtak
    assert v.schema["kommunenummer"] == pl.Utf8
    assert v.get_column("kommunenummer").to_list() == ["9001", "9002", "9001"]
    assert v.get_column("tjeneste").to_list() == ["HJSPL", "HJSPL", "BPA"]
    assert v.get_column("prisgruppe").to_list() == ["STANDARD"] * 3
    assert v.get_column("omfang").to_list() == [7.0, 3.0, 10.0]
    assert v.get_column("omfang_tekst").to_list() == ["7", "3", "10"]
    _assert_same(d, params)
