"""Tests for the mutants that survived the mutation run of the engine and the activity kernel of
commit d4b6be2 (docs/mutation-testing.md, "The engine and the kernel of d4b6be2"). Expected
figures are worked out by hand from scheme.md §3.3, interfaces.md §2, decision 0025 and the
default parameters in src/sio/params."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
from fractions import Fraction
from pathlib import Path
from typing import Any

from conftest import write_input
from sio.data.model import InputData
from sio.data.registry import Registry
from sio.data.validation import load_input
from sio.engine import Engine, MunicipalityYear
from sio.parameters import DatedValue, ParameterSet, load_parameters
from sio.rules.aktivitetstilskudd import compute_activity
from test_mutation_gaps_engine import _world_2018

REF = "aktivitetstilskudd.aga.referansesats"
ZONE_1 = "aktivitetstilskudd.aga.sats.sone_1"


def test_the_collector_runs_again_after_a_year(tmp_path: Path) -> None:
    """Decision 0025: `compute_year` pauses the cyclic garbage collector for its own duration and
    leaves it as it found it — enabled again when it was enabled, still disabled when the caller
    had disabled it. The year is the one of `_world_2018` with one price of 800 kr from
    2018-01-01: 365 days × 1 hour × 800 kr = 292 000 kr."""
    data, params = _world_2018(tmp_path, {dt.date(2018, 1, 1): 800})
    engine = Engine(data, params)
    was = gc.isenabled()
    try:
        gc.enable()
        row = engine.compute_year(2018).get("9001")
        assert row is not None and row.result.aktivitetstilskudd == 292_000
        assert gc.isenabled()
        gc.disable()
        engine.compute_year(2018)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def _with_values(params: ParameterSet, changes: dict[str, list[DatedValue]]) -> ParameterSet:
    """`params` with the dated values of some paths replaced (evidence levels included, which an
    override file cannot set: its values are all of the level `override`)."""
    tree = {p: params.get(p) for p in params.paths()}
    for path, values in changes.items():
        tree[path] = dataclasses.replace(tree[path], values=tuple(values))
    return ParameterSet(tree, source=f"{params.source}+test")


def _aga_tree(
    params: ParameterSet, rate: dict[dt.date, str], ref: dict[dt.date, str]
) -> ParameterSet:
    """`params` with zone 1's employer-tax rate and the reference rate both 0.141 (k_aga = 1),
    in dated values of the given evidence levels."""
    refs = params.get(REF).values[0].references
    v = Fraction(141, 1000)
    return _with_values(
        params,
        {
            ZONE_1: [DatedValue(d, v, e, refs) for d, e in sorted(rate.items())],
            REF: [DatedValue(d, v, e, refs) for d, e in sorted(ref.items())],
        },
    )


def _row(data: InputData, params: ParameterSet) -> MunicipalityYear:
    row = Engine(data, params).compute_year(2018).get("9001")
    assert row is not None
    return row


JAN, FEB, MAR, JUL = (dt.date(2018, m, 1) for m in (1, 2, 3, 7))
OLD = dt.date(2015, 1, 1)


def test_estimates_of_the_employer_tax_that_change_on_1_february(tmp_path: Path) -> None:
    """interfaces.md §2: a row lists the estimated parameters its figures rest on. Zone 1's rate
    is confirmed until 31 January 2018 and an estimate from 1 February; the reference rate the
    other way round (both 0.141 throughout, so k_aga = 1). The vedtak of `_world_2018` from
    2018-02-01 has lines February–December only: the row rests on zone 1's rate as an estimate,
    not on the reference rate as one. Activity 334 days × 1 hour × 800 kr = 267 200 kr. In the
    default tree the reference rate is an estimate all year, and is listed."""
    data, params = _world_2018(tmp_path, {JAN: 800}, "2018-02-01")
    row = _row(data, params)
    assert row.result.aktivitetstilskudd == 267_200
    assert REF in row.result.estimerte_parametere
    assert ZONE_1 not in row.result.estimerte_parametere

    tree = _aga_tree(
        params, {OLD: "confirmed", FEB: "estimate"}, {OLD: "estimate", FEB: "confirmed"}
    )
    row = _row(data, tree)
    assert row.result.aktivitetstilskudd == 267_200
    assert ZONE_1 in row.result.estimerte_parametere
    assert REF not in row.result.estimerte_parametere


def test_an_estimate_of_the_employer_tax_from_july(tmp_path: Path) -> None:
    """The reference rate confirmed until 30 June 2018 and an estimate from 1 July; the vedtak
    of `_world_2018` has lines all year, so the row rests on it (July–December) and lists it;
    zone 1's rate (confirmed) is not. Activity 365 × 800 kr = 292 000 kr."""
    data, params = _world_2018(tmp_path, {JAN: 800})
    row = _row(data, _aga_tree(params, {OLD: "confirmed"}, {OLD: "confirmed", JUL: "estimate"}))
    assert row.result.aktivitetstilskudd == 292_000
    assert REF in row.result.estimerte_parametere
    assert ZONE_1 not in row.result.estimerte_parametere


def test_an_estimate_of_the_employer_tax_in_every_month_but_february(tmp_path: Path) -> None:
    """The reference rate an estimate in January 2018, confirmed in February, an estimate again
    from 1 March; a vedtak of February 2018 only: the row does not rest on the estimate. 28 days
    × 800 kr = 22 400 kr."""
    data, params = _world_2018(tmp_path, {JAN: 800}, "2018-02-01", "2018-02-28")
    tree = _aga_tree(
        params, {OLD: "confirmed"}, {OLD: "estimate", FEB: "confirmed", MAR: "estimate"}
    )
    row = _row(data, tree)
    assert row.result.aktivitetstilskudd == 22_400
    assert REF not in row.result.estimerte_parametere


def test_the_travel_factor_is_an_estimate_of_a_year_whose_price_changes(tmp_path: Path) -> None:
    """interfaces.md §2 (the estimates a row rests on), scheme.md §3.3. `_world_2018` with
    reiseindeks 1 and HJSPL STANDARD 720 kr from 2016 and 800 kr from 2018-07-01, so that the
    price's estimates differ between the months (the 2017 deflator, an estimate, indexes
    January–June only) and the row's estimates are gathered month by month. HJSPL is home-based:
    k_reise = 1 + 0.10 × 1 = 1.1, the travel factor (an estimate) used in every month.
    January–June 720 × 1.025 × 1.030 × 1.1 = 836.154 kr a day: lines of 31 days 2 592 077.4 →
    2 592 077 øre (January, March, May), 28 days 2 341 231.2 → 2 341 231, 30 days 2 508 462
    (April, June): 15 134 386 øre; July–December 184 × 880 kr = 16 192 000 øre; 31 326 386 øre
    → 313 264 kr."""
    prices = {dt.date(2016, 1, 1): 720, dt.date(2018, 7, 1): 800}
    data, params = _world_2018(tmp_path, prices, reiseindeks="1")
    row = Engine(data, params).compute_year(2018).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 313_264
    faktor = "aktivitetstilskudd.reise.faktor"
    assert {faktor, "uttrekk.deflator"} <= set(row.result.estimerte_parametere)
    assert (faktor, dt.date(2015, 1, 1)) in row.log.uses


def test_an_estimate_behind_january_only_is_listed(tmp_path: Path) -> None:
    """interfaces.md §2, scheme.md §3.3. HJSPL STANDARD 720 kr from 2016, 800 kr from
    2018-02-01; the vedtak of `_world_2018` has lines all year. January uses 720 × 1.025 × 1.030
    = 760.14 kr, indexed by the deflator of 2017 (an estimate); February–December use 800 kr,
    dated in its own year: the row rests on the 2017 deflator through January alone, and lists
    it. Activity: 31 × 760.14 + 334 × 800 = 23 564.34 + 267 200 = 290 764.34 kr → 290 764."""
    prices = {dt.date(2016, 1, 1): 720, dt.date(2018, 2, 1): 800}
    data, params = _world_2018(tmp_path, prices)
    row = Engine(data, params).compute_year(2018).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 290_764
    assert "uttrekk.deflator" in row.result.estimerte_parametere
    assert ("uttrekk.deflator", dt.date(2017, 1, 1)) in row.log.uses


def test_estimates_that_each_change_on_1_july(tmp_path: Path) -> None:
    """Every part of the row's activity lookups rests on estimates in one half of 2018 and on
    others (or none) in the other: the reference rate of the employer tax an estimate until 30
    June and confirmed from 1 July, zone 1's rate the other way round; HJSPL home-based (1) all
    year, an estimate until 30 June and confirmed from 1 July; HJSPL STANDARD 720 kr of 2016
    (indexed by the 2017 deflator, an estimate) until 30 June and 800 kr from 1 July. The vedtak
    has lines all year, so the row rests on all four and lists them. Activity January–June
    181 × 720 × 1.025 × 1.030 = 181 × 760.14 = 137 585.34 kr, July–December 184 × 800 =
    147 200 kr: 284 785.34 → 284 785 kr."""
    home = "aktivitetstilskudd.hjemmebasert.HJSPL"
    data, params = _world_2018(tmp_path, {dt.date(2016, 1, 1): 720, JUL: 800})
    tree = _aga_tree(
        params, {OLD: "confirmed", JUL: "estimate"}, {OLD: "estimate", JUL: "confirmed"}
    )
    flag = tree.get(home).values[0]
    tree = _with_values(
        tree,
        {
            home: [
                dataclasses.replace(flag, start=OLD, evidence="estimate"),
                dataclasses.replace(flag, start=JUL, evidence="confirmed"),
            ]
        },
    )
    row = _row(data, tree)
    assert row.result.aktivitetstilskudd == 284_785
    assert {REF, ZONE_1, home, "uttrekk.deflator"} <= set(row.result.estimerte_parametere)


def test_a_price_series_that_starts_in_july(tmp_path: Path) -> None:
    """HJSPL STANDARD has a price only from 2018-07-01 (800 kr) and the vedtak starts then: no
    line before July, so January's missing price is no error. 184 days × 800 kr = 147 200 kr;
    the price is dated in its own year (no deflator), and the row's estimates are those of the
    lines of July–December: the home-based flag of HJSPL and the reference rate of the employer
    tax (both estimates in the default tree), not the 2017 deflator."""
    data, params = _world_2018(tmp_path, {JUL: 800}, "2018-07-01")
    row = _row(data, params)
    assert row.result.aktivitetstilskudd == 147_200
    est = set(row.result.estimerte_parametere)
    assert {REF, "aktivitetstilskudd.hjemmebasert.HJSPL"} <= est
    assert "uttrekk.deflator" not in est


def _kernel_world(
    tmp_path: Path, prices: dict[str, dict[dt.date, str]], vedtak: list[tuple[str, str, str, str]]
) -> tuple[Any, ParameterSet]:
    """9001 (zone 1, reiseindeks 0: a factor is the price) in model A with activity financing
    from 2016-01-01; the STANDARD prices of the services in `prices`; vedtak (id, service,
    omfang, unit) from 2016-01-01, open. The loaded data and the parameters."""
    params = load_parameters().with_overrides(
        {f"aktivitetstilskudd.enhetspris.{s}.STANDARD": p for s, p in prices.items()}
    )
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "aga_sone": "1", "reiseindeks": "0"}
            | {"gyldig_fra": "1900-01-01", "gyldig_til": None, "etterfolger": None}
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2016-01-01", "til": None}
            | {"aktivitet_fra": None, "covid_saerordning": True}
        ],
        "vedtak": [
            {"vedtak_id": v, "person_id": f"P{v}", "kommunenummer": "9001", "tjeneste": s}
            | {"prisgruppe": None, "omfang": q, "enhet": u, "fra": "2016-01-01", "til": None}
            for v, s, q, u in vedtak
        ],
        "utgifter": [],
        "befolkning": [],
        "toppfinansiering": [],
    }
    data, _ = load_input(write_input(tmp_path, world), params)
    return data, params


MONTHS_2016 = [(2016, mo) for mo in range(1, 13)]


def _grant_2016(data: Any, params: ParameterSet) -> Any:
    return compute_activity(
        data.vedtak,
        params,
        Registry(data.kommuner),
        MONTHS_2016,
        {("9001", m) for m in MONTHS_2016},
        data.vedtak_groups,
    )


def test_a_line_at_half_an_oere_beside_a_line_above_10_8_oere(tmp_path: Path) -> None:
    """Decision 0002: a line within 10^-6 øre of x.5 is computed exactly (and rounded half away
    from zero), also when a line above 10^8 øre of the same month (computed exactly as well)
    is in the same block of vedtak. HJSPL STANDARD 720.01 kr (dated 2016: no deflator), 72 001
    øre an hour. V1 0.5 hours a month: 36 000.5 øre → 36 001 (the float path's half-to-even
    would give 36 000); V2 2 000 hours a month: 144 002 000 øre. Every month 144 038 001 øre;
    the 24 lines are computed exactly."""
    data, params = _kernel_world(
        tmp_path,
        {"HJSPL": {dt.date(2016, 1, 1): "720.01"}},
        [("V1", "HJSPL", "0.5", "timer_per_maaned"), ("V2", "HJSPL", "2000", "timer_per_maaned")],
    )
    grant = _grant_2016(data, params)
    assert [grant.get("9001", m) for m in MONTHS_2016] == [144_038_001] * 12
    assert grant.exact_rechecks == 24


def test_ties_of_two_vedtak_in_different_classes_of_months(tmp_path: Path) -> None:
    """Decision 0002 (a line near x.5 øre computed exactly, half away from zero) when the ties
    of one vedtak are in months of one price and those of another in months of another price.
    HJSPL STANDARD 720.01 kr from 2016-01-01 and 720.02 kr from 2016-07-01; PB_DAGL STANDARD
    500 kr, then 500.01 kr from 2016-07-01 (dated 2016: no deflator). A (HJSPL) and B (PB_DAGL)
    3.5 hours a week, half an hour a day. A: 36 000.5 øre a day until June, 36 001 after; B:
    25 000 until June, 25 000.5 after. Lines of A: January, March, May 31 × 36 000.5 =
    1 116 015.5 → 1 116 016; February 29 × 36 000.5 = 1 044 014.5 → 1 044 015; April, June
    1 080 015; July–December 36 001 × days. Of B: January–June 25 000 × days; July, August,
    October, December 31 × 25 000.5 = 775 015.5 → 775 016; September, November 750 015. Both
    vedtak are in doubt: their 24 lines are computed exactly."""
    jul = dt.date(2016, 7, 1)
    data, params = _kernel_world(
        tmp_path,
        {
            "HJSPL": {dt.date(2016, 1, 1): "720.01", jul: "720.02"},
            "PB_DAGL": {dt.date(2016, 1, 1): "500", jul: "500.01"},
        },
        [("A", "HJSPL", "3.5", "timer_per_uke"), ("B", "PB_DAGL", "3.5", "timer_per_uke")],
    )
    grant = _grant_2016(data, params)
    a_first = [1_116_016, 1_044_015, 1_116_016, 1_080_015, 1_116_016, 1_080_015]
    b_first = [25_000 * d for d in (31, 29, 31, 30, 31, 30)]
    a_second = [36_001 * d for d in (31, 31, 30, 31, 30, 31)]
    b_second = [775_016, 775_016, 750_015, 775_016, 750_015, 775_016]
    expected = [a + b for a, b in zip(a_first + a_second, b_first + b_second, strict=True)]
    assert expected[1] == 1_044_015 + 725_000
    assert [grant.get("9001", m) for m in MONTHS_2016] == expected
    assert grant.exact_rechecks == 24
