"""Tests for the mutants that survived the mutation run of the rewritten per-municipality rules
(docs/mutation-testing.md, "The rewritten rules"). Expected figures are worked out by hand."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from conftest import write_input
from sio.data.validation import load_input
from sio.engine import Engine
from sio.money import round_ratio
from sio.parameters import load_parameters
from sio.rules.inntektspaaslag import monthly_supplement
from sio.rules.uttrekk import Exact
from sio.trace import Node, fmt_exact
from test_cli import small_world

CASE_041 = Path(__file__).parent / "cases" / "041-successor-predecessor-joined-in-june.yaml"


@pytest.mark.parametrize(
    ("n", "d", "rounded"),
    [
        (5, 2, 3),  # 2.5 → 3
        (-5, 2, -3),  # −2.5 → −3, away from zero
        (-10, 4, -3),  # −2.5 again, not in lowest terms
        (-7, 3, -2),  # −2.33… → −2
        (-8, 3, -3),  # −2.66… → −3
        (7, 3, 2),
        (-1, 3, 0),  # −0.33… → 0
        (0, 7, 0),
    ],
)
def test_round_ratio_rounds_half_away_from_zero_on_both_sides(n: int, d: int, rounded: int) -> None:
    assert round_ratio(n, d) == rounded


@pytest.mark.parametrize(
    ("uttrekk", "month", "binds"),
    [
        (5_000, Fraction(500, 12), False),  # 10 % = 500 < 500.5
        (5_005, Fraction(1_001, 24), True),  # 500.5: exactly the cap
        (6_000, Fraction(1_001, 24), True),  # 600 → the cap 500.5, a twelfth of it
    ],
)
def test_a_cap_with_decimals(uttrekk: int, month: Fraction, binds: bool) -> None:
    """A cap of 500.5 kr (denominator 2): min(0.10 × uttrekk, 500.5) / 12."""
    got = monthly_supplement(Fraction(uttrekk), Fraction(1, 10), Fraction(1_001, 2))
    assert got == (month, binds)


def test_an_exact_value_without_lookups_has_an_empty_log() -> None:
    ex = Exact(Fraction(5), Node("x", Fraction(5), "kr", "5"))
    assert ex.log.uses == {}
    assert ex.estimates == frozenset()
    assert ex.node.value == 5


def test_a_step_s_trace_shows_both_w_with_decimal_weights(tmp_path: Path) -> None:
    """test_cli.small_world with the 67–79 weight 20 000.5 (from 2015): W(9001, 2016) =
    8000·3000 + 1010·20 000.5 + 400·110 000 + 50·300 000 = 103 200 505, W(9001, 2015) with the
    same weights = 8000·3000 + 1000·20 000.5 + 400·110 000 + 50·300 000 = 103 000 500;
    uttrekk(2016) = 100 000 000 × 1.027 × 103 200 505 / 103 000 500."""
    params = load_parameters().with_overrides(
        {"uttrekk.demografi.kostnadsvekt.alder_67_79": {dt.date(2015, 1, 1): 20_000.5}}
    )
    data, _ = load_input(write_input(tmp_path, small_world()), params)
    step = Engine(data, params).uttrekk.uttrekk("9001", 2016)
    value = Fraction(100_000_000) * Fraction(1_027, 1_000) * Fraction(103_200_505, 103_000_500)
    assert step.value == step.node.value == value
    assert step.node.label == "uttrekk 9001 2016"  # the same words in bokmål and English
    assert step.node.formula_text == (
        f"{fmt_exact(100_000_000)} × (1 + {fmt_exact(Fraction(27, 1_000))})"
        f" × {fmt_exact(103_200_505)} / {fmt_exact(103_000_500)} = {fmt_exact(value)}"
    )
    assert step.node.inputs[0].endswith("W(9001, 2016) / W(9001, 2015)")
    assert step.node.unit == "kr"
    # the step's own lookups: the deflator and the four weights of 1 January 2016
    weights = {f"uttrekk.demografi.kostnadsvekt.alder_{g}" for g in ("0_66", "67_79", "80_89")}
    assert {(u.path, u.on) for u in step.node.params} == {
        (path, dt.date(2016, 1, 1))
        for path in {"uttrekk.deflator", "uttrekk.demografi.kostnadsvekt.alder_90_pluss"} | weights
    }
    assert [c.value for c in step.node.children] == [100_000_000]  # uttrekk(2015) = grunnlag
    # every lookup behind the value: the step's, and the flag of f253 on 1 January of the base
    # year 2015 (f232 has no parameter: it counts as 0 without a lookup)
    assert {(u.path, u.on) for u in step.log.uses.values()} == {
        (path, dt.date(2016, 1, 1))
        for path in {"uttrekk.deflator", "uttrekk.demografi.kostnadsvekt.alder_90_pluss"} | weights
    } | {("uttrekk.kostra_funksjoner.f253", dt.date(2015, 1, 1))}


def test_a_successor_s_second_step_uses_its_own_w(tmp_path: Path) -> None:
    """Worked case 041 (tests/cases) with 9003's population of 2020 (9000, 1340, 560, 112):
    W(9003, 2020) = 9000·3000 + 1340·20 000 + 560·110 000 + 112·300 000 = 149 000 000, and the
    step to 2020 divides by 9003's own W(9003, 2019) = 148 800 000, not by its predecessors'
    (who have no population in 2019). Deflator 3 % in every year, as the case's 2018 and 2019."""
    params = load_parameters().with_overrides({"uttrekk.deflator": {dt.date(2015, 1, 1): 0.03}})
    case = yaml.safe_load(CASE_041.read_text(encoding="utf-8"))
    world = case["input"]
    for g, n in (("0-66", 9000), ("67-79", 1340), ("80-89", 560), ("90+", 112)):
        world["befolkning"].append(
            {"kommunenummer": "9003", "aar": 2020, "aldersgruppe": g, "antall": n}
        )
    data, _ = load_input(write_input(tmp_path, world, only_present=True), params)
    ut = Engine(data, params).uttrekk
    assert ut.uttrekk("9003", 2019).value == Fraction(884_325_616_800, 12_779)
    step = ut.uttrekk("9003", 2020)
    assert step.value == Fraction(884_325_616_800, 12_779) * Fraction(103, 100) * Fraction(
        149_000_000, 148_800_000
    )
    assert step.node.inputs[0].endswith("W(9003, 2020) / W(9003, 2019)")
