"""Tests that catch a wrong rule in the money core: figures with øre, exact conversions, and
small worlds whose expected figures are worked out by hand from interfaces.md §2 and the default
parameters (src/sio/params). Each one kills mutants that the worked cases let survive
(docs/mutation-testing.md)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from conftest import write_input
from sio.data.registry import Registry
from sio.data.validation import load_input
from sio.engine import Engine
from sio.money import kroner_from_oere, oere_from_kroner, round_half_away, to_fraction
from sio.parameters import ParameterSet, UsageLog, apply_override_file, load_parameters
from sio.rules.inntektspaaslag import monthly_supplement, supplement_terms, supplements
from sio.rules.merger import codes_in_month, continuing_predecessors, is_continued
from sio.rules.modell_b import oeremerket_tilskudd
from sio.rules.participation import Participation, Period
from sio.rules.rundsumtilskudd import lump_sums
from sio.rules.saerordning import MONTH_PATH, _month_series, covid_plan
from sio.rules.toppfinansiering import toppfinansiering_months
from sio.rules.uttrekk import DataGap, jan1
from test_cli import small_world

CASE_041 = Path(__file__).parent / "cases" / "041-successor-predecessor-joined-in-june.yaml"
CASE_023 = Path(__file__).parent / "cases" / "023-covid-replacement.yaml"
EARMARKED = {"9001": [5, 6], "9002": [12]}

# -- øre to kroner ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oere", "kroner"),
    [
        (12_349, 123),  # 123,49 kr → down
        (12_350, 124),  # 123,50 kr → up (half away from zero)
        (12_351, 124),
        (-12_349, -123),
        (-12_350, -124),  # −123,50 kr → −124, away from zero
        (-12_351, -124),
        (49, 0),
        (50, 1),
        (-50, -1),
        (250, 3),  # 2,50 kr → 3, not banker's 2
        (-250, -3),
        (0, 0),
        (100, 1),
        (Fraction(24_999, 2), 125),  # 12 499,5 øre = 124,995 kr → 125
        (Fraction(-24_999, 2), -125),
        (Fraction(24_899, 2), 124),  # 12 449,5 øre = 124,495 kr → 124
    ],
)
def test_kroner_from_oere_rounds_half_away_from_zero(oere: Fraction | int, kroner: int) -> None:
    got = kroner_from_oere(oere)
    assert got == kroner
    assert type(got) is int


@pytest.mark.parametrize(("x", "n"), [(7, 7), (-7, -7), (0, 0), (10**15 + 1, 10**15 + 1)])
def test_round_half_away_keeps_integers(x: int, n: int) -> None:
    assert round_half_away(x) == n


@pytest.mark.parametrize(
    ("x", "n"),
    [
        (Fraction(1, 3), 0),
        (Fraction(2, 3), 1),
        (Fraction(-1, 3), 0),
        (Fraction(-2, 3), -1),
        (Fraction(7, 2), 4),
        (Fraction(-7, 2), -4),
        (Fraction(99, 100), 1),
        (Fraction(-99, 100), -1),
        (Fraction(101, 100), 1),
        (Fraction(-101, 100), -1),
        (Fraction(5, 1), 5),
    ],
)
def test_round_half_away_fractions(x: Fraction, n: int) -> None:
    assert round_half_away(x) == n


def test_oere_from_kroner_is_exact() -> None:
    assert oere_from_kroner(Fraction(1, 3)) == Fraction(100, 3)
    assert oere_from_kroner(12) == Fraction(1200)
    assert oere_from_kroner(Fraction(-1, 8)) == Fraction(-25, 2)
    assert isinstance(oere_from_kroner(3), Fraction)


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        (0.027, Fraction(27, 1000)),  # the decimal text, not the binary double
        (0.1, Fraction(1, 10)),
        (5, Fraction(5)),
        (" 20000.3 ", Fraction(200_003, 10)),
        ("1/3", Fraction(1, 3)),
        (Fraction(2, 7), Fraction(2, 7)),
    ],
)
def test_to_fraction(value: object, exact: Fraction) -> None:
    got = to_fraction(value)
    assert got == exact
    assert isinstance(got, Fraction)


@pytest.mark.parametrize("value", [True, False, None, [1], 1j])
def test_to_fraction_refuses_non_numbers(value: object) -> None:
    with pytest.raises(TypeError):
        to_fraction(value)


def test_to_fraction_says_what_it_refuses() -> None:
    with pytest.raises(TypeError, match=r"^a boolean is not a number$"):
        to_fraction(True)
    with pytest.raises(TypeError, match=r"^not a number: None$"):
        to_fraction(None)


# -- the small rules, by hand ----------------------------------------------------------------------


def test_earmarked_grant_is_a_twelfth_per_month() -> None:
    # uttrekk 1 200 kr → 100 kr in each month that is not activity-financed; 1 000 kr → 250/3
    got = oeremerket_tilskudd({"9001": Fraction(1200), "9002": Fraction(1000)}, EARMARKED)
    assert got == {"9001": {5: Fraction(100), 6: Fraction(100)}, "9002": {12: Fraction(250, 3)}}


def test_toppfinansiering_is_a_twelfth_per_activity_month() -> None:
    got = toppfinansiering_months({("9001", 2018): 1200, ("9001", 2017): 99}, 2018, EARMARKED)
    assert got == {"9001": {5: Fraction(100), 6: Fraction(100)}, "9002": {12: Fraction(0)}}


def test_lump_sum_is_ten_percent_of_a_twelfth(params: ParameterSet) -> None:
    got = lump_sums(params, 2018, {"9001": Fraction(1200)}, {"9001": [3, 4]})
    assert got["9001"].months == {3: Fraction(10), 4: Fraction(10)}  # 0.10 × 1 200 / 12
    assert {p for p, _day in got["9001"].uses} == {"rundsumtilskudd.andel"}


@pytest.mark.parametrize(
    ("uttrekk", "month", "binds"),
    [
        (600_000_000, Fraction(24_000_000, 12), False),  # 4 % = 24 mill. < 25 mill.
        (625_000_000, Fraction(25_000_000, 12), True),  # exactly the cap: it binds
        (700_000_000, Fraction(25_000_000, 12), True),  # 28 mill. → the cap, 25 mill.
    ],
)
def test_supplement_and_its_cap(
    params: ParameterSet, uttrekk: int, month: Fraction, binds: bool
) -> None:
    assert monthly_supplement(Fraction(uttrekk), Fraction(4, 100), Fraction(25_000_000)) == (
        month,
        binds,
    )
    got = supplements(supplement_terms(params, 2016), {"9001": Fraction(uttrekk)}, {"9001": [7]})
    assert got["9001"].months == {7: month}
    # the cap (a parameter of its own) is among the values used only where it binds
    assert {p for p, _day in got["9001"].uses} == (
        {"inntektspaaslag.sats", "inntektspaaslag.tak"} if binds else {"inntektspaaslag.sats"}
    )
    assert {use.on for use in got["9001"].uses.values()} == {dt.date(2016, 7, 1)}


def test_yearly_lookups_are_on_1_january() -> None:
    assert jan1(2019) == dt.date(2019, 1, 1)
    assert jan1(2016) == dt.date(2016, 1, 1)


def test_a_value_dated_2_january_is_not_in_force_for_the_year(tmp_path: Path) -> None:
    """interfaces.md §2: yearly parameters are looked up on 1 January. A deflator dated
    2016-01-02 does not hold for 2016: test_cli.small_world's uttrekk(2016) stays
    100 000 000 × 1.027 × 103 200 000 / 103 000 000 (its docstring works it out)."""
    params = load_parameters().with_overrides(
        {"uttrekk.deflator": {dt.date(2015, 1, 1): 0.027, dt.date(2016, 1, 2): 0.5}}
    )
    data, _ = load_input(write_input(tmp_path, small_world()), params)
    got = Engine(data, params).uttrekk.uttrekk("9001", 2016).value
    assert got == Fraction(100_000_000) * Fraction(1027, 1000) * Fraction(1032, 1030)


@pytest.mark.parametrize("missing", ["year", "group"])
def test_missing_population_is_a_data_gap(
    tmp_path: Path, params: ParameterSet, missing: str
) -> None:
    world = small_world()
    if missing == "year":
        world["befolkning"] = [b for b in world["befolkning"] if b["aar"] != 2016]
    else:
        world["befolkning"] = [
            b for b in world["befolkning"] if (b["aar"], b["aldersgruppe"]) != (2016, "90+")
        ]
    data, _ = load_input(write_input(tmp_path, world), params)
    with pytest.raises(DataGap) as exc:
        Engine(data, params).uttrekk.uttrekk("9001", 2016)
    assert exc.value.table == "befolkning"
    assert "9001" in str(exc.value) and "2016" in str(exc.value)


# -- mergers ---------------------------------------------------------------------------------------


def _chain(tmp_path: Path, params: ParameterSet) -> tuple[Registry, Participation]:
    """9001 → 9002 (2019-01-01) → 9003 (2020-01-01), each taking part from its first day to
    its last (9003 open)."""
    k = {"aga_sone": "1", "reiseindeks": "0"}
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "gyldig_fra": "1900-01-01"}
            | {"gyldig_til": "2018-12-31", "etterfolger": "9002"}
            | k,
            {"kommunenummer": "9002", "navn": "B", "gyldig_fra": "2019-01-01"}
            | {"gyldig_til": "2019-12-31", "etterfolger": "9003"}
            | k,
            {"kommunenummer": "9003", "navn": "C", "gyldig_fra": "2020-01-01"} | k,
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2018-01-01", "til": "2018-12-31"},
            {"kommunenummer": "9002", "modell": "A", "fra": "2019-01-01", "til": "2019-12-31"},
            {"kommunenummer": "9003", "modell": "A", "fra": "2020-01-01"},
        ],
    }
    data, _ = load_input(write_input(tmp_path, world), params)
    return Registry(data.kommuner), Participation(data.deltakelse)


def test_whose_figures_count_across_two_mergers(tmp_path: Path, params: ParameterSet) -> None:
    reg, part = _chain(tmp_path, params)
    assert codes_in_month(reg, part, "9003", (2018, 12)) == ["9001"]  # before both mergers
    assert codes_in_month(reg, part, "9003", (2019, 12)) == ["9002"]
    assert codes_in_month(reg, part, "9003", (2020, 1)) == ["9003"]
    assert codes_in_month(reg, part, "9002", (2018, 6)) == ["9001"]
    assert continuing_predecessors(reg, part, "9003") == ["9002"]
    assert is_continued(reg, part, "9001") and is_continued(reg, part, "9002")
    assert not is_continued(reg, part, "9003")


# -- a successor's extraction and its trace (worked case 041) ------------------------------------


def test_successor_uttrekk_trace_and_estimates(tmp_path: Path, params: ParameterSet) -> None:
    """Worked case 041 (tests/cases): uttrekk(9003, 2018) = 865 492 500/13 (9001's whole
    uttrekk 2018 + 9002's grunnlag 25 000 000), uttrekk(9003, 2019) = 884 325 616 800/12 779;
    9001's uttrekk(2017) = its grunnlag 40 000 000. The trace shows each step with its value,
    and the successor's row names the base-function flags of its predecessors' grunnlag."""
    case = yaml.safe_load(CASE_041.read_text(encoding="utf-8"))
    data, _ = load_input(write_input(tmp_path, case["input"], only_present=True), params)
    engine = Engine(data, params)
    ut = engine.uttrekk
    first = ut.uttrekk("9001", 2017)
    assert (first.value, first.node.value, first.node.unit) == (40_000_000, 40_000_000, "kr")
    assert first.node.formula_text == "= grunnlag"
    assert [c.value for c in first.node.children] == [40_000_000]
    assert "9001" in first.node.label and "2017" in first.node.label

    start = ut.uttrekk("9003", 2018)
    assert start.value == start.node.value == Fraction(865_492_500, 13)
    assert [c.value for c in start.node.children] == [Fraction(540_492_500, 13), 25_000_000]
    assert "9003" in start.node.label and "2018" in start.node.label

    y2019 = ut.uttrekk("9003", 2019)
    assert y2019.value == y2019.node.value == Fraction(884_325_616_800, 12_779)
    assert y2019.node.inputs[0].endswith("W(9003, 2019) / Σ W(9001, 9002, 2018)")
    assert y2019.node.children[0] is start.node
    step = ut.uttrekk("9001", 2018)
    assert step.node.inputs[0].endswith("W(9001, 2018) / W(9001, 2017)")

    (row,) = engine.compute_year(2019).rows
    assert row.result.uttrekk == 69_201_472
    for flag in ("f253", "f254"):
        assert f"uttrekk.kostra_funksjoner.{flag}" in row.result.estimerte_parametere


def test_lump_sum_share_in_force_on_the_first_day_of_each_month() -> None:
    """Monthly lookups use the first day of the month: a share dated 2 March holds from April."""
    params = load_parameters().with_overrides(
        {"rundsumtilskudd.andel": {dt.date(2016, 1, 1): 0.1, dt.date(2018, 3, 2): 0.5}}
    )
    got = lump_sums(params, 2018, {"9001": Fraction(1200)}, {"9001": [2, 3, 4, 5]})
    assert got["9001"].months == {2: 10, 3: 10, 4: 50, 5: 50}  # share × 1 200 / 12


def test_supplement_rate_in_force_on_the_first_day_of_each_month() -> None:
    """A rate dated 2 March holds from April (monthly lookups on the first day); each month
    uses its own rate with the same cap, and the first month a dated value is used is recorded
    (what the trace and the estimate list name)."""
    params = load_parameters().with_overrides(
        {"inntektspaaslag.sats": {dt.date(2015, 1, 1): 0.04, dt.date(2018, 3, 2): 0.02}}
    )
    u = Fraction(120_000_000)  # 4 % = 4 800 000, 2 % = 2 400 000: the cap does not bind
    got = supplements(supplement_terms(params, 2018), {"9001": u}, {"9001": [1, 2, 3, 4, 5]})
    assert got["9001"].months == {1: 400_000, 2: 400_000, 3: 400_000, 4: 200_000, 5: 200_000}
    assert {k: use.on for k, use in got["9001"].uses.items()} == {
        ("inntektspaaslag.sats", dt.date(2015, 1, 1)): dt.date(2018, 1, 1),
        ("inntektspaaslag.sats", dt.date(2018, 3, 2)): dt.date(2018, 4, 1),
    }


def test_lump_sum_records_the_first_month_of_each_share() -> None:
    params = load_parameters().with_overrides(
        {"rundsumtilskudd.andel": {dt.date(2016, 1, 1): 0.1, dt.date(2018, 3, 2): 0.5}}
    )
    got = lump_sums(params, 2018, {"9001": Fraction(1200)}, {"9001": [2, 3, 4, 5]})
    assert {k: use.on for k, use in got["9001"].uses.items()} == {
        ("rundsumtilskudd.andel", dt.date(2016, 1, 1)): dt.date(2018, 2, 1),
        ("rundsumtilskudd.andel", dt.date(2018, 3, 2)): dt.date(2018, 4, 1),
    }


def test_a_predecessor_that_left_before_december_is_not_continued(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 takes part January–June 2018 and merges into 9002 on 2019-01-01, which takes part
    from its first day: 9001's last month is not the December before, so it has exited."""
    k = {"aga_sone": "1", "reiseindeks": "0"}
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "gyldig_fra": "1900-01-01"}
            | {"gyldig_til": "2018-12-31", "etterfolger": "9002"}
            | k,
            {"kommunenummer": "9002", "navn": "B", "gyldig_fra": "2019-01-01"} | k,
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2018-01-01", "til": "2018-06-30"},
            {"kommunenummer": "9002", "modell": "A", "fra": "2019-01-01"},
        ],
    }
    data, _ = load_input(write_input(tmp_path, world), params)
    reg, part = Registry(data.kommuner), Participation(data.deltakelse)
    assert not is_continued(reg, part, "9001")
    assert continuing_predecessors(reg, part, "9002") == []
    assert codes_in_month(reg, part, "9002", (2018, 6)) == []
    # a successor missing from the register continues nobody
    alone = Registry(data.kommuner.filter(pl.col("kommunenummer") == "9001"))
    assert not is_continued(alone, part, "9001")


def test_first_year_of_the_scheme(tmp_path: Path, params: ParameterSet) -> None:
    _reg, part = _chain(tmp_path, params)
    assert part.first_year() == 2018
    data, _ = load_input(tmp_path, params)
    assert Participation(data.deltakelse.clear()).first_year() is None


def test_covid_months_are_read_on_1_january(params: ParameterSet) -> None:
    """The replaced months of a year are the values in force on 1 January: a month dated
    2020-01-02 is not one of 2020's."""
    over = params.with_overrides(
        {
            "saerordning.covid.maaned_1": {
                dt.date(2020, 1, 1): "2020-03",
                dt.date(2020, 1, 2): "2020-09",
            }
        }
    )
    log = UsageLog()
    assert _month_series(over, MONTH_PATH, 2020, log) == [(2020, 3), (2020, 4), (2020, 5)]
    assert {p for p, _day in log.uses} == {f"{MONTH_PATH}_{n}" for n in (1, 2, 3)}


def test_covid_plan_and_replacement_of_case_023(tmp_path: Path) -> None:
    """Worked case 023: March–May 2020 replaced by the mean of December 2019–February 2020,
    (2 170 000 + 2 263 000 + 6 351 000) / 3 = 3 594 666.67 → 3 594 667 øre; the trace shows it."""
    case = yaml.safe_load(CASE_023.read_text(encoding="utf-8"))
    over = tmp_path / "override.yaml"
    over.write_text(yaml.safe_dump(case["override"]), encoding="utf-8")
    params = apply_override_file(load_parameters(), over)
    data, _ = load_input(write_input(tmp_path / "d", case["input"], only_present=True), params)
    engine = Engine(data, params)
    states = {"9001": engine.participation.months_in_year("9001", 2020)}
    plan = covid_plan(params, engine.registry, engine.participation, 2020, states)
    assert plan.replaced == ((2020, 3), (2020, 4), (2020, 5))
    assert plan.references == ((2019, 12), (2020, 1), (2020, 2))
    assert {p for p, _day in plan.uses} == {
        f"saerordning.covid.{kind}_{n}" for kind in ("maaned", "referanse") for n in (1, 2, 3)
    }
    my = engine.compute_year(2020).get("9001")
    assert my is not None
    assert [m.aktivitetstilskudd_oere for m in my.months if m.covid_erstattet] == [3_594_667] * 3
    covid = [n for n in my.trace.walk() if n.unit == "øre" and n.value == 3_594_667]
    means = [n.formula_text.replace("\xa0", " ") for n in covid]
    assert any("2 170 000" in f and "/ 3 = 3 594 667" in f for f in means), means


def test_a_municipality_joining_after_the_covid_months(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 (test_cli.small_world moved four years on) joins model A on 2020-06-01: no Covid
    month applies to it. uttrekk(2020) = 100 000 000 × 1.031 × 103 200 000 / 103 000 000,
    7 months: × 7/12 = 60 258 446.6… → 60 258 447."""
    world = small_world()
    world["deltakelse"] = [{"kommunenummer": "9001", "modell": "A", "fra": "2020-06-01"}]
    for u in world["utgifter"]:
        u["aar"] = 2019
    for b in world["befolkning"]:
        b["aar"] += 4
    data, _ = load_input(write_input(tmp_path, world), params)
    (row,) = Engine(data, params).compute_year(2020).rows
    annual = Fraction(100_000_000) * Fraction(1031, 1000) * Fraction(1032, 1030)
    assert row.result.maaneder == 7
    assert row.result.uttrekk == round_half_away(annual * 7 / 12) == 60_258_447
    assert not any(m.covid_erstattet for m in row.months)


def _row(fra: str, til: str | None, covid: bool) -> dict[str, Any]:
    return {"kommunenummer": "9001", "modell": "A", "fra": fra, "til": til} | {
        "aktivitet_fra": None,
        "covid_saerordning": covid,
    }


@pytest.mark.parametrize(
    ("deltakelse", "march_to_may"),
    [
        # the row covering March says no Covid rule, the row from April yes: April and May
        # are replaced (3 594 667 øre, case 023), March is as priced: 31 h × 730 kr
        (
            [_row("2019-01-01", "2020-03-31", False), _row("2020-04-01", None, True)],
            [2_263_000, 3_594_667, 3_594_667],
        ),
        # no participation in December 2019, a reference month: nothing is replaced
        # (31, 30, 31 h × 730 kr)
        (
            [_row("2019-01-01", "2019-11-30", True), _row("2020-01-01", None, True)],
            [2_263_000, 2_190_000, 2_263_000],
        ),
    ],
)
def test_covid_months_follow_the_row_and_the_reference_window(
    tmp_path: Path, deltakelse: list[dict[str, Any]], march_to_may: list[int]
) -> None:
    case = yaml.safe_load(CASE_023.read_text(encoding="utf-8"))
    case["input"]["deltakelse"] = deltakelse
    over = tmp_path / "override.yaml"
    over.write_text(yaml.safe_dump(case["override"]), encoding="utf-8")
    params = apply_override_file(load_parameters(), over)
    data, _ = load_input(write_input(tmp_path / "d", case["input"], only_present=True), params)
    my = Engine(data, params).compute_year(2020).get("9001")
    assert my is not None
    assert [m.aktivitetstilskudd_oere for m in my.months if m.maaned in (3, 4, 5)] == march_to_may


def test_periods_and_activity_months(tmp_path: Path, params: ParameterSet) -> None:
    """9001 in model A from 2018-01-01 to 2018-06-30, activity-financed from 2018-04-01."""
    k = {"aga_sone": "1", "reiseindeks": "0"}
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [{"kommunenummer": "9001", "navn": "A", "gyldig_fra": "1900-01-01"} | k],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2018-01-01", "til": "2018-06-30"}
            | {"aktivitet_fra": "2018-04-01"}
        ],
    }
    data, _ = load_input(write_input(tmp_path, world), params)
    part = Participation(data.deltakelse)
    jan, jun, apr = 2018 * 12, 2018 * 12 + 5, 2018 * 12 + 3  # month indices (year × 12 + m − 1)
    assert part.periods("9001") == [Period(jan, jun, "A", apr, True)]
    assert part.periods("9002") == []
    assert part.activity_months("9001", 2018) == [4, 5, 6]
    assert part.activity_months("9001", 2019) == []
    assert list(part.months_in_year("9001", 2018)) == [1, 2, 3, 4, 5, 6]


def test_rows_that_touch_are_one_spell(tmp_path: Path, params: ParameterSet) -> None:
    """Model B January–June 2018, model A July–December 2018 (touching: one spell), again
    model A from March 2019 after a gap (a second, open spell)."""
    k = {"aga_sone": "1", "reiseindeks": "0"}
    rows = [("B", "2018-01-01", "2018-06-30"), ("A", "2018-07-01", "2018-12-31")]
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [{"kommunenummer": "9001", "navn": "A", "gyldig_fra": "1900-01-01"} | k],
        # the rows in the file are not in date order: the last one first
        "deltakelse": [{"kommunenummer": "9001", "modell": "A", "fra": "2019-03-01"}]
        + [{"kommunenummer": "9001", "modell": m, "fra": fra, "til": til} for m, fra, til in rows],
    }
    data, _ = load_input(write_input(tmp_path, world), params)
    part = Participation(data.deltakelse)
    jan18, dec18, mar19 = 2018 * 12, 2018 * 12 + 11, 2019 * 12 + 2
    assert part.spells("9001") == [(jan18, dec18), (mar19, None)]
    assert part.spells("9002") == []
    assert part.last_month("9001") is None  # still open
    assert part.first_fra("9001") == dt.date(2018, 1, 1)
