"""The engine's year while the activity kernel sums the vedtak in worker threads, and the lookups
it reads from the input data once per data set (decision 0027): the same figures whichever way the
vedtak are split between the threads, the errors the year raised before (the kernel's first), and
tables of one data set never answering for another. Expected figures are those of the worked
cases, by hand in their comments (tests/cases/)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml

import sio.rules.aktivitetstilskudd as aktivitet
from conftest import write_input
from sio.data.model import InputData
from sio.data.validation import load_input
from sio.engine import Engine
from sio.parameters import ParameterSet, apply_override_file, load_parameters
from sio.rules.aktivitetstilskudd import compute_activity, start_activity
from sio.rules.uttrekk import DataGap

CASES = Path(__file__).parent / "cases"


def _case(
    tmp_path: Path,
    name: str,
    change: Callable[[dict[str, Any]], None] | None = None,
    override: dict[str, dict[str, Any]] | None = None,
) -> tuple[InputData, ParameterSet]:
    """The input and parameters (with the case's override) of worked case `name`, its tables
    changed by `change` and its parameters by `override` first if given."""
    case = yaml.safe_load((CASES / f"{name}.yaml").read_text(encoding="utf-8"))
    if change is not None:
        change(case["input"])
    tmp_path.mkdir(parents=True, exist_ok=True)
    params = load_parameters()
    overrides = {**(case.get("override") or {}), **(override or {})}
    if overrides:
        over = tmp_path / "override.yaml"
        over.write_text(yaml.safe_dump(overrides), encoding="utf-8")
        params = apply_override_file(params, over)
    data, _ = load_input(write_input(tmp_path / "data", case["input"], only_present=True), params)
    return data, params


def _three_vedtak(tables: dict[str, Any]) -> None:
    """Case 011's vedtak (14 hours a week all of 2017) three times, for three persons."""
    (v,) = tables["vedtak"]
    tables["vedtak"] = [dict(v, vedtak_id=f"V{i}", person_id=f"P{i}") for i in (1, 2, 3)]


@pytest.mark.parametrize("parallel_from", [1, 10**9])
def test_the_year_is_the_same_however_the_vedtak_are_split_between_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel_from: int
) -> None:
    """Case 011 with its vedtak three times: the activity grant is 3 × 385 000 = 1 155 000 kr
    (April–December, 2 h a day × 700 kr: 30-day months 4 200 000 øre, 31-day months 4 340 000
    øre, each × 3), the other figures as in the case, whether the kernel sums the three vedtak
    in one worker thread or in two (one vedtak and two) while the engine computes the rules."""
    monkeypatch.setattr(aktivitet, "_PARALLEL_FROM", parallel_from)
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra", _three_vedtak)
    row = Engine(data, params).compute_year(2017).get("9001")
    assert row is not None
    r = row.result
    assert (r.uttrekk, r.aktivitetstilskudd, r.rundsumtilskudd) == (
        60_000_000,
        1_155_000,
        4_500_000,
    )
    assert (r.tilskudd, r.netto) == (23_055_000, -38_745_000)
    by_month = {m.maaned: m.aktivitetstilskudd_oere for m in row.months}
    assert by_month[3] == 0 and by_month[4] == 3 * 4_200_000 and by_month[5] == 3 * 4_340_000


def test_a_started_kernel_gives_what_the_kernel_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`start_activity(...).result()` is `compute_activity(...)`, asked once or twice: case 011's
    three vedtak in April 2017, split over two threads, 3 × 4 200 000 øre, by (municipality,
    month) and in the list of the municipality's months."""
    monkeypatch.setattr(aktivitet, "_PARALLEL_FROM", 1)
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra", _three_vedtak)
    engine = Engine(data, params)
    april = [(2017, 4)]
    args = (data.vedtak, params, engine.registry, april, {("9001", (2017, 4))})
    run = start_activity(*args, data.vedtak_groups)
    grant = run.result()
    assert run.result() is grant
    assert grant.oere == compute_activity(*args).oere == {("9001", (2017, 4)): 12_600_000}
    assert grant.by_code == {"9001": [12_600_000]}  # what the engine reads the øre from
    assert dict(grant.oere) == {("9001", (2017, 4)): 12_600_000} and len(grant.oere) == 1


def _no_expenditure(tables: dict[str, Any]) -> None:
    tables["utgifter"] = [u for u in tables["utgifter"] if u["aar"] != 2016]


def test_a_gap_in_the_rules_is_raised_as_before_while_the_kernel_runs(tmp_path: Path) -> None:
    """Case 011 without its expenditure of 2016 (the base year of 2017): the rules computed while
    the kernel sums the vedtak raise the same gap (in the user's bokmål) as without the kernel."""
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra", _no_expenditure)
    with pytest.raises(DataGap) as gap:
        Engine(data, params).compute_year(2017)
    assert gap.value.table == "utgifter"
    assert str(gap.value) == "utgifter: ingen utgifter for 9001 i 2016 (basisåret)"


def test_the_kernel_s_error_comes_before_a_gap_in_the_rules(tmp_path: Path) -> None:
    """Case 011 with a negative unit price of HJSPL and without its base year's expenditure: the
    kernel's error is raised (as when the kernel ran before the rules), not the gap."""
    price = {"aktivitetstilskudd.enhetspris.HJSPL.STANDARD": {"2017-01-01": -1}}
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra", _no_expenditure, price)
    with pytest.raises(ValueError, match=r"^a unit price is negative$"):
        Engine(data, params).compute_year(2017)


def test_a_gap_in_a_phase_out_is_raised_as_before(tmp_path: Path) -> None:
    """Case 027 (9001 exits in June 2018; 2019 is phase-out year 1, which rests on
    uttrekk(2017)) without 9001's population of 2017: the phase-out, computed while the kernel
    runs, raises the gap when the year's rows are assembled, with the same message."""

    def no_2017(tables: dict[str, Any]) -> None:
        tables["befolkning"] = [b for b in tables["befolkning"] if b["aar"] != 2017]

    data, params = _case(tmp_path, "027-utfasing-year-1", no_2017)
    with pytest.raises(DataGap) as gap:
        Engine(data, params).compute_year(2019)
    assert str(gap.value) == "befolkning: befolkning etter aldersgruppe mangler for 9001 i 2017"


def test_engines_of_one_data_set_share_its_tables_and_others_do_not(tmp_path: Path) -> None:
    """Two engines of the same data read the registry and participation once; the same tables
    with another name for 9001 (a new data set) give that name, and the first data set still
    its own ("Testby")."""
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra")
    first, second = Engine(data, params), Engine(data, params)
    assert first.registry is second.registry and first.participation is second.participation
    renamed = dataclasses.replace(data, kommuner=data.kommuner.with_columns(navn=pl.lit("Nyby")))
    other = Engine(renamed, params)
    assert other.registry is not first.registry
    assert [r.navn for r in other.compute_year(2017).results] == ["Nyby"]
    assert [r.navn for r in Engine(data, params).compute_year(2017).results] == ["Testby"]


def test_the_kernel_reads_each_vedtak_frame_s_own_columns(tmp_path: Path) -> None:
    """The kernel's NumPy copy of a frame's columns is kept for that frame only (and cannot be
    written to): case 011's vedtak give 4 200 000 øre in April 2017, the same vedtak at half
    the hours (7 a week) 2 100 000 øre, and the first frame still 4 200 000."""
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra")
    registry = Engine(data, params).registry
    april, fin = [(2017, 4)], {("9001", (2017, 4))}
    full = data.vedtak
    half = full.with_columns(pl.col("_q") / 2)
    assert compute_activity(full, params, registry, april, fin, data.vedtak_groups).oere == {
        ("9001", (2017, 4)): 4_200_000
    }
    assert compute_activity(half, params, registry, april, fin, data.vedtak_groups).oere == {
        ("9001", (2017, 4)): 2_100_000
    }
    assert compute_activity(full, params, registry, april, fin, data.vedtak_groups).oere == {
        ("9001", (2017, 4)): 4_200_000
    }
    columns = aktivitet._kernel_columns(full)
    assert all(isinstance(c, np.ndarray) and not c.flags.writeable for c in columns)


def test_the_base_and_the_population_read_once_per_data_set(tmp_path: Path) -> None:
    """Case 027's expenditure rows in reverse order give the same grunnlag(2015) = 60 000 001
    and so the same phase-out of 2019 (1 916 185 kr), the rows listed by KOSTRA function; 9001's
    population of 2017 without the group 90+ is a gap in that year."""

    def reversed_rows(tables: dict[str, Any]) -> None:
        tables["utgifter"] = list(reversed(tables["utgifter"]))

    data, params = _case(tmp_path / "reversed", "027-utfasing-year-1", reversed_rows)
    engine = Engine(data, params)
    assert engine.compute_year(2019).results[0].inntektspaaslag == 1_916_185
    base = engine.uttrekk.grunnlag("9001", 2015)
    assert base.value == 60_000_001
    # the digits grouped with no-break spaces, as the traces print them
    assert base.node.formula_text.replace("\xa0", " ") == (
        "f234 6 000 001 + f253 36 000 000 + f254 12 000 000 + f261 6 000 000"
    )

    def no_oldest(tables: dict[str, Any]) -> None:
        tables["befolkning"] = [
            b for b in tables["befolkning"] if (b["aar"], b["aldersgruppe"]) != (2017, "90+")
        ]

    data, params = _case(tmp_path / "gap", "027-utfasing-year-1", no_oldest)
    with pytest.raises(DataGap) as gap:
        Engine(data, params).compute_year(2019)
    assert str(gap.value) == "befolkning: befolkning etter aldersgruppe mangler for 9001 i 2017"
