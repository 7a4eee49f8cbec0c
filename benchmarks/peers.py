"""Four independent implementations of the activity grant, to time the engine against.

All compute, per municipality and year, the sum over every vedtak-month line of

    line = volume × unit price × k_aga × k_reise, rounded half away from zero to whole øre,

in float64 (interfaces.md §2 "Activity grant"), and give øre per municipality:

- `DuckDBPeer`: one hand-written SQL query over the vedtak table, fed a small factor table
  F(k, service, group) = unit price × 100 × k_aga × k_reise computed exactly in Python from the
  parameters (one factor per year when every factor is constant through the year — checked —
  else one per month).
- `PolarsPeer`: the same lines as one lazy Polars query: the vedtak joined to the same factor
  table, the twelve months as twelve column expressions (days in force, volume, rounded line)
  summed across per vedtak, then per municipality.
- `PandasPeer`: the same in pandas: the vedtak (a pandas DataFrame made once) merged with the
  factor table, the twelve months computed on the NumPy arrays of the merged frame, a `groupby`
  per municipality.
- `OpenFiscaPeer`: an OpenFisca-core model (entities `linje` = one vedtak, `kommune` = its
  municipality) with float64 variables per month, given the project's parameter set (with any
  overrides) as an OpenFisca parameter tree; it sums twelve monthly grants per municipality.

None implements the Covid replacement (the synthetic national data never trigger it: its
reference window lies before participation) nor the exact recheck of near-ties that the engine
does, so a float peer may differ from the engine by an øre where a line is an exact tie.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from sio.data.model import InputData
from sio.data.registry import Registry
from sio.parameters import ParameterSet
from sio.rules.aktivitetstilskudd import k_aga, k_reise, priced_groups, unit_price
from sio.rules.participation import Month, Participation, first_day

_EPOCH = dt.date(1970, 1, 1)
_OPEN_DAY = 2_000_000_000


def year_months(year: int) -> list[Month]:
    return [(year, m) for m in range(1, 13)]


def financed_months(data: InputData, year: int) -> dict[str, set[int]]:
    """Activity-financed months (1..12) of `year` per municipality (interfaces.md §2)."""
    part = Participation(data.deltakelse)
    out: dict[str, set[int]] = {}
    for code in part.codes():
        months = set(part.activity_months(code, year))
        if months:
            out[code] = months
    return out


# -- factor tables (exact, from the project's parameters) ----------------------------------------


@dataclass
class FactorTable:
    """F(k, s, g[, month]) in øre per unit, as float64 of the exact value."""

    frame: pl.DataFrame  # kommunenummer, tjeneste, prisgruppe, [maaned,] faktor
    per_year: bool  # one factor for the whole year (every month equal and financed)


def factor_table(data: InputData, params: ParameterSet, year: int) -> FactorTable:
    """The exact factor of every (municipality, service, price group) and month, as float64.

    Collapsed to one factor per year when every component (unit price, k_aga per zone, the
    home-based flags and τ) is the same in all twelve months and every participant is
    activity-financed all year — checked here, true for the default parameters and the
    synthetic data; otherwise one factor per month.
    """
    months = year_months(year)
    registry = Registry(data.kommuner)
    financed = financed_months(data, year)
    groups = priced_groups(params)
    price: dict[tuple[str, str], list[Fraction | None]] = {}
    for s, g in groups:
        row: list[Fraction | None] = []
        for m in months:
            try:
                row.append(unit_price(params, s, g, m) * 100)
            except LookupError:
                row.append(None)
        price[(s, g)] = row
    zones = sorted({registry.get(c).aga_sone for c in financed})
    aga = {z: [k_aga(params, z, m) for m in months] for z in zones}
    home = {
        s: [params.flag(f"aktivitetstilskudd.hjemmebasert.{s}", first_day(m)) for m in months]
        for s, _ in groups
    }
    tau = [params.number("aktivitetstilskudd.reise.faktor", first_day(m)) for m in months]
    per_year = (
        all(len(set(r)) == 1 and r[0] is not None for r in price.values())
        and all(len(set(r)) == 1 for r in aga.values())
        and all(len(set(r)) == 1 for r in home.values())
        and len(set(tau)) == 1
        and all(len(fin) == 12 for fin in financed.values())
    )
    month_ids = [0] if per_year else list(range(12))
    cache: dict[tuple[str, Fraction, str, str, int], float] = {}
    reise: dict[tuple[Fraction, str, int], Fraction] = {}
    rows: list[tuple[str, str, str, int, float]] = []
    for code, fin in sorted(financed.items()):
        k = registry.get(code)
        for s, g in groups:
            for i in month_ids:
                p = price[(s, g)][i]
                if p is None or (not per_year and months[i][1] not in fin):
                    continue
                key = (k.aga_sone, k.reiseindeks, s, g, i)
                f = cache.get(key)
                if f is None:
                    rk = (k.reiseindeks, s, i)
                    if rk not in reise:
                        reise[rk] = k_reise(params, k.reiseindeks, s, months[i])
                    f = float(p * aga[k.aga_sone][i] * reise[rk])
                    cache[key] = f
                rows.append((code, s, g, i + 1, f))
    frame = pl.DataFrame(
        rows,
        schema={
            "kommunenummer": pl.Utf8,
            "tjeneste": pl.Utf8,
            "prisgruppe": pl.Utf8,
            "maaned": pl.Int32,
            "faktor": pl.Float64,
        },
        orient="row",
    )
    return FactorTable(frame.drop("maaned") if per_year else frame, per_year)


def month_frame(year: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "maaned": list(range(1, 13)),
            "m_start": [dt.date(year, m, 1) for m in range(1, 13)],
            "m_end": [dt.date(year, m, calendar.monthrange(year, m)[1]) for m in range(1, 13)],
            "dim": [float(calendar.monthrange(year, m)[1]) for m in range(1, 13)],
        },
        schema_overrides={"maaned": pl.Int32},
    )


# -- DuckDB ------------------------------------------------------------------------------------

_SQL = """
WITH priced AS (
    SELECT v.kommunenummer, v.omfang, v.enhet, v.fra,
           COALESCE(v.til, DATE '9999-12-31') AS til, f.faktor {month_col}
    FROM vedtak v
    JOIN faktor f
      ON f.kommunenummer = v.kommunenummer
     AND f.tjeneste = v.tjeneste
     AND f.prisgruppe = v.prisgruppe
    WHERE v.fra <= DATE '{year}-12-31' AND (v.til IS NULL OR v.til >= DATE '{year}-01-01')
),
lines AS (
    SELECT p.kommunenummer,
           p.omfang
             * CAST(LEAST(p.til, m.m_end) - GREATEST(p.fra, m.m_start) + 1 AS DOUBLE)
             * p.faktor
             / CASE p.enhet WHEN 'timer_per_uke' THEN 7.0 WHEN 'doegn' THEN 1.0 ELSE m.dim END
             AS x
    FROM priced p
    JOIN maaned m ON p.fra <= m.m_end AND p.til >= m.m_start {month_join}
)
SELECT kommunenummer,
       SUM(CAST(SIGN(x) * FLOOR(ABS(x) + 0.5) AS BIGINT)) AS oere,
       COUNT(*) AS linjer
FROM lines
GROUP BY kommunenummer
ORDER BY kommunenummer
"""


class DuckDBPeer:
    """The activity grant as one DuckDB SQL query (vedtak held in a DuckDB table)."""

    def __init__(self, data: InputData, params: ParameterSet, year: int) -> None:
        self.data, self.params, self.year = data, params, year
        self.con = duckdb.connect()
        vedtak = data.vedtak.select(
            "kommunenummer", "tjeneste", "prisgruppe", "omfang", "enhet", "fra", "til"
        ).to_arrow()
        self.con.register("vedtak_arrow", vedtak)
        self.con.execute("CREATE TABLE vedtak AS SELECT * FROM vedtak_arrow")
        self.con.unregister("vedtak_arrow")
        months = month_frame(year).to_arrow()
        self.con.register("maaned_arrow", months)
        self.con.execute("CREATE TABLE maaned AS SELECT * FROM maaned_arrow")
        self.con.unregister("maaned_arrow")
        self.per_year: bool | None = None
        self.timings: dict[str, float] = {}

    def run(self) -> dict[str, int]:
        """Factor table (Python, exact) + the query; øre per municipality.

        Sets `timings` (seconds): `factors` (exact table in Python, loaded into DuckDB), `query`.
        """
        t0 = time.perf_counter()
        table = factor_table(self.data, self.params, self.year)
        self.per_year = table.per_year
        self.con.execute("DROP TABLE IF EXISTS faktor")
        self.con.register("faktor_arrow", table.frame.to_arrow())
        self.con.execute("CREATE TABLE faktor AS SELECT * FROM faktor_arrow")
        self.con.unregister("faktor_arrow")
        sql = _SQL.format(
            year=self.year,
            month_col="" if table.per_year else ", f.maaned",
            month_join="" if table.per_year else "AND p.maaned = m.maaned",
        )
        t1 = time.perf_counter()
        rows = self.con.execute(sql).fetchall()
        self.timings = {"factors": t1 - t0, "query": time.perf_counter() - t1}
        return {str(k): int(o) for k, o, _ in rows}

    def close(self) -> None:
        self.con.close()


# -- Polars --------------------------------------------------------------------------------------

_KEYS = ["kommunenummer", "tjeneste", "prisgruppe"]


def _plain_vedtak(data: InputData) -> pl.DataFrame:
    """The vedtak columns the peers read, in plain types (whatever the loader keeps beside)."""
    return data.vedtak.select(
        pl.col("kommunenummer", "tjeneste", "prisgruppe", "enhet").cast(pl.Utf8),
        pl.col("omfang").cast(pl.Float64),
        pl.col("fra", "til").cast(pl.Date),
    )


def _month_bounds(year: int) -> list[tuple[int, int, float]]:
    """(first day, last day, days in the month) per month of `year`; days since 1970-01-01."""
    out = []
    for m in range(1, 13):
        dim = calendar.monthrange(year, m)[1]
        start = _day_number(dt.date(year, m, 1))
        out.append((start, start + dim - 1, float(dim)))
    return out


class PolarsPeer:
    """The activity grant as one lazy Polars query (vedtak held in a Polars DataFrame)."""

    def __init__(self, data: InputData, params: ParameterSet, year: int) -> None:
        self.data, self.params, self.year = data, params, year
        self.vedtak = _plain_vedtak(data)
        self.per_year: bool | None = None
        self.timings: dict[str, float] = {}

    def run(self) -> dict[str, int]:
        """Factor table (Python, exact) + the query; øre per municipality.

        Sets `timings` (seconds): `factors` (the exact table), `query`.
        """
        t0 = time.perf_counter()
        table = factor_table(self.data, self.params, self.year)
        self.per_year = table.per_year
        faktor = table.frame
        if table.per_year:
            month_factor = [pl.col("faktor")] * 12
        else:  # one column per month; a month the municipality is not financed is null → 0
            faktor = faktor.pivot(
                "maaned", index=_KEYS, values="faktor", aggregate_function=None
            ).rename(lambda c: c if c in _KEYS else f"f{c}")
            for m in range(1, 13):
                if f"f{m}" not in faktor.columns:
                    faktor = faktor.with_columns(pl.lit(None, pl.Float64).alias(f"f{m}"))
            month_factor = [pl.col(f"f{m}") for m in range(1, 13)]
        t1 = time.perf_counter()
        y0, y1 = dt.date(self.year, 1, 1), dt.date(self.year, 12, 31)
        fra = pl.col("fra").cast(pl.Int32)
        til = pl.col("til").cast(pl.Int32).fill_null(_OPEN_DAY)
        enhet = pl.col("enhet")
        lines = []
        for (start, end, dim), f in zip(_month_bounds(self.year), month_factor, strict=True):
            days = (pl.min_horizontal(til, end) - pl.max_horizontal(fra, start) + 1).clip(0)
            divisor = (
                pl.when(enhet == "timer_per_uke")
                .then(7.0)
                .when(enhet == "doegn")
                .then(1.0)
                .otherwise(dim)
            )
            x = pl.col("omfang") * days.cast(pl.Float64) * f / divisor
            lines.append((x.sign() * (x.abs() + 0.5).floor()).cast(pl.Int64).fill_null(0))
        out = (
            self.vedtak.lazy()
            .filter((pl.col("fra") <= y1) & (pl.col("til").is_null() | (pl.col("til") >= y0)))
            .join(faktor.lazy(), on=_KEYS, how="inner")
            .select("kommunenummer", pl.sum_horizontal(lines).alias("oere"))
            .group_by("kommunenummer")
            .agg(pl.col("oere").sum())
            .collect()
        )
        self.timings = {"factors": t1 - t0, "query": time.perf_counter() - t1}
        return dict(zip(out.get_column("kommunenummer"), out.get_column("oere"), strict=True))


# -- pandas --------------------------------------------------------------------------------------


class PandasPeer:
    """The activity grant in pandas (vedtak held in a pandas DataFrame, made once)."""

    def __init__(self, data: InputData, params: ParameterSet, year: int) -> None:
        self.data, self.params, self.year = data, params, year
        self.vedtak = _plain_vedtak(data).to_pandas()
        self.per_year: bool | None = None
        self.timings: dict[str, float] = {}

    def run(self) -> dict[str, int]:
        """Factor table (Python, exact) + the pandas computation; øre per municipality.

        Sets `timings` (seconds): `factors` (the exact table, as a pandas frame), `query`.
        """
        t0 = time.perf_counter()
        table = factor_table(self.data, self.params, self.year)
        self.per_year = table.per_year
        faktor = table.frame.to_pandas()
        if table.per_year:
            factor_cols = ["faktor"] * 12
        else:
            faktor = faktor.pivot(index=_KEYS, columns="maaned", values="faktor")
            faktor = faktor.reindex(columns=range(1, 13)).add_prefix("f").reset_index()
            factor_cols = [f"f{m}" for m in range(1, 13)]
        t1 = time.perf_counter()
        v = self.vedtak
        y0, y1 = pd.Timestamp(self.year, 1, 1), pd.Timestamp(self.year, 12, 31)
        v = v[(v["fra"] <= y1) & (v["til"].isna() | (v["til"] >= y0))]
        v = v.merge(faktor, on=_KEYS, how="inner")
        fra = v["fra"].to_numpy().astype("datetime64[D]").astype(np.int64)
        til = v["til"].to_numpy().astype("datetime64[D]")
        til = np.where(np.isnat(til), _OPEN_DAY, til.astype(np.int64))
        per_week = v["enhet"].eq("timer_per_uke").to_numpy()
        per_day = v["enhet"].eq("doegn").to_numpy()
        omfang = v["omfang"].to_numpy()
        factors = {c: v[c].to_numpy() for c in set(factor_cols)}
        oere = np.zeros(len(v), dtype=np.int64)
        for (start, end, dim), col in zip(_month_bounds(self.year), factor_cols, strict=True):
            days = np.clip(np.minimum(til, end) - np.maximum(fra, start) + 1, 0, None)
            divisor = np.where(per_week, 7.0, np.where(per_day, 1.0, dim))
            x = omfang * days.astype(np.float64) * factors[col] / divisor
            line = np.nan_to_num(_round_half_away(x))  # NaN: a month without a factor
            oere += line.astype(np.int64)
        sums = v[["kommunenummer"]].assign(oere=oere).groupby("kommunenummer")["oere"].sum()
        self.timings = {"factors": t1 - t0, "query": time.perf_counter() - t1}
        return {str(k): int(o) for k, o in sums.items()}


# -- OpenFisca -----------------------------------------------------------------------------------

_UNITS = {"timer_per_uke": 0, "doegn": 1, "timer_per_maaned": 2, "per_maaned": 2}
ZONES = ("1", "1a", "2", "3", "4", "4a", "5")


def _day_number(d: dt.date) -> int:
    return (d - _EPOCH).days


def _round_half_away(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _value_in_force(param: Any, on: str) -> tuple[float, int] | None:
    """OpenFisca parameter: (value, year of its date) in force on `on` (ISO), or None."""
    dated = [v for v in param.values_list if v.instant_str <= on]
    if not dated:
        return None
    latest = max(dated, key=lambda v: v.instant_str)
    return None if latest.value is None else (float(latest.value), int(latest.instant_str[:4]))


def build_openfisca_system(
    params: ParameterSet, groups: list[tuple[str, str]], services: list[str]
) -> Any:
    """A TaxBenefitSystem for the activity grant, float64 throughout (OpenFisca's float default is
    float32, which loses øre at national scale: architecture.md "Measured facts")."""
    from openfisca_core.entities import build_entity
    from openfisca_core.periods import DateUnit
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem
    from openfisca_core.variables import Variable

    linje_entity = build_entity(
        key="linje", plural="linjer", label="Vedtak (one line per month)", is_person=True
    )
    kommune_entity = build_entity(
        key="kommune",
        plural="kommuner",
        label="Kommune",
        roles=[{"key": "vedtak", "plural": "vedtakene", "label": "Vedtak"}],
    )

    class F64(Variable):
        """Float variables stored as float64 (OpenFisca's float default is float32)."""

        def __init__(self, baseline_variable: Any = None) -> None:
            super().__init__(baseline_variable)
            self.dtype = np.float64

    month = DateUnit.MONTH
    eternity = DateUnit.ETERNITY

    class omfang(F64):
        value_type = float
        entity = linje_entity
        definition_period = eternity

    class fra_dag(Variable):
        value_type = int
        entity = linje_entity
        definition_period = eternity

    class til_dag(Variable):
        value_type = int
        entity = linje_entity
        definition_period = eternity
        default_value = _OPEN_DAY

    class enhet_kode(Variable):
        value_type = int  # 0 timer_per_uke, 1 doegn, 2 per month (timer_per_maaned, per_maaned)
        entity = linje_entity
        definition_period = eternity

    class prisgruppe_kode(Variable):
        value_type = int  # index into `groups`; -1 = not priced (lump-sum service)
        entity = linje_entity
        definition_period = eternity
        default_value = -1

    class tjeneste_kode(Variable):
        value_type = int  # index into `services`
        entity = linje_entity
        definition_period = eternity

    class aga_sone_kode(Variable):
        value_type = int  # index into ZONES
        entity = kommune_entity
        definition_period = eternity

    class reiseindeks(F64):
        value_type = float
        entity = kommune_entity
        definition_period = eternity

    class aktivitetsfinansiert(Variable):
        value_type = bool
        entity = kommune_entity
        definition_period = month

    class dager_i_kraft(Variable):
        value_type = int
        entity = linje_entity
        definition_period = month

        def formula(linje, period, parameters):
            start = _day_number(period.start.date)
            stop = _day_number(period.stop.date)
            til = np.minimum(linje("til_dag", period), stop)
            fra = np.maximum(linje("fra_dag", period), start)
            return np.clip(til - fra + 1, 0, None)

    class volum(F64):
        value_type = float
        entity = linje_entity
        definition_period = month

        def formula(linje, period, parameters):
            days = linje("dager_i_kraft", period).astype(np.float64)
            unit = linje("enhet_kode", period)
            dim = float(period.size_in_days)
            divisor = np.where(unit == 0, 7.0, np.where(unit == 1, 1.0, dim))
            return linje("omfang", period) * days / divisor

    class enhetspris_oere(F64):
        """Unit price × 100: latest value dated on or before the month, × Π (1 + deflator)."""

        value_type = float
        entity = linje_entity
        definition_period = month

        def formula(linje, period, parameters):
            on = str(period.start)
            year = period.start.year
            prices = linje.simulation.tax_benefit_system.parameters.aktivitetstilskudd.enhetspris
            table = np.zeros(len(groups) + 1)
            for i, (s, g) in enumerate(groups):
                found = _value_in_force(prices.children[s].children[g], on)
                if found is None:
                    continue
                p, d0 = found
                for t in range(d0 + 1, year + 1):
                    p *= 1 + float(parameters(f"{t}-01-01").uttrekk.deflator)
                table[i] = p * 100
            return table[linje("prisgruppe_kode", period)]  # -1 → the trailing 0

    class k_aga_kommune(F64):
        value_type = float
        entity = kommune_entity
        definition_period = month

        def formula(kommune, period, parameters):
            aga = parameters(period).aktivitetstilskudd.aga
            ref = float(aga.referansesats)
            w = float(aga.lonnsandel)
            rates = np.array([float(aga.sats[f"sone_{z}"]) for z in ZONES])
            k = 1 + w * (rates - ref) / (1 + ref)
            k = np.where(rates == ref, 1.0, k)
            return k[kommune("aga_sone_kode", period)]

    class k_reise_linje(F64):
        value_type = float
        entity = linje_entity
        definition_period = month

        def formula(linje, period, parameters):
            p = parameters(period).aktivitetstilskudd
            home = np.array([s in p.hjemmebasert and p.hjemmebasert[s] == 1 for s in services])
            tau = float(p.reise.faktor)
            ri = linje.kommune("reiseindeks", period)
            on = home[linje("tjeneste_kode", period)] & (ri != 0)
            return np.where(on, 1 + tau * ri, 1.0)

    class linje_oere(F64):
        value_type = float
        entity = linje_entity
        definition_period = month

        def formula(linje, period, parameters):
            x = (
                linje("volum", period)
                * linje("enhetspris_oere", period)
                * linje.kommune("k_aga_kommune", period)
                * linje("k_reise_linje", period)
            )
            financed = linje.kommune("aktivitetsfinansiert", period)
            return np.where(financed, _round_half_away(x), 0.0)

    class aktivitetstilskudd_maaned(F64):
        value_type = float
        entity = kommune_entity
        definition_period = month

        def formula(kommune, period, parameters):
            return kommune.sum(kommune.members("linje_oere", period))

    class aktivitetstilskudd_aar(F64):
        value_type = float
        entity = kommune_entity
        definition_period = DateUnit.YEAR

        def formula(kommune, period, parameters):
            total = np.zeros(kommune.count)
            for m in period.get_subperiods(month):
                total = total + kommune("aktivitetstilskudd_maaned", m)
            return total

    tbs = TaxBenefitSystem([linje_entity, kommune_entity])
    for var in (
        omfang,
        fra_dag,
        til_dag,
        enhet_kode,
        prisgruppe_kode,
        tjeneste_kode,
        aga_sone_kode,
        reiseindeks,
        aktivitetsfinansiert,
        dager_i_kraft,
        volum,
        enhetspris_oere,
        k_aga_kommune,
        k_reise_linje,
        linje_oere,
        aktivitetstilskudd_maaned,
        aktivitetstilskudd_aar,
    ):
        tbs.add_variable(var)
    tbs.parameters = openfisca_parameters(params)
    return tbs


def openfisca_parameters(params: ParameterSet) -> Any:
    """The project's parameter set (with any overrides) as an OpenFisca ParameterNode, numbers as
    float: the model sees exactly the dated series the engine sees."""
    from openfisca_core.parameters import ParameterNode

    tree: dict[str, Any] = {}
    for param in params:
        node = tree
        *parents, leaf = param.path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = {
            "description": param.description,
            "values": {
                v.start.isoformat(): {
                    "value": float(v.value) if isinstance(v.value, Fraction) else v.value
                }
                for v in param.values
            },
        }
    return ParameterNode("", data=tree)


class OpenFiscaPeer:
    """The activity grant as an OpenFisca-core model (float64)."""

    def __init__(self, data: InputData, params: ParameterSet, year: int) -> None:
        self.data, self.year = data, year
        self.groups = priced_groups(params)
        services = sorted(
            set(data.vedtak.get_column("tjeneste").unique().to_list()) | {s for s, _ in self.groups}
        )
        self.services = services
        self.tbs = build_openfisca_system(params, self.groups, services)
        self.check_float64()
        self.timings: dict[str, float] = {}

    def check_float64(self) -> None:
        for name in ("omfang", "linje_oere", "aktivitetstilskudd_aar"):
            dtype = self.tbs.get_variable(name).dtype
            if dtype is not np.float64:
                raise RuntimeError(f"OpenFisca variable {name} is {dtype}, not float64")

    def run(self) -> dict[str, int]:
        """Build the simulation from the loaded data and compute the year; øre per municipality.

        Sets `timings` (seconds): `build` (arrays, entities, inputs) and `calculate`.
        """
        from openfisca_core.simulations import SimulationBuilder

        t0 = time.perf_counter()
        v = self.data.vedtak
        # the group entity holds only municipalities with vedtak: OpenFisca's join_with_persons
        # renumbers the groups that have members (those without, e.g. control municipalities
        # that do not participate, would shift every later municipality's index)
        with_vedtak = v.get_column("kommunenummer").cast(pl.Utf8).unique()
        kommuner = self.data.kommuner.filter(
            pl.col("kommunenummer").cast(pl.Utf8).is_in(with_vedtak.implode())
        )
        codes = kommuner.get_column("kommunenummer").to_list()
        code_index = {c: i for i, c in enumerate(codes)}
        group_index = {f"{s}\t{g}": i for i, (s, g) in enumerate(self.groups)}
        service_index = {s: i for i, s in enumerate(self.services)}
        cols = v.select(
            pl.col("kommunenummer").replace_strict(code_index, return_dtype=pl.Int64).alias("k"),
            pl.col("tjeneste").replace_strict(service_index, return_dtype=pl.Int32).alias("s"),
            pl.concat_str("tjeneste", "prisgruppe", separator="\t")
            .replace_strict(group_index, default=-1, return_dtype=pl.Int32)
            .alias("g"),
            pl.col("enhet").replace_strict(_UNITS, return_dtype=pl.Int32).alias("u"),
            pl.col("omfang"),
            pl.col("fra").cast(pl.Int32).alias("fra"),
            pl.col("til").cast(pl.Int32).fill_null(_OPEN_DAY).alias("til"),
        )
        n = cols.height
        builder = SimulationBuilder()
        builder.create_entities(self.tbs)
        builder.declare_person_entity("linje", np.arange(n))
        kommune_pop = builder.declare_entity("kommune", np.arange(len(codes)))
        builder.join_with_persons(
            kommune_pop, cols.get_column("k").to_numpy(), np.zeros(n, dtype=np.int64)
        )
        sim = builder.build(self.tbs)
        eternity = "ETERNITY"
        sim.set_input("omfang", eternity, cols.get_column("omfang").to_numpy())
        sim.set_input("fra_dag", eternity, cols.get_column("fra").to_numpy())
        sim.set_input("til_dag", eternity, cols.get_column("til").to_numpy())
        sim.set_input("enhet_kode", eternity, cols.get_column("u").to_numpy())
        sim.set_input("prisgruppe_kode", eternity, cols.get_column("g").to_numpy())
        sim.set_input("tjeneste_kode", eternity, cols.get_column("s").to_numpy())
        zone_index = {z: i for i, z in enumerate(ZONES)}
        sim.set_input(
            "aga_sone_kode",
            eternity,
            np.array([zone_index[z] for z in kommuner.get_column("aga_sone").to_list()]),
        )
        sim.set_input(
            "reiseindeks",
            eternity,
            np.array([float(Fraction(r)) for r in kommuner.get_column("reiseindeks").to_list()]),
        )
        fin = financed_months(self.data, self.year)
        for mo in range(1, 13):
            sim.set_input(
                "aktivitetsfinansiert",
                f"{self.year}-{mo:02d}",
                np.array([mo in fin.get(c, ()) for c in codes]),
            )
        t1 = time.perf_counter()
        total = sim.calculate("aktivitetstilskudd_aar", str(self.year))
        self.timings = {"build": t1 - t0, "calculate": time.perf_counter() - t1}
        if total.dtype != np.float64:
            raise RuntimeError(f"OpenFisca result is {total.dtype}, not float64")
        out = {c: int(total[i]) for i, c in enumerate(codes) if c in fin}
        return {c: out.get(c, 0) for c in sorted(fin)}  # financed, no vedtak: 0
