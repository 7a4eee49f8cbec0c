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

from sio.parameters import DatedValue, ParameterSet, Use

ANDEL = "rundsumtilskudd.andel"


@dataclass
class LumpSum:
    """One municipality's lump sum by activity-financed month, and the shares it used."""

    months: dict[int, Fraction]
    uses: dict[tuple[str, dt.date], Use] = field(default_factory=dict)
    # the distinct monthly amounts with their number of months (empty: sum `months`)
    parts: list[tuple[Fraction, int]] = field(default_factory=list)

    @property
    def total(self) -> Fraction:
        if self.parts:
            return sum((a * n for a, n in self.parts), Fraction(0))
        return sum(self.months.values(), Fraction(0))


def lump_sums(
    params: ParameterSet,
    year: int,
    uttrekk: Mapping[str, Fraction],
    activity_months: Mapping[str, Iterable[int]],
) -> dict[str, LumpSum]:
    """The lump sum of every municipality in `uttrekk` over its activity-financed months.

    The months are split once per distinct list of months into runs of the same share; each
    municipality then needs one exact division (andel × uttrekk / 12) per run."""
    shares = [params.at(ANDEL, dt.date(year, mo, 1)) for mo in range(1, 13)]
    runs_of: dict[tuple[int, ...], list[tuple[Fraction, tuple[int, ...], tuple[str, dt.date], Use]]]
    runs_of = {}
    out: dict[str, LumpSum] = {}
    for code, u in uttrekk.items():
        mos = tuple(activity_months[code])
        runs = runs_of.get(mos)
        if runs is None:
            found: dict[int, tuple[DatedValue, list[int]]] = {}
            for mo in mos:
                andel = shares[mo - 1]
                run = found.get(id(andel))
                if run is None:
                    found[id(andel)] = (andel, [mo])
                else:
                    run[1].append(mo)
            runs = runs_of[mos] = []
            for andel, run_months in found.values():
                assert isinstance(andel.value, Fraction)
                use = Use(ANDEL, dt.date(year, run_months[0], 1), andel)
                runs.append((andel.value, tuple(run_months), (ANDEL, andel.start), use))
        result = LumpSum({})
        n, d = u.numerator, u.denominator
        for share, ms, key, use in runs:
            amount = Fraction(share.numerator * n, share.denominator * d * 12)
            result.parts.append((amount, len(ms)))
            result.uses.setdefault(key, use)
            for mo in ms:
                result.months[mo] = amount
        if len(runs) > 1:
            result.months = {mo: result.months[mo] for mo in mos}
        out[code] = result
    return out
