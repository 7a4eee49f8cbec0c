"""Lump sum (rundsumtilskudd), model A (scheme.md §3.3; interfaces.md §2).

`rundsumtilskudd.andel` × uttrekk(k, y) / 12 in each activity-financed month (the share in force
on the first day of the month), for administration and the services given without individual
decisions (`rundsumtilskudd.tjenester`, which the activity grant does not price). Exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from sio.parameters import ParameterSet, Use

ANDEL = "rundsumtilskudd.andel"


@dataclass
class LumpSum:
    """One municipality's lump sum by activity-financed month, and the shares it used."""

    months: dict[int, Fraction]
    uses: dict[tuple[str, dt.date], Use] = field(default_factory=dict)


def lump_sums(
    params: ParameterSet,
    year: int,
    uttrekk: Mapping[str, Fraction],
    activity_months: Mapping[str, Iterable[int]],
) -> dict[str, LumpSum]:
    """The lump sum of every municipality in `uttrekk` over its activity-financed months."""
    shares = [params.at(ANDEL, dt.date(year, mo, 1)) for mo in range(1, 13)]
    out: dict[str, LumpSum] = {}
    for code, u in uttrekk.items():
        twelfth = u / 12
        memo: dict[int, Fraction] = {}
        result = LumpSum({})
        for mo in activity_months[code]:
            andel = shares[mo - 1]
            amount = memo.get(id(andel))
            if amount is None:
                assert isinstance(andel.value, Fraction)
                amount = memo[id(andel)] = andel.value * twelfth
            result.months[mo] = amount
            result.uses.setdefault((ANDEL, andel.start), Use(ANDEL, dt.date(year, mo, 1), andel))
        out[code] = result
    return out
