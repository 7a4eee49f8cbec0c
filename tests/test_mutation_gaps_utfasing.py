"""Phase-out rules that the worked cases left untested (docs/mutation-testing.md, utfasing):
small worlds whose expected figures are worked out by hand from interfaces.md §2 "Phase-out and
output rows", decision 0012 and the default parameters (src/sio/params).

Every world has one KOSTRA row (function 253, 50 000 000 kr in the base year) and the same
population in every year, so W(k, t)/W(k, t − 1) = 1 and uttrekk(k, y) is the grunnlag × Π(1 +
deflator) over the years after the base year (deflator 2019: 0.030, 2020: 0.031, 2021: 0.030).
Rate 0.04, cap 25 000 000 (2019), 28 000 000 (2020, and 2021 as an estimate): never binding here.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from conftest import write_input
from sio.data.validation import load_input
from sio.engine import Engine
from sio.parameters import ParameterSet, UsageLog
from sio.rules.utfasing import _Context, exits, phase_out_base

G = 50_000_000  # grunnlag of every world: KOSTRA function 253 in the base year
K = {"aga_sone": "1", "reiseindeks": "0"}
POP = {"0-66": 5000, "67-79": 700, "80-89": 300, "90+": 60}  # the same in every year


def _kommune(
    code: str, fra: str, til: str | None = None, succ: str | None = None
) -> dict[str, Any]:
    row = {"kommunenummer": code, "navn": f"K{code}", "gyldig_fra": fra, "gyldig_til": til}
    return row | {"etterfolger": succ} | K


def _deltakelse(code: str, fra: str, til: str | None) -> dict[str, Any]:
    return {"kommunenummer": code, "modell": "A", "fra": fra, "til": til}


def _pop(code: str, years: range) -> list[dict[str, Any]]:
    return [
        {"kommunenummer": code, "aar": y, "aldersgruppe": a, "antall": n}
        for y in years
        for a, n in POP.items()
    ]


def _utgift(code: str, year: int, amount: int = G) -> dict[str, Any]:
    return {"kommunenummer": code, "aar": year, "kostra_funksjon": "253"} | {
        "netto_driftsutgifter": amount
    }


def _engine(tmp_path: Path, params: ParameterSet, world: dict[str, list[Any]]) -> Engine:
    world = {"toppfinansiering": [], "vedtak": []} | world
    data, _ = load_input(write_input(tmp_path, world), params)
    return Engine(data, params)


def test_a_successor_whose_first_year_is_full_takes_its_base_from_it(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 (not taking part) is renumbered to 9003 on 2019-01-01; 9003 takes part from its
    first day to 2020-06-30: exit 2020-06. 2020 has 6 months; 2019, 9003's own first year, has
    12 → base = supplement(9003, 2019).
    uttrekk(9003, 2018) = grunnlag(9001, 2018) = 50 000 000 (successor rule, a predecessor not
    taking part); uttrekk(9003, 2019) = 50 000 000 × 1.030 = 51 500 000;
    supplement 2019 = 0.04 × 51 500 000 = 2 060 000; phase-out 2021 = 0.75 × 2 060 000
    = 1 545 000. (Searching the predecessors in 9003's first year finds no full year; the
    scaled 2020 supplement would give 0.75 × 0.04 × 51 500 000 × 1.031 = 1 592 895.)"""
    world = {
        "kommuner": [
            _kommune("9001", "1900-01-01", "2018-12-31", "9003"),
            _kommune("9003", "2019-01-01"),
        ],
        "deltakelse": [_deltakelse("9003", "2019-01-01", "2020-06-30")],
        "utgifter": [_utgift("9001", 2018)],
        "befolkning": _pop("9001", range(2018, 2019)) + _pop("9003", range(2019, 2022)),
    }
    engine = _engine(tmp_path, params, world)
    row = engine.compute_year(2021).get("9003")
    assert row is not None
    assert row.exact["inntektspaaslag"] == 1_545_000 and row.trace.value == 1_545_000
    assert (row.result.kommunenummer, row.result.aar, row.result.maaneder) == ("9003", 2021, 0)
    assert (row.result.modell, row.result.inntektspaaslag, row.result.tilskudd) == (
        "utfasing",
        1_545_000,
        1_545_000,
    )


def test_a_continued_predecessor_has_no_exit(tmp_path: Path, params: ParameterSet) -> None:
    """9001 → 9002 (2019-01-01) → 9003 (2020-01-01), each taking part from its first day to
    its last, 9003 open: 9001 and 9002 are continued (interfaces.md §2: an exit is the end of a
    spell of a municipality not continued by a successor), 9003 has not left. No phase-out is
    owed, so none is paid or reported as ended in any of the three years after each merger."""
    world = {
        "kommuner": [
            _kommune("9001", "1900-01-01", "2018-12-31", "9002"),
            _kommune("9002", "2019-01-01", "2019-12-31", "9003"),
            _kommune("9003", "2020-01-01"),
        ],
        "deltakelse": [
            _deltakelse("9001", "2018-01-01", "2018-12-31"),
            _deltakelse("9002", "2019-01-01", "2019-12-31"),
            _deltakelse("9003", "2020-01-01", None),
        ],
        "utgifter": [_utgift("9001", 2017)],
        "befolkning": _pop("9001", range(2017, 2019))
        + _pop("9002", range(2019, 2020))
        + _pop("9003", range(2020, 2024)),
    }
    engine = _engine(tmp_path, params, world)
    reg, part = engine.registry, engine.participation
    assert [exits(reg, part, c) for c in ("9001", "9002", "9003")] == [[], [], []]
    for year in (2019, 2020, 2021, 2022):
        yr = engine.compute_year(year)
        assert yr.ended_phase_outs == []
        assert [r.result.modell for r in yr.rows] == ["A"]  # 9002 or 9003, no phase-out row


def test_the_base_of_an_exit_counts_only_its_own_spell(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 takes part 2019-01-01..2019-03-31 and again 2019-10-01..2019-12-31: two spells, exits
    2019-03 and 2019-12, no year with 12 months. Decision 0012: the base of the March exit is
    the supplement over January–March × 12/3 (October–December belong to the second exit).
    uttrekk(9001, 2019) = 50 000 000 × 1.030 = 51 500 000 (base year 2018), so each month's
    supplement is 0.04 × 51 500 000 / 12 and both bases are 0.04 × 51 500 000 = 2 060 000
    (the first counting all six months of 2019 over its three would be 4 120 000)."""
    world = {
        "kommuner": [_kommune("9001", "1900-01-01")],
        "deltakelse": [
            _deltakelse("9001", "2019-01-01", "2019-03-31"),
            _deltakelse("9001", "2019-10-01", "2019-12-31"),
        ],
        "utgifter": [_utgift("9001", 2018)],
        "befolkning": _pop("9001", range(2018, 2021)),
    }
    engine = _engine(tmp_path, params, world)
    assert exits(engine.registry, engine.participation, "9001") == [(2019, 3), (2019, 12)]
    ctx = _Context(
        params, engine.registry, engine.participation, engine.uttrekk, engine.supplement_terms
    )
    for exit in ((2019, 3), (2019, 12)):
        value, node = phase_out_base(ctx, "9001", exit, UsageLog())
        assert (value, node.value) == (2_060_000, 2_060_000)
    # Both exits are in 2019, so 2020 is year 1 of each. 9001 participates again after the March
    # exit within 2019 (October): 2019 is the first year in which it participates again, so that
    # year and later ones pay none of the March exit's phase-out (interfaces.md §2); the December
    # exit's is paid: 0.75 × 2 060 000 = 1 545 000, and the March one is reported as ended.
    result = engine.compute_year(2020)
    row = result.get("9001")
    assert row is not None
    assert (row.result.aar, row.result.modell, row.result.inntektspaaslag) == (
        2020,
        "utfasing",
        1_545_000,
    )
    assert row.trace.value == 1_545_000
    assert "inntektspaaslag.nedtrapping.aar_1" in row.result.estimerte_parametere
    assert [(e.exit, e.amount) for e in result.ended_phase_outs] == [((2019, 3), 1_545_000)]
    later = engine.compute_year(2022)
    assert [(e.exit, e.aar) for e in later.ended_phase_outs] == [((2019, 3), 2022)]
    paid = later.get("9001")
    assert paid is not None and paid.result.inntektspaaslag == 515_000  # 0.25 × 2 060 000


def test_a_phase_out_rests_on_the_estimated_cap_of_its_base_year(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 (grunnlag 700 000 000 kr in 2020) takes part all of 2021 and exits 2021-12.
    Base = supplement 2021 = min(0.04 × uttrekk, cap 2021) with uttrekk(9001, 2021)
    = 700 000 000 × 1.030 = 721 000 000: 0.04 × 721 000 000 = 28 840 000 > cap 28 000 000, so
    the base is the cap — an estimate for 2021 (src/sio/params/inntektspaaslag/tak.yaml).
    Phase-out 2022 = 0.75 × 28 000 000 = 21 000 000; its row names the estimated cap and the
    estimated share aar_1 among the parameters it rests on."""
    world = {
        "kommuner": [_kommune("9001", "1900-01-01")],
        "deltakelse": [_deltakelse("9001", "2021-01-01", "2021-12-31")],
        "utgifter": [_utgift("9001", 2020, 700_000_000)],
        "befolkning": _pop("9001", range(2020, 2023)),
    }
    row = _engine(tmp_path, params, world).compute_year(2022).get("9001")
    assert row is not None
    assert (row.result.modell, row.result.inntektspaaslag) == ("utfasing", 21_000_000)
    estimates = set(row.result.estimerte_parametere)
    assert {"inntektspaaslag.tak", "inntektspaaslag.nedtrapping.aar_1"} <= estimates


def test_an_ended_phase_out_names_its_payee_in_the_payees_trace(
    tmp_path: Path, params: ParameterSet
) -> None:
    """9001 takes part all of 2019 (base year 2018) and exits 2019-12; it is renumbered to 9002
    on 2021-01-01, and 9002 takes part from its first day. Phase-out 2020 (year 1) is paid to
    9001: 0.75 × 0.04 × 50 000 000 × 1.030 = 1 545 000. In 2021 (year 2) the payee is 9002,
    which participates: the phase-out 0.50 × 2 060 000 = 1 030 000 ends; the run reports it
    with 9002 as the payee, and 9002's trace of 2021 shows it (interfaces.md §2)."""
    world = {
        "kommuner": [
            _kommune("9001", "1900-01-01", "2020-12-31", "9002"),
            _kommune("9002", "2021-01-01"),
        ],
        "deltakelse": [
            _deltakelse("9001", "2019-01-01", "2019-12-31"),
            _deltakelse("9002", "2021-01-01", None),
        ],
        "utgifter": [_utgift("9001", 2018), _utgift("9001", 2020)],
        "befolkning": _pop("9001", range(2018, 2021)) + _pop("9002", range(2021, 2022)),
    }
    engine = _engine(tmp_path, params, world)
    paid = engine.compute_year(2020).get("9001")
    assert paid is not None and paid.result.inntektspaaslag == 1_545_000
    yr = engine.compute_year(2021)
    [ended] = yr.ended_phase_outs
    assert (ended.kommunenummer, ended.mottaker, ended.aar, ended.exit) == (
        "9001",
        "9002",
        2021,
        (2019, 12),
    )
    assert ended.amount == 1_030_000 and ended.node.value == 1_030_000
    assert "inntektspaaslag.nedtrapping.aar_2" in ended.estimates  # the share is an estimate
    row = yr.get("9002")
    assert row is not None and row.result.modell == "A"
    note = row.trace.children[-1]  # the notes follow the row's own steps
    assert note.value == 0 and [n.value for n in note.children] == [Fraction(1_030_000)]
    assert "1030000kr" in re.sub(r"\s", "", note.formula_text)  # the amount not paid
