"""The quick proof of the evaluation's tables (`sio.data.evaluation_fast`): the same typed tables
and the same problems as the full check of `sio.data.evaluation_tables`.

The proof must never accept a `personer` or `kartlegging` that the row-by-row diagnosis rejects,
and must type an accepted one exactly as the diagnosis does, from CSV (text as written, spaces
and all) and from Parquet (the file's own types).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from conftest import write_input
from sio.data.evaluation_fast import typed_evaluation
from sio.data.readers import read_input_dir
from sio.data.synth import national_frames
from sio.data.tables import EVALUATION_TABLES, IPLOS_COLUMNS, TABLE_BY_NAME
from sio.data.validation import _date, _with_lines, validate_raw, with_optional_columns
from sio.parameters import ParameterSet
from test_evaluation_data import ONES
from test_evaluation_data import _world as evaluation_world


def _quick(d: Path) -> tuple[pl.DataFrame | None, pl.DataFrame | None] | None:
    """The quick proof alone on the directory's evaluation tables, as `load_input` reads them."""
    raw = read_input_dir(d, native=("vedtak",), whole=EVALUATION_TABLES)
    frames = {
        n: with_optional_columns(_with_lines(raw.tables[n].frame), TABLE_BY_NAME[n])
        for n in EVALUATION_TABLES
        if n in raw.tables
    }
    codes = (
        raw.tables["kommuner"]
        .text()
        .select(
            "kommunenummer",
            _date("gyldig_fra").alias("gyldig_fra_d"),
            _date("gyldig_til").alias("gyldig_til_d"),
        )
        .unique("kommunenummer")
    )
    return typed_evaluation(frames, {n: raw.tables[n].native for n in frames}, codes)


def _assert_same(d: Path, params: ParameterSet) -> None:
    """Loading with the quick proofs gives what the full diagnosis of a text read gives."""
    fdata, fprobs = validate_raw(
        read_input_dir(d, native=("vedtak",), whole=EVALUATION_TABLES), params
    )
    sdata, sprobs = validate_raw(read_input_dir(d), params, fast=False)
    assert [str(p) for p in fprobs] == [str(p) for p in sprobs]
    assert (fdata is None) == (sdata is None)
    if fdata is not None:
        for name in ("kartlegging", "personer"):
            fast, full = getattr(fdata, name), getattr(sdata, name)
            assert (fast is None) == (full is None)
            if fast is not None:
                assert_frame_equal(fast, full)


def test_the_quick_proof_types_the_tables_as_the_diagnosis(
    tmp_path: Path, params: ParameterSet
) -> None:
    d = write_input(tmp_path / "d", evaluation_world())
    assert _quick(d) is not None
    _assert_same(d, params)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_quick_proof_on_synthetic_data(tmp_path: Path, params: ParameterSet, fmt: str) -> None:
    for name, frame in national_frames(persons=3000).items():
        if fmt == "csv":
            frame.write_csv(tmp_path / f"{name}.csv", null_value="")
        else:
            frame.write_parquet(tmp_path / f"{name}.parquet")
    typed = _quick(tmp_path)
    assert typed is not None and typed[0] is not None and typed[1] is not None
    _assert_same(tmp_path, params)


def _with(
    kartlegging: list[dict[str, Any]] | None = None, personer: list[dict[str, Any]] | None = None
) -> dict[str, list[dict[str, Any]]]:
    w = evaluation_world()
    w["kartlegging"] += kartlegging or []
    w["personer"] += personer or []
    return w


P4 = {"person_id": "P4", "foedselsaar": 1950}
ROW = {"person_id": "P4", "kommunenummer": "9001", "dato": "2018-01-01"}

# Cells that are valid though not written as the documentation writes them.
UNUSUAL: list[dict[str, list[dict[str, Any]]]] = [
    {"personer": [{**P4, "kjoenn": " K", "bor_alene": " TRUE "}]},
    {"personer": [{**P4, "foedselsaar": " 1950"}]},  # spaces around a cell are not part of it
    {"personer": [{**P4, "person_id": " P4"}]},  # left to the diagnosis, which strips it
    {"personer": [{"person_id": "P0", "foedselsaar": 1880}]},  # first person, out of order
    {"kartlegging": [{**ROW, "person_id": "P1", **ONES, "spise": " 3", "syn": "9 "}]},
    {
        "kartlegging": [
            {**ROW, "person_id": "P1", "dato": " 2018-01-01", "behovsniva": "omfattende"}
        ]
    },
    {"kartlegging": [{**ROW, "person_id": "P1", "kommunenummer": "9001 ", **ONES}]},
    {"kartlegging": [{**ROW, "person_id": "P0", **ONES}], "personer": [{**P4, "person_id": "P0"}]},
    {"kartlegging": [{**ROW, "person_id": "P1", **ONES, "behovsniva": " noe_avgrenset"}]},
]


@pytest.mark.parametrize("extra", UNUSUAL)
def test_unusual_but_valid_cells(
    tmp_path: Path, params: ParameterSet, extra: dict[str, list[dict[str, Any]]]
) -> None:
    d = write_input(tmp_path / "d", _with(extra.get("kartlegging"), extra.get("personer")))
    padded_id = any(r["person_id"] != r["person_id"].strip() for r in extra.get("personer", []))
    assert (_quick(d) is None) == padded_id
    _assert_same(d, params)


# One broken row each: the quick proof declines, and the diagnosis names it as before.
BROKEN: list[dict[str, list[dict[str, Any]]]] = [
    {"personer": [{**P4, "person_id": ""}]},
    {"personer": [{**P4, "person_id": "P1"}]},  # twice
    {"personer": [{**P4, "person_id": "01017012345"}]},
    {"personer": [{**P4, "person_id": "P\x004"}]},
    {"personer": [{**P4, "foedselsaar": ""}]},
    {"personer": [{**P4, "foedselsaar": "19x0"}]},
    {"personer": [{**P4, "foedselsaar": 1879}]},
    {"personer": [{**P4, "foedselsaar": dt.date.today().year + 1}]},
    {"personer": [{**P4, "kjoenn": "k"}]},
    {"personer": [{**P4, "bor_alene": "ja"}]},
    {"kartlegging": [{**ROW, "person_id": ""}]},
    {"kartlegging": [{**ROW, "person_id": "01017012345"}]},
    {"kartlegging": [{**ROW, "person_id": "P9", **ONES}]},  # not in personer
    {"kartlegging": [{**ROW, "dato": ""}]},
    {"kartlegging": [{**ROW, "dato": "2018-02-30", **ONES}]},
    {"kartlegging": [{**ROW, "dato": "1949-12-31", **ONES}]},  # before the year of birth
    {"kartlegging": [{**ROW, "dato": "1899-12-31", **ONES}]},  # before the municipality
    {"kartlegging": [{**ROW, "kommunenummer": ""}]},
    {"kartlegging": [{**ROW, "kommunenummer": "901", **ONES}]},
    {"kartlegging": [{**ROW, "kommunenummer": "9002", **ONES}]},
    {"kartlegging": [{**ROW, **ONES, "spise": 6}]},
    {"kartlegging": [{**ROW, **ONES, "spise": None}]},
    {"kartlegging": [ROW]},  # neither scores nor a level
    {"kartlegging": [{**ROW, "behovsniva": "stort"}]},
    {"kartlegging": [{**ROW, **ONES, "behovsniva": "omfattende"}]},
    {"kartlegging": [{**ROW, **ONES}, {**ROW, "behovsniva": "omfattende"}]},  # twice a day
    {"kartlegging": [{**ROW, "person_id": "P1", "dato": "2016-02-01", **ONES}]},  # not side by side
]


@pytest.mark.parametrize("extra", BROKEN)
def test_a_broken_row_is_left_to_the_diagnosis(
    tmp_path: Path, params: ParameterSet, extra: dict[str, list[dict[str, Any]]]
) -> None:
    w = _with(extra.get("kartlegging"), extra.get("personer"))
    if "personer" not in extra:
        w["personer"].append(P4)
    d = write_input(tmp_path / "d", w)
    assert _quick(d) is None
    _assert_same(d, params)


def test_parquet_types_read_as_their_text(tmp_path: Path, params: ParameterSet) -> None:
    """Scores as 64-bit integers, a Boolean, a column of nulls only, an unknown column and rows
    out of order: typed as the text read types them."""
    d = write_input(tmp_path / "d", evaluation_world())
    (d / "kartlegging.csv").unlink()
    (d / "personer.csv").unlink()
    pl.DataFrame(
        {
            "person_id": ["P2", "P1", "P3"],
            "foedselsaar": pl.Series([1944, 1931, 2001], dtype=pl.Int64),
            "kjoenn": ["M", "K", None],
            "bor_alene": [False, True, None],
            "merknad": [None, None, None],
        }
    ).write_parquet(d / "personer.parquet")
    pl.DataFrame(
        {
            "person_id": ["P2", "P1", "P3"],
            "kommunenummer": ["9001", "9001", "9001"],
            "dato": [dt.date(2017, 3, 1), dt.date(2016, 2, 1), dt.date(2016, 6, 30)],
            **{v: pl.Series([1, 4, None], dtype=pl.Int64) for v in IPLOS_COLUMNS},
            "behovsniva": [None, None, "omfattende"],
        }
    ).write_parquet(d / "kartlegging.parquet")
    typed = _quick(d)
    assert typed is not None
    personer, kartlegging = typed
    assert personer is not None and kartlegging is not None
    assert personer.rows() == [
        ("P1", 1931, "K", True),
        ("P2", 1944, "M", False),
        ("P3", 2001, None, None),
    ]
    # P1 with 17 scores of 4 (mean 4 ≥ 3.2): omfattende; P2 all 1: noe_avgrenset; P3 as given
    assert kartlegging.select("person_id", "behovsniva", "skaarer").rows() == [
        ("P1", "omfattende", True),
        ("P2", "noe_avgrenset", True),
        ("P3", "omfattende", False),
    ]
    _assert_same(d, params)
