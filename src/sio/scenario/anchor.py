"""The anchor of a projection: what the engine and the rules say about the anchor year on the
data, turned into arrays the projection multiplies (decision 0015).

- The engine computes the anchor year (the baseline figures reported beside the projection).
- The activity kernel of `sio.rules.aktivitetstilskudd` prices every vedtak in force in the anchor
  year, line by line in øre, in every month, with each vedtak's municipality replaced by a *cell*:
  (municipality, service, price group, age group, need level). A cell's øre in a month is the
  anchor's decided volume of that cell at the anchor's prices; a projection year scales it by
  demography, service use and the ratio of the year's price factor (unit price × k_aga × k_reise,
  the rule's own functions) to the anchor's.
- The extraction of each municipality at the anchor (`UttrekkCalculator.uttrekk` where it has
  a base by the rules; otherwise its latest base-function expenditure indexed to the anchor year
  the same way: the "indexed budget"), the demographic index W of every projection year with the
  weights of that year, the supplement's rate and cap (`supplement_terms`), the lump-sum share,
  the phase-out shares, and the participation months of the world (`Participation`).

Two worlds are built from one anchor: the *scenario* (its overrides and participation changes)
and the *baseline* (the data's participation, the default parameters); the same draws run both.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from sio.data.model import InputData
from sio.data.registry import Registry
from sio.data.tables import AGE_GROUP_PARAM, AGE_GROUPS
from sio.engine import Engine, YearResult
from sio.i18n import _
from sio.parameters import ParameterLookupError, ParameterSet, UsageLog
from sio.rules.aktivitetstilskudd import (
    PRICE_ROOT,
    compute_activity,
    k_aga,
    k_reise,
    unit_price,
)
from sio.rules.inntektspaaslag import supplement_terms
from sio.rules.participation import Participation
from sio.rules.rundsumtilskudd import ANDEL
from sio.rules.utfasing import SHARE, exits, phase_outs
from sio.rules.uttrekk import DataGap, UttrekkCalculator, jan1
from sio.scenario.spec import NEED_KEYS

__all__ = [
    "AGE_KEYS",
    "Anchor",
    "ScenarioDataError",
    "World",
    "anchor_year_of",
    "build_anchor",
    "build_world",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
AGE_KEYS: tuple[str, ...] = (*AGE_GROUPS, "ukjent")


class ScenarioDataError(ValueError):
    """The data or the scenario cannot be projected; `problems` name file, key and rule."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Anchor:
    """The anchor year on the data, shared by both worlds."""

    year: int
    horizon: int
    units: list[str]  # municipality codes valid on 31 December of the anchor year
    names: list[list[str]]  # [unit][i]: name in year anchor + i
    codes: list[list[str]]  # [unit][i]: the code in year anchor + i (renumberings followed)
    groups: list[tuple[str, str]]  # (service, price group) of the cells
    needs: list[str]  # need levels present (subset of NEED_KEYS)
    volume: F64  # [need, unit, group, month, i]: anchor øre × demography × days
    anchor_oere: I64  # [unit, group, month]: the kernel's øre in the anchor year
    population: dict[tuple[str, int], dict[str, int]]  # (unit, year) → by age group
    baseline: YearResult  # the engine's anchor year
    registry: Registry
    data: InputData
    default_factor: F64  # [unit, group, month]: F(anchor) with the default parameters
    warnings: list[str] = field(default_factory=list)


@dataclass
class World:
    """One world's parameters and participation as arrays over units × years × months."""

    name: str
    kfac: F64  # [unit, group, month, i]: F(year) / F(anchor, default)
    price_from: I64  # [group, month, i]: index of the year the price's deflator chain starts
    deflator: F64  # [i]: the parameter's deflator of year anchor + i (0 at i = 0)
    extraction: F64  # [unit]: uttrekk / indexed budget at the anchor (kroner)
    demography: F64  # [unit, i]: Π W(t) / W(t − 1), weights of year t
    part: F64  # [unit, i, month]: 1 in participating months
    act: F64  # [unit, i, month]: 1 in activity-financed months
    sats: F64  # [i, month]
    tak: F64  # [i, month]
    lump_share: F64  # [unit, i]: Σ activity months × andel
    phase_share: F64  # [i, 3]: nedtrapping aar_1 … aar_3 of year anchor + i
    topp_data: F64  # [unit, i]: toppfinansiering in the data (NaN where absent)
    topp_anchor: F64  # [unit]: the anchor year's toppfinansiering (kroner per year)
    exits: list[tuple[int, int]]  # (unit, i of the exit year), exits in the anchor year or later
    early_phase: F64  # [unit, i]: phase-outs of exits before the anchor year (exact, by the rule)
    params: ParameterSet | None = None


def anchor_year_of(data: InputData) -> int:
    """The default anchor: the last year in which a municipality takes part in the data (the
    last population year if a participation is open-ended), at most the last population year."""
    last_pop = int(data.befolkning.get_column("aar").max() or 0)  # type: ignore[arg-type]
    d = data.deltakelse
    if d.height == 0 or d.get_column("til").null_count() > 0:
        return last_pop
    til = d.get_column("til").max()
    assert isinstance(til, dt.date)
    return min(til.year, last_pop)


def _days(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def _person_cells(data: InputData, year: int) -> pl.DataFrame | None:
    """person_id, _age, _need: the index of each person's age group (age reached in the anchor
    year, from `personer`) and need level (of the latest assessment up to the end of the anchor
    year, from `kartlegging`) where the data have them; None when they have neither table."""
    unknown_age, unknown_need = len(AGE_GROUPS), len(NEED_KEYS) - 1
    frames: list[pl.DataFrame] = []
    personer = getattr(data, "personer", None)
    if personer is not None and "foedselsaar" in personer.columns:
        age = pl.lit(year) - pl.col("foedselsaar")
        frames.append(
            personer.select(
                "person_id",
                pl.when(pl.col("foedselsaar").is_null())
                .then(unknown_age)
                .when(age <= 66)
                .then(0)
                .when(age <= 79)
                .then(1)
                .when(age <= 89)
                .then(2)
                .otherwise(3)
                .cast(pl.Int32)
                .alias("_age"),
            ).unique("person_id", keep="last")
        )
    kartlegging = getattr(data, "kartlegging", None)
    if kartlegging is not None and "behovsniva" in kartlegging.columns:
        index = {level: n for n, level in enumerate(NEED_KEYS)}
        frames.append(
            kartlegging.filter(pl.col("dato") <= dt.date(year, 12, 31))
            .sort("person_id", "dato")
            .group_by("person_id", maintain_order=True)
            .agg(pl.col("behovsniva").last())
            .select(
                "person_id",
                pl.col("behovsniva")
                .replace_strict(index, default=unknown_need, return_dtype=pl.Int32)
                .alias("_need"),
            )
        )
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        out = out.join(f, on="person_id", how="full", coalesce=True)
    for name, fill in (("_age", unknown_age), ("_need", unknown_need)):
        if name not in out.columns:
            out = out.with_columns(pl.lit(fill, pl.Int32).alias(name))
        out = out.with_columns(pl.col(name).fill_null(fill).cast(pl.Int32))
    return out


def _cells(
    data: InputData, params: ParameterSet, registry: Registry, units: list[str], year: int
) -> tuple[list[tuple[str, str]], dict[tuple[int, int, int, int], npt.NDArray[np.int64]]]:
    """The anchor year's øre per cell (unit, group, age, need) and month, from the activity
    kernel with each vedtak's municipality replaced by its cell."""
    priced = set(params.children(PRICE_ROOT))
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    v = data.vedtak.filter(
        (pl.col("fra") <= end)
        & (pl.col("til").is_null() | (pl.col("til") >= start))
        & pl.col("tjeneste").is_in(sorted(priced))
        & pl.col("kommunenummer").is_in(units)
    )
    person = _person_cells(data, year)
    unit_index = {u: i for i, u in enumerate(units)}
    unknown = (len(AGE_GROUPS), len(NEED_KEYS) - 1)
    if person is not None:
        v = v.join(person, on="person_id", how="left").with_columns(
            pl.col("_age").fill_null(unknown[0]), pl.col("_need").fill_null(unknown[1])
        )
    else:
        v = v.with_columns(
            pl.lit(unknown[0], pl.Int32).alias("_age"), pl.lit(unknown[1], pl.Int32).alias("_need")
        )
    keys = ["kommunenummer", "tjeneste", "prisgruppe", "_age", "_need"]
    cells = v.select(keys).unique().sort(keys).with_row_index("_cell")
    cells = cells.with_columns(
        pl.format("c{}", pl.col("_cell")).alias("_code"),
    )
    v = v.join(cells.select(*keys, "_code"), on=keys, how="left")
    kept = [c for c in v.columns if c not in ("gid", "_fra", "_til", "_q", "_m", "kommunenummer")]
    fake_vedtak = v.select(kept).rename({"_code": "kommunenummer"})
    kommuner = data.kommuner.select("kommunenummer", "aga_sone", "reiseindeks")
    fake_k = cells.join(kommuner, on="kommunenummer", how="left").select(
        pl.col("_code").alias("kommunenummer"),
        pl.col("kommunenummer").alias("navn"),
        pl.lit(dt.date(1900, 1, 1)).alias("gyldig_fra"),
        pl.lit(None, pl.Date).alias("gyldig_til"),
        "aga_sone",
        "reiseindeks",
        pl.lit(None, pl.Utf8).alias("etterfolger"),
    )
    fake_registry = Registry(fake_k)
    months = [(year, m) for m in range(1, 13)]
    codes = fake_k.get_column("kommunenummer").to_list()
    financed = {(c, m) for c in codes for m in months}
    grant = compute_activity(fake_vedtak, params, fake_registry, months, financed)
    group_list = sorted({(s, g) for s, g in cells.select("tjeneste", "prisgruppe").iter_rows()})
    group_index = {sg: i for i, sg in enumerate(group_list)}
    out: dict[tuple[int, int, int, int], npt.NDArray[np.int64]] = {}
    for code, k, s, g, a, n in cells.select(
        "_code", "kommunenummer", "tjeneste", "prisgruppe", "_age", "_need"
    ).iter_rows():
        row = np.array([grant.get(code, m) for m in months], np.int64)
        if row.any():
            out[(unit_index[k], group_index[(s, g)], int(a), int(n))] = row
    return group_list, out


def _ratio(x: Fraction) -> tuple[int, int]:
    """A Fraction as a cheap dictionary key."""
    return x.numerator, x.denominator


def _w(pop: dict[str, int], weights: list[int]) -> int:
    """W = Σ pop(group) × weight(group) (interfaces.md §2), over the weights' common
    denominator (which cancels in every ratio W(t) / W(t − 1) of one year's weights)."""
    return sum(pop[g] * w for g, w in zip(AGE_GROUPS, weights, strict=True))


def _weights(params: ParameterSet, year: int) -> list[int]:
    """The cost weights of 1 January of `year` as integers over their common denominator."""
    exact = [
        params.number(f"uttrekk.demografi.kostnadsvekt.{AGE_GROUP_PARAM[g]}", jan1(year))
        for g in AGE_GROUPS
    ]
    den = math.lcm(*(w.denominator for w in exact))
    return [int(w * den) for w in exact]


def _population(
    data: InputData,
    registry: Registry,
    units: list[str],
    codes: list[list[str]],
    year: int,
    horizon: int,
    projection: dict[tuple[str, int], dict[str, int]] | None,
    source: str,
    not_projected: list[str],
) -> dict[tuple[str, int], dict[str, int]]:
    """Population by age group of every unit in the anchor year and each projection year: the
    data's where they have it, else the projection's; without a projection the last known year
    holds (the population stays as it is)."""
    known: dict[tuple[str, int], dict[str, int]] = {}
    for k, y, g, n in data.befolkning.select(
        "kommunenummer", "aar", "aldersgruppe", "antall"
    ).iter_rows():
        known.setdefault((k, y), {})[g] = int(n)
    out: dict[tuple[str, int], dict[str, int]] = {}
    problems: list[str] = []
    projected = {k for k, _y in projection} if projection is not None else set()
    for u, unit in enumerate(units):
        last: dict[str, int] | None = None
        # a municipality the projection does not have at all keeps its last known population
        held = projection is None or not any(c in projected for c in codes[u])
        if held and projection is not None:
            not_projected.append(unit)
        for i in range(horizon + 1):
            y = year + i
            code = codes[u][i]
            pop = known.get((code, y))
            if pop is None or any(g not in pop for g in AGE_GROUPS):
                pop = projection.get((code, y)) if projection is not None else None
            if pop is None and held and last is not None and i > 0:
                pop = last
            if pop is None:
                problems.append(
                    source
                    + _("population by age group missing for {code} in {year}").format(
                        code=code, year=y
                    )
                )
                continue
            out[(unit, y)] = pop
            last = pop
    if problems:
        raise ScenarioDataError(problems[:20])
    return out


def build_anchor(
    data: InputData,
    params: ParameterSet,
    year: int,
    horizon: int,
    projection: dict[tuple[str, int], dict[str, int]] | None,
    projection_source: str,
) -> Anchor:
    """Compute the anchor year with the engine and the kernel, and the shared arrays."""
    registry = Registry(data.kommuner)
    last_day = dt.date(year, 12, 31)
    # the municipalities of the anchor year that the data give a population (the projection
    # needs one; one without it takes part in nothing that can be projected)
    groups_of: dict[str, set[str]] = {}
    for k, g in (
        data.befolkning.filter(pl.col("aar") == year)
        .select("kommunenummer", "aldersgruppe")
        .iter_rows()
    ):
        groups_of.setdefault(k, set()).add(g)
    valid = [c for c in registry.codes() if registry.get(c).valid_on(last_day)]
    units = [c for c in valid if groups_of.get(c, set()) >= set(AGE_GROUPS)]
    left_out = [c for c in valid if c not in units]
    codes = [
        [registry.code_on(u, jan1(year + i)) if i else u for i in range(horizon + 1)] for u in units
    ]
    for i in range(horizon + 1):
        seen: dict[str, str] = {}
        for unit_code, row in zip(units, codes, strict=True):
            if row[i] in seen:
                raise ScenarioDataError(
                    [
                        "kommuner: "
                        + _(
                            "{a} and {b} merge into {code} in {year}: a merger after the "
                            "anchor year cannot be projected"
                        ).format(a=seen[row[i]], b=unit_code, code=row[i], year=year + i)
                    ]
                )
            seen[row[i]] = unit_code
    names = [[registry.get(c).navn for c in row] for row in codes]
    baseline = Engine(data, params).compute_year(year)
    not_projected: list[str] = []
    population = _population(
        data, registry, units, codes, year, horizon, projection, projection_source, not_projected
    )
    groups, cells = _cells(data, params, registry, units, year)
    needs_present = sorted({n for (_u, _g, _a, n) in cells})
    needs = [NEED_KEYS[n] for n in needs_present] or [NEED_KEYS[-1]]
    need_pos = {n: j for j, n in enumerate(needs_present)}
    nu, ng, ny = len(units), len(groups), horizon + 1
    anchor_oere = np.zeros((nu, ng, 12), np.int64)
    # demography per unit, age and year: pop(a, t) / pop(a, anchor); unknown age: W_t ratio
    weights = {year + i: _weights(params, year + i) for i in range(ny)}
    demo = np.ones((nu, len(AGE_KEYS), ny))
    for u, unit in enumerate(units):
        base = population[(unit, year)]
        for i in range(1, ny):
            now = population[(unit, year + i)]
            w = weights[year + i]
            w_base = _w(base, w)
            demo[u, -1, i] = _w(now, w) / w_base if w_base else 1.0
            for a_i, age in enumerate(AGE_GROUPS):
                demo[u, a_i, i] = now[age] / base[age] if base[age] else demo[u, -1, i]
    days = np.array(
        [[_days(year + i, m) / _days(year, m) for i in range(ny)] for m in range(1, 13)]
    )  # [month, i]
    volume = np.zeros((max(len(needs_present), 1), nu, ng, 12, ny))
    for (cu, cg, ca, cn), oere_row in cells.items():
        anchor_oere[cu, cg] += oere_row
        volume[need_pos[cn], cu, cg] += (
            oere_row[:, None].astype(np.float64) * demo[cu, ca][None, :] * days
        )
    # F at the anchor with the default parameters: the rule's price, k_aga and k_reise, each
    # looked up once per distinct argument
    default_factor = np.ones((nu, ng, 12))
    price_memo: dict[tuple[int, int], float] = {}
    aga_memo: dict[tuple[str, int], float] = {}
    reise_memo: dict[tuple[tuple[int, int], str, int], float] = {}
    for u, unit in enumerate(units):
        k = registry.get(unit)
        index = _ratio(k.reiseindeks)
        for g, sg in enumerate(groups):
            if not anchor_oere[u, g].any():
                continue
            for m in range(1, 13):
                if (g, m) not in price_memo:
                    try:
                        price_memo[(g, m)] = float(
                            unit_price(params, sg[0], sg[1], (year, m)) * 100
                        )
                    except ParameterLookupError:
                        price_memo[(g, m)] = 0.0
                if (k.aga_sone, m) not in aga_memo:
                    aga_memo[(k.aga_sone, m)] = float(k_aga(params, k.aga_sone, (year, m)))
                rkey = (index, sg[0], m)
                if rkey not in reise_memo:
                    reise_memo[rkey] = float(k_reise(params, k.reiseindeks, sg[0], (year, m)))
                # the same float product as a world's factor (`build_world`): their ratio is
                # exactly 1 at the anchor with the default parameters
                default_factor[u, g, m - 1] = (
                    price_memo[(g, m)] * aga_memo[(k.aga_sone, m)] * reise_memo[rkey]
                )
    warnings: list[str] = []
    if not_projected:
        warnings.append(
            _(
                "{codes}: not in the population projection: the last known population is kept"
            ).format(codes=", ".join(not_projected))
        )
    if left_out:
        warnings.append(
            _(
                "{codes}: no population by age group in the anchor year {year}: left out of "
                "the projection"
            ).format(codes=", ".join(left_out), year=year)
        )
    return Anchor(
        year,
        horizon,
        units,
        names,
        codes,
        groups,
        needs,
        volume,
        anchor_oere,
        population,
        baseline,
        registry,
        data,
        default_factor,
        warnings,
    )


def _extraction(
    anchor: Anchor, params: ParameterSet, participation: Participation
) -> tuple[F64, F64]:
    """uttrekk (or the indexed budget) of every unit at the anchor, and the demographic index
    Π W_t(t) / W_t(t − 1) of every projection year, with the world's parameters."""
    data, registry, year = anchor.data, anchor.registry, anchor.year
    calc = UttrekkCalculator(params, registry, participation, data.utgifter, data.befolkning)
    base_calc = UttrekkCalculator(
        params, registry, Participation(data.deltakelse), data.utgifter, data.befolkning
    )
    years_with_spending: dict[str, list[int]] = {}
    for k, y in data.utgifter.select("kommunenummer", "aar").unique().iter_rows():
        years_with_spending.setdefault(k, []).append(int(y))
    extraction = np.zeros(len(anchor.units))
    problems: list[str] = []
    for u, unit in enumerate(anchor.units):
        value: Fraction | None = None
        for c in (calc, base_calc):
            try:
                value = c.uttrekk(unit, year).value
                break
            except DataGap:
                continue
        if value is None:
            earlier = [y for y in years_with_spending.get(unit, []) if y <= year]
            if not earlier:
                problems.append(
                    "utgifter: "
                    + _(
                        "no expenditure for {code} in or before {year}: its extraction "
                        "cannot be projected"
                    ).format(code=unit, year=year)
                )
                continue
            last = max(earlier)
            try:
                value = calc.grunnlag(unit, last).value
                for t in range(last + 1, year + 1):  # indexed like uttrekk (interfaces.md §2)
                    defl = params.number("uttrekk.deflator", jan1(t))
                    log = UsageLog()
                    value = (
                        value * (1 + defl) * calc.w(unit, t, t, log) / calc.w(unit, t - 1, t, log)
                    )
            except DataGap as exc:
                problems.append(str(exc))
                continue
        extraction[u] = float(value)
    if problems:
        raise ScenarioDataError(problems[:20])
    ny = anchor.horizon + 1
    demography = np.ones((len(anchor.units), ny))
    weights = {i: _weights(params, year + i) for i in range(1, ny)}
    for u, unit in enumerate(anchor.units):
        chain = Fraction(1)
        for i in range(1, ny):
            w = weights[i]
            before = _w(anchor.population[(unit, year + i - 1)], w)
            now = _w(anchor.population[(unit, year + i)], w)
            chain = chain * Fraction(now, before) if before else chain
            demography[u, i] = float(chain)
    return extraction, demography


def build_world(name: str, anchor: Anchor, params: ParameterSet, deltakelse: pl.DataFrame) -> World:
    """One world's arrays: price factors, extraction, participation, supplement terms."""
    year, ny = anchor.year, anchor.horizon + 1
    registry = anchor.registry
    nu, ng = len(anchor.units), len(anchor.groups)
    participation = Participation(deltakelse)
    problems: list[str] = []
    # prices per group, month and year, and the year their deflator chain starts
    price = np.zeros((ng, 12, ny))
    price_from = np.zeros((ng, 12, ny), np.int64)
    used: npt.NDArray[np.bool_] = np.asarray(anchor.anchor_oere.any(axis=2))  # [unit, group]
    prices: dict[tuple[int, int], float] = {}
    for g, (s, grp) in enumerate(anchor.groups):
        if not used[:, g].any():
            continue
        for i in range(ny):
            for m in range(1, 13):
                try:
                    dv = params.at(f"{PRICE_ROOT}.{s}.{grp}", dt.date(year + i, m, 1))
                    pkey = (id(dv), year + i)  # the same dated value indexed to the same year
                    if pkey not in prices:
                        prices[pkey] = float(unit_price(params, s, grp, (year + i, m)) * 100)
                    price[g, m - 1, i] = prices[pkey]
                except ParameterLookupError:
                    problems.append(
                        "parametere: "
                        + _("no unit price for {service} {group} in {month}").format(
                            service=s, group=grp, month=f"{year + i}-{m:02d}"
                        )
                    )
                    continue
                price_from[g, m - 1, i] = min(max(dv.start.year - year, 0), i)
    if problems:
        raise ScenarioDataError(sorted(set(problems))[:20])
    # k_aga per zone and k_reise per travel index, service, year and month (the rules' own
    # functions, looked up once per distinct value), then one product per cell
    zones = sorted({registry.get(c).aga_sone for row in anchor.codes for c in row})
    travel = sorted({registry.get(c).reiseindeks for row in anchor.codes for c in row})
    zone_no = {z: n for n, z in enumerate(zones)}
    travel_no = {(t.numerator, t.denominator): n for n, t in enumerate(travel)}
    services = sorted({s for s, _grp in anchor.groups})
    group_service = np.array([services.index(s) for s, _grp in anchor.groups], np.int64)
    aga_of = np.zeros((len(zones), 12, ny))
    reise_by_service = np.zeros((len(travel), len(services), 12, ny))

    def in_force(path: str, on: dt.date) -> int:
        """Which dated value of `path` holds on `on` (an identity: equal ones give equal
        factors, so the rule is asked once per distinct set of values)."""
        return id(params.get(path).at(on)) if params.has(path) else 0

    aga_memo: dict[tuple[object, ...], float] = {}
    reise_memo: dict[tuple[object, ...], npt.NDArray[np.float64]] = {}
    aga_paths = ["aktivitetstilskudd.aga.referansesats", "aktivitetstilskudd.aga.lonnsandel"]
    for i in range(ny):
        for m in range(1, 13):
            on = dt.date(year + i, m, 1)
            shared = tuple(in_force(p, on) for p in aga_paths)
            for z, zone in enumerate(zones):
                key: tuple[object, ...] = (
                    zone,
                    in_force(f"aktivitetstilskudd.aga.sats.sone_{zone}", on),
                    *shared,
                )
                if key not in aga_memo:
                    aga_memo[key] = float(k_aga(params, zone, (year + i, m)))
                aga_of[z, m - 1, i] = aga_memo[key]
            tau = in_force("aktivitetstilskudd.reise.faktor", on)
            for sn, s in enumerate(services):
                home = in_force(f"aktivitetstilskudd.hjemmebasert.{s}", on)
                rkey = (s, home, tau)
                if rkey not in reise_memo:
                    reise_memo[rkey] = np.array(
                        [float(k_reise(params, index, s, (year + i, m))) for index in travel]
                    )
                reise_by_service[:, sn, m - 1, i] = reise_memo[rkey]
    reise_of = reise_by_service[:, group_service]  # [travel index, group, month, i]
    zone_at = np.array(
        [[zone_no[registry.get(c).aga_sone] for c in row] for row in anchor.codes], np.int64
    )  # [unit, i]
    travel_at = np.array(
        [[travel_no[_ratio(registry.get(c).reiseindeks)] for c in row] for row in anchor.codes],
        np.int64,
    )
    steps = np.arange(ny)
    aga = aga_of[zone_at[:, None, :], np.arange(12)[None, :, None], steps[None, None, :]]
    reise = reise_of[
        travel_at[:, None, None, :],
        np.arange(ng)[None, :, None, None],
        np.arange(12)[None, None, :, None],
        steps[None, None, None, :],
    ]  # [unit, group, month, i]
    denominator = anchor.default_factor[:, :, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        kfac = np.where(denominator > 0, price[None] * aga[:, None] * reise / denominator, 0.0)
    # at the anchor, with the default parameters, the ratio is exactly 1
    deflator = np.zeros(ny)
    for i in range(1, ny):
        deflator[i] = float(params.number("uttrekk.deflator", jan1(year + i)))
    extraction, demography = _extraction(anchor, params, participation)
    part = np.zeros((nu, ny, 12))
    act = np.zeros((nu, ny, 12))
    for u in range(nu):
        for i in range(ny):
            for mo, st in participation.months_in_year(anchor.codes[u][i], year + i).items():
                part[u, i, mo - 1] = 1.0
                act[u, i, mo - 1] = 1.0 if st.activity else 0.0
    sats = np.zeros((ny, 12))
    tak = np.zeros((ny, 12))
    andel = np.zeros((ny, 12))
    phase = np.zeros((ny, 3))
    for i in range(ny):
        terms = supplement_terms(params, year + i)
        for m in range(12):
            sv, tv = terms.sats[m].value, terms.tak[m].value
            assert isinstance(sv, Fraction) and isinstance(tv, Fraction)
            sats[i, m], tak[i, m] = float(sv), float(tv)
            av = params.at(ANDEL, dt.date(year + i, m + 1, 1)).value
            assert isinstance(av, Fraction)
            andel[i, m] = float(av)
        for j in range(3):
            phase[i, j] = float(params.number(f"{SHARE}_{j + 1}", jan1(year + i)))
    lump_share = np.zeros((nu, ny))
    for m in range(12):  # a fixed order: the same sum in every run
        lump_share += act[:, :, m] * andel[None, :, m]
    topp: dict[tuple[str, int], int] = {}
    for k, y, b in anchor.data.toppfinansiering.select(
        "kommunenummer", "aar", "beloep"
    ).iter_rows():
        topp[(k, int(y))] = topp.get((k, int(y)), 0) + int(b)
    topp_data = np.full((nu, ny), np.nan)
    topp_anchor = np.zeros(nu)
    for u, unit in enumerate(anchor.units):
        topp_anchor[u] = topp.get((unit, year), 0)
        for i in range(ny):
            got = topp.get((anchor.codes[u][i], year + i))
            if got is not None:
                topp_data[u, i] = got
    early = _early_phase_outs(anchor, params, deltakelse)
    exit_list: list[tuple[int, int]] = []
    by_code = {c: u for u, row in enumerate(anchor.codes) for c in row}
    for code in participation.codes():
        if code not in registry:
            continue
        for ey, _em in exits(registry, participation, code):
            found = by_code.get(registry.code_on(code, dt.date(ey, 12, 31)), by_code.get(code))
            if found is None:
                continue
            u = found
            if year <= ey <= year + anchor.horizon:
                exit_list.append((u, ey - year))
    return World(
        name,
        kfac,
        price_from,
        deflator,
        extraction,
        demography,
        part,
        act,
        sats,
        tak,
        lump_share,
        phase,
        topp_data,
        topp_anchor,
        sorted(set(exit_list)),
        early,
        params,
    )


def _early_phase_outs(anchor: Anchor, params: ParameterSet, deltakelse: pl.DataFrame) -> F64:
    """The phase-outs in the anchor year and after of exits before the anchor year, by the rule
    (`sio.rules.utfasing.phase_outs`) on the participation as it was before the anchor year (a
    spell running into it is left open, so that only the earlier exits are exits). Whether one
    ends because the municipality takes part again from the anchor year on is the projection's
    check (`sio.scenario.project`)."""
    year = anchor.year
    before = deltakelse.filter(pl.col("fra") < dt.date(year, 1, 1)).with_columns(
        pl.when(pl.col("til").is_not_null() & (pl.col("til") >= dt.date(year, 1, 1)))
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.col("til"))
        .alias("til")
    )
    out = np.zeros((len(anchor.units), anchor.horizon + 1))
    if before.height == 0:
        return out
    data = anchor.data
    part = Participation(before)
    calc = UttrekkCalculator(params, anchor.registry, part, data.utgifter, data.befolkning)
    terms: dict[int, Any] = {}

    def terms_of(y: int) -> Any:
        if y not in terms:
            terms[y] = supplement_terms(params, y)
        return terms[y]

    by_code = {c: u for u, row in enumerate(anchor.codes) for c in row}
    for i in range(min(3, anchor.horizon + 1)):
        for p in phase_outs(params, anchor.registry, part, calc, terms_of, year + i).paid:
            u = by_code.get(p.kommunenummer)
            if u is not None:
                out[u, i] += float(p.amount)
    return out


def scenario_participation(anchor: Anchor, changes: list[Any], source: str) -> pl.DataFrame:
    """The data's participation with the scenario's changes: each change replaces the named
    municipalities' participation from its `fra` on (ending at `til` if given; `ingen` ends it)."""
    frame = anchor.data.deltakelse.select(
        "kommunenummer", "modell", "fra", "til", "aktivitet_fra", "covid_saerordning"
    )
    registry = anchor.registry
    problems: list[str] = []
    for n, change in enumerate(changes):
        if change.kommuner == "alle":
            codes = sorted(
                {
                    registry.code_on(row[0], change.fra)
                    for row in anchor.codes
                    if registry.get(registry.code_on(row[0], change.fra)).valid_on(change.fra)
                }
            )
        else:
            codes = []
            for c in change.kommuner:
                if c not in registry or not registry.get(c).valid_on(change.fra):
                    problems.append(
                        f"{source}: deltakelse[{n}].kommuner: "
                        + _("{code} is not a municipality valid on {date}").format(
                            code=c, date=change.fra.isoformat()
                        )
                    )
                elif not any(c in row for row in anchor.codes):
                    problems.append(
                        f"{source}: deltakelse[{n}].kommuner: "
                        + _(
                            "{code} has no population by age group in the anchor year {year}: "
                            "it cannot be projected"
                        ).format(code=c, year=anchor.year)
                    )
                else:
                    codes.append(c)
        cut = change.fra - dt.timedelta(days=1)
        frame = frame.filter(~(pl.col("kommunenummer").is_in(codes) & (pl.col("fra") > cut)))
        frame = frame.with_columns(
            pl.when(
                pl.col("kommunenummer").is_in(codes)
                & (pl.col("til").is_null() | (pl.col("til") > cut))
            )
            .then(pl.lit(cut))
            .otherwise(pl.col("til"))
            .alias("til")
        )
        if change.modell != "ingen":
            rows = pl.DataFrame(
                {
                    "kommunenummer": codes,
                    "modell": [change.modell] * len(codes),
                    "fra": [change.fra] * len(codes),
                    "til": [change.til] * len(codes),
                    "aktivitet_fra": [change.aktivitet_fra or change.fra] * len(codes),
                    "covid_saerordning": [True] * len(codes),
                },
                schema=frame.schema,
            )
            frame = pl.concat([frame, rows])
    if problems:
        raise ScenarioDataError(problems)
    return frame.sort("kommunenummer", "fra")
