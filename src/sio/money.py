"""Øre arithmetic and the declared rounding points (interfaces.md §2).

Money is exact: integer øre, or `Fraction` kroner/øre while a figure is still exact. Rounding is
half away from zero and happens only where interfaces.md §2 says: each vedtak-month line and the
Covid mean (to øre), and each annual component (to whole kroner).
"""

from __future__ import annotations

from fractions import Fraction

ORE_PER_KRONE = 100


def round_half_away(x: Fraction | int) -> int:
    """Round an exact number to the nearest integer, halves away from zero (2.5 → 3, −2.5 → −3)."""
    if isinstance(x, int):
        return x
    n, d = x.numerator, x.denominator  # d > 0
    q, r = divmod(abs(n), d)
    if 2 * r >= d:
        q += 1
    return q if n >= 0 else -q


def round_ratio(n: int, d: int) -> int:
    """n / d (d > 0, not necessarily in lowest terms) rounded as `round_half_away`, in integers."""
    q, r = divmod(abs(n), d)
    if 2 * r >= d:
        q += 1
    return q if n >= 0 else -q


def kroner_from_oere(oere: Fraction | int) -> int:
    """Whole kroner from an exact amount in øre, rounded half away from zero."""
    return round_half_away(Fraction(oere) / ORE_PER_KRONE)


def oere_from_kroner(kroner: Fraction | int) -> Fraction:
    """Exact øre from an exact amount in kroner."""
    return Fraction(kroner) * ORE_PER_KRONE


def to_fraction(value: object) -> Fraction:
    """An exact Fraction from a number as written in a file.

    Floats are read through their shortest decimal text (`repr`), so `0.027` becomes 27/1000 and not
    the binary approximation; ints and decimal strings are exact already.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value))
    if isinstance(value, str):
        return Fraction(value.strip())
    raise TypeError(f"not a number: {value!r}")
