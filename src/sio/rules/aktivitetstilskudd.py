"""Activity grant (aktivitetstilskudd), model A (scheme.md §3.3; interfaces.md §2 "Activity grant").

For every vedtak in force in an activity-financed month:
    line = volume × enhetspris(service, price group, month) × k_aga(k) × k_reise(k, service),
rounded half away from zero to whole øre; the month's grant is the sum of its lines.

- volume: `timer_per_uke` omfang × days in force / 7; `doegn` omfang × days in force;
  `timer_per_maaned`, `per_maaned` omfang × days in force / days in the month.
- enhetspris: the latest value dated on or before the first day of the month, p0 dated in year d0,
  × Π over years t = d0+1 … the month's year of (1 + deflator(t)).
- k_aga = 1 + lonnsandel × (sats(sone) − referansesats) / (1 + referansesats).
- k_reise = 1 + faktor × reiseindeks for home-based services, else 1.

Vectorised over all vedtak and months at once (decision 0002): the lines are computed in float64
and every line whose value lies within a tiny distance of a rounding boundary (x.5 øre) is
recomputed exactly with fractions, so each rounded line equals the exactly rounded value.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from sio.data.registry import Registry
from sio.lazy import LazyMapping
from sio.money import round_half_away, to_fraction
from sio.parameters import ParameterLookupError, ParameterSet, UsageLog
from sio.rules.participation import Month, first_day

PRICE_ROOT = "aktivitetstilskudd.enhetspris"
_EPOCH = dt.date(1970, 1, 1)
_FAR = 2_000_000_000  # "open" til as days since epoch
# A float64 line value is trusted for rounding when it lies farther than this from x.5 øre.
_ABS_TOL = 1e-6
# A line is a product of about ten float64 roundings (relative error ≤ ~1.1e-15), so below 1e8 øre
# (1 million kroner a month) it is within ~1.1e-7 øre of its exact value — well inside the 1e-6
# window; a group with a larger line is rechecked exactly whatever its distance to the boundary.
_SAFE_MAX = 1e8
# |x − round(x)| beyond this is within _ABS_TOL of x.5 øre
_TIE = 0.5 - _ABS_TOL
# from this many vedtak the kernel works on two halves at once
_PARALLEL_FROM = 200_000


def days_in_month(m: Month) -> int:
    return calendar.monthrange(m[0], m[1])[1]


def _day_number(d: dt.date) -> int:
    return (d - _EPOCH).days


def unit_price(
    params: ParameterSet, service: str, group: str, m: Month, log: UsageLog | None = None
) -> Fraction:
    """The exact unit price (kroner) of a service and price group in month `m`."""
    on = first_day(m)
    dv = params.at(f"{PRICE_ROOT}.{service}.{group}", on, log)
    assert isinstance(dv.value, Fraction)
    price = dv.value
    for t in range(dv.start.year + 1, m[0] + 1):
        price *= 1 + params.number("uttrekk.deflator", dt.date(t, 1, 1), log)
    return price


def k_aga(params: ParameterSet, zone: str, m: Month, log: UsageLog | None = None) -> Fraction:
    """The employer-tax correction for a zone in month `m` (exact)."""
    on = first_day(m)
    rate = params.number(f"aktivitetstilskudd.aga.sats.sone_{zone}", on, log)
    ref = params.number("aktivitetstilskudd.aga.referansesats", on, log)
    if rate == ref:
        return Fraction(1)
    w = params.number("aktivitetstilskudd.aga.lonnsandel", on, log)
    return 1 + w * (rate - ref) / (1 + ref)


def k_reise(
    params: ParameterSet,
    reiseindeks: Fraction,
    service: str,
    m: Month,
    log: UsageLog | None = None,
) -> Fraction:
    """The travel correction for a service in month `m` (1 unless home-based)."""
    on = first_day(m)
    if not params.flag(f"aktivitetstilskudd.hjemmebasert.{service}", on, log):
        return Fraction(1)
    if reiseindeks == 0:
        return Fraction(1)
    return 1 + params.number("aktivitetstilskudd.reise.faktor", on, log) * reiseindeks


def priced_groups(params: ParameterSet) -> list[tuple[str, str]]:
    """All (service, price group) pairs that have a unit price."""
    return [
        (s, g) for s in params.children(PRICE_ROOT) for g in params.children(f"{PRICE_ROOT}.{s}")
    ]


def volume_exact(omfang: Fraction, enhet: str, days: int, m: Month) -> Fraction:
    """The month's volume of one vedtak, exactly (interfaces.md §2)."""
    if enhet == "timer_per_uke":
        return omfang * days / 7
    if enhet == "doegn":
        return omfang * days
    return omfang * days / days_in_month(m)


KEYS = ["kommunenummer", "tjeneste", "prisgruppe"]
DERIVED = ("gid", "_fra", "_til", "_q", "_m")


def with_derived(vedtak: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The vedtak with the columns the activity kernel works on, and the table of groups.

    - gid: an integer id of (kommunenummer, tjeneste, prisgruppe) — the kernel joins prices on it;
    - _fra, _til: days since 1970-01-01 (_til of an open vedtak: far in the future);
    - _q: volume per day in force (omfang/7 for hours per week, omfang for the other units);
    - _m: 1.0 for the per-month units (prorated by days / days in the month), else 0.0.
    Computed once when the data are loaded (`sio.data.validation`), or here if missing.
    """
    if all(c in vedtak.columns for c in DERIVED) and "gid" in vedtak.columns:
        groups = vedtak.select("gid", *KEYS).unique("gid").sort("gid")
        return vedtak, groups
    groups = vedtak.select(KEYS).unique().sort(KEYS).with_row_index("gid")
    out = vedtak.join(groups, on=KEYS, how="left").with_columns(
        pl.col("fra").cast(pl.Int32).alias("_fra"),
        pl.col("til").cast(pl.Int32).fill_null(_FAR).alias("_til"),
        (
            pl.col("omfang") / pl.when(pl.col("enhet") == "timer_per_uke").then(7.0).otherwise(1.0)
        ).alias("_q"),
        pl.col("enhet").is_in(["timer_per_maaned", "per_maaned"]).cast(pl.Float64).alias("_m"),
    )
    return out, groups


@dataclass
class FactorTable:
    """Exact øre-per-unit factors F(k, service, group, month) = price × 100 × k_aga × k_reise."""

    params: ParameterSet
    registry: Registry
    _cache: dict[tuple[str, str, str, Month], Fraction] = field(default_factory=dict)

    def factor(self, code: str, service: str, group: str, m: Month) -> Fraction:
        key = (code, service, group, m)
        f = self._cache.get(key)
        if f is None:
            k = self.registry.get(code)
            f = (
                unit_price(self.params, service, group, m)
                * 100
                * k_aga(self.params, k.aga_sone, m)
                * k_reise(self.params, k.reiseindeks, service, m)
            )
            self._cache[key] = f
        return f


@dataclass
class ActivityGrant:
    """The activity grant of every municipality and month asked for, in øre."""

    months: list[Month]
    oere: Mapping[tuple[str, Month], int]
    # per (kommunenummer, year): the (service, price group)s with lines, and their months
    used_groups: dict[tuple[str, int], dict[tuple[str, str], tuple[int, ...]]]
    exact_rechecks: int
    # the øre per group (gid of `groups`: municipality, service, price group) and month of
    # `months`: the sums of the same rounded lines as `oere` (None when nothing was computed)
    group_oere: np.ndarray[Any, np.dtype[np.int64]] | None = None
    groups: pl.DataFrame | None = None
    # per financed municipality: its øre in each month of `months` (what `oere` is read from)
    by_code: dict[str, list[int]] = field(default_factory=dict)

    def get(self, code: str, m: Month) -> int:
        return self.oere.get((code, m), 0)

    def by_service(self, code: str, months: Iterable[Month]) -> dict[str, int]:
        """The øre of `code` in `months` per service: the sum of its vedtak lines in those
        months (the same lines `lines_for_month` lists, rounded the same way), services
        without øre left out."""
        if self.group_oere is None or self.groups is None:
            return {}
        where = {m: i for i, m in enumerate(self.months)}
        idx = [where[m] for m in months if m in where]
        mine = self.groups.filter(pl.col("kommunenummer") == code)
        if not idx or mine.height == 0:
            return {}
        gids = mine.get_column("gid").to_numpy().astype(np.int64)
        sums = self.group_oere[np.ix_(gids, np.array(idx, np.int64))].sum(axis=1)
        out: dict[str, int] = {}
        for service, oere in zip(mine.get_column("tjeneste").to_list(), sums.tolist(), strict=True):
            out[service] = out.get(service, 0) + int(oere)
        return {k: v for k, v in sorted(out.items()) if v}


@dataclass
class _PriceTables:
    """What the factors take from the parameters alone, for one list of months: the unit price
    × 100 and whether the service is home-based, per priced (service, price group) and month; the
    travel factors of the months; k_aga per zone and 1 + factor × reiseindeks per travel index
    (filled in as zones and indices are met). Shared by every run with the same parameter set."""

    sg_keys: list[tuple[str, str]]
    sg_index: dict[str, int]  # "service\tprice group" → row
    prices: np.ndarray[Any, np.dtype[np.float64]]
    home: np.ndarray[Any, np.dtype[np.bool_]]
    taus: list[Fraction]  # the distinct travel factors
    tau_of: list[int]  # each month's among them
    aga: dict[str, list[float]] = field(default_factory=dict)
    travel: dict[tuple[int, int], list[float]] = field(default_factory=dict)


_PRICE_TABLES: weakref.WeakKeyDictionary[ParameterSet, dict[tuple[Month, ...], _PriceTables]] = (
    weakref.WeakKeyDictionary()
)


def _price_tables(params: ParameterSet, months: Sequence[Month]) -> _PriceTables:
    """The parameters' part of the factors of `months` (built once per parameter set)."""
    by_months = _PRICE_TABLES.get(params)
    if by_months is None:
        by_months = _PRICE_TABLES[params] = {}
    found = by_months.get(tuple(months))
    if found is not None:
        return found
    n = len(months)
    sg_keys: list[tuple[str, str]] = []
    price_rows: list[list[float]] = []
    home_rows: list[list[bool]] = []
    for s, g in priced_groups(params):
        param = params.get(f"{PRICE_ROOT}.{s}.{g}")
        cache: dict[tuple[int, int], float] = {}
        row: list[float] = []
        for m in months:
            dv = param.at(first_day(m))
            if dv is None:
                row.append(math.nan)
                continue
            key = (id(dv), m[0])  # the same dated value indexed to the same year
            if key not in cache:
                cache[key] = float(unit_price(params, s, g, m) * 100)
            row.append(cache[key])
        sg_keys.append((s, g))
        price_rows.append(row)
        home_rows.append(
            [params.flag(f"aktivitetstilskudd.hjemmebasert.{s}", first_day(m)) for m in months]
        )
    prices = np.array(price_rows, dtype=np.float64).reshape(len(price_rows), n)
    home = np.array(home_rows, dtype=bool).reshape(len(home_rows), n)
    if np.any(prices < 0):
        raise ValueError("a unit price is negative")
    tau = [params.number("aktivitetstilskudd.reise.faktor", first_day(m)) for m in months]
    # the distinct factors and each month's among them (hashing a Fraction is slow)
    taus = list(dict.fromkeys(tau))
    found = by_months[tuple(months)] = _PriceTables(
        sg_keys,
        {f"{s}\t{g}": i for i, (s, g) in enumerate(sg_keys)},
        prices,
        home,
        taus,
        [taus.index(t) for t in tau],
    )
    return found


@dataclass
class _GroupFactors:
    """The factor of each group and month (`_factor_matrix`), and each group's financed
    municipality (index into `codes`, -1 if none) and priced (service, price group) (index into
    `sg_keys`, -1 if none)."""

    factors: np.ndarray[Any, np.dtype[np.float64]]
    codes: list[str]
    ci: np.ndarray[Any, np.dtype[np.intp]]
    sg_keys: list[tuple[str, str]]
    si: np.ndarray[Any, np.dtype[np.intp]]


def _factor_matrix(
    params: ParameterSet,
    registry: Registry,
    groups: pl.DataFrame,
    months: Sequence[Month],
    financed: set[tuple[str, Month]],
) -> _GroupFactors:
    """F[gid, i] = unit price × 100 × k_aga × k_reise (float64) of group `gid` in month i.

    NaN where the group's municipality is not activity-financed in month i, or the service and
    price group have no price then (no line). The exact factors come from small tables — prices
    per service, group and month; k_aga per zone and month; k_reise per travel index and month —
    combined for every group at once.
    """
    n = len(months)
    pt = _price_tables(params, months)
    # the financed municipalities: their months, zones and travel indices as small tables
    month_pos = {m: i for i, m in enumerate(months)}
    codes = sorted({c for c, _ in financed})
    code_index = {c: i for i, c in enumerate(codes)}
    is_financed = np.zeros((len(codes), n), bool)
    cells = [
        code_index[c] * n + i for c, m in financed if (i := month_pos.get(m)) is not None
    ]  # set at once (setting a NumPy element one by one is slow)
    is_financed.ravel()[cells] = True
    zones: dict[str, int] = {}
    travel: dict[tuple[int, int], int] = {}
    travel_rows: list[list[float]] = []
    zone_of = np.empty(len(codes), np.intp)
    travel_of = np.empty(len(codes), np.intp)
    for i, code in enumerate(codes):
        k = registry.get(code)
        zone_of[i] = zones.setdefault(k.aga_sone, len(zones))
        ri = k.reiseindeks
        rkey = (ri.numerator, ri.denominator)  # hashing a Fraction is slow
        if rkey not in travel:
            travel[rkey] = len(travel_rows)
            row = pt.travel.get(rkey)
            if row is None:
                by_tau = [float(1 + t * ri) for t in pt.taus]
                row = pt.travel[rkey] = [by_tau[i] for i in pt.tau_of]
            travel_rows.append(row)
        travel_of[i] = travel[rkey]
    aga_rows: list[list[float]] = []
    for z in zones:
        row = pt.aga.get(z)
        if row is None:
            row = [float(k_aga(params, z, m)) for m in months]
            if any(f < 0 for f in row):
                raise ValueError("an employer-tax factor is negative")
            pt.aga[z] = row
        aga_rows.append(row)
    aga_z = np.array(aga_rows, np.float64).reshape(len(zones), n)
    aga = np.where(is_financed, aga_z[zone_of], math.nan)
    reise = np.array(travel_rows, np.float64).reshape(len(travel_rows), n)[travel_of]

    gids = groups.get_column("gid").to_numpy().astype(np.intp)
    size = int(gids.max()) + 1 if len(gids) else 0
    factors = np.full((size, n), math.nan)
    found = groups.select(
        pl.col("kommunenummer")
        .cast(pl.Utf8)
        .replace_strict(code_index, default=-1, return_dtype=pl.Int64)
        .alias("ci"),
        pl.concat_str(
            pl.col("tjeneste").cast(pl.Utf8), pl.col("prisgruppe").cast(pl.Utf8), separator="\t"
        )
        .replace_strict(pt.sg_index, default=-1, return_dtype=pl.Int64)
        .alias("si"),
    )
    # per gid (a gid without a group: neither)
    ci = np.full(size, -1, np.intp)
    si = np.full(size, -1, np.intp)
    ci[gids] = found.get_column("ci").to_numpy()
    si[gids] = found.get_column("si").to_numpy()
    ok = np.flatnonzero((ci >= 0) & (si >= 0))
    c_ok, s_ok = ci[ok], si[ok]
    factors[ok] = pt.prices[s_ok] * aga[c_ok] * np.where(pt.home[s_ok], reise[c_ok], 1.0)
    return _GroupFactors(factors, codes, ci, pt.sg_keys, si)


_KERNEL_COLUMNS = ("gid", "_fra", "_til", "_q", "_m")
# the kernel's columns of a vedtak frame as NumPy arrays, by id() of the frame (a frame is not
# hashable); an entry is dropped when its frame is
_COLUMNS: dict[int, tuple[weakref.ref[pl.DataFrame], list[np.ndarray[Any, Any]]]] = {}


def _kernel_columns(vedtak: pl.DataFrame) -> list[np.ndarray[Any, Any]]:
    """The columns the kernel works on (gid, _fra, _til, _q, _m) as read-only NumPy arrays,
    copied out of the frame's chunks once per frame (decision 0027): they depend on the data
    alone, and every year computed on the same data reads them."""
    found = _COLUMNS.get(id(vedtak))
    if found is not None and found[0]() is vedtak:
        return found[1]
    columns = [vedtak.get_column(c).to_numpy() for c in _KERNEL_COLUMNS]
    for c in columns:
        c.flags.writeable = False
    _COLUMNS[id(vedtak)] = (weakref.ref(vedtak), columns)
    weakref.finalize(vedtak, _COLUMNS.pop, id(vedtak), None)
    return columns


def compute_activity(
    vedtak: pl.DataFrame,
    params: ParameterSet,
    registry: Registry,
    months: Sequence[Month],
    financed: Iterable[tuple[str, Month]],
    groups: pl.DataFrame | None = None,
) -> ActivityGrant:
    """The activity grant per municipality and month for `months`, in øre (`start_activity`,
    then its result)."""
    return start_activity(vedtak, params, registry, months, financed, groups).result()


class ActivityRun:
    """A started activity kernel (`start_activity`): the sums over the vedtak run in worker
    threads; `result` waits for them and sums per municipality (in the calling thread)."""

    def __init__(self, finish: Callable[[], ActivityGrant]) -> None:
        self._finish = finish
        self._grant: ActivityGrant | None = None

    def result(self) -> ActivityGrant:
        """The grant, once the worker threads are done (their error, if one failed)."""
        if self._grant is None:
            self._grant = self._finish()
        return self._grant


def start_activity(
    vedtak: pl.DataFrame,
    params: ParameterSet,
    registry: Registry,
    months: Sequence[Month],
    financed: Iterable[tuple[str, Month]],
    groups: pl.DataFrame | None = None,
) -> ActivityRun:
    """Start the activity grant per municipality and month for `months`, in øre: the factor
    and day tables are built in the calling thread (an error in the parameters is raised here),
    the sums over the vedtak start in worker threads (NumPy releases the GIL in its loops), so
    that the caller can compute other rules meanwhile; `ActivityRun.result` gives the grant.

    `groups` is the gid table of `with_derived` when the caller has it (the loaded data do).
    `financed` lists the (kommunenummer, month) pairs that are activity-financed; vedtak of other
    municipalities or months give nothing.

    How (decision 0011): a vedtak in force for a whole month has the same line in every whole
    month with the same factor and number of days, so the months are put in classes of equal
    (factor column, days) — usually three: 28/29, 30 and 31 days — and each vedtak's line of a
    class is computed and rounded once, then added to the whole months of that class it covers
    through prefix sums. Its at most two part months are computed one by one. A vedtak with a
    line near x.5 øre or above 10^8 øre is left out of the float sums and computed exactly
    instead (decision 0002).
    """
    months = sorted(months)
    fin = set(financed)
    asked = set(months)
    if not any(m in asked for _c, m in fin):
        empty = ActivityGrant(months, {}, {}, 0)
        return ActivityRun(lambda: empty)
    n = len(months)
    starts = np.array([_day_number(first_day(m)) for m in months], np.int64)
    dims = np.array([days_in_month(m) for m in months], np.int64)
    ends = starts + dims - 1
    if groups is None:
        vedtak, groups = with_derived(vedtak)
    gf = _factor_matrix(params, registry, groups, months, fin)
    factors = gf.factors
    size = factors.shape[0]
    lo, hi = int(starts[0]), int(ends[-1])
    columns = _kernel_columns(vedtak)
    col_class: dict[tuple[bytes, int], int] = {}
    month_class = np.empty(n, np.int64)
    for i in range(n):
        key = (factors[:, i].tobytes(), int(dims[i]))
        month_class[i] = col_class.setdefault(key, len(col_class))
    span = hi - lo + 1
    month_of_day = np.full(span, -1, np.int64)  # -1: a day between the months asked for
    for i in range(n):
        month_of_day[starts[i] - lo : ends[i] - lo + 1] = i
    # day tables over the clipped offsets of fra (lo … hi + 1) and of til + 1 (lo … hi + 1)
    day = np.arange(lo, hi + 2, dtype=np.int64)
    in_month = np.append(month_of_day, -1)  # the month of each day (hi + 1: none)
    safe = np.maximum(in_month, 0)
    # fra on a day that is not the first of its month: that month is a part month
    part_first = np.where((in_month >= 0) & (day != starts[safe]), in_month, -1)
    # til + 1 on a day that is not the first of a month: til's month is a part month
    til_month = np.insert(month_of_day, 0, -1)  # the month of til = day - 1
    safe_t = np.maximum(til_month, 0)
    part_last = np.where((til_month >= 0) & (day - 1 != ends[safe_t]), til_month, -1)
    tables = [
        np.nan_to_num(  # no price or not financed: no line
            np.concatenate([factors[:, i] * float(dims[i]), factors[:, i]])
        )
        for i in (int(np.argmax(month_class == c)) for c in range(len(col_class)))
    ]
    ctx = _Window(
        n=n,
        size=size,
        lo=lo,
        hi=hi,
        month_class=month_class,
        class_tables=tables,
        class_max=[float(t.max()) if len(t) else 0.0 for t in tables],
        flat=np.nan_to_num(np.concatenate([factors.ravel(), (factors / dims).ravel()])),
        first_on_or_after=np.searchsorted(starts, day, side="left").astype(np.intp),
        ending_by=np.searchsorted(ends, day - 1, side="right").astype(np.intp),
        part_first=part_first.astype(np.intp),
        days_left=np.where(part_first >= 0, ends[safe] - day + 1, 0).astype(np.intp),
        part_last=part_last.astype(np.intp),
        days_into=np.where(part_last >= 0, day - starts[safe_t], 0).astype(np.intp),
    )
    # two halves of the vedtak on two threads (NumPy releases the GIL in its loops); the totals
    # are integers in float64, so their sum does not depend on the order
    count = len(columns[0])
    cuts = [0, count // 2, count] if count >= _PARALLEL_FROM else [0, count]
    chunks = [[c[a:b] for c in columns] for a, b in itertools.pairwise(cuts)]
    pool = ThreadPoolExecutor(len(chunks))
    try:
        futures = [pool.submit(_chunk_totals, ctx, *ch) for ch in chunks]
    finally:
        pool.shutdown(wait=False)
    return ActivityRun(
        partial(
            _finish,
            [f.result for f in futures],
            ctx,
            columns,
            vedtak,
            groups,
            gf,
            params,
            registry,
            months,
            fin,
        )
    )


def _finish(
    parts_of: list[
        Callable[
            [], tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.bool_]]]
        ]
    ],
    ctx: _Window,
    columns: list[np.ndarray[Any, Any]],
    vedtak: pl.DataFrame,
    groups: pl.DataFrame,
    gf: _GroupFactors,
    params: ParameterSet,
    registry: Registry,
    months: list[Month],
    fin: set[tuple[str, Month]],
) -> ActivityGrant:
    """The grant from the parts' totals (each part's error raised in order)."""
    count = len(columns[0])
    parts = [p() for p in parts_of]
    totals = parts[0][0]
    for t, _d in parts[1:]:
        totals += t
    doubt = np.concatenate([d for _t, d in parts])
    any_doubt = bool(doubt.any())
    if any_doubt:  # a vedtak in doubt in any month is left out of the float sums in all
        if count and totals.max() < 2.0**53:  # sums of lines ≥ 0: every partial sum exact
            totals -= _chunk_totals(ctx, *(c[doubt] for c in columns))[0]
        else:
            totals = _chunk_totals(ctx, *(c[~doubt] for c in columns))[0]
    oere_g = np.rint(totals).astype(np.int64)

    rechecks = 0
    if any_doubt:
        doubtful = vedtak.filter(pl.Series(doubt))
        rechecks = _exact_lines(doubtful, params, registry, months, fin, oere_g)
    return _by_municipality(oere_g, gf, groups, months, fin, rechecks)


@dataclass(frozen=True)
class _Window:
    """What every part of the vedtak is computed against: the months, their classes, the factor
    tables and day tables (see `compute_activity`).

    The day tables are indexed by the offset of a clipped day from `lo`: fra clipped to
    lo … hi + 1, and til + 1 clipped to lo … hi + 1 (offsets 0 … span)."""

    n: int
    size: int
    lo: int
    hi: int
    month_class: np.ndarray[Any, np.dtype[np.int64]]
    # per class of months: the whole month's factor per gid (per-day units: × the days of the
    # month), then per gid + size (the per-month units)
    class_tables: list[np.ndarray[Any, np.dtype[np.float64]]]
    class_max: list[float]
    # the factor per (gid [+ size for the per-month units]) × n + month: per day / per month
    flat: np.ndarray[Any, np.dtype[np.float64]]
    first_on_or_after: np.ndarray[Any, np.dtype[np.intp]]  # by fra: first month starting ≥ fra
    ending_by: np.ndarray[Any, np.dtype[np.intp]]  # by til + 1: months ending ≤ til
    # by fra: its month if fra is not the month's first day (else -1), and the days from fra to
    # the end of that month
    part_first: np.ndarray[Any, np.dtype[np.intp]]
    days_left: np.ndarray[Any, np.dtype[np.intp]]
    # by til + 1: til's month if til is not the month's last day (else -1), and the days from the
    # start of that month to til
    part_last: np.ndarray[Any, np.dtype[np.intp]]
    days_into: np.ndarray[Any, np.dtype[np.intp]]


def _in_doubt(
    x: np.ndarray[Any, np.dtype[np.float64]],
    r: np.ndarray[Any, np.dtype[np.float64]],
    bound: float,
) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
    """Round the float lines `x` to whole øre into `r` and tell which are in doubt (within
    10^-6 øre of x.5, or above 10^8 øre when `bound`, an upper bound of `x`, is), or None if
    none is (`x` is overwritten). Half to even: a line that near x.5 is in doubt and computed
    exactly instead. Lines in doubt are rare, so two reductions look for them first."""
    np.rint(x, out=r)
    x -= r
    big = bound > _SAFE_MAX and bool(len(r)) and float(r.max()) >= _SAFE_MAX
    if not (big or (len(x) and (float(x.max()) > _TIE or float(x.min()) < -_TIE))):
        return None
    bad: np.ndarray[Any, np.dtype[np.bool_]] = np.abs(x) > _TIE
    if bound > _SAFE_MAX:
        bad |= r >= _SAFE_MAX  # every x > 10^8 (lines are not negative)
    return bad


# the vedtak are taken in blocks of this many, so that the work arrays stay in the CPU's cache
_BLOCK = 32_768


def _chunk_totals(
    w: _Window,
    gid: np.ndarray[Any, Any],
    fra: np.ndarray[Any, Any],
    til: np.ndarray[Any, Any],
    q: np.ndarray[Any, Any],
    m: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.bool_]]]:
    """The øre per group and month of some vedtak (their float lines, rounded), and which of
    them are in doubt (a line near x.5 øre or above 10^8 øre). The totals include the vedtak in
    doubt: the caller takes them out again (the same float lines of just those vedtak) and
    computes them exactly.

    The vedtak are taken a block at a time (`_BLOCK`), each through a few work arrays reused
    from block to block: a whole month's line of each class of months is added where the
    vedtak's whole months start and taken off where they end (per class: prefix sums at the
    end), its part months' lines where they are."""
    n, size, lo, hi = w.n, w.size, w.lo, w.hi
    count = len(gid)
    classes = len(w.class_tables)
    q_max = float(q.max()) if count else 0.0
    class_bounds = [t_max * q_max * (1 + 1e-9) for t_max in w.class_max]
    flat_max = float(w.flat.max()) if len(w.flat) else 0.0
    part_bound = q_max * 31 * flat_max * (1 + 1e-9)
    # per class: a whole month's line added at (group, first whole month) and taken off at
    # (group, the month after the last); the running sums along each group's months are the
    # class's totals. The part months' lines per (group [+ size for the per-month units], month)
    starts_ends = np.zeros((classes, size * (n + 1)))
    part_sums = np.zeros(2 * size * n)
    doubt = np.zeros(count, bool)
    b = max(min(_BLOCK, count), 1)
    # work arrays (intp: NumPy indexes with other integer types far more slowly)
    ints = np.empty((6, b), np.intp)
    floats = np.empty((2, b), np.float64)
    flags = np.empty(b, bool)
    for s in range(0, count, b):
        e = min(s + b, count)
        k = e - s
        ia, ib, fa, fb, tab, at = ints[:, :k]
        x, r = floats[:, :k]
        flag = flags[:k]
        g, qb = gid[s:e], q[s:e]
        # offsets of fra and of til + 1 in the day tables; a vedtak outside the window covers
        # no whole month and has no part month, so nothing is filtered
        np.clip(fra[s:e], lo, hi + 1, out=ia)
        ia -= lo
        np.clip(til[s:e], lo - 1, hi, out=ib)
        ib -= lo - 1
        # whole months: list indices fa ≤ i < fb are fully covered
        w.first_on_or_after.take(ia, out=fa, mode="clip")
        w.ending_by.take(ib, out=fb, mode="clip")
        np.maximum(fa, fb, out=fb)  # no whole month: an empty range
        # the table row: gid, + size for the per-month units (their half of the tables)
        np.greater(m[s:e], 0.5, out=flag)
        np.multiply(flag, size, out=tab, dtype=np.intp)
        np.add(tab, g, out=tab, dtype=np.intp)
        np.multiply(g, n + 1, out=at, dtype=np.intp)  # the row of the group's months
        np.less(fb, n, out=flag)  # an end at column n falls outside the months anyway
        ending = np.flatnonzero(flag)
        at_end = at.take(ending)
        at_end += fb.take(ending)
        at += fa
        for c in range(classes):
            w.class_tables[c].take(tab, out=x, mode="clip")
            x *= qb
            bad = _in_doubt(x, r, class_bounds[c])
            if bad is not None:
                doubt[s:e] |= bad
            np.add.at(starts_ends[c], at, r)
            np.subtract.at(starts_ends[c], at_end, r.take(ending))
        # part months: the month of fra if fra is not its first day (the days from fra to the
        # end of the month or til), and the month of til if til is not its last day and fra is
        # not in it (fra is in an earlier month exactly when the whole months start by til's)
        for which in (0, 1):
            if which == 0:
                j = w.part_first.take(ia, out=at, mode="clip")
                rows = np.flatnonzero(j >= 0)
                a = ia.take(rows)
                d = w.days_left.take(a)
                np.minimum(d, ib.take(rows) - a, out=d)  # ib − ia = min(til, hi) − fra + 1
            else:
                j = w.part_last.take(ib, out=at, mode="clip")
                rows = np.flatnonzero(j >= fa)
                d = w.days_into.take(ib.take(rows))
            if not len(rows):
                continue
            cell = tab.take(rows)
            cell *= n
            cell += j.take(rows)
            xs = qb.take(rows)
            xs *= d
            xs *= w.flat.take(cell)
            rs = np.empty_like(xs)
            bad = _in_doubt(xs, rs, part_bound)
            if bad is not None:
                doubt[s + rows[bad]] = True
            np.add.at(part_sums, cell, rs)
    totals = part_sums.reshape(2, size, n).sum(axis=0)  # øre per group and month (exact in f64)
    for c in range(classes):
        run = np.cumsum(starts_ends[c].reshape(size, n + 1), axis=1)[:, :n]
        totals += np.where(w.month_class == c, run, 0.0)
    return totals, doubt


def _by_municipality(
    oere_g: np.ndarray[Any, np.dtype[np.int64]],
    gf: _GroupFactors,
    groups: pl.DataFrame,
    months: list[Month],
    fin: set[tuple[str, Month]],
    rechecks: int,
) -> ActivityGrant:
    """Sum the groups' months per municipality; note which groups have lines in each year."""
    codes, ci = gf.codes, gf.ci
    priced = np.flatnonzero((ci >= 0) & (gf.si >= 0))  # the gids that can have lines
    per_code = np.zeros((len(codes), len(months)), np.int64)
    np.add.at(per_code, ci[priced], oere_g[priced])
    sums = dict(zip(codes, per_code.tolist(), strict=True))
    # every financed month asked for (those of `codes`), as a dictionary when first asked for
    oere = LazyMapping(partial(_month_oere, sums, fin, months))
    used: dict[tuple[str, int], dict[tuple[str, str], tuple[int, ...]]] = {}
    priced = priced[np.argsort(ci[priced], kind="stable")]  # each municipality's gids together
    positive = oere_g[priced] > 0
    for year in sorted({m[0] for m in months}):
        idx = [i for i, m in enumerate(months) if m[0] == year]
        # the months with lines as a bit pattern per group, one tuple of months per pattern
        bits = positive[:, idx].astype(np.int64) @ (np.int64(1) << np.arange(len(idx)))
        with_lines = np.flatnonzero(bits)
        rows = priced[with_lines]
        row_bits = bits[with_lines].tolist()
        patterns = {
            b: tuple(months[idx[i]][1] for i in range(len(idx)) if b >> i & 1)
            for b in set(row_bits)
        }
        row_keys = [gf.sg_keys[i] for i in gf.si[rows].tolist()]
        row_months = [patterns[b] for b in row_bits]
        row_ci = ci[rows]
        cuts = [0, *(np.flatnonzero(row_ci[1:] != row_ci[:-1]) + 1).tolist(), len(rows)]
        firsts = row_ci[cuts[:-1]].tolist() if len(rows) else []
        for c, a, b in zip(firsts, cuts, cuts[1:], strict=False):
            used[(codes[c], year)] = dict(zip(row_keys[a:b], row_months[a:b], strict=True))
    return ActivityGrant(months, oere, used, rechecks, oere_g, groups, sums)


def _month_oere(
    sums: dict[str, list[int]], fin: set[tuple[str, Month]], months: list[Month]
) -> dict[tuple[str, Month], int]:
    """The øre of every financed (municipality, month) asked for, from the per-municipality
    sums (the `oere` of `ActivityGrant`, built when it is first read: the engine reads `sums`)."""
    zero = [0] * len(months)
    month_pos = {m: i for i, m in enumerate(months)}
    return {
        key: sums.get(key[0], zero)[i] for key in fin if (i := month_pos.get(key[1])) is not None
    }


def _exact_lines(
    rows: pl.DataFrame,
    params: ParameterSet,
    registry: Registry,
    months: Sequence[Month],
    fin: set[tuple[str, Month]],
    oere_g: np.ndarray[Any, np.dtype[np.int64]],
) -> int:
    """Add the exactly computed lines of `rows` (every month in force) to `oere_g`; count them."""
    ft = FactorTable(params, registry)
    lines = 0
    for r in rows.iter_rows(named=True):
        omfang = to_fraction(r["omfang_tekst"])
        for i, m in enumerate(months):
            if (r["kommunenummer"], m) not in fin:
                continue
            start = _day_number(first_day(m))
            end = start + days_in_month(m) - 1
            d = min(r["_til"], end) - max(r["_fra"], start) + 1
            if d <= 0:
                continue
            try:
                f = ft.factor(r["kommunenummer"], r["tjeneste"], r["prisgruppe"], m)
            except ParameterLookupError:
                continue  # no price in force: no line
            oere_g[r["gid"], i] += round_half_away(volume_exact(omfang, r["enhet"], d, m) * f)
            lines += 1
    return lines


def count_lines(vedtak: pl.DataFrame, params: ParameterSet, code: str, year: int) -> list[int]:
    """How many priced vedtak of a municipality are in force in each month of a year (traces)."""
    priced = set(params.children(PRICE_ROOT))
    rows = vedtak.filter((pl.col("kommunenummer") == code) & pl.col("tjeneste").is_in(priced))
    counts = []
    for mo in range(1, 13):
        start = dt.date(year, mo, 1)
        end = start.replace(day=days_in_month((year, mo)))
        counts.append(
            rows.filter(
                (pl.col("fra") <= end) & (pl.col("til").is_null() | (pl.col("til") >= start))
            ).height
        )
    return counts


@dataclass(frozen=True)
class Line:
    """One vedtak-month line, exactly, for traces."""

    vedtak_id: str
    line: int
    tjeneste: str
    prisgruppe: str
    omfang: Fraction
    enhet: str
    fra: dt.date
    til: dt.date | None
    days: int
    volume: Fraction
    price: Fraction
    k_aga: Fraction
    k_reise: Fraction
    exact_oere: Fraction
    oere: int


def lines_for_month(
    vedtak: pl.DataFrame,
    params: ParameterSet,
    registry: Registry,
    code: str,
    m: Month,
    log: UsageLog | None = None,
) -> list[Line]:
    """Every vedtak line of one municipality and month, computed exactly (for traces)."""
    start = first_day(m)
    end = start.replace(day=days_in_month(m))
    k = registry.get(code)
    rows = vedtak.filter(
        (pl.col("kommunenummer") == code)
        & (pl.col("fra") <= end)
        & (pl.col("til").is_null() | (pl.col("til") >= start))
    ).sort("vedtak_id")
    priced = set(params.children(PRICE_ROOT))
    out: list[Line] = []
    for r in rows.iter_rows(named=True):
        if r["tjeneste"] not in priced:
            continue
        days = (min(r["til"] or end, end) - max(r["fra"], start)).days + 1
        omfang = to_fraction(r["omfang_tekst"])
        vol = volume_exact(omfang, r["enhet"], days, m)
        price = unit_price(params, r["tjeneste"], r["prisgruppe"], m, log)
        ka = k_aga(params, k.aga_sone, m, log)
        kr = k_reise(params, k.reiseindeks, r["tjeneste"], m, log)
        exact = vol * price * 100 * ka * kr
        out.append(
            Line(
                r["vedtak_id"],
                r["line"],
                r["tjeneste"],
                r["prisgruppe"],
                omfang,
                r["enhet"],
                r["fra"],
                r["til"],
                days,
                vol,
                price,
                ka,
                kr,
                exact,
                round_half_away(exact),
            )
        )
    return out
