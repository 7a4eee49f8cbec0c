"""Engine wiring that the worked cases left untested (docs/mutation-testing.md, engine): the exact
sum of a year's monthly amounts, the rows, months, traces and parameter logs of the worked cases'
worlds, with figures worked out by hand (the cases' comments, interfaces.md §2, the default
parameters in src/sio/params)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from conftest import write_input
from sio.data.model import InputData
from sio.data.validation import load_input
from sio.engine import Engine, _sum_exact, compute
from sio.parameters import ParameterSet, apply_override_file, load_parameters


def test_the_exact_sum_of_monthly_amounts() -> None:
    """Equal months are often one shared object (counted, then multiplied); the sum is exact
    whatever the mix: 1/3 kr in three months and 1/7 kr in one = 1 + 1/7 = 8/7 kr."""
    third, seventh = Fraction(1, 3), Fraction(1, 7)
    assert _sum_exact([]) == 0
    assert _sum_exact([third]) == Fraction(1, 3)
    assert _sum_exact([third] * 12) == 4
    assert _sum_exact([third] * 2) == Fraction(2, 3)  # two months of one shared amount
    assert _sum_exact([third, third, seventh, third]) == Fraction(8, 7)
    # an equal value that is another object counts the same: 1/7 + 3 × 1/3 = 8/7
    assert _sum_exact([seventh, third, third, Fraction(1, 3)]) == Fraction(8, 7)
    assert _sum_exact([Fraction(2, 5), Fraction(-2, 5), third]) == Fraction(1, 3)


# -- worlds of the worked cases, computed through the engine ---------------------------------------

CASES = Path(__file__).parent / "cases"
AGE_GROUPS = ("0_66", "67_79", "80_89", "90_pluss")


def _case(
    tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None] | None = None
) -> tuple[InputData, ParameterSet]:
    """The input and parameters of worked case `name` (tests/cases/<name>.yaml), its input
    tables changed by `change` first if given."""
    case = yaml.safe_load((CASES / f"{name}.yaml").read_text(encoding="utf-8"))
    if change is not None:
        change(case["input"])
    tmp_path.mkdir(parents=True, exist_ok=True)
    params = load_parameters()
    if case.get("override"):
        over = tmp_path / "override.yaml"
        over.write_text(yaml.safe_dump(case["override"]), encoding="utf-8")
        params = apply_override_file(params, over)
    data, _ = load_input(write_input(tmp_path / "data", case["input"], only_present=True), params)
    return data, params


def test_compute_gives_the_year_of_case_011(tmp_path: Path) -> None:
    """`compute(data, params, year)` is the engine's year (worked case 011, by hand in its
    comment): 9001, model A from 2017-01-01 with activity financing from April; U = 60 000 000.
    uttrekk 60 000 000; øremerket Jan–Mar 60 000 000 × 3/12 = 15 000 000; lump sum Apr–Dec
    6 000 000 × 9/12 = 4 500 000; supplement 0.04 × 60 000 000 = 2 400 000; toppfinansiering
    2 400 000 × 9/12 = 1 800 000; activity 4 × 42 000 + 5 × 43 400 = 385 000;
    tilskudd 22 285 000, netto −39 515 000."""
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra")
    yr = compute(data, params, 2017)
    assert (yr.year, yr.params_version, yr.data_source) == (2017, params.version, data.source)
    assert yr.ended_phase_outs == [] and yr.project_cost_breaches == []
    assert [r.kommunenummer for r in yr.results] == ["9001"]
    r = yr.results[0]
    assert (r.navn, r.aar, r.modell, r.maaneder) == ("Testby", 2017, "A", 12)
    assert (r.uttrekk, r.toppfinansiering, r.aktivitetstilskudd) == (60_000_000, 1_800_000, 385_000)
    assert (r.rundsumtilskudd, r.oeremerket_tilskudd, r.inntektspaaslag) == (
        4_500_000,
        15_000_000,
        2_400_000,
    )
    assert (r.tilskudd, r.netto) == (22_285_000, -39_515_000)
    assert yr.get("9001") is yr.rows[0] and yr.get("9002") is None


def test_the_months_and_exact_sums_of_case_011(tmp_path: Path) -> None:
    """Case 011 month by month (interfaces.md §2: amounts per year are paid 1/12 a month):
    every month uttrekk 5 000 000 and supplement 200 000; January–March model B months
    (øremerket 5 000 000, no lump sum, activity or toppfinansiering); April–December lump sum
    500 000, toppfinansiering 200 000, activity 2 h a day × 700 kr: 30-day months 4 200 000 øre,
    31-day months 4 340 000 øre. The exact sums are the annual figures before rounding."""
    data, params = _case(tmp_path, "011-model-a-before-aktivitet-fra")
    row = Engine(data, params).compute_year(2017).get("9001")
    assert row is not None
    assert row.exact == {
        "uttrekk": 60_000_000,
        "toppfinansiering": 1_800_000,
        "aktivitetstilskudd": 385_000,
        "rundsumtilskudd": 4_500_000,
        "oeremerket_tilskudd": 15_000_000,
        "inntektspaaslag": 2_400_000,
    }
    months = row.months
    assert months is row.months  # built once
    assert [m.maaned for m in months] == list(range(1, 13))
    for m in months:
        assert (m.modell, m.uttrekk, m.inntektspaaslag, m.covid_erstattet) == (
            "A",
            5_000_000,
            200_000,
            False,
        )
        if m.maaned <= 3:
            assert not m.aktivitet
            assert (m.oeremerket_tilskudd, m.rundsumtilskudd, m.toppfinansiering) == (
                5_000_000,
                0,
                0,
            )
            assert m.aktivitetstilskudd_oere == 0
        else:
            days = 30 if m.maaned in (4, 6, 9, 11) else 31
            assert m.aktivitet
            assert (m.oeremerket_tilskudd, m.rundsumtilskudd, m.toppfinansiering) == (
                0,
                500_000,
                200_000,
            )
            assert m.aktivitetstilskudd_oere == 2 * days * 700 * 100
    trace = row.trace
    assert trace is row.trace and trace.value == -39_515_000
    log = row.log
    assert log is row.log
    # the override's price of 2017 and the supplement's rate are among the values used
    assert ("aktivitetstilskudd.enhetspris.HJSPL.STANDARD", dt.date(2017, 1, 1)) in log.uses
    assert ("inntektspaaslag.sats", dt.date(2015, 1, 1)) in log.uses


def test_a_phase_out_row_has_no_months_and_logs_its_share(tmp_path: Path) -> None:
    """Worked case 027: 9001 exits in June 2018; 2019 is phase-out year 1, 0.75 × the exact
    supplement of 2017 (its only full year) = 1 916 185.1259… → 1 916 185 kr. The row has no
    months (interfaces.md §2: maaneder 0), its trace is the phase-out's figure, and its log holds
    what the figure rests on: the share of year 1 (dated 2015-01-01, an estimate), the
    supplement's rate of 2017 (dated 2015-01-01; the cap does not bind, so it is not recorded)
    and the deflator of 2017 in uttrekk(2017)."""
    data, params = _case(tmp_path, "027-utfasing-year-1")
    row = Engine(data, params).compute_year(2019).get("9001")
    assert row is not None
    assert row.result.inntektspaaslag == 1_916_185 and row.result.maaneder == 0
    assert 1_916_185 < row.exact["inntektspaaslag"] < Fraction(19_161_852, 10)
    assert row.months == []
    assert row.trace.value == row.exact["inntektspaaslag"]
    keys = set(row.log.uses)
    assert {
        ("inntektspaaslag.nedtrapping.aar_1", dt.date(2015, 1, 1)),
        ("inntektspaaslag.sats", dt.date(2015, 1, 1)),
        ("uttrekk.deflator", dt.date(2017, 1, 1)),
    } <= keys
    assert "inntektspaaslag.nedtrapping.aar_1" in row.log.estimate_paths()


def test_the_travel_factor_is_used_only_with_a_travel_index(tmp_path: Path) -> None:
    """Worked case 032: zone 3, reiseindeks 0, HJSPL and PB_DAGL (both home-based) in January
    2017. k_reise = 1 + faktor × reiseindeks is 1 without a travel index, so the factor
    (`aktivitetstilskudd.reise.faktor`, an estimate) is not used: not in the log, not among the
    estimates. With reiseindeks 1, k_reise = 1 + 0.10 × 1 = 11/10 and the factor is used:
    V1 2 287 800 øre × 771/815 × 11/10 = 2 380 715.56 → 2 380 716, V2 1 588 750 øre × 771/815
    × 11/10 = 1 653 274.69 → 1 653 275; January 4 033 991 øre → 40 340 kr."""
    faktor = "aktivitetstilskudd.reise.faktor"
    data, params = _case(tmp_path / "0", "032-estimerte-parametere")
    row = Engine(data, params).compute_year(2017).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 36_673
    assert faktor not in row.result.estimerte_parametere
    assert faktor not in {path for path, _on in row.log.uses}

    def travel(tables: dict[str, Any]) -> None:
        tables["kommuner"][0]["reiseindeks"] = 1

    data, params = _case(tmp_path / "1", "032-estimerte-parametere", travel)
    row = Engine(data, params).compute_year(2017).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 40_340
    assert faktor in row.result.estimerte_parametere
    assert (faktor, dt.date(2015, 1, 1)) in row.log.uses


def test_the_parameters_that_the_figures_of_case_032_rest_on(tmp_path: Path) -> None:
    """Worked case 032 (January 2017, zone 3, reiseindeks 0; V1 HJSPL at the default price,
    V2 PB_DAGL at the override's; the deflator overridden from 2016-01-01). Each value used, by
    its path and the date it is dated (interfaces.md §2, scheme.md §3):
    - uttrekk(2017) = grunnlag(2016) × (1 + deflator 2017) × W ratio: the flags of the two
      functions in `utgifter`, 253 and 254 (read on 1 January 2016), the deflator (2016-01-01)
      and the four cost weights;
    - supplement: the rate (min(sats × U, tak): the cap does not bind here); lump sum: the share;
    - each line = volume × price × k_aga × k_reise: the unit of each service (hours), the two
      prices (HJSPL dated 2016-01-01 and indexed by the deflator, PB_DAGL the override's), the
      zone's rate, the reference rate and the wage share (zone 3 ≠ the reference rate), the
      home-based flags of both services (and no travel factor: reiseindeks 0).
    Estimates among them (src/sio/params): the unit flags, the HJSPL price, the wage share, the
    reference rate, the home-based flags, the function flags and the cost weights."""
    data, params = _case(tmp_path, "032-estimerte-parametere")
    row = Engine(data, params).compute_year(2017).get("9001")
    assert row is not None
    act = "aktivitetstilskudd."
    weights = [f"uttrekk.demografi.kostnadsvekt.alder_{g}" for g in AGE_GROUPS]
    flags = ["uttrekk.kostra_funksjoner.f253", "uttrekk.kostra_funksjoner.f254"]
    d2015, d2016 = dt.date(2015, 1, 1), dt.date(2016, 1, 1)
    assert set(row.log.uses) == {
        *((p, d2015) for p in weights + flags),
        ("uttrekk.deflator", d2016),
        ("inntektspaaslag.sats", d2015),
        ("rundsumtilskudd.andel", d2015),
        (act + "enhet.HJSPL", d2015),
        (act + "enhet.PB_DAGL", d2015),
        (act + "enhetspris.HJSPL.STANDARD", d2016),
        (act + "enhetspris.PB_DAGL.STANDARD", d2016),
        (act + "aga.sats.sone_3", d2015),
        (act + "aga.referansesats", d2015),
        (act + "aga.lonnsandel", d2015),
        (act + "hjemmebasert.HJSPL", d2015),
        (act + "hjemmebasert.PB_DAGL", d2015),
    }
    assert row.result.estimerte_parametere == tuple(
        sorted(
            [
                act + "aga.lonnsandel",
                act + "aga.referansesats",
                act + "enhet.HJSPL",
                act + "enhet.PB_DAGL",
                act + "enhetspris.HJSPL.STANDARD",
                act + "hjemmebasert.HJSPL",
                act + "hjemmebasert.PB_DAGL",
                *weights,
                *flags,
            ]
        )
    )
    # the activity lookups are those of January, the month with lines
    assert row.log.uses[(act + "enhetspris.HJSPL.STANDARD", d2016)].on == dt.date(2017, 1, 1)


def test_project_costs_are_checked_against_the_model_a_months(tmp_path: Path) -> None:
    """Worked case 010: model B January–May 2019, model A June–December. The project-cost limit
    (scheme.md §3.2) is prosjektmidler_maks (500 000 kr, dated 2015-01-01) / 12 per model A month:
    500 000 × 7/12 = 291 666 ⅔ kr, below the year's supplement 4 467 131.63 kr. 291 667 kr
    breaches it, 291 666 kr does not; either way the money is that of the case."""
    results = {}
    for beloep in (291_667, 291_666):

        def costs(tables: dict[str, Any], beloep: int = beloep) -> None:
            tables["prosjektkostnader"] = [{"kommunenummer": "9001", "aar": 2019, "beloep": beloep}]

        data, params = _case(tmp_path / str(beloep), "010-switch-b-to-a", costs)
        yr = Engine(data, params).compute_year(2019)
        row = yr.get("9001")
        assert row is not None and row.project_costs is not None
        check = row.project_costs
        assert (check.kommunenummer, check.aar, check.beloep) == ("9001", 2019, beloep)
        assert check.grense == Fraction(875_000, 3)
        assert row.result.netto == -54_692_771
        assert ("inntektspaaslag.prosjektmidler_maks", dt.date(2015, 1, 1)) in row.log.uses
        # the trace's last step is the check: the amount against the limit, and its parameter
        step = row.trace.children[-1]
        assert step.value == beloep and step.unit == "kr"
        assert [u.path for u in step.params] == ["inntektspaaslag.prosjektmidler_maks"]
        results[beloep] = (check.innenfor, yr.project_cost_breaches)
    assert results[291_667][0] is False and [c.beloep for c in results[291_667][1]] == [291_667]
    assert results[291_666] == (True, [])


def test_no_project_cost_check_without_a_row_for_the_year(tmp_path: Path) -> None:
    """Case 010 with project costs reported for 2018 only: 2019 has no check."""

    def costs(tables: dict[str, Any]) -> None:
        tables["prosjektkostnader"] = [{"kommunenummer": "9001", "aar": 2018, "beloep": 10}]

    data, params = _case(tmp_path, "010-switch-b-to-a", costs)
    row = Engine(data, params).compute_year(2019).get("9001")
    assert row is not None and row.project_costs is None
    assert row.trace.children[-1].label == "tilskudd"  # no project-cost step
    assert "inntektspaaslag.prosjektmidler_maks" not in {p for p, _on in row.log.uses}
    # input without the optional table at all (InputData.prosjektkostnader None): no check either
    yr = Engine(dataclasses.replace(data, prosjektkostnader=None), params).compute_year(2019)
    row = yr.get("9001")
    assert row is not None and row.project_costs is None
    assert row.result.netto == -54_692_771


def test_the_trace_shows_the_year_s_toppfinansiering_row(tmp_path: Path) -> None:
    """The toppfinansiering step of the trace: the year's row × activity-financed months / 12.
    Case 011: 2 400 000 × 9/12 = 1 800 000 (its 2016 row of 999 999 is another year's); case
    032 has no row: 0 × 12/12 = 0."""
    expected = {
        "011-model-a-before-aktivitet-fra": ("2 400 000 × 9/12 = 1 800 000", 2_400_000),
        "032-estimerte-parametere": ("0 × 12/12 = 0", 0),
    }
    for name, (formula, amount) in expected.items():
        data, params = _case(tmp_path / name, name)
        row = Engine(data, params).compute_year(2017).get("9001")
        assert row is not None
        step = next(n for n in row.trace.children if n.label == "toppfinansiering")
        assert step.formula_text.replace("\xa0", " ").startswith(formula)
        assert step.inputs == [f"toppfinansiering: {amount} kr for 2017"]


def _world_2018(
    tmp_path: Path,
    prices: dict[dt.date, int],
    vedtak_fra: str = "2018-01-01",
    vedtak_til: str | None = None,
    reiseindeks: str = "0",
) -> tuple[InputData, ParameterSet]:
    """9001 (zone 1, reiseindeks 0 unless given) in model A from 2018-01-01, base year 2017
    (KOSTRA 253: 50 000 000, the same population both years); one vedtak of HJSPL 7 hours a week
    (1 hour a day) from `vedtak_fra` to `vedtak_til`; the HJSPL STANDARD price series replaced
    by `prices`."""
    k = {"kommunenummer": "9001", "navn": "A", "aga_sone": "1", "reiseindeks": reiseindeks}
    pop = {"0-66": 5000, "67-79": 700, "80-89": 300, "90+": 60}
    world: dict[str, list[dict[str, Any]]] = {
        "kommuner": [k | {"gyldig_fra": "1900-01-01", "gyldig_til": None, "etterfolger": None}],
        "deltakelse": [
            {"kommunenummer": "9001", "modell": "A", "fra": "2018-01-01", "til": None}
            | {"aktivitet_fra": None, "covid_saerordning": True}
        ],
        "utgifter": [
            {"kommunenummer": "9001", "aar": 2017, "kostra_funksjon": "253"}
            | {"netto_driftsutgifter": 50_000_000}
        ],
        "befolkning": [
            {"kommunenummer": "9001", "aar": y, "aldersgruppe": a, "antall": n}
            for y in (2017, 2018)
            for a, n in pop.items()
        ],
        "vedtak": [
            {"vedtak_id": "V1", "person_id": "P1", "kommunenummer": "9001", "tjeneste": "HJSPL"}
            | {"prisgruppe": None, "omfang": "7", "enhet": "timer_per_uke"}
            | {"fra": vedtak_fra, "til": vedtak_til}
        ],
        "toppfinansiering": [],
    }
    params = load_parameters().with_overrides(
        {"aktivitetstilskudd.enhetspris.HJSPL.STANDARD": prices}
    )
    data, _ = load_input(write_input(tmp_path, world), params)
    return data, params


def test_an_estimate_behind_some_months_of_a_price_is_listed(tmp_path: Path) -> None:
    """HJSPL STANDARD (override) 720 kr from 2016-01-01 and 800 kr from 2018-07-01. January–June
    2018 use 720 × (1 + 0.025) × (1 + 0.030) = 760.14 kr: indexed by the deflator of 2017, an
    estimate (src/sio/params/uttrekk/deflator.yaml); July–December use 800 kr, dated in its own
    year: no deflator. Nothing else of 2018 uses the 2017 deflator (uttrekk(2018) = grunnlag ×
    (1 + deflator 2018), a secondary value), so the deflator is an estimate of the row only
    through January–June. Activity: 181 h × 760.14 + 184 h × 800 = 137 585.34 + 147 200
    = 284 785.34 kr → 284 785. With one price of 800 kr from 2018-01-01 no month uses it:
    365 h × 800 = 292 000 kr, and the deflator is not among the estimates."""
    defl = "uttrekk.deflator"
    prices = {dt.date(2016, 1, 1): 720, dt.date(2018, 7, 1): 800}
    data, params = _world_2018(tmp_path / "mid", prices)
    row = Engine(data, params).compute_year(2018).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 284_785
    assert defl in row.result.estimerte_parametere
    assert (defl, dt.date(2017, 1, 1)) in row.log.uses

    data, params = _world_2018(tmp_path / "one", {dt.date(2018, 1, 1): 800})
    row = Engine(data, params).compute_year(2018).get("9001")
    assert row is not None and row.result.aktivitetstilskudd == 292_000
    assert defl not in row.result.estimerte_parametere
    assert (defl, dt.date(2017, 1, 1)) not in row.log.uses
