"""Property tests (hypothesis) for the money rules.

More volume never gives less money; a cap is never exceeded; twelve monthly amounts add up to the
annual figure; relabelling municipality codes changes nothing; computing predecessors separately
and summing equals the merged computation; the trace reproduces each figure; rounding is half
away from zero.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import max_examples, write_input
from sio.data.registry import Registry
from sio.data.validation import load_input
from sio.engine import Engine
from sio.money import round_half_away, round_ratio
from sio.parameters import ParameterSet, load_parameters
from sio.rules.aktivitetstilskudd import compute_activity, lines_for_month

PARAMS = load_parameters()
SETTINGS = settings(
    max_examples=max_examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PRICED = [
    ("HJSPL", "STANDARD", "timer_per_uke"),
    ("PB_DAGL", "STANDARD", "timer_per_maaned"),
    ("BPA", "STANDARD", "timer_per_uke"),
    ("INST_LANG", "SKJERMET", "doegn"),
    ("INST_KORT", "LINDRENDE", "doegn"),
    ("BOLIG_HELDOEGN", "STANDARD", "per_maaned"),
]


# -- rounding --------------------------------------------------------------------------------


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_round_half_away_matches_decimal_half_up(n: int, d: int) -> None:
    expected = int((Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # Decimal division is exact enough here only when d divides into few digits; use Fraction
    x = Fraction(n, d)
    floor = x.numerator // x.denominator
    rem = x - floor
    exact = floor + 1 if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and x > 0) else floor
    if rem == Fraction(1, 2) and x < 0:
        exact = floor
    assert round_half_away(x) == exact
    if abs(x - Fraction(round(float(x)))) != Fraction(1, 2):
        assert round_half_away(x) == expected or abs(x - expected) <= Fraction(1, 2)


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**12), st.integers(1, 1000))
def test_round_ratio_matches_decimal_half_up(n: int, d: int, k: int) -> None:
    # Decimal's ROUND_HALF_UP is half away from zero; 80 digits hold n / d exactly enough, since
    # a quotient that is not a tie lies at least 1 / (2d) from one
    with localcontext() as ctx:
        ctx.prec = 80
        expected = int((Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert round_ratio(n, d) == expected
    assert round_ratio(n * k, d * k) == expected  # not in lowest terms


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**9))
def test_round_ratio_ties_go_away_from_zero(q: int, h: int) -> None:
    # (2q + 1)h / 2h = q + 1/2: up to q + 1 when positive, down to q when negative
    assert round_ratio((2 * q + 1) * h, 2 * h) == (q + 1 if q >= 0 else q)


def test_round_half_away_examples() -> None:
    assert [round_half_away(Fraction(v)) for v in ("0.5", "2.5", "-2.5", "1.49", "-0.5")] == [
        1,
        3,
        -3,
        1,
        -1,
    ]


# -- a small random world --------------------------------------------------------------------

CODES = ("9001", "9002")


@st.composite
def worlds(draw: st.DrawFn, min_k: int = 1) -> dict[str, Any]:
    """One or two (at least `min_k`) municipalities taking part in model A from a random month,
    with vedtak."""
    kommuner, deltakelse, utgifter, befolkning, vedtak, topp = [], [], [], [], [], []
    n_k = draw(st.integers(min_k, 2))
    for i in range(n_k):
        code = CODES[i]
        zone = draw(st.sampled_from(["1", "2", "4", "5"]))
        reise = draw(st.sampled_from(["0", "0.25", "1.5"]))
        kommuner.append(
            {
                "kommunenummer": code,
                "navn": f"K{code}",
                "gyldig_fra": "1900-01-01",
                "aga_sone": zone,
                "reiseindeks": reise,
            }
        )
        start_month = draw(st.integers(1, 12))
        deltakelse.append(
            {
                "kommunenummer": code,
                "modell": "A",
                "fra": dt.date(2017, start_month, 1),
                "til": dt.date(2019, 12, 31),
            }
        )
        base = draw(st.integers(10_000_000, 900_000_000))
        utgifter.append(
            {
                "kommunenummer": code,
                "aar": 2016,
                "kostra_funksjon": "253",
                "netto_driftsutgifter": base,
            }
        )
        topp.append({"kommunenummer": code, "aar": 2018, "beloep": draw(st.integers(0, 10**7))})
        for y in range(2016, 2020):
            for g, lo, hi in (
                ("0-66", 1000, 50000),
                ("67-79", 100, 8000),
                ("80-89", 10, 3000),
                ("90+", 0, 500),
            ):
                befolkning.append(
                    {
                        "kommunenummer": code,
                        "aar": y,
                        "aldersgruppe": g,
                        "antall": draw(st.integers(lo, hi)),
                    }
                )
        for j in range(draw(st.integers(1, 6))):
            svc, grp, unit = draw(st.sampled_from(PRICED))
            fra = dt.date(2018, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))
            til = draw(st.one_of(st.none(), st.integers(0, 400)))
            omfang = draw(st.integers(0, 400)) / 10 if unit != "doegn" else draw(st.integers(0, 2))
            vedtak.append(
                {
                    "vedtak_id": f"V{code}-{j}",
                    "person_id": f"P{code}-{j}",
                    "kommunenummer": code,
                    "tjeneste": svc,
                    "prisgruppe": grp,
                    "omfang": omfang,
                    "enhet": unit,
                    "fra": fra,
                    "til": None if til is None else fra + dt.timedelta(days=til),
                }
            )
    return {
        "kommuner": kommuner,
        "deltakelse": deltakelse,
        "utgifter": utgifter,
        "befolkning": befolkning,
        "vedtak": vedtak,
        "toppfinansiering": topp,
    }


def _run(world: dict[str, Any], tmp: Path, year: int = 2018, params: ParameterSet = PARAMS) -> Any:
    data, _ = load_input(write_input(tmp, world), params)
    return Engine(data, params).compute_year(year)


def _tmp(tmp_path_factory: Any) -> Path:
    return Path(tmp_path_factory.mktemp("w"))


@SETTINGS
@given(worlds(), st.data())
def test_more_volume_never_less_money(
    tmp_path_factory: Any, world: dict[str, Any], data: st.DataObject
) -> None:
    before = {r.kommunenummer: r for r in _run(world, _tmp(tmp_path_factory)).results}
    i = data.draw(st.integers(0, len(world["vedtak"]) - 1))
    bigger = dict(world)
    bigger["vedtak"] = [dict(v) for v in world["vedtak"]]
    bigger["vedtak"][i]["omfang"] = bigger["vedtak"][i]["omfang"] + data.draw(st.integers(1, 5))
    after = {r.kommunenummer: r for r in _run(bigger, _tmp(tmp_path_factory)).results}
    for code, r in before.items():
        assert after[code].aktivitetstilskudd >= r.aktivitetstilskudd
        assert after[code].tilskudd >= r.tilskudd


@SETTINGS
@given(worlds(), st.integers(1, 50_000_000))
def test_supplement_cap_never_exceeded(
    tmp_path_factory: Any, world: dict[str, Any], cap: int
) -> None:
    params = PARAMS.with_overrides({"inntektspaaslag.tak": {dt.date(2015, 1, 1): cap}})
    for my in _run(world, _tmp(tmp_path_factory), params=params).rows:
        r = my.result
        assert my.exact["inntektspaaslag"] <= Fraction(cap * r.maaneder, 12)
        assert r.inntektspaaslag <= round_half_away(Fraction(cap * r.maaneder, 12))
        assert my.exact["inntektspaaslag"] <= Fraction(4, 100) * my.exact["uttrekk"]


@SETTINGS
@given(worlds())
def test_monthly_amounts_add_up_to_annual(tmp_path_factory: Any, world: dict[str, Any]) -> None:
    for my in _run(world, _tmp(tmp_path_factory)).rows:
        r = my.result
        months = my.months
        assert len(months) == r.maaneder
        for comp in (
            "uttrekk",
            "toppfinansiering",
            "rundsumtilskudd",
            "oeremerket_tilskudd",
            "inntektspaaslag",
        ):
            total = sum((getattr(m, comp) for m in months), Fraction(0))
            assert round_half_away(total) == getattr(r, comp)
        oere = sum(m.aktivitetstilskudd_oere for m in months)
        assert round_half_away(Fraction(oere, 100)) == r.aktivitetstilskudd
        if r.maaneder == 12:
            monthly_u = my.months[0].uttrekk
            assert all(m.uttrekk == monthly_u for m in months)


@SETTINGS
@given(worlds())
def test_relabelling_codes_changes_nothing(tmp_path_factory: Any, world: dict[str, Any]) -> None:
    mapping = {"9001": "4711", "9002": "0815"}

    def relabel(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for r in rows:
            r2 = dict(r)
            r2["kommunenummer"] = mapping[r["kommunenummer"]]
            out.append(r2)
        return out

    other = {k: relabel(v) for k, v in world.items()}
    a = {r.kommunenummer: r for r in _run(world, _tmp(tmp_path_factory)).results}
    b = {r.kommunenummer: r for r in _run(other, _tmp(tmp_path_factory)).results}
    assert {mapping[c] for c in a} == set(b)
    for code, r in a.items():
        r2 = b[mapping[code]]
        assert r.to_dict() | {"kommunenummer": ""} == r2.to_dict() | {"kommunenummer": ""}


@SETTINGS
@given(worlds())
def test_trace_reproduces_each_figure(tmp_path_factory: Any, world: dict[str, Any]) -> None:
    tmp = _tmp(tmp_path_factory)
    data, _ = load_input(write_input(tmp, world), PARAMS)
    engine = Engine(data, PARAMS)
    yr = engine.compute_year(2018)
    for my in yr.rows:
        r = my.result
        assert my.trace.value == r.netto
        by_label = {c.label: c.value for c in my.trace.children}
        for comp in (
            "uttrekk",
            "toppfinansiering",
            "aktivitetstilskudd",
            "rundsumtilskudd",
            "oeremerket_tilskudd",
            "inntektspaaslag",
            "tilskudd",
        ):
            assert by_label[comp] == getattr(r, comp)
        for m in my.months:
            if m.aktivitet:
                lines = lines_for_month(
                    data.vedtak, PARAMS, engine.registry, r.kommunenummer, (2018, m.maaned)
                )
                assert sum(ln.oere for ln in lines) == m.aktivitetstilskudd_oere


@SETTINGS
@given(worlds(min_k=2), st.integers(2, 30))
def test_predecessors_separately_equal_merged(
    tmp_path_factory: Any, world: dict[str, Any], scale: int
) -> None:
    """Two municipalities (same zone and travel index, proportional populations) merged into one
    code give the same activity grant and extraction as the two computed separately and summed.
    Every example has two municipalities (the strategy draws two), so every example asserts."""
    assert [k["kommunenummer"] for k in world["kommuner"]] == list(CODES)
    for k in world["kommuner"]:
        k["aga_sone"], k["reiseindeks"] = "2", "0.25"
    for d in world["deltakelse"]:
        d["fra"] = dt.date(2017, 1, 1)
    pop_a = [b for b in world["befolkning"] if b["kommunenummer"] == "9001"]
    world["befolkning"] = pop_a + [
        dict(b, kommunenummer="9002", antall=b["antall"] * scale) for b in pop_a
    ]
    separate = _run(world, _tmp(tmp_path_factory)).rows
    assert len(separate) == 2
    merged_world = {
        k: [
            dict(r, kommunenummer="9001")
            for r in v
            if k != "kommuner" or r["kommunenummer"] == "9001"
        ]
        for k, v in world.items()
    }
    merged_world["deltakelse"] = merged_world["deltakelse"][:1]
    merged_world["utgifter"] = [
        {
            "kommunenummer": "9001",
            "aar": 2016,
            "kostra_funksjon": "253",
            "netto_driftsutgifter": sum(u["netto_driftsutgifter"] for u in world["utgifter"]),
        }
    ]
    merged_world["befolkning"] = [dict(b, antall=b["antall"] * (1 + scale)) for b in pop_a]
    merged_world["toppfinansiering"] = [
        {
            "kommunenummer": "9001",
            "aar": 2018,
            "beloep": sum(t["beloep"] for t in world["toppfinansiering"]),
        }
    ]
    merged = _run(merged_world, _tmp(tmp_path_factory)).rows[0]
    act = sum(sum(m.aktivitetstilskudd_oere for m in my.months) for my in separate)
    assert sum(m.aktivitetstilskudd_oere for m in merged.months) == act
    assert merged.exact["uttrekk"] == sum(my.exact["uttrekk"] for my in separate)


def _zone_1_registry() -> Registry:
    """One municipality 9001 in employer-tax zone 1 (k_aga = 1), without a travel index."""
    kommuner = pl.DataFrame(
        {
            "kommunenummer": ["9001"],
            "navn": ["T"],
            "gyldig_fra": [dt.date(1900, 1, 1)],
            "gyldig_til": [None],
            "aga_sone": ["1"],
            "reiseindeks": ["0"],
            "etterfolger": [None],
        },
        schema_overrides={"gyldig_til": pl.Date, "etterfolger": pl.Utf8},
    )
    return Registry(kommuner)


@pytest.mark.parametrize("omfang", ["0.00001", "0.00003", "0.00007", "0.00011", "0.00013"])
def test_vectorised_lines_equal_exact_lines_on_ties(params: ParameterSet, omfang: str) -> None:
    """A line whose exact value ends in .5 øre is rounded away from zero, whatever float64 says.

    INST_KORT UTREDNING costs 3 500 kr = 350 000 øre per day in 2016 (zone 1: k_aga = 1), so one
    day at omfang 0.00001 is exactly 3.5 øre → 4; 0.00003 → 10.5 → 11; 0.00007 → 24.5 → 25 …
    """
    vedtak = pl.DataFrame(
        {
            "vedtak_id": ["V1"],
            "person_id": ["P"],
            "kommunenummer": ["9001"],
            "tjeneste": ["INST_KORT"],
            "prisgruppe": ["UTREDNING"],
            "omfang": [float(omfang)],
            "omfang_tekst": [omfang],
            "enhet": ["doegn"],
            "fra": [dt.date(2016, 3, 1)],
            "til": [dt.date(2016, 3, 1)],
            "line": [2],
        }
    )
    reg = _zone_1_registry()
    grant = compute_activity(vedtak, params, reg, [(2016, 3)], [("9001", (2016, 3))])
    expected = int(Fraction(omfang) * 350000 + Fraction(1, 2))  # x.5 → x+1
    assert Fraction(omfang) * 350000 % 1 == Fraction(1, 2)
    assert grant.get("9001", (2016, 3)) == expected
    assert grant.exact_rechecks >= 1
    lines = lines_for_month(vedtak, params, reg, "9001", (2016, 3))
    assert lines[0].oere == expected


def test_very_large_lines_are_rechecked_exactly(params: ParameterSet) -> None:
    """A line above 10^8 øre is outside the float certainty bound and is recomputed exactly:
    1 000.5 `per_maaned` units of INST_LANG (3 100 kr = 310 000 øre, 2016, zone 1) for the whole
    of March = 1 000.5 × 310 000 = 310 155 000 øre."""
    vedtak = pl.DataFrame(
        {
            "vedtak_id": ["V1"],
            "person_id": ["P"],
            "kommunenummer": ["9001"],
            "tjeneste": ["INST_LANG"],
            "prisgruppe": ["STANDARD"],
            "omfang": [1000.5],
            "omfang_tekst": ["1000.5"],
            "enhet": ["per_maaned"],
            "fra": [dt.date(2016, 1, 1)],
            "til": [None],
            "line": [2],
        },
        schema_overrides={"til": pl.Date},
    )
    grant = compute_activity(vedtak, params, _zone_1_registry(), [(2016, 3)], [("9001", (2016, 3))])
    assert grant.get("9001", (2016, 3)) == 310_155_000
    assert grant.exact_rechecks == 1
