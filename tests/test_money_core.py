"""Tests that catch a wrong rule in the money core: figures with øre, exact conversions, and
small worlds whose expected figures are worked out by hand from interfaces.md §2 and the default
parameters (src/sio/params). Each one kills mutants that the worked cases let survive
(docs/mutation-testing.md)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sio.money import kroner_from_oere, oere_from_kroner, round_half_away, to_fraction

# -- øre to kroner -------------------------------------------------------------------------------


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
