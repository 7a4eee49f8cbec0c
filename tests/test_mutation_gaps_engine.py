"""Engine wiring that the worked cases left untested (docs/mutation-testing.md, engine): the exact
sum of a year's monthly amounts, worked out by hand."""

from __future__ import annotations

from fractions import Fraction

from sio.engine import _sum_exact


def test_the_exact_sum_of_monthly_amounts() -> None:
    """Equal months are often one shared object (counted, then multiplied); the sum is exact
    whatever the mix: 1/3 kr in three months and 1/7 kr in one = 1 + 1/7 = 8/7 kr."""
    third, seventh = Fraction(1, 3), Fraction(1, 7)
    assert _sum_exact([]) == 0
    assert _sum_exact([third]) == Fraction(1, 3)
    assert _sum_exact([third] * 12) == 4
    assert _sum_exact([third, third, seventh, third]) == Fraction(8, 7)
    # an equal value that is another object counts the same: 1/7 + 3 × 1/3 = 8/7
    assert _sum_exact([seventh, third, third, Fraction(1, 3)]) == Fraction(8, 7)
    assert _sum_exact([Fraction(2, 5), Fraction(-2, 5), third]) == Fraction(1, 3)
