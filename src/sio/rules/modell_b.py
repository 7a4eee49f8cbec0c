"""Model B's earmarked grant (øremerket tilskudd) (scheme.md §3.4, §3.5; interfaces.md §2).

uttrekk(k, y) / 12 in each participating month that is not activity-financed: every model B
month, and a model A month before `aktivitet_fra` (paid as model B). The municipality bears any
overrun. Exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction


def oeremerket_tilskudd(
    uttrekk: Mapping[str, Fraction], earmarked_months: Mapping[str, Iterable[int]]
) -> dict[str, dict[int, Fraction]]:
    """The earmarked grant of every municipality by month (one shared twelfth per municipality)."""
    out: dict[str, dict[int, Fraction]] = {}
    for code, u in uttrekk.items():
        twelfth = u / 12
        out[code] = {mo: twelfth for mo in earmarked_months[code]}
    return out
