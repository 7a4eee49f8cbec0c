"""Participation: which months a municipality takes part, in which model, activity-financed or not.

interfaces.md §2 "Periods and participation": a municipality's participating months are the months
its `deltakelse` rows cover; a model A month is activity-financed from the month of
`aktivitet_fra` on; before that it is paid like model B.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

Month = tuple[int, int]  # (year, month)


@dataclass(frozen=True)
class MonthState:
    """What a municipality is in one month."""

    model: str  # "A" or "B"
    activity: bool  # activity-financed (model A from aktivitet_fra)
    covid: bool  # covid_saerordning of the row


def month_index(m: Month) -> int:
    return m[0] * 12 + m[1] - 1


def month_of(index: int) -> Month:
    return index // 12, index % 12 + 1


def first_day(m: Month) -> dt.date:
    return dt.date(m[0], m[1], 1)


@dataclass(frozen=True)
class Period:
    """One participation row as month indices (end None = open)."""

    start: int
    end: int | None
    model: str
    activity_start: int
    covid: bool

    def covers(self, i: int) -> bool:
        return self.start <= i and (self.end is None or i <= self.end)


_STATES: dict[tuple[str, bool, bool], MonthState] = {}


def _state(p: Period, i: int) -> MonthState:
    """The state of month index i in period p (one shared object per distinct state)."""
    key = (p.model, p.model == "A" and i >= p.activity_start, p.covid)
    s = _STATES.get(key)
    if s is None:
        s = _STATES[key] = MonthState(*key)
    return s


class Participation:
    """All participation periods of all municipalities, answered per month."""

    def __init__(self, deltakelse: pl.DataFrame) -> None:
        self._periods: dict[str, list[Period]] = {}
        self._year_cache: dict[tuple[str, int], dict[int, MonthState]] = {}
        for r in deltakelse.sort("kommunenummer", "fra").iter_rows(named=True):
            fra: dt.date = r["fra"]
            til: dt.date | None = r["til"]
            akt: dt.date = r["aktivitet_fra"] or fra
            self._periods.setdefault(r["kommunenummer"], []).append(
                Period(
                    month_index((fra.year, fra.month)),
                    month_index((til.year, til.month)) if til else None,
                    r["modell"],
                    month_index((akt.year, akt.month)),
                    bool(r["covid_saerordning"]),
                )
            )

    def codes(self) -> list[str]:
        return sorted(self._periods)

    def periods(self, code: str) -> list[Period]:
        return list(self._periods.get(code, []))

    def first_fra(self, code: str) -> dt.date | None:
        ps = self._periods.get(code)
        return first_day(month_of(ps[0].start)) if ps else None

    def state(self, code: str, m: Month) -> MonthState | None:
        i = month_index(m)
        for p in self._periods.get(code, ()):
            if p.covers(i):
                return _state(p, i)
        return None

    def months_in_year(self, code: str, year: int) -> dict[int, MonthState]:
        """Participating months of `year` (1..12) with their state (cached; do not modify)."""
        cached = self._year_cache.get((code, year))
        if cached is not None:
            return cached
        out: dict[int, MonthState] = {}
        first = year * 12
        for p in self._periods.get(code, ()):
            lo = max(p.start, first)
            hi = min(first + 11, p.end if p.end is not None else first + 11)
            for i in range(lo, hi + 1):
                if i - first + 1 not in out:  # the first row covering a month holds (as `state`)
                    out[i - first + 1] = _state(p, i)
        out = dict(sorted(out.items()))
        self._year_cache[(code, year)] = out
        return out

    def last_month(self, code: str) -> Month | None:
        """The last participating month, or None if never or still open."""
        ps = self._periods.get(code)
        if not ps or any(p.end is None for p in ps):
            return None
        return month_of(max(p.end for p in ps if p.end is not None))

    def spells(self, code: str) -> list[tuple[int, int | None]]:
        """The participation spells of `code` as (first, last) month indices: runs of
        consecutive participating months (rows that touch are one spell); last None = open."""
        out: list[tuple[int, int | None]] = []
        for p in self._periods.get(code, ()):
            if out and out[-1][1] is not None and p.start == out[-1][1] + 1:
                out[-1] = (out[-1][0], p.end)
            else:
                out.append((p.start, p.end))
        return out

    def first_year(self) -> int | None:
        """The first calendar year in which any municipality takes part."""
        starts = [ps[0].start for ps in self._periods.values() if ps]
        return month_of(min(starts))[0] if starts else None

    def activity_months(self, code: str, year: int) -> list[int]:
        return [mo for mo, s in self.months_in_year(code, year).items() if s.activity]
