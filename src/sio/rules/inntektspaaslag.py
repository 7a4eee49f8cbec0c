"""Income supplement (inntektspåslag), models A and B (scheme.md §3.2; interfaces.md §2).

Per participating month: min(sats × uttrekk(k, y), tak) / 12, with the `inntektspaaslag.sats` and
`inntektspaaslag.tak` in force on the first day of the month — so a part year gets the months it
takes part, and both the amount and the cap scale with them. One cap per municipality (a
successor has one cap). Exact: nothing here is rounded; the annual sum is rounded once.

The phase-out after an exit (`sio.rules.utfasing`) is a share of this supplement; the project-cost
limit on it is `sio.rules.prosjektmidler`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from sio.parameters import DatedValue, ParameterSet, Use

SATS = "inntektspaaslag.sats"
TAK = "inntektspaaslag.tak"


@dataclass(frozen=True)
class SupplementTerms:
    """The rate and cap in force in each month of one year (looked up once for every
    municipality); index 0 is January."""

    year: int
    sats: tuple[DatedValue, ...]
    tak: tuple[DatedValue, ...]


@dataclass
class Supplement:
    """One municipality's supplement in one year: the exact amount of each participating month
    (equal months share one object) and the parameter values it used (the cap only where it
    binds)."""

    months: dict[int, Fraction]
    uses: dict[tuple[str, dt.date], Use] = field(default_factory=dict)

    @property
    def total(self) -> Fraction:
        return sum(self.months.values(), Fraction(0))


def supplement_terms(params: ParameterSet, year: int) -> SupplementTerms:
    days = [dt.date(year, mo, 1) for mo in range(1, 13)]
    return SupplementTerms(
        year,
        tuple(params.at(SATS, d) for d in days),
        tuple(params.at(TAK, d) for d in days),
    )


def monthly_supplement(uttrekk: Fraction, sats: Fraction, tak: Fraction) -> tuple[Fraction, bool]:
    """min(sats × uttrekk, tak) / 12, and whether the cap binds."""
    amount = sats * uttrekk
    binds = amount >= tak
    return (tak if binds else amount) / 12, binds


def supplements(
    terms: SupplementTerms,
    uttrekk: Mapping[str, Fraction],
    months: Mapping[str, Iterable[int]],
) -> dict[str, Supplement]:
    """The supplement of every municipality in `uttrekk`, over its participating `months`."""
    out: dict[str, Supplement] = {}
    for code, u in uttrekk.items():
        memo: dict[tuple[int, int], tuple[Fraction, bool]] = {}
        result = Supplement({})
        for mo in months[code]:
            sats, tak = terms.sats[mo - 1], terms.tak[mo - 1]
            key = (id(sats), id(tak))
            got = memo.get(key)
            if got is None:
                assert isinstance(sats.value, Fraction) and isinstance(tak.value, Fraction)
                got = memo[key] = monthly_supplement(u, sats.value, tak.value)
            result.months[mo] = got[0]
            on = dt.date(terms.year, mo, 1)
            result.uses.setdefault((SATS, sats.start), Use(SATS, on, sats))
            if got[1]:
                result.uses.setdefault((TAK, tak.start), Use(TAK, on, tak))
        out[code] = result
    return out
