"""Tests for the mutants that survived the mutation run of the rest of `uttrekk.py` and of the
engine (docs/mutation-testing.md, "The rest of the rewritten rules"). Expected figures are worked
out by hand from scheme.md §3.1, interfaces.md §2 and the comments of `test_cli.small_world`."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import yaml

from conftest import write_input
from sio.data.validation import load_input
from sio.engine import Engine
from sio.parameters import UsageLog, load_parameters
from sio.trace import fmt_exact
from test_cli import small_world
from test_mutation_gaps_engine import _world_2018

F253 = "uttrekk.kostra_funksjoner.f253"
CASE_041 = Path(__file__).parent / "cases" / "041-successor-predecessor-joined-in-june.yaml"


def _engine(tmp_path: Path, world: dict[str, list[dict[str, object]]]) -> Engine:
    params = load_parameters()
    data, _ = load_input(write_input(tmp_path, world), params)
    return Engine(data, params)


def test_the_trace_of_a_base(tmp_path: Path) -> None:
    """scheme.md §3.1: grunnlag = the flagged functions' expenditure in the base year. In
    small_world 9001's base year is 2015 (it joins in May 2016): f253 100 000 000 kr is flagged,
    f232 is not (it counts as 0, without a lookup). The trace node names the municipality and the
    base year, is in kroner, shows each flagged function's amount, rests on the flag of f253 on
    1 January 2015 (an estimate: the flags are documented defaults) and names the two expenditure
    rows read."""
    g = _engine(tmp_path, small_world()).uttrekk.grunnlag("9001", 2015)
    assert g.value == 100_000_000
    node = g.node
    assert node.label == "grunnlag 9001 (basisår 2015)"
    assert node.value == 100_000_000
    assert node.unit == "kr"
    assert node.formula_text == f"f253 {fmt_exact(100_000_000)}"
    assert [(u.path, u.on) for u in node.params] == [(F253, dt.date(2015, 1, 1))]
    assert node.inputs == ["utgifter: 2 rader for 9001 2015"]
    assert [(u.path, u.on) for u in g.log.uses.values()] == [(F253, dt.date(2015, 1, 1))]
    assert g.estimates == {F253}  # the flags are documented defaults (evidence: estimate)


def test_a_base_of_unflagged_functions_only_is_zero(tmp_path: Path) -> None:
    """Only f232 (not a care function) in the base year: grunnlag = 0, shown as "0"."""
    world = small_world()
    world["utgifter"] = [r for r in world["utgifter"] if r["kostra_funksjon"] == "232"]
    g = _engine(tmp_path, world).uttrekk.grunnlag("9001", 2015)
    assert g.value == 0
    assert g.node.formula_text == "0"
    assert g.node.inputs == ["utgifter: 1 rader for 9001 2015"]


WEIGHTS = ("0_66", "67_79", "80_89", "90_pluss")


def _case_041(tmp_path: Path) -> Engine:
    case = yaml.safe_load(CASE_041.read_text(encoding="utf-8"))
    params = load_parameters()
    data, _ = load_input(write_input(tmp_path, case["input"], only_present=True), params)
    return Engine(data, params)


def test_w_is_the_weighted_population(tmp_path: Path) -> None:
    """scheme.md §3.1: W(k, t) = Σ pop(k, age, t) × weight(age, 1 January of the weight year).
    small_world, default weights 3000, 20 000, 110 000, 300 000: W(9001, 2016) = 8000·3000 +
    1010·20 000 + 400·110 000 + 50·300 000 = 103 200 000, W(9001, 2015) = 103 000 000 (with
    the weights of 2016). The four weights of 1 January 2016 are logged."""
    ut = _engine(tmp_path, small_world()).uttrekk
    log = UsageLog()
    assert ut.w("9001", 2016, 2016, log) == 103_200_000
    assert {(u.path, u.on) for u in log.uses.values()} == {
        (f"uttrekk.demografi.kostnadsvekt.alder_{g}", dt.date(2016, 1, 1)) for g in WEIGHTS
    }
    assert ut.w("9001", 2015, 2016, UsageLog()) == 103_000_000


def test_w_with_a_weight_with_decimals(tmp_path: Path) -> None:
    """The 67–79 weight 20 000.5 from 2015: W(9001, 2016) = 103 200 000 + 1010 × 0.5 =
    103 200 505, W(9001, 2015) = 103 000 500 — exactly, not over the weights' common
    denominator 2."""
    params = load_parameters().with_overrides(
        {"uttrekk.demografi.kostnadsvekt.alder_67_79": {dt.date(2015, 1, 1): 20_000.5}}
    )
    data, _ = load_input(write_input(tmp_path, small_world()), params)
    ut = Engine(data, params).uttrekk
    assert ut.w("9001", 2016, 2016, UsageLog()) == 103_200_505
    assert ut.w("9001", 2015, 2016, UsageLog()) == 103_000_500
    assert ut.w_prev("9001", 2016, UsageLog()) == (103_000_500, "W(9001, 2015)")


def test_w_of_the_year_before_and_its_label(tmp_path: Path) -> None:
    """interfaces.md §2: in a successor's first year (case 041: 9003 in 2019) the W of the year
    before is the sum over its predecessors, W(9001, 2018) + W(9002, 2018) = 104 950 000 +
    42 500 000 = 147 450 000, weighted with the weights of 2019; for a municipality that is not a
    successor (small_world's 9001, 2016) it is its own W(9001, 2015) = 103 000 000."""
    ut = _case_041(tmp_path / "a").uttrekk
    log = UsageLog()
    assert ut.w_prev("9003", 2019, log) == (147_450_000, "Σ W(9001, 9002, 2018)")
    assert {(u.path, u.on) for u in log.uses.values()} == {
        (f"uttrekk.demografi.kostnadsvekt.alder_{g}", dt.date(2019, 1, 1)) for g in WEIGHTS
    }
    own = _engine(tmp_path / "b", small_world()).uttrekk
    log = UsageLog()
    assert own.w_prev("9001", 2016, log) == (103_000_000, "W(9001, 2015)")
    assert len(log.uses) == 4


def test_the_trace_of_a_successor_s_start(tmp_path: Path) -> None:
    """Case 041: uttrekk(9003, 2018) = uttrekk(9001, 2018) (9001 takes part in December 2018)
    + grunnlag(9002, 2018) = 540 492 500/13 + 25 000 000 = 865 492 500/13. The node names 9003
    and 2018, is in kroner, shows each predecessor's term and the sum, and has the two parts'
    nodes as children; the lookups are both parts' (the weights and deflator of 2018 and the
    flags of 2017 for 9001, the same values for 9002 in 2018: one entry per value, the first
    part's date)."""
    ut = _case_041(tmp_path).uttrekk
    start = ut.uttrekk("9003", 2018)
    total = Fraction(865_492_500, 13)
    assert start.value == total
    node = start.node
    assert node.label == "uttrekk 9003 2018"
    assert node.value == total
    assert node.unit == "kr"
    a, b = Fraction(540_492_500, 13), Fraction(25_000_000)
    assert node.formula_text == f"9001: {fmt_exact(a)} + 9002: {fmt_exact(b)} = {fmt_exact(total)}"
    assert node.inputs == ["etterfølger: sum over forgjengerne"]
    assert [c.value for c in node.children] == [a, b]
    assert [c.label for c in node.children] == ["uttrekk 9001 2018", "grunnlag 9002 (basisår 2018)"]
    on = {(u.path, u.on) for u in start.log.uses.values()}
    flags = {f"uttrekk.kostra_funksjoner.f{f}" for f in ("253", "254")}
    assert on == (
        {(f, dt.date(2017, 1, 1)) for f in flags}
        | {("uttrekk.deflator", dt.date(2018, 1, 1))}
        | {(f"uttrekk.demografi.kostnadsvekt.alder_{g}", dt.date(2018, 1, 1)) for g in WEIGHTS}
    )
    assert start.estimates == frozenset(
        u.path for u in start.log.uses.values() if u.value.evidence == "estimate"
    )
    assert flags <= start.estimates


def test_the_trace_of_a_base_of_two_functions(tmp_path: Path) -> None:
    """Case 041: grunnlag(9001, 2017) = f253 32 000 000 + f254 8 000 000 = 40 000 000; the
    formula adds the flagged functions in the order of their numbers."""
    g = _case_041(tmp_path).uttrekk.grunnlag("9001", 2017)
    assert g.value == 40_000_000
    assert g.node.formula_text == f"f253 {fmt_exact(32_000_000)} + f254 {fmt_exact(8_000_000)}"
    assert g.node.inputs == ["utgifter: 2 rader for 9001 2017"]


def test_the_trace_of_the_extraction_in_the_base_year(tmp_path: Path) -> None:
    """scheme.md §3.1: uttrekk(k, base year) = grunnlag. small_world: uttrekk(9001, 2015) =
    100 000 000, a node "= grunnlag" in kroner with the base's node as its only child, resting on
    the base's lookups (the flag of f253 on 1 January 2015, an estimate)."""
    ut = _engine(tmp_path, small_world()).uttrekk
    ex = ut.uttrekk("9001", 2015)
    assert ex.value == 100_000_000
    node = ex.node
    assert (node.label, node.value, node.unit, node.formula_text) == (
        "uttrekk 9001 2015",
        100_000_000,
        "kr",
        "= grunnlag",
    )
    assert [c.label for c in node.children] == ["grunnlag 9001 (basisår 2015)"]
    assert [(u.path, u.on) for u in ex.log.uses.values()] == [(F253, dt.date(2015, 1, 1))]
    assert ex.estimates == {F253}
    assert ut.uttrekk("9001", 2015) is ex  # memoised: the same object


# -- the engine -------------------------------------------------------------------------------

# small_world's uttrekk(9001, 2016) = 100 000 000 × 1.027 × 103 200 000 / 103 000 000
U_2016 = Fraction(52_993_200_000, 515)


def test_a_lump_sum_whose_share_changes_mid_year(tmp_path: Path) -> None:
    """scheme.md §3.2 with a dated share: 10 % from 2015, 12 % from 1 September 2016. small_world
    (May–December 2016, every month activity-financed): rundsumtilskudd = uttrekk × (4 × 0.10 +
    4 × 0.12) / 12 = 52 993 200 000/515 × 0.88/12 = 582 925 200 000/77 250 = 7 545 957.28… →
    7 545 957 kr: the two runs of months added, rounded once."""
    params = load_parameters().with_overrides(
        {"rundsumtilskudd.andel": {dt.date(2015, 1, 1): 0.10, dt.date(2016, 9, 1): 0.12}}
    )
    data, _ = load_input(write_input(tmp_path, small_world()), params)
    row = Engine(data, params).compute_year(2016).get("9001")
    assert row is not None
    exact = U_2016 * Fraction(88, 100) / 12
    assert exact == Fraction(582_925_200_000, 77_250)
    assert row.exact["rundsumtilskudd"] == exact
    assert row.result.rundsumtilskudd == 7_545_957


def test_a_year_without_activity_financed_months(tmp_path: Path) -> None:
    """interfaces.md §2: the months before `aktivitet_fra` are earmarked (øremerket tilskudd =
    uttrekk / 12 a month), with no lump sum. small_world with aktivitet_fra 2017-01-01: 2016 has
    8 earmarked months, øremerket = 52 993 200 000/515 × 8/12 = 68 599 611.65… → 68 599 612,
    rundsumtilskudd 0 (its exact sum 0 too)."""
    world = small_world()
    world["deltakelse"][0]["aktivitet_fra"] = "2017-01-01"
    row = _engine(tmp_path, world).compute_year(2016).get("9001")
    assert row is not None
    assert row.result.rundsumtilskudd == 0
    assert row.exact["rundsumtilskudd"] == 0
    assert row.exact["oeremerket_tilskudd"] == U_2016 * 8 / 12
    assert row.result.oeremerket_tilskudd == 68_599_612


def test_the_estimates_of_every_rule_are_the_row_s(tmp_path: Path) -> None:
    """interfaces.md §2: `estimerte_parametere` lists every estimated parameter the row rests
    on. small_world moved to 2021 (base year 2020, no vedtak) with f253 1 000 000 000 kr: 4 % of
    an uttrekk of about 1 000 000 000 kr (the deflator and W move it by a few per cent) is
    about 40 000 000 kr, above the cap of 28 000 000 kr, which binds; that cap
    of 2021 is an estimate (src/sio/params/inntektspaaslag/tak.yaml), and so is the flag of
    f253 behind the uttrekk — both are listed."""
    world = small_world()
    world["deltakelse"][0]["fra"] = "2021-01-01"
    for r in world["utgifter"]:
        r["aar"] = 2020
        if r["kostra_funksjon"] == "253":
            r["netto_driftsutgifter"] = 1_000_000_000
    for r in world["befolkning"]:
        r["aar"] += 5
    world["vedtak"] = []
    row = _engine(tmp_path, world).compute_year(2021).get("9001")
    assert row is not None
    assert {"inntektspaaslag.tak", F253} <= set(row.result.estimerte_parametere)


def _world_from_february(tmp_path: Path, prices: dict[dt.date, int]) -> tuple[Engine, str]:
    """The world of `_world_2018` with its vedtak from 2018-02-01, as an engine, and the path
    of the 2017 deflator."""
    data, params = _world_2018(tmp_path, prices, vedtak_fra="2018-02-01")
    return Engine(data, params), "uttrekk.deflator"


def test_an_estimate_behind_january_only_is_not_behind_lines_from_february(tmp_path: Path) -> None:
    """scheme.md §3.3 (a price dated in an earlier year is indexed by the deflators since) and
    interfaces.md §2 (the estimates a row rests on). HJSPL STANDARD 720 kr from 2016, 800 kr
    from 2018-02-01: 1 January 2018 would use 720 kr indexed by the deflator of 2017 (an
    estimate), but the vedtak has lines only from February, at 800 kr dated in its own year: the
    2017 deflator is not among the row's estimates. The same with 800 kr from 2018-01-02 (in
    force from February's first day on, not on 1 January). Activity: 334 days × 1 h × 800 kr =
    267 200 kr in both."""
    for i, start in enumerate((dt.date(2018, 2, 1), dt.date(2018, 1, 2))):
        engine, defl = _world_from_february(
            tmp_path / str(i), {dt.date(2016, 1, 1): 720, start: 800}
        )
        row = engine.compute_year(2018).get("9001")
        assert row is not None
        assert row.result.aktivitetstilskudd == 267_200
        assert defl not in row.result.estimerte_parametere
