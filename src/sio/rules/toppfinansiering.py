"""Redirected toppfinansiering (scheme.md §3.1; interfaces.md §2 "Activity grant").

The reimbursement for resource-intensive users that a municipality would have received (input per
municipality and year, whole kroner) is withdrawn on top of the extraction in the months it is
activity-financed — those users' services are then paid by the activity grant: annual amount / 12
per activity-financed month; a year without a row is 0. Exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

import polars as pl


def yearly_amounts(frame: pl.DataFrame) -> dict[tuple[str, int], int]:
    """A table of yearly amounts per municipality (toppfinansiering, prosjektkostnader) as
    {(kommunenummer, aar): beloep}."""
    return {(k, y): v for k, y, v in frame.select("kommunenummer", "aar", "beloep").iter_rows()}


def toppfinansiering_months(
    amounts: Mapping[tuple[str, int], int],
    year: int,
    activity_months: Mapping[str, Iterable[int]],
) -> dict[str, dict[int, Fraction]]:
    """The withdrawal of every municipality by activity-financed month."""
    out: dict[str, dict[int, Fraction]] = {}
    for code, months in activity_months.items():
        month = Fraction(amounts.get((code, year), 0), 12)
        out[code] = {mo: month for mo in months}
    return out
