"""The vectorised activity kernel (`compute_activity` and its helpers) where the worked cases and
the kernel's property leave it untested (docs/mutation-testing.md, "The activity kernel"), with
figures worked out by hand from scheme.md §3.3, interfaces.md §2 "Activity grant" and the default
parameters (src/sio/params): in 2016 HJSPL STANDARD costs 720 kr an hour, PB_DAGL STANDARD 520 kr
an hour, INST_LANG STANDARD 3 100 kr a day and INST_LANG SKJERMET 3 500 kr a day (dated 2016: no
deflator). Municipality 9001 is in employer-tax zone 1 (k_aga = 1) with travel index 0
(k_reise = 1), so a line is volume × price × 100 øre.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from conftest import write_input
from sio.data.registry import Registry
from sio.data.validation import load_input
from sio.engine import Engine
from sio.parameters import ParameterSet, apply_override_file, load_parameters
from sio.rules.aktivitetstilskudd import compute_activity, priced_groups

CASES = Path(__file__).parent / "cases"
DAYS_2016 = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
MONTHS_2016 = [(2016, mo) for mo in range(1, 13)]


def _registry(*codes: str) -> Registry:
    kommuner = pl.DataFrame(
        {
            "kommunenummer": list(codes),
            "navn": [f"K{c}" for c in codes],
            "gyldig_fra": [dt.date(1900, 1, 1)] * len(codes),
            "gyldig_til": [None] * len(codes),
            "aga_sone": ["1"] * len(codes),
            "reiseindeks": ["0"] * len(codes),
            "etterfolger": [None] * len(codes),
        },
        schema_overrides={"gyldig_til": pl.Date, "etterfolger": pl.Utf8},
    )
    return Registry(kommuner)


def _vedtak(rows: list[tuple[str, str, str, str, str, dt.date, dt.date | None]]) -> pl.DataFrame:
    """Vedtak as `load_input` hands them over (without the kernel's derived columns): rows of
    (kommunenummer, tjeneste, prisgruppe, omfang, enhet, fra, til)."""
    return pl.DataFrame(
        [
            {
                "vedtak_id": f"V{i}",
                "person_id": f"P{i}",
                "kommunenummer": code,
                "tjeneste": service,
                "prisgruppe": group,
                "omfang": float(omfang),
                "omfang_tekst": omfang,
                "enhet": unit,
                "fra": fra,
                "til": til,
                "line": i + 2,
            }
            for i, (code, service, group, omfang, unit, fra, til) in enumerate(rows)
        ],
        schema_overrides={"til": pl.Date},
    )


def test_priced_groups_lists_each_service_with_its_price_groups(params: ParameterSet) -> None:
    """Every (service, price group) with a unit price: INST_LANG has STANDARD, SKJERMET and
    FORSTERKET (src/sio/params/aktivitetstilskudd/enhetspris/INST_LANG.yaml)."""
    pairs = priced_groups(params)
    inst_lang = sorted(g for s, g in pairs if s == "INST_LANG")
    assert inst_lang == ["FORSTERKET", "SKJERMET", "STANDARD"]
    assert ("HJSPL", "STANDARD") in pairs and ("PB_DAGL", "STANDARD") in pairs
    assert len(pairs) == len(set(pairs))


def test_the_year_result_carries_the_kernel_s_figures_per_service(tmp_path: Path) -> None:
    """Worked case 011: 9001's only vedtak is HJSPL 14 hours a week in 2017 at 700 kr an hour,
    activity-financed from April: April 60 h → 42 000 kr, May 62 h → 43 400 kr, …, April to
    December 4 × 42 000 + 5 × 43 400 = 385 000 kr = 38 500 000 øre, all of it HJSPL. The pages
    take each service's share from `YearResult.activity` (`ActivityGrant.by_service`)."""
    case = yaml.safe_load(
        (CASES / "011-model-a-before-aktivitet-fra.yaml").read_text(encoding="utf-8")
    )
    over = tmp_path / "override.yaml"
    over.write_text(yaml.safe_dump(case["override"]), encoding="utf-8")
    params = apply_override_file(load_parameters(), over)
    data, _ = load_input(write_input(tmp_path / "data", case["input"], only_present=True), params)
    yr = Engine(data, params).compute_year(2017)
    assert yr.activity is not None
    april_to_december = [(2017, mo) for mo in range(4, 13)]
    assert yr.activity.by_service("9001", april_to_december) == {"HJSPL": 38_500_000}
    assert yr.activity.by_service("9001", [(2017, 4), (2017, 5)]) == {"HJSPL": 8_540_000}
    assert yr.activity.get("9001", (2017, 5)) == 4_340_000
    assert yr.activity.by_service("9001", [(2017, mo) for mo in range(1, 4)]) == {}


D = dt.date
# Months asked for, out of order and with gaps (April, June–November): three years' classes of
# 29, 30 and 31 days do not all occur, and 2017 has other prices (deflator 2017 = 0.025:
# HJSPL 720 × 1.025 = 738 kr, INST_LANG SKJERMET 3 500 × 1.025 = 3 587.5 kr).
ASKED = [(2016, 12), (2016, 2), (2017, 1), (2016, 1), (2016, 5), (2016, 3)]
# 9001 is not activity-financed in March 2016; April is financed but not asked for; 9003 is
# financed and has no vedtak; 9004 is not financed at all.
FINANCED = (
    {("9001", m) for m in ASKED if m != (2016, 3)}
    | {("9001", (2016, 4))}
    | {("9002", m) for m in ASKED}
    | {("9003", m) for m in ASKED}
)
WORLD = [
    # 9001
    ("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2016, 1, 1), None),  # A
    ("9001", "PB_DAGL", "STANDARD", "10", "timer_per_maaned", D(2016, 2, 10), D(2016, 5, 20)),  # B
    ("9001", "INST_LANG", "SKJERMET", "1", "doegn", D(2016, 12, 15), D(2017, 1, 10)),  # C
    ("9001", "INST_LANG", "STANDARD", "1", "per_maaned", D(2016, 1, 1), D(2016, 1, 31)),  # D
    ("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2016, 4, 10), D(2016, 4, 30)),  # E
    ("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2016, 4, 20), D(2016, 5, 1)),  # F
    ("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2016, 5, 31), D(2016, 12, 1)),  # G
    ("9001", "PB_DAGL", "STANDARD", "3", "per_maaned", D(2016, 2, 5), D(2016, 2, 14)),  # H
    # 9002
    ("9002", "HJSPL", "STANDARD", "14", "timer_per_uke", D(2016, 2, 29), None),  # I
    ("9002", "PB_DAGL", "STANDARD", "0.00002", "timer_per_maaned", D(2016, 1, 1), D(2016, 1, 31)),
    ("9002", "INST_LANG", "STANDARD", "0.000001", "per_maaned", D(2016, 1, 1), D(2016, 1, 31)),
    ("9002", "AVLASTNING_INST", "STANDARD", "1", "doegn", D(2016, 1, 20), D(2016, 1, 25)),
    ("9002", "PB_DAGL", "STANDARD", "1", "timer_per_maaned", D(2016, 3, 1), D(2016, 4, 1)),
    ("9002", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2015, 6, 1), D(2015, 12, 31)),  # before
    ("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2017, 2, 1), None),  # after
    # 9004: not financed
    ("9004", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2016, 1, 1), None),
]
# Each line by hand (øre). A: 7 h a week = 1 h a day × 72 000 (2016) or 73 800 (2017) øre.
# B: 10 h a month prorated by days / days in the month × 52 000 øre: February 20 days (10th–29th)
# 10 400 000/29 = 358 620.69 → 358 621; May 20 days 10 400 000/31 = 335 483.87 → 335 484; March
# not financed; April not asked. C: December 17 days (15th–31st) × 350 000 = 5 950 000; January
# 2017 10 days × 358 750 = 3 587 500. D: January, a whole month: 310 000. E: only in April: none.
# F: May 1st only: 72 000. G: 31 May and 1 December: 72 000 each. H: 3 a month, 10 days of 29
# × 52 000 = 1 560 000/29 = 53 793.10 → 53 793. I: 14 h a week = 2 h a day = 144 000 øre from
# 29 February (1 day), 31-day months 4 464 000, January 2017 31 × 147 600 = 4 575 600.
# 9002's PB_DAGL: 0.00002 × 52 000 = 1.04 → 1 øre; its INST_LANG: 0.000001 × 310 000 = 0.31 → 0;
# its AVLASTNING_INST (3 100 kr a day; the first service and group with a price) 20–25 January:
# 6 × 310 000 = 1 860 000; its PB_DAGL 1 hour a month 1 March – 1 April: March, a whole month,
# 52 000 (April, the day after March, is not asked for).
LINES = {
    ("9001", (2016, 1)): [31 * 72_000, 310_000],
    ("9001", (2016, 2)): [29 * 72_000, 358_621, 53_793],
    ("9001", (2016, 5)): [31 * 72_000, 335_484, 72_000, 72_000],
    ("9001", (2016, 12)): [31 * 72_000, 5_950_000, 72_000],
    ("9001", (2017, 1)): [31 * 73_800, 3_587_500],
    ("9002", (2016, 1)): [1, 0, 1_860_000],
    ("9002", (2016, 2)): [144_000],
    ("9002", (2016, 3)): [4_464_000, 52_000],
    ("9002", (2016, 5)): [4_464_000],
    ("9002", (2016, 12)): [4_464_000],
    ("9002", (2017, 1)): [4_575_600],
}


def test_a_worked_world_of_part_months_gaps_and_two_years() -> None:
    """Every financed month asked for is in `oere` (0 where nothing is in force), no other; the
    groups with a line above 0 øre are listed per municipality and year with their months; the
    per-service sums are the same lines; no line is near x.5 øre, so none is rechecked."""
    grant = compute_activity(
        _vedtak(WORLD),
        load_parameters(),
        _registry("9001", "9002", "9003", "9004"),
        ASKED,
        FINANCED,
    )
    assert grant.months == sorted(ASKED)
    expected = {key: 0 for key in FINANCED if key[1] in ASKED} | {
        key: sum(lines) for key, lines in LINES.items()
    }
    assert grant.oere == expected
    assert (grant.get("9001", (2016, 1)), grant.get("9001", (2016, 2))) == (2_542_000, 2_500_414)
    assert grant.get("9001", (2016, 3)) == grant.get("9004", (2016, 1)) == 0
    assert grant.exact_rechecks == 0
    assert grant.used_groups == {
        ("9001", 2016): {
            ("HJSPL", "STANDARD"): (1, 2, 5, 12),
            ("PB_DAGL", "STANDARD"): (2, 5),
            ("INST_LANG", "SKJERMET"): (12,),
            ("INST_LANG", "STANDARD"): (1,),
        },
        ("9001", 2017): {("HJSPL", "STANDARD"): (1,), ("INST_LANG", "SKJERMET"): (1,)},
        ("9002", 2016): {
            ("HJSPL", "STANDARD"): (2, 3, 5, 12),
            ("PB_DAGL", "STANDARD"): (1, 3),
            ("AVLASTNING_INST", "STANDARD"): (1,),
        },
        ("9002", 2017): {("HJSPL", "STANDARD"): (1,)},
    }
    # A in January, May and December 2016 (31 days), February (29) and January 2017; F; G twice
    hjspl_9001 = 3 * 31 * 72_000 + 29 * 72_000 + 31 * 73_800 + 3 * 72_000
    assert grant.by_service("9001", sorted(ASKED)) == {
        "HJSPL": hjspl_9001,
        "INST_LANG": 310_000 + 5_950_000 + 3_587_500,
        "PB_DAGL": 358_621 + 53_793 + 335_484,
    }
    assert grant.by_service("9001", [(2016, 3)]) == {}  # not financed: no line
    assert grant.by_service("9002", [(2016, 1)]) == {"AVLASTNING_INST": 1_860_000, "PB_DAGL": 1}
    assert grant.by_service("9003", sorted(ASKED)) == {}
    assert grant.by_service("9004", sorted(ASKED)) == {}


def test_nothing_financed_among_the_months_asked_for_computes_nothing() -> None:
    """No financed municipality in the months asked for (none at all, or only in other months),
    or no months: an empty grant, nothing computed, nothing rechecked."""
    vedtak = _vedtak(WORLD)
    params, registry = load_parameters(), _registry("9001", "9002", "9003", "9004")
    for months, financed in [
        ([(2016, 2), (2016, 1)], set()),
        ([(2016, 2), (2016, 1)], {("9001", (2016, 3)), ("9002", (2016, 4))}),
        ([], {("9001", (2016, 1))}),
    ]:
        grant = compute_activity(vedtak, params, registry, months, financed)
        assert grant.months == sorted(months)
        assert (grant.oere, grant.used_groups, grant.exact_rechecks) == ({}, {}, 0)
        assert grant.group_oere is None and grant.groups is None
        assert grant.get("9001", (2016, 1)) == 0


def test_no_vedtak_at_all_gives_zero_in_every_financed_month() -> None:
    """Financed months without a single vedtak (no groups, nothing to price): 0 øre in each."""
    empty = _vedtak([("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", D(2016, 1, 1), None)])
    empty = empty.clear()
    months = [(2016, 1), (2016, 2)]
    grant = compute_activity(
        empty, load_parameters(), _registry("9001"), months, {("9001", m) for m in months}
    )
    assert grant.oere == {("9001", (2016, 1)): 0, ("9001", (2016, 2)): 0}
    assert (grant.used_groups, grant.exact_rechecks) == ({}, 0)
    assert grant.by_service("9001", months) == {}


def test_sums_beyond_two_to_the_53_oere_are_not_taken_apart_in_float() -> None:
    """A line above 10^8 øre is computed exactly (decision 0002) and taken out of the float sums.
    Below 2^53 øre (about 9.0 × 10^15) a float sum of whole øre is exact, so it can be
    subtracted again; above, it cannot: 9001's January has INST_LANG STANDARD (310 000 øre a
    month) 30 000 000 000 a month = 9 300 000 000 000 000 øre and 0.00001 a month = 3.1 → 3 øre,
    9 300 000 000 000 003 øre in all (in float, 9.3 × 10^15 + 3 is 9.3 × 10^15 + 4). A part
    month above 10^8 øre is rechecked too: 9002's HJSPL 3 000 hours a month from 15 January to
    its end, 3 000 × 17/31 × 72 000 = 118 451 612.90 → 118 451 613 øre."""
    jan = (D(2016, 1, 1), D(2016, 1, 31))
    vedtak = _vedtak(
        [
            ("9001", "INST_LANG", "STANDARD", "30000000000", "per_maaned", *jan),
            ("9001", "INST_LANG", "STANDARD", "0.00001", "per_maaned", *jan),
            ("9002", "HJSPL", "STANDARD", "3000", "timer_per_maaned", D(2016, 1, 15), jan[1]),
        ]
    )
    months = [(2016, 1), (2016, 2)]
    financed = {(c, m) for c in ("9001", "9002") for m in months}
    grant = compute_activity(vedtak, load_parameters(), _registry("9001", "9002"), months, financed)
    assert grant.get("9001", (2016, 1)) == 9_300_000_000_000_003
    assert grant.get("9002", (2016, 1)) == 118_451_613
    assert grant.get("9001", (2016, 2)) == grant.get("9002", (2016, 2)) == 0
    assert grant.exact_rechecks == 2


def test_two_hundred_thousand_vedtak_are_summed_in_two_halves() -> None:
    """From 200 000 vedtak the kernel works on two halves at once; the figures are the same as
    line by line. 199 999 vedtak of HJSPL 7 hours a week (1 hour a day = 72 000 øre) all of 2016,
    and a last one of 0.0000625 hours a month = 4.5 øre exactly, a tie computed exactly and
    rounded away from zero to 5 øre (decision 0002): January 199 999 × 31 × 72 000 + 5 =
    446 397 768 005 øre, February 199 999 × 29 × 72 000 + 5 = 417 597 912 005 øre; the tie's two
    lines are the only ones rechecked."""
    n = 200_000
    vedtak = pl.DataFrame(
        {
            "vedtak_id": [f"V{i}" for i in range(n)],
            "person_id": [f"P{i}" for i in range(n)],
            "kommunenummer": ["9001"] * n,
            "tjeneste": ["HJSPL"] * n,
            "prisgruppe": ["STANDARD"] * n,
            "omfang": [7.0] * (n - 1) + [0.0000625],
            "omfang_tekst": ["7"] * (n - 1) + ["0.0000625"],
            "enhet": ["timer_per_uke"] * (n - 1) + ["timer_per_maaned"],
            "fra": [D(2016, 1, 1)] * n,
            "til": [None] * n,
            "line": list(range(2, n + 2)),
        },
        schema_overrides={"til": pl.Date},
    )
    months = [(2016, 1), (2016, 2)]
    grant = compute_activity(
        vedtak, load_parameters(), _registry("9001"), months, {("9001", m) for m in months}
    )
    assert 199_999 * 31 * 72_000 + 5 == 446_397_768_005
    assert grant.get("9001", (2016, 1)) == 446_397_768_005
    assert grant.get("9001", (2016, 2)) == 417_597_912_005
    assert grant.exact_rechecks == 2


def _with(tmp_path: Path, override: dict[str, dict[str, Any]]) -> ParameterSet:
    over = tmp_path / "override.yaml"
    over.write_text(yaml.safe_dump(override), encoding="utf-8")
    return apply_override_file(load_parameters(), over)


JANUARY = [(2016, 1)]
ALL_OF_2016 = (D(2016, 1, 1), D(2016, 12, 31))


def test_prices_and_employer_tax_factors_of_zero_or_below_one_oere_give_lines(
    tmp_path: Path,
) -> None:
    """A unit price of 0 or below 1 øre, or an employer-tax factor of exactly 0, is no error:
    HJSPL at 0 kr gives 0 øre; PB_DAGL at 0.004 kr = 0.4 øre an hour, 100 hours a month, gives
    40 øre. In zone 1 at the rate −1.28525 (reference 0.141, wage share 0.80) k_aga is
    1 + 0.80 × (−1.28525 − 0.141)/1.141 = 1 − 1.141/1.141 = 0: every line 0 øre."""
    params = _with(
        tmp_path,
        {
            "aktivitetstilskudd.enhetspris.HJSPL.STANDARD": {"2016-01-01": 0},
            "aktivitetstilskudd.enhetspris.PB_DAGL.STANDARD": {"2016-01-01": 0.004},
        },
    )
    vedtak = _vedtak(
        [
            ("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", *ALL_OF_2016),
            ("9001", "PB_DAGL", "STANDARD", "100", "timer_per_maaned", *ALL_OF_2016),
        ]
    )
    grant = compute_activity(vedtak, params, _registry("9001"), JANUARY, {("9001", (2016, 1))})
    assert grant.oere == {("9001", (2016, 1)): 40}
    assert grant.used_groups == {("9001", 2016): {("PB_DAGL", "STANDARD"): (1,)}}

    zero = _with(tmp_path, {"aktivitetstilskudd.aga.sats.sone_1": {"2015-01-01": -1.28525}})
    grant = compute_activity(vedtak, zero, _registry("9001"), JANUARY, {("9001", (2016, 1))})
    assert grant.oere == {("9001", (2016, 1)): 0}


def test_a_negative_price_or_employer_tax_factor_is_refused(tmp_path: Path) -> None:
    """A unit price below 0, or an employer-tax factor below 0 (zone 1 at the rate −10:
    1 + 0.80 × (−10 − 0.141)/1.141 < 0), is an error in the parameters, not a negative grant."""
    vedtak = _vedtak([("9001", "HJSPL", "STANDARD", "7", "timer_per_uke", *ALL_OF_2016)])
    for override, message in [
        ({"aktivitetstilskudd.enhetspris.HJSPL.STANDARD": {"2016-01-01": -1}}, "unit price"),
        ({"aktivitetstilskudd.aga.sats.sone_1": {"2015-01-01": -10}}, "employer-tax factor"),
    ]:
        params = _with(tmp_path, override)
        with pytest.raises(ValueError, match=f"^an? {message} is negative$"):
            compute_activity(vedtak, params, _registry("9001"), JANUARY, {("9001", (2016, 1))})


def test_a_vedtak_in_doubt_in_an_early_class_of_months_only_is_computed_exactly() -> None:
    """The months January–April 2016 fall in three classes (31, 29 and 30 days, in that order).
    INST_LANG STANDARD 0.00005 a day = 15.5 øre a day: January and March 31 × 15.5 = 480.5 → 481,
    February 29 × 15.5 = 449.5 → 450 (ties, away from zero: the vedtak is computed exactly), April
    30 × 15.5 = 465. That the last class has no tie must not clear the doubt of the first."""
    vedtak = _vedtak(
        [("9001", "INST_LANG", "STANDARD", "0.00005", "doegn", D(2016, 1, 1), D(2016, 4, 30))]
    )
    months = [(2016, mo) for mo in range(1, 5)]
    grant = compute_activity(
        vedtak, load_parameters(), _registry("9001"), months, {("9001", m) for m in months}
    )
    assert {mo: grant.get("9001", (2016, mo)) for mo in range(1, 5)} == {
        1: 481,
        2: 450,
        3: 481,
        4: 465,
    }
    assert grant.exact_rechecks == 4
