"""Activity-grant rules that the worked cases left untested (docs/mutation-testing.md,
aktivitetstilskudd): lines computed exactly because they end in exactly half an øre, with k_aga and
k_reise other than 1, worked out by hand from scheme.md §3.3 and interfaces.md §2 "Activity
grant" with the default parameters (src/sio/params) and one override.

Override: HJSPL STANDARD costs 163 kr an hour from 2016-01-01 (2016: no deflator applies).
- 9001: zone 2, reiseindeks 0.5. k_aga = 1 + 0.80 × (0.106 − 0.141)/1.141 = 1.113/1.141 = 159/163;
  k_reise = 1 + 0.10 × 0.5 = 21/20. Factor = 163 × 100 × 159/163 × 21/20 = 16 695 øre an hour.
- 9002: zone 1 (k_aga = 1), reiseindeks 0.5 (k_reise = 21/20): 163 × 100 × 21/20 = 17 115 øre.
Each vedtak is 0.5 hours a week, so a day in force is 0.5/7 h: 9001 1 192.5 øre a day (16 695/14),
9002 1 222.5 øre (17 115/14). A month of 31 or 29 days ends in exactly ½ øre and rounds away from
zero; such a line is computed exactly (decision 0002), and with it every month of its vedtak.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from conftest import write_input
from sio.data.registry import Registry
from sio.data.validation import load_input
from sio.parameters import ParameterSet, UsageLog, apply_override_file, load_parameters
from sio.rules.aktivitetstilskudd import (
    KEYS,
    compute_activity,
    count_lines,
    k_reise,
    lines_for_month,
    unit_price,
    with_derived,
)

OVERRIDE = {"aktivitetstilskudd.enhetspris.HJSPL.STANDARD": {"2016-01-01": 163}}
DAYS_2016 = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _vedtak(
    vid: str, code: str, fra: str, til: str | None, service: str = "HJSPL"
) -> dict[str, Any]:
    unit = "timer_per_uke" if service == "HJSPL" else "per_maaned"
    return {"vedtak_id": vid, "person_id": f"P{vid}", "kommunenummer": code} | {
        "tjeneste": service,
        "prisgruppe": None,
        "omfang": "0.5" if service == "HJSPL" else "1",
        "enhet": unit,
        "fra": fra,
        "til": til,
    }


def test_lines_at_half_an_oere_computed_exactly(tmp_path: Path, params: ParameterSet) -> None:
    """V1 (9001) from 2016-02-15, open; V2 (9001) 2016-05-10..2016-08-31; V3 (9002) all of 2016.
    9001 is activity-financed from March (`aktivitet_fra`), 9002 all year.
    V1: 31-day months 31 × 1 192.5 = 36 967.5 → 36 968; 30-day months 35 775; January and
      February not financed: no line (10 lines, March–December).
    V2: May 22 days (10th–31st) → 26 235; June 35 775; July, August 36 968 (4 lines; none in
      March, April or September, where it is not in force).
    V3: 31 days 31 × 1 222.5 = 37 897.5 → 37 898; February 29 × 1 222.5 = 35 452.5 → 35 453;
      30 days 36 675 (12 lines).
    26 lines are computed exactly. V0 (9001, a safety alarm from 2016-01-01) is covered by the
    lump sum and has no price: no line, and the traces leave it out."""
    over = tmp_path / "override.yaml"
    over.write_text(yaml.safe_dump(OVERRIDE), encoding="utf-8")
    params = apply_override_file(params, over)
    k = {"gyldig_fra": "1900-01-01", "gyldig_til": None, "etterfolger": None}
    a = {"modell": "A", "til": None, "covid_saerordning": True}
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "aga_sone": "2", "reiseindeks": "0.5"} | k,
            {"kommunenummer": "9002", "navn": "B", "aga_sone": "1", "reiseindeks": "0.5"} | k,
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "fra": "2016-01-01", "aktivitet_fra": "2016-03-01"} | a,
            {"kommunenummer": "9002", "fra": "2016-01-01", "aktivitet_fra": None} | a,
        ],
        "vedtak": [
            _vedtak("V0", "9001", "2016-01-01", None, "TRYGGHETSALARM"),  # lump sum: no price
            _vedtak("V1", "9001", "2016-02-15", None),
            _vedtak("V2", "9001", "2016-05-10", "2016-08-31"),
            _vedtak("V3", "9002", "2016-01-01", None),
        ],
        "utgifter": [],
        "befolkning": [],
        "toppfinansiering": [],
    }
    data, _ = load_input(write_input(tmp_path / "data", world), params)
    months = [(2016, mo) for mo in range(1, 13)]
    financed = {("9001", m) for m in months if m[1] >= 3} | {("9002", m) for m in months}
    grant = compute_activity(
        data.vedtak, params, Registry(data.kommuner), months, financed, data.vedtak_groups
    )

    def line(per_day_half_oere: int, days: int) -> int:  # half-øre × days, rounded up at ½
        return (per_day_half_oere * days + 1) // 2

    v1 = {mo: line(2385, DAYS_2016[mo]) for mo in range(3, 13)}
    v2 = {5: 26_235, 6: 35_775, 7: 36_968, 8: 36_968}
    assert v1[3] == 36_968 and v1[4] == 35_775  # 36 967.5 → 36 968; 35 775
    expected_9001 = {mo: v1.get(mo, 0) + v2.get(mo, 0) for mo in range(1, 13)}
    expected_9002 = {mo: line(2445, DAYS_2016[mo]) for mo in range(1, 13)}
    assert (expected_9002[1], expected_9002[2], expected_9002[4]) == (37_898, 35_453, 36_675)
    assert {mo: grant.get("9001", (2016, mo)) for mo in range(1, 13)} == expected_9001
    assert {mo: grant.get("9002", (2016, mo)) for mo in range(1, 13)} == expected_9002
    assert grant.exact_rechecks == 26
    # The loaded vedtak carry the kernel's derived columns and their group table: with_derived
    # hands them back as they are, and the kernel without `groups` finds the same figures.
    derived, groups = with_derived(data.vedtak)
    assert derived is data.vedtak
    assert groups.columns == ["gid", *KEYS] and groups["gid"].is_unique().all()
    assert groups["gid"].to_list() == sorted(groups["gid"].to_list())
    assert sorted(groups.select(KEYS).rows()) == [
        ("9001", "HJSPL", "STANDARD"),
        ("9001", "TRYGGHETSALARM", "STANDARD"),
        ("9002", "HJSPL", "STANDARD"),
    ]
    again = compute_activity(data.vedtak, params, Registry(data.kommuner), months, financed)
    assert {mo: again.get("9001", (2016, mo)) for mo in range(1, 13)} == expected_9001
    assert {mo: again.get("9002", (2016, mo)) for mo in range(1, 13)} == expected_9002

    # the trace of 9001's March: V0 has no price and is left out; V1's line exactly
    log = UsageLog()
    [ln] = lines_for_month(data.vedtak, params, Registry(data.kommuner), "9001", (2016, 3), log)
    assert (ln.vedtak_id, ln.fra, ln.til, ln.days) == ("V1", dt.date(2016, 2, 15), None, 31)
    assert (ln.volume, ln.price) == (Fraction(31, 14), 163)
    assert (ln.k_aga, ln.k_reise) == (Fraction(159, 163), Fraction(21, 20))
    assert (ln.exact_oere, ln.oere) == (Fraction(73_935, 2), 36_968)
    aug_31 = dt.date(2016, 8, 31)
    # May: V1 (line 3 of vedtak.csv, below the header and V0) and V2 (line 4), by vedtak_id
    may = lines_for_month(data.vedtak, params, Registry(data.kommuner), "9001", (2016, 5))
    assert [
        (x.vedtak_id, x.line, x.tjeneste, x.prisgruppe, x.omfang, x.enhet, x.til, x.days, x.oere)
        for x in may
    ] == [
        ("V1", 3, "HJSPL", "STANDARD", Fraction(1, 2), "timer_per_uke", None, 31, 36_968),
        ("V2", 4, "HJSPL", "STANDARD", Fraction(1, 2), "timer_per_uke", aug_31, 22, 26_235),
    ]
    # the parameters the line rests on (a 2016 price in 2016: no deflator)
    assert {u.path for u in log.uses.values()} == {
        "aktivitetstilskudd.enhetspris.HJSPL.STANDARD",
        "aktivitetstilskudd.aga.sats.sone_2",
        "aktivitetstilskudd.aga.referansesats",
        "aktivitetstilskudd.aga.lonnsandel",
        "aktivitetstilskudd.hjemmebasert.HJSPL",
        "aktivitetstilskudd.reise.faktor",
    }
    # priced vedtak of 9001 in force each month (financed or not): V1 from February, V2 May–August
    assert count_lines(data.vedtak, params, "9001", 2016) == [0, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1]


def test_count_lines_counts_the_first_and_the_last_day(params: ParameterSet) -> None:
    """A vedtak in force from 31 March to 1 April 2016 is in force in March (its first day is
    March's last) and in April (its last day is April's first); one that is not priced (a
    safety alarm, covered by the lump sum) is not counted."""
    vedtak = pl.DataFrame(
        {
            "kommunenummer": ["9001", "9001", "9002"],
            "tjeneste": ["HJSPL", "TRYGGHETSALARM", "HJSPL"],
            "fra": [dt.date(2016, 3, 31), dt.date(2016, 1, 1), dt.date(2016, 1, 1)],
            "til": [dt.date(2016, 4, 1), None, None],
        }
    )
    assert count_lines(vedtak, params, "9001", 2016) == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]


def test_with_derived_adds_the_kernel_columns() -> None:
    """Vedtak without the kernel's columns get them (interfaces.md §2 volumes): `_fra`, `_til`
    as days since 1970-01-01 (an open `til`: 2 000 000 000), `_q` the volume per day in force
    (hours a week / 7; days and monthly amounts as they are), `_m` 1 for the units prorated by
    days / days in the month. 2016-01-01 is day 46 × 365 + 11 leap days = 16 801."""
    d = dt.date
    raw = pl.DataFrame(
        {
            "kommunenummer": ["9002", "9001", "9001", "9001"],
            "tjeneste": ["HJSPL", "HJSPL", "INST_LANG", "BPA"],
            "prisgruppe": ["STANDARD", "STANDARD", "STANDARD", "STANDARD"],
            "omfang": [7.0, 3.5, 1.0, 20.0],
            "enhet": ["timer_per_uke", "timer_per_uke", "doegn", "timer_per_maaned"],
            "fra": [d(2016, 1, 1), d(2016, 2, 15), d(2016, 5, 10), d(2016, 1, 1)],
            "til": [None, d(2016, 8, 31), None, d(2016, 1, 1)],
        }
    ).with_columns(pl.col("til").cast(pl.Date))
    raw = raw.vstack(raw.head(1).with_columns(enhet=pl.lit("per_maaned"), omfang=pl.lit(2.0)))
    out, groups = with_derived(raw)
    assert out.select("_fra", "_til", "_q", "_m").rows() == [
        (16_801, 2_000_000_000, 1.0, 0.0),
        (16_846, 17_044, 0.5, 0.0),  # 3.5 h a week = 0.5 h a day
        (16_931, 2_000_000_000, 1.0, 0.0),  # 2016-05-10: 16 801 + 130 days
        (16_801, 16_801, 20.0, 1.0),
        (16_801, 2_000_000_000, 2.0, 1.0),
    ]
    assert sorted(groups.select(KEYS).rows()) == [
        ("9001", "BPA", "STANDARD"),
        ("9001", "HJSPL", "STANDARD"),
        ("9001", "INST_LANG", "STANDARD"),
        ("9002", "HJSPL", "STANDARD"),
    ]
    by_gid = dict(zip(groups["gid"].to_list(), groups.select(KEYS).rows(), strict=True))
    assert [by_gid[g] for g in out["gid"].to_list()] == [
        ("9002", "HJSPL", "STANDARD"),
        ("9001", "HJSPL", "STANDARD"),
        ("9001", "INST_LANG", "STANDARD"),
        ("9001", "BPA", "STANDARD"),
        ("9002", "HJSPL", "STANDARD"),
    ]


def test_k_reise_and_the_parameters_it_rests_on(params: ParameterSet) -> None:
    """k_reise = 1 + 0.10 × reiseindeks for a home-based service (HJSPL), else 1; a travel index
    of 0 gives 1 without the factor. The log records what was looked up."""
    march = (2016, 3)
    flag, factor = "aktivitetstilskudd.hjemmebasert", "aktivitetstilskudd.reise.faktor"
    cases = [
        (Fraction(1, 2), "HJSPL", Fraction(21, 20), {f"{flag}.HJSPL", factor}),
        (Fraction(0), "HJSPL", Fraction(1), {f"{flag}.HJSPL"}),
        (Fraction(1, 2), "INST_LANG", Fraction(1), {f"{flag}.INST_LANG"}),
    ]
    for index, service, expected, paths in cases:
        log = UsageLog()
        assert k_reise(params, index, service, march, log) == expected
        assert {u.path for u in log.uses.values()} == paths


def test_an_indexed_unit_price_records_each_deflator(params: ParameterSet) -> None:
    """HJSPL STANDARD is 720 kr dated 2016-01-01; in March 2018 it is indexed by the deflators
    of 2017 (0.025) and 2018 (0.030): 720 × 1.025 × 1.030 = 738 × 1.030 = 760.14 kr. The log
    names the price and both deflator values."""
    log = UsageLog()
    assert unit_price(params, "HJSPL", "STANDARD", (2018, 3), log) == Fraction(76_014, 100)
    assert {u.path for u in log.uses.values()} == {
        "aktivitetstilskudd.enhetspris.HJSPL.STANDARD",
        "uttrekk.deflator",
    }
    deflators = sorted(k[1] for k in log.uses if k[0] == "uttrekk.deflator")
    assert deflators == [dt.date(2017, 1, 1), dt.date(2018, 1, 1)]


def test_a_price_is_indexed_by_the_deflator_in_force_on_1_january() -> None:
    """interfaces.md §2: yearly parameters are looked up on 1 January. With deflators 0.02
    (dated 2016-01-01) and 0.5 (dated 2017-01-02), HJSPL STANDARD (720 kr, 2016) in March 2017
    is 720 × 1.02 = 734.40 kr: the value dated 2 January is not in force for 2017."""
    params = load_parameters().with_overrides(
        {"uttrekk.deflator": {dt.date(2016, 1, 1): 0.02, dt.date(2017, 1, 2): 0.5}}
    )
    assert unit_price(params, "HJSPL", "STANDARD", (2017, 3)) == Fraction(73_440, 100)


def _one_vedtak_world(tmp_path: Path, params: ParameterSet, fra: str) -> Any:
    """9001 (zone 1, reiseindeks 0: k_aga = k_reise = 1) in model A from `fra`, one vedtak of
    HJSPL 7 hours a week from `fra`, open: a month of d days has d hours."""
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "aga_sone": "1", "reiseindeks": "0"}
            | {"gyldig_fra": "1900-01-01", "gyldig_til": None, "etterfolger": None}
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": fra, "til": None}
            | {"aktivitet_fra": None, "covid_saerordning": True}
        ],
        "vedtak": [_vedtak("V1", "9001", fra, None) | {"omfang": "7"}],
        "utgifter": [],
        "befolkning": [],
        "toppfinansiering": [],
    }
    data, _ = load_input(write_input(tmp_path / "data", world), params)
    return data


def test_a_price_that_changes_mid_year(tmp_path: Path, params: ParameterSet) -> None:
    """HJSPL STANDARD 720 kr from 2016-01-01 and 800 kr from 2016-07-01 (override): June 2016
    30 h × 720 = 21 600 kr, July 31 h × 800 = 24 800 kr."""
    params = params.with_overrides(
        {
            "aktivitetstilskudd.enhetspris.HJSPL.STANDARD": {
                dt.date(2016, 1, 1): 720,
                dt.date(2016, 7, 1): 800,
            }
        }
    )
    data = _one_vedtak_world(tmp_path, params, "2016-01-01")
    months = [(2016, mo) for mo in range(1, 13)]
    grant = compute_activity(
        data.vedtak, params, Registry(data.kommuner), months, {("9001", m) for m in months}
    )
    assert (grant.get("9001", (2016, 6)), grant.get("9001", (2016, 7))) == (2_160_000, 2_480_000)


def test_months_of_two_years_are_indexed_to_their_own_year(
    tmp_path: Path, params: ParameterSet
) -> None:
    """The kernel asked for December 2019 and the months of 2020 (as for the Covid reference
    window): HJSPL STANDARD 720 kr (2016) is 720 × 1.025 × 1.030 × 1.030 = 782.9442 kr in 2019
    and × 1.031 = 807.2154702 kr in 2020. December 2019: 31 h → 2 427 127.02 øre → 2 427 127;
    December 2020: 31 h → 2 502 367.95762 øre → 2 502 368."""
    data = _one_vedtak_world(tmp_path, params, "2019-12-01")
    months = [(2019, 12)] + [(2020, mo) for mo in range(1, 13)]
    grant = compute_activity(
        data.vedtak, params, Registry(data.kommuner), months, {("9001", m) for m in months}
    )
    assert grant.get("9001", (2019, 12)) == 2_427_127
    assert grant.get("9001", (2020, 12)) == grant.get("9001", (2020, 1)) == 2_502_368


def test_only_lines_in_doubt_are_computed_again_exactly(
    tmp_path: Path, params: ParameterSet
) -> None:
    """Decision 0002: a float line within 10^-6 øre of x.5 or above 10^8 øre is computed
    exactly; no other. 9001 (zone 1, reiseindeks 0: factor = the price) in 2016, HJSPL STANDARD
    720 kr (dated 2016: no deflator). V1 7 hours a week = 1 hour a day: a month of d days is
    d × 72 000 øre, a whole øre, far from x.5: never in doubt. V2 2 000 hours a month
    (`timer_per_maaned`): 2 000 × 72 000 = 144 000 000 øre a month, above 10^8 øre: its 12 lines
    are computed exactly. So 12 lines are rechecked, and the figures are those by hand:
    January 31 × 72 000 + 144 000 000 = 146 232 000 øre, February (29 days) 146 088 000."""
    big = _vedtak("V2", "9001", "2016-01-01", None) | {
        "omfang": "2000",
        "enhet": "timer_per_maaned",
    }
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "aga_sone": "1", "reiseindeks": "0"}
            | {"gyldig_fra": "1900-01-01", "gyldig_til": None, "etterfolger": None}
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2016-01-01", "til": None}
            | {"aktivitet_fra": None, "covid_saerordning": True}
        ],
        "vedtak": [_vedtak("V1", "9001", "2016-01-01", None) | {"omfang": "7"}, big],
        "utgifter": [],
        "befolkning": [],
        "toppfinansiering": [],
    }
    data, _ = load_input(write_input(tmp_path / "two", world), params)
    months = [(2016, mo) for mo in range(1, 13)]
    financed = {("9001", m) for m in months}
    reg = Registry(data.kommuner)
    grant = compute_activity(data.vedtak, params, reg, months, financed, data.vedtak_groups)
    assert grant.exact_rechecks == 12
    expected = {mo: DAYS_2016[mo] * 72_000 + 144_000_000 for mo in range(1, 13)}
    assert {mo: grant.get("9001", (2016, mo)) for mo in range(1, 13)} == expected
    assert (expected[1], expected[2]) == (146_232_000, 146_088_000)

    # V1 alone: no line in doubt, nothing is computed again
    world["vedtak"] = world["vedtak"][:1]
    data, _ = load_input(write_input(tmp_path / "one", world), params)
    grant = compute_activity(data.vedtak, params, reg, months, financed, data.vedtak_groups)
    assert grant.exact_rechecks == 0
    assert {mo: grant.get("9001", (2016, mo)) for mo in range(1, 13)} == {
        mo: DAYS_2016[mo] * 72_000 for mo in range(1, 13)
    }


def test_vedtak_at_and_beyond_the_edges_of_the_months_asked_for(
    tmp_path: Path, params: ParameterSet
) -> None:
    """The kernel asked for the months of 2016 only. 9001 (zone 1, reiseindeks 0), HJSPL
    STANDARD 720 kr (2016), each vedtak 7 hours a week = 1 hour a day = 72 000 øre a day:
    V1 from 2016-12-31 (open): December 1 day = 72 000 øre; V2 from 2017-03-01: nothing in 2016;
    V3 2015-03-01..2015-11-30: nothing in 2016; V4 2015-12-01..2016-01-01: January 1 day
    = 72 000 øre. Every other month 0. (9001 takes part from 2016-01-01: the 2015 months of V3
    and V4 are not financed and need no price.)"""
    vedtak = [
        _vedtak("V1", "9001", "2016-12-31", None),
        _vedtak("V2", "9001", "2017-03-01", None),
        _vedtak("V3", "9001", "2015-03-01", "2015-11-30"),
        _vedtak("V4", "9001", "2015-12-01", "2016-01-01"),
    ]
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [
            {"kommunenummer": "9001", "navn": "A", "aga_sone": "1", "reiseindeks": "0"}
            | {"gyldig_fra": "1900-01-01", "gyldig_til": None, "etterfolger": None}
        ],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2016-01-01", "til": None}
            | {"aktivitet_fra": None, "covid_saerordning": True}
        ],
        "vedtak": [v | {"omfang": "7"} for v in vedtak],
        "utgifter": [],
        "befolkning": [],
        "toppfinansiering": [],
    }
    data, _ = load_input(write_input(tmp_path / "data", world), params)
    months = [(2016, mo) for mo in range(1, 13)]
    grant = compute_activity(
        data.vedtak,
        params,
        Registry(data.kommuner),
        months,
        {("9001", m) for m in months},
        data.vedtak_groups,
    )
    expected = {mo: 0 for mo in range(1, 13)} | {1: 72_000, 12: 72_000}
    assert {mo: grant.get("9001", (2016, mo)) for mo in range(1, 13)} == expected
