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
    # the distinct monthly amounts with their number of months (empty: sum `months`)
    parts: list[tuple[Fraction, int]] = field(default_factory=list)

    @property
    def total(self) -> Fraction:
        if self.parts:
            return sum((a * n for a, n in self.parts), Fraction(0))
        return sum(self.months.values(), Fraction(0))


def supplement_terms(params: ParameterSet, year: int) -> SupplementTerms:
    days = [dt.date(year, mo, 1) for mo in range(1, 13)]
    return SupplementTerms(
        year,
        tuple(params.at(SATS, d) for d in days),
        tuple(params.at(TAK, d) for d in days),
    )


def _monthly(n: int, d: int, sats: Fraction, tak: Fraction) -> tuple[Fraction, bool]:
    """min(sats × n/d, tak) / 12 (d > 0), and whether the cap binds: one exact division."""
    an, ad = sats.numerator * n, sats.denominator * d
    if an * tak.denominator >= tak.numerator * ad:
        return tak / 12, True
    return Fraction(an, ad * 12), False


def monthly_supplement(uttrekk: Fraction, sats: Fraction, tak: Fraction) -> tuple[Fraction, bool]:
    """min(sats × uttrekk, tak) / 12, and whether the cap binds."""
    return _monthly(uttrekk.numerator, uttrekk.denominator, sats, tak)


@dataclass(frozen=True)
class _Segment:
    """The months of a month list with the same rate and cap, and the lookups of its first."""

    sats: Fraction
    tak: Fraction
    months: tuple[int, ...]
    sats_use: tuple[tuple[str, dt.date], Use]
    tak_use: tuple[tuple[str, dt.date], Use]


def _segments(terms: SupplementTerms, months: tuple[int, ...]) -> list[_Segment]:
    found: dict[tuple[int, int], tuple[DatedValue, DatedValue, list[int]]] = {}
    for mo in months:
        sats, tak = terms.sats[mo - 1], terms.tak[mo - 1]
        key = (id(sats), id(tak))
        seg = found.get(key)
        if seg is None:
            found[key] = (sats, tak, [mo])
        else:
            seg[2].append(mo)
    out: list[_Segment] = []
    for sats, tak, mos in found.values():
        assert isinstance(sats.value, Fraction) and isinstance(tak.value, Fraction)
        on = dt.date(terms.year, mos[0], 1)
        out.append(
            _Segment(
                sats.value,
                tak.value,
                tuple(mos),
                ((SATS, sats.start), Use(SATS, on, sats)),
                ((TAK, tak.start), Use(TAK, on, tak)),
            )
        )
    return out


def supplements(
    terms: SupplementTerms,
    uttrekk: Mapping[str, Fraction],
    months: Mapping[str, Iterable[int]],
) -> dict[str, Supplement]:
    """The supplement of every municipality in `uttrekk`, over its participating `months`.

    The months of all municipalities are split once per distinct list of months into runs of
    the same rate and cap; each municipality then needs one exact division per run."""
    out: dict[str, Supplement] = {}
    by_months: dict[tuple[int, ...], list[_Segment]] = {}
    for code, u in uttrekk.items():
        mos = tuple(months[code])
        segs = by_months.get(mos)
        if segs is None:
            segs = by_months[mos] = _segments(terms, mos)
        n, d = u.numerator, u.denominator
        result = Supplement({})
        uses = result.uses
        for seg in segs:
            amount, binds = _monthly(n, d, seg.sats, seg.tak)
            result.parts.append((amount, len(seg.months)))
            uses.setdefault(*seg.sats_use)
            if binds:
                uses.setdefault(*seg.tak_use)
        if len(segs) == 1:
            result.months = dict.fromkeys(mos, result.parts[0][0])
        else:
            for seg, (amount, _n) in zip(segs, result.parts, strict=True):
                for mo in seg.months:
                    result.months[mo] = amount
            result.months = {mo: result.months[mo] for mo in mos}
        out[code] = result
    return out
