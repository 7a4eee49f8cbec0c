"""The vectorised activity kernel against the exact lines of the trace, month by month.

`compute_activity` puts whole months in classes of equal days, rounds each class's line once per
vedtak, adds part months one by one and takes vedtak with a line near x.5 øre out of the float
sums (computed exactly instead). Whatever the months asked for (gaps, two years), the months
financed and the days a vedtak starts and ends on, each month's grant must be the sum of the
exactly rounded lines `lines_for_month` lists (interfaces.md §2 "Activity grant").
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import max_examples
from sio.data.registry import Registry
from sio.parameters import load_parameters
from sio.rules.aktivitetstilskudd import compute_activity, lines_for_month

PARAMS = load_parameters()
# (service, price group, unit) with a price in 2016 and 2017
PRICED = [
    ("HJSPL", "STANDARD", "timer_per_uke"),
    ("PB_DAGL", "STANDARD", "timer_per_maaned"),
    ("INST_LANG", "SKJERMET", "doegn"),
    ("INST_KORT", "UTREDNING", "doegn"),
    ("INST_LANG", "STANDARD", "per_maaned"),
]
# omfang with lines at or near x.5 øre and above 10^8 øre among them
OMFANG = [
    "0.00001",
    "0.00003",
    "0.00007",
    "0.00011",
    "0.00013",
    "0.5",
    "1",
    "2.5",
    "7",
    "10.5",
    "37.5",
    "1000.5",
]
ALL_MONTHS = [(y, m) for y in (2016, 2017) for m in range(1, 13)]


def _registry() -> Registry:
    kommuner = pl.DataFrame(
        {
            "kommunenummer": ["9001", "9002"],
            "navn": ["A", "B"],
            "gyldig_fra": [dt.date(1900, 1, 1)] * 2,
            "gyldig_til": [None, None],
            "aga_sone": ["1", "4a"],
            "reiseindeks": ["0", "0.35"],
            "etterfolger": [None, None],
        },
        schema_overrides={"gyldig_til": pl.Date, "etterfolger": pl.Utf8},
    )
    return Registry(kommuner)


REGISTRY = _registry()


@st.composite
def day(draw: st.DrawFn) -> dt.date:
    y, m = draw(st.sampled_from([(2015, 12), *ALL_MONTHS, (2018, 1)]))
    last = calendar.monthrange(y, m)[1]
    d = draw(st.sampled_from(sorted({1, 2, 15, last - 1, last})))
    return dt.date(y, m, d)


@st.composite
def vedtak_rows(draw: st.DrawFn) -> pl.DataFrame:
    rows = []
    for i in range(draw(st.integers(1, 6))):
        service, group, unit = draw(st.sampled_from(PRICED))
        fra, til = draw(day()), draw(st.one_of(st.none(), day()))
        if til is not None and til < fra:
            fra, til = til, fra
        omfang = draw(st.sampled_from(OMFANG))
        rows.append(
            {
                "vedtak_id": f"V{i}",
                "person_id": f"P{i}",
                "kommunenummer": draw(st.sampled_from(["9001", "9002"])),
                "tjeneste": service,
                "prisgruppe": group,
                "omfang": float(omfang),
                "omfang_tekst": omfang,
                "enhet": unit,
                "fra": fra,
                "til": til,
                "line": i + 2,
            }
        )
    return pl.DataFrame(rows, schema_overrides={"til": pl.Date})


@settings(
    max_examples=max_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    vedtak=vedtak_rows(),
    months=st.lists(st.sampled_from(ALL_MONTHS), min_size=1, max_size=14, unique=True),
    unfinanced=st.sets(st.sampled_from([(c, m) for c in ("9001", "9002") for m in ALL_MONTHS])),
)
def test_each_month_is_the_sum_of_its_exact_lines(
    vedtak: pl.DataFrame,
    months: list[tuple[int, int]],
    unfinanced: set[tuple[str, tuple[int, int]]],
) -> None:
    financed = {(c, m) for c in ("9001", "9002") for m in months} - unfinanced
    grant = compute_activity(vedtak, PARAMS, REGISTRY, months, financed)
    for code, m in sorted(financed):
        lines = lines_for_month(vedtak, PARAMS, REGISTRY, code, m)
        assert grant.get(code, m) == sum(ln.oere for ln in lines), (code, m)
    for code, m in unfinanced:
        assert grant.get(code, m) == 0
