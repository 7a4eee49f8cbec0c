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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import polars as pl

from sio.data.registry import Registry
from sio.money import round_half_away, to_fraction
from sio.parameters import ParameterSet, UsageLog
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
    oere: dict[tuple[str, Month], int]
    used_groups: dict[tuple[str, int], set[tuple[str, str]]]
    exact_rechecks: int

    def get(self, code: str, m: Month) -> int:
        return self.oere.get((code, m), 0)


def _factor_frame(
    params: ParameterSet,
    registry: Registry,
    codes: Sequence[str],
    months: Sequence[Month],
    financed: set[tuple[str, Month]],
    groups: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per (kommunenummer, tjeneste, prisgruppe) — per `gid` of `groups` if given — with
    a float factor column per month
    (null where the municipality is not activity-financed or there is no price).

    The exact factors are small tables (prices per group and month, k_aga per zone and month,
    k_reise per travel index and month); they are combined for all municipalities at once.
    """
    n = len(months)
    price_rows: list[list[object]] = []
    price_cache: dict[tuple[int, int], float] = {}
    for s, g in priced_groups(params):
        row: list[object] = [s, g]
        param = params.get(f"{PRICE_ROOT}.{s}.{g}")
        price_cache.clear()
        for m in months:
            dv = param.at(first_day(m))
            if dv is None:
                row.append(None)
                continue
            pkey = (id(dv), m[0])  # the same dated value indexed to the same year
            if pkey not in price_cache:
                price_cache[pkey] = float(unit_price(params, s, g, m) * 100)
            row.append(price_cache[pkey])
        for m in months:
            row.append(params.flag(f"aktivitetstilskudd.hjemmebasert.{s}", first_day(m)))
        price_rows.append(row)
    price_schema: dict[str, pl.DataType] = {"tjeneste": pl.Utf8(), "prisgruppe": pl.Utf8()}
    price_schema.update({f"P{i}": pl.Float64() for i in range(n)})
    price_schema.update({f"H{i}": pl.Boolean() for i in range(n)})
    prices = pl.DataFrame(price_rows, schema=price_schema, orient="row")

    aga: dict[tuple[str, Month], float] = {}
    reise_cache: dict[tuple[Fraction, ...], list[float]] = {}
    tau = [params.number("aktivitetstilskudd.reise.faktor", first_day(m)) for m in months]
    code_rows: list[list[object]] = []
    for code in codes:
        k = registry.get(code)
        row = [code]
        for m in months:
            key = (k.aga_sone, m)
            if key not in aga:
                aga[key] = float(k_aga(params, k.aga_sone, m))
            row.append(aga[key] if (code, m) in financed else None)
        rkey = (k.reiseindeks, *tau)
        if rkey not in reise_cache:
            reise_cache[rkey] = [float(1 + t * k.reiseindeks) for t in tau]
        row.extend(reise_cache[rkey])
        code_rows.append(row)
    code_schema: dict[str, pl.DataType] = {"kommunenummer": pl.Utf8()}
    code_schema.update({f"A{i}": pl.Float64() for i in range(n)})
    code_schema.update({f"R{i}": pl.Float64() for i in range(n)})
    per_code = pl.DataFrame(code_rows, schema=code_schema, orient="row")
    if groups is not None:
        per_code = groups.join(per_code, on="kommunenummer", how="inner")
    negative = prices.select(pl.any_horizontal(pl.col(f"P{i}") < 0 for i in range(n)).any()).item()
    if negative or any(v < 0 for v in aga.values()):
        raise ValueError("a unit price or employer-tax factor is negative")
    combined = (
        per_code.join(prices, on=["tjeneste", "prisgruppe"], how="inner")
        if groups is not None
        else per_code.join(prices, how="cross")
    )
    return combined.select(
        *(["gid"] if groups is not None else []),
        "kommunenummer",
        "tjeneste",
        "prisgruppe",
        *[
            (
                pl.col(f"P{i}")
                * pl.col(f"A{i}")
                * pl.when(pl.col(f"H{i}")).then(pl.col(f"R{i}")).otherwise(pl.lit(1.0))
            ).alias(f"F{i}")
            for i in range(n)
        ],
    )


def compute_activity(
    vedtak: pl.DataFrame,
    params: ParameterSet,
    registry: Registry,
    months: Sequence[Month],
    financed: Iterable[tuple[str, Month]],
    groups: pl.DataFrame | None = None,
) -> ActivityGrant:
    """The activity grant per municipality and month for `months`, in øre.

    `groups` is the gid table of `with_derived` when the caller has it (the loaded data do).

    `financed` lists the (kommunenummer, month) pairs that are activity-financed; vedtak of other
    municipalities or months give nothing.
    """
    months = sorted(months)
    fin = set(financed)
    codes = sorted({c for c, m in fin if m in months})
    empty = ActivityGrant(months, {}, {}, 0)
    if not codes or not months:
        return empty
    starts = [_day_number(first_day(m)) for m in months]
    ends = [s + days_in_month(m) - 1 for s, m in zip(starts, months, strict=True)]
    if groups is None:
        vedtak, groups = with_derived(vedtak)
    factors = _factor_frame(params, registry, codes, months, fin, groups)
    keys = KEYS
    lo, hi = starts[0], ends[-1]
    base = (
        vedtak.lazy()
        .filter((pl.col("_fra") <= hi) & (pl.col("_til") >= lo))
        .join(factors.lazy(), on="gid", how="inner")
    )

    def month_exprs(i: int, m: Month) -> tuple[pl.Expr, pl.Expr]:
        d = (
            pl.col("_til").clip(upper_bound=ends[i])
            - pl.col("_fra").clip(lower_bound=starts[i])
            + 1
        ).clip(lower_bound=0)
        x = (
            pl.col("_q")
            * d.cast(pl.Float64)
            * pl.col(f"F{i}")
            * (1.0 + pl.col("_m") * (1.0 / days_in_month(m) - 1.0))
        )
        return d, x

    # Each line is rounded from its float64 value; per group we keep the line nearest to a
    # half-øre boundary, measured as |frac(x + 0.5) − 0.5|, and the largest line. Where the
    # first exceeds 0.5 − 1e-6, or a line exceeds 1e8 øre, the float rounding is not certain
    # and the group's lines are rechecked exactly (decision 0002).
    nm = len(months)
    ys = [month_exprs(i, m)[1].add(0.5).alias(f"y{i}") for i, m in enumerate(months)]
    aggs: list[pl.Expr] = []
    for i in range(nm):
        y = pl.col(f"y{i}")
        aggs.append(y.floor().sum().alias(f"r{i}"))
        aggs.append((y - y.floor() - 0.5).abs().max().alias(f"a{i}"))
        aggs.append(y.max().alias(f"m{i}"))
    per_group = (
        base.select("gid", *ys)
        .group_by("gid")
        .agg(aggs)
        .join(groups.lazy(), on="gid", how="left")
        .collect()
    )
    limit = 0.5 - _ABS_TOL
    per_code = per_group.group_by("kommunenummer").agg([pl.col(f"r{i}").sum() for i in range(nm)])
    oere: dict[tuple[str, Month], int] = {}
    for row in per_code.iter_rows(named=True):
        code = row["kommunenummer"]
        for i, m in enumerate(months):
            if (code, m) in fin:
                oere[(code, m)] = int(row[f"r{i}"] or 0)
    used: dict[tuple[str, int], set[tuple[str, str]]] = {}
    for year in sorted({m[0] for m in months}):
        idx = [i for i, m in enumerate(months) if m[0] == year]
        in_use = per_group.filter(pl.any_horizontal([pl.col(f"r{i}") > 0 for i in idx]))
        for code, svc, grp in in_use.select(keys).iter_rows():
            used.setdefault((code, year), set()).add((svc, grp))
    flagged = (
        per_group.filter(
            pl.any_horizontal(
                [(pl.col(f"a{i}") > limit) | (pl.col(f"m{i}") > _SAFE_MAX) for i in range(nm)]
            )
        )
        .get_column("gid")
        .to_list()
    )

    # exact recheck of the uncertain lines
    rechecks = 0
    if flagged:
        ft = FactorTable(params, registry)
        cols: list[pl.Expr] = []
        for i, m in enumerate(months):
            d, x = month_exprs(i, m)
            y = x + 0.5
            cols.append(d.alias(f"d{i}"))
            cols.append(y.floor().alias(f"r{i}"))
            uncertain = ((y - y.floor() - 0.5).abs() > limit) | (y > _SAFE_MAX)
            cols.append(uncertain.fill_null(False).alias(f"u{i}"))
        rows = (
            vedtak.lazy()
            .filter(pl.col("gid").is_in(flagged) & (pl.col("_fra") <= hi) & (pl.col("_til") >= lo))
            .join(factors.lazy().filter(pl.col("gid").is_in(flagged)), on="gid", how="inner")
            .select(*keys, "omfang_tekst", "enhet", *cols)
            .filter(pl.any_horizontal([pl.col(f"u{i}") for i in range(nm)]))
            .collect()
        )
        for row in rows.iter_rows(named=True):
            for i, m in enumerate(months):
                if not row[f"u{i}"] or (row["kommunenummer"], m) not in fin:
                    continue
                f = ft.factor(row["kommunenummer"], row["tjeneste"], row["prisgruppe"], m)
                exact = volume_exact(
                    to_fraction(row["omfang_tekst"]), row["enhet"], row[f"d{i}"], m
                )
                rechecks += 1
                delta = round_half_away(exact * f) - int(row[f"r{i}"])
                if delta:
                    oere[(row["kommunenummer"], m)] += delta

    return ActivityGrant(months, oere, used, rechecks)


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
