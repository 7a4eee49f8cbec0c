"""The analysis frame of the evaluation: one row per person and year, built from the input data.

A person-year is a person with at least one vedtak in force on the year's reference day,
31 December (as SSB and KOSTRA count users "per 31.12"); everything about it describes that day:

- `kommunenummer`: the municipality of the decisions (of the costliest one if several), `unit`:
  the municipality with the same borders over time (a new number continues it, a merger starts
  a new one: `_units_table`), `trial`: the unit has participation rows (the others are the
  comparison group),
  `participating`: the municipality participates on the reference day (the `deltakelse` table),
  `trial_start`: the first day the unit participates (null for the comparison group);
- the need profile: `need_level` (the latest assessment on or before the day; "ukjent" without),
  `age_band` (the population table's groups, from `personer.foedselsaar`), `living`
  ("alene", "ikke_alene" or "ukjent", from `personer.bor_alene`), and `profile`, the three joined;
- the allocated services: `hours` (hours per week of hour-priced services), `home_hours` (of
  home nursing and practical assistance, `HOME_SERVICES`; `home_from`: the earliest start of
  those decisions, so that decisions made under the trial can be told apart), `hour_equivalents`
  (hours per week plus day-priced services converted at their price relative to one hour of home
  nursing, HJSPL STANDARD: the hours the same money would buy), `institution` (a short- or
  long-term nursing-home stay in force) and `cost` (kroner per year at the national unit prices
  of `price_year`: the volume of a whole year in force — `volume_exact` over its months — times
  `unit_price`, without the employer-tax or travel corrections, which are not about the person);
- `coverage`: within, below, above or other against the criteria's recommendation for the
  person's latest assessment (`sio.evaluation.positions`), null without an assessment.

Services covered by the lump sum (`rundsumtilskudd.tjenester`) have no unit price: they count as a
service (the person is a user) with no hours and no cost.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from sio.criteria.loader import CriteriaSet
    from sio.data.model import InputData
    from sio.parameters import ParameterSet

__all__ = [
    "INSTITUTION_SERVICES",
    "REFERENCE_HOUR",
    "UNKNOWN",
    "AnalysisFrame",
    "build_frame",
    "profile_expr",
]

INSTITUTION_SERVICES: tuple[str, ...] = ("INST_KORT", "INST_LANG")
"""Stays in a nursing home (korttids- and langtidsopphold): "in an institution"."""
HOME_SERVICES: tuple[str, ...] = ("HJSPL", "PB_DAGL", "PB_OPPL")
"""Home nursing and practical assistance: SSB's hours per week of home services."""
REFERENCE_HOUR: tuple[str, str] = ("HJSPL", "STANDARD")
"""The hour whose price converts a day of stay to hours (one hour of home nursing)."""
UNKNOWN = "ukjent"
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-66", 0, 66),
    ("67-79", 67, 79),
    ("80-89", 80, 89),
    ("90+", 90, 200),
)


@dataclass(frozen=True)
class AnalysisFrame:
    """The person-years and what the estimators need beside them."""

    persons: pl.DataFrame
    first: int
    last: int
    price_year: int
    population: pl.DataFrame  # unit, aar, pop80 (inhabitants 80+ on 1 January)
    names: dict[str, str]  # kommunenummer → name
    unit_names: dict[str, str] = field(default_factory=dict)  # unit → its first code's name
    cost_estimates: tuple[str, ...] = ()  # estimated parameters the costs rest on
    coverage_estimates: tuple[str, ...] = ()  # estimated criteria items coverage rests on
    need_estimates: tuple[str, ...] = ()  # need levels computed with an estimated rule
    merger_years: dict[int, tuple[str, ...]] = field(default_factory=dict)
    has_ages: bool = False


def profile_expr() -> pl.Expr:
    """The need profile: need level × age band × living situation, as one text."""
    return pl.concat_str(["need_level", "age_band", "living"], separator="|").alias("profile")


def reference_day(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def _in_force_years(vedtak: pl.DataFrame, first: int, last: int) -> pl.DataFrame:
    """One row per vedtak and year in [first, last] whose reference day it is in force on."""
    til = pl.col("til")
    til_year = (
        pl.when(til.is_null())
        .then(pl.lit(last))
        .when((til.dt.month() == 12) & (til.dt.day() == 31))
        .then(til.dt.year())
        .otherwise(til.dt.year() - 1)
    )
    lo = pl.max_horizontal(pl.col("fra").dt.year(), pl.lit(first))
    hi = pl.min_horizontal(til_year, pl.lit(last))
    return (
        vedtak.select(
            "person_id",
            "kommunenummer",
            "tjeneste",
            "prisgruppe",
            "omfang",
            "enhet",
            "fra",
            pl.int_ranges(lo, hi + 1, dtype=pl.Int32).alias("aar"),
        )
        .explode("aar")
        .drop_nulls("aar")
    )


def _service_table(
    params: ParameterSet, pairs: list[tuple[str, str]], price_year: int
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Per (service, price group): the price unit ("time", "doegn" or null for lump-sum
    services), the national unit price of December of `price_year` (kroner) and, for a day, the
    hours of home nursing it is worth; and the estimated parameters used."""
    from sio.parameters import ParameterLookupError, UsageLog
    from sio.rules.aktivitetstilskudd import unit_price

    log = UsageLog()
    month = (price_year, 12)
    day = dt.date(price_year, 12, 1)
    hour = float(unit_price(params, *REFERENCE_HOUR, month, log))
    rows = []
    for service, group in pairs:
        try:
            unit = str(params.at(f"aktivitetstilskudd.enhet.{service}", day, log).value)
            price = float(unit_price(params, service, group, month, log))
        except (ParameterLookupError, KeyError):
            unit, price = "", 0.0
        rows.append((service, group, unit or None, price, price / hour if unit == "doegn" else 0.0))
    table = pl.DataFrame(
        rows,
        schema={
            "tjeneste": pl.Utf8,
            "prisgruppe": pl.Utf8,
            "_price_unit": pl.Utf8,
            "_price": pl.Float64,
            "_day_hours": pl.Float64,
        },
        orient="row",
    )
    return table, log.estimate_paths()


def _annual_factors(first: int, last: int) -> pl.DataFrame:
    """Per unit and year: the volume of a vedtak of omfang 1 in force the whole year, by the
    engine's own volume rule (`volume_exact` summed over the months)."""
    from fractions import Fraction

    from sio.rules.aktivitetstilskudd import volume_exact

    rows = []
    for year in range(first, last + 1):
        for unit in ("timer_per_uke", "doegn", "timer_per_maaned", "per_maaned"):
            total = sum(
                (
                    volume_exact(Fraction(1), unit, calendar.monthrange(year, m)[1], (year, m))
                    for m in range(1, 13)
                ),
                Fraction(0),
            )
            rows.append((unit, year, float(total)))
    return pl.DataFrame(
        rows, schema={"enhet": pl.Utf8, "aar": pl.Int32, "_per_year": pl.Float64}, orient="row"
    )


def _weekly_units() -> pl.Expr:
    """Volume per week in the price unit (hours or days)."""
    from sio.criteria.leon import WEEKS_PER_MONTH

    e, q = pl.col("enhet"), pl.col("omfang")
    return (
        pl.when(e == "timer_per_uke")
        .then(q)
        .when(e == "doegn")
        .then(q * 7.0)
        .otherwise(q / WEEKS_PER_MONTH)
    )


def _units_table(inp: InputData) -> pl.DataFrame:
    """kommunenummer → unit and whether the unit is in the trial (any of its codes has a
    participation row). A unit is a municipality with the same borders over time: a new number
    for the same municipality (a successor with one predecessor) continues its unit, named by its
    latest code; a merger of several starts a new unit. So no unit mixes a participant with a
    municipality that never participated, and no unit changes its borders within the window."""
    from sio.data.registry import Registry

    registry = Registry(inp.kommuner)
    codes = registry.codes()

    def unit_of(code: str) -> str:
        seen = {code}
        while True:
            nxt = registry.successor(code)
            if nxt is None or nxt in seen or nxt not in registry:
                return code
            if len(registry.predecessors(nxt)) != 1:
                return code
            seen.add(nxt)
            code = nxt

    units = pl.DataFrame(
        {"kommunenummer": codes, "unit": [unit_of(c) for c in codes]},
        schema={"kommunenummer": pl.Utf8, "unit": pl.Utf8},
    )
    participants = set(inp.deltakelse.get_column("kommunenummer").to_list())
    trial_units = set(units.filter(pl.col("kommunenummer").is_in(participants))["unit"].to_list())
    return units.with_columns(pl.col("unit").is_in(list(trial_units)).alias("trial"))


def _participation(inp: InputData, first: int, last: int) -> pl.DataFrame:
    """kommunenummer, aar, participating: a participation row covers the reference day."""
    years = pl.DataFrame({"aar": list(range(first, last + 1))}, schema={"aar": pl.Int32})
    d = inp.deltakelse.select("kommunenummer", "fra", "til").join(years, how="cross")
    ref = pl.date(pl.col("aar"), 12, 31)
    covered = (pl.col("fra") <= ref) & (pl.col("til").is_null() | (pl.col("til") >= ref))
    return (
        d.filter(covered)
        .select("kommunenummer", "aar", pl.lit(True).alias("participating"))
        .unique(["kommunenummer", "aar"])
    )


def _trial_starts(inp: InputData, units: pl.DataFrame) -> pl.DataFrame:
    """unit, trial_start: the first day any of the unit's codes participates."""
    return (
        inp.deltakelse.select("kommunenummer", "fra")
        .join(units.select("kommunenummer", "unit"), on="kommunenummer", how="inner")
        .group_by("unit")
        .agg(pl.col("fra").min().alias("trial_start"))
    )


def _merger_years(inp: InputData, first: int, last: int) -> dict[int, tuple[str, ...]]:
    """Years in the window in which a code with predecessors begins (a merger or a new number):
    the municipal structure changes on 1 January of that year."""
    k = inp.kommuner
    successors = k.filter(pl.col("etterfolger").is_not_null()).get_column("etterfolger").unique()
    starts = k.filter(pl.col("kommunenummer").is_in(successors.to_list())).select(
        "kommunenummer", pl.col("gyldig_fra").dt.year().alias("aar")
    )
    out: dict[int, list[str]] = {}
    for code, year in starts.iter_rows():
        if first <= year <= last:
            out.setdefault(int(year), []).append(str(code))
    return {y: tuple(sorted(v)) for y, v in sorted(out.items())}


def _population(inp: InputData, units: pl.DataFrame) -> pl.DataFrame:
    """Inhabitants aged 80 and over on 1 January per unit and year."""
    return (
        inp.befolkning.filter(pl.col("aldersgruppe").is_in(["80-89", "90+"]))
        .join(units.select("kommunenummer", "unit"), on="kommunenummer", how="inner")
        .group_by("unit", "aar")
        .agg(pl.col("antall").sum().cast(pl.Float64).alias("pop80"))
        .sort("unit", "aar")
    )


def _age_band(age: pl.Expr) -> pl.Expr:
    expr: pl.Expr = pl.lit(UNKNOWN)
    for label, lo, hi in reversed(AGE_BANDS):
        expr = pl.when((age >= lo) & (age <= hi)).then(pl.lit(label)).otherwise(expr)
    return expr


def build_frame(
    inp: InputData,
    params: ParameterSet,
    first: int,
    last: int,
    criteria: CriteriaSet | None = None,
) -> AnalysisFrame:
    """The analysis frame of the years `first`…`last` (prices of `last`)."""
    from sio.criteria.loader import load_criteria
    from sio.data.tables import IPLOS_COLUMNS
    from sio.evaluation.positions import criteria_estimates, decision_positions

    criteria = criteria or load_criteria()
    vy = _in_force_years(inp.vedtak, first, last).with_row_index("_row")
    pairs = [tuple(r) for r in vy.select("tjeneste", "prisgruppe").unique().sort(pl.all()).rows()]
    services, cost_estimates = _service_table(params, pairs, last)
    vy = (
        vy.join(services, on=["tjeneste", "prisgruppe"], how="left")
        .join(_annual_factors(first, last), on=["enhet", "aar"], how="left")
        .with_columns(
            _weekly_units().alias("_weekly"),
            pl.date(pl.col("aar"), 12, 31).alias("_ref"),
        )
        .with_columns(
            pl.when(pl.col("_price_unit") == "time")
            .then(pl.col("_weekly"))
            .otherwise(0.0)
            .alias("hours"),
            (
                pl.when(pl.col("_price_unit") == "time")
                .then(pl.col("_weekly"))
                .otherwise(pl.col("_weekly") * pl.col("_day_hours"))
            ).alias("hour_equivalents"),
            (pl.col("omfang") * pl.col("_per_year") * pl.col("_price")).alias("cost"),
            pl.col("tjeneste").is_in(list(INSTITUTION_SERVICES)).alias("_inst"),
            pl.when(pl.col("tjeneste").is_in(list(HOME_SERVICES)))
            .then(pl.col("_weekly"))
            .otherwise(0.0)
            .alias("home_hours"),
        )
    )
    kart = getattr(inp, "kartlegging", None)
    coverage_estimates: tuple[str, ...] = ()
    need_estimates: tuple[str, ...] = ()
    if kart is not None and kart.height:
        latest = kart.select("person_id", "dato", *IPLOS_COLUMNS, "behovsniva", "skaarer").sort(
            "dato"
        )
        vy = vy.sort("_ref").join_asof(
            latest,
            left_on="_ref",
            right_on="dato",
            by="person_id",
            strategy="backward",
            check_sortedness=False,  # both sorted by their date above
        )
        positions = decision_positions(
            vy.select(
                "_row",
                "tjeneste",
                "enhet",
                "omfang",
                "dato",
                *IPLOS_COLUMNS,
                "behovsniva",
                "skaarer",
            ),
            criteria,
        )
        vy = vy.join(positions, on="_row", how="left")
        coverage_estimates = criteria_estimates(criteria)
        if kart.get_column("skaarer").any():
            need_estimates = tuple(p for p in coverage_estimates if p.startswith("need_level"))
    else:
        vy = vy.with_columns(
            pl.lit(None, pl.Utf8).alias("behovsniva"), pl.lit(None, pl.Utf8).alias("position")
        )
    persons = (
        vy.sort(
            ["person_id", "aar", "cost", "kommunenummer"], descending=[False, False, True, False]
        )
        .group_by("person_id", "aar", maintain_order=True)
        .agg(
            pl.col("kommunenummer").first(),
            pl.col("hours").sum(),
            pl.col("home_hours").sum(),
            pl.col("fra")
            .filter(pl.col("tjeneste").is_in(list(HOME_SERVICES)))
            .min()
            .alias("home_from"),
            pl.col("hour_equivalents").sum(),
            pl.col("cost").sum(),
            pl.col("_inst").any().alias("institution"),
            pl.col("behovsniva").first().fill_null(UNKNOWN).alias("need_level"),
            _coverage_agg(),
            pl.len().alias("vedtak"),
        )
    )
    units = _units_table(inp)
    persons = (
        persons.join(units, on="kommunenummer", how="left")
        .join(_participation(inp, first, last), on=["kommunenummer", "aar"], how="left")
        .join(_trial_starts(inp, units), on="unit", how="left")
    )
    pers = getattr(inp, "personer", None)
    has_ages = pers is not None and pers.height > 0
    if pers is not None and has_ages:
        persons = persons.join(
            pers.select("person_id", "foedselsaar", "bor_alene"), on="person_id", how="left"
        )
    else:
        persons = persons.with_columns(
            pl.lit(None, pl.Int32).alias("foedselsaar"), pl.lit(None, pl.Boolean).alias("bor_alene")
        )
    age = pl.col("aar") - pl.col("foedselsaar")
    persons = (
        persons.with_columns(
            pl.col("participating").fill_null(False),
            pl.col("trial").fill_null(False),
            pl.col("unit").fill_null(pl.col("kommunenummer")),
            age.alias("age"),
            _age_band(age).alias("age_band"),
            pl.when(pl.col("bor_alene").is_null())
            .then(pl.lit(UNKNOWN))
            .when(pl.col("bor_alene"))
            .then(pl.lit("alene"))
            .otherwise(pl.lit("ikke_alene"))
            .alias("living"),
        )
        .with_columns(profile_expr())
        .drop("foedselsaar", "bor_alene")
        .sort("aar", "kommunenummer", "person_id")
    )
    names = dict(inp.kommuner.select("kommunenummer", "navn").iter_rows())
    first_names = (
        units.join(inp.kommuner.select("kommunenummer", "navn", "gyldig_fra"), on="kommunenummer")
        .sort("gyldig_fra", "kommunenummer")
        .group_by("unit", maintain_order=True)
        .agg(pl.col("navn").first())
    )
    return AnalysisFrame(
        persons=persons,
        first=first,
        last=last,
        price_year=last,
        population=_population(inp, units),
        names={str(k): str(v) for k, v in names.items()},
        unit_names={str(u): str(n) for u, n in first_names.iter_rows()},
        cost_estimates=cost_estimates,
        coverage_estimates=coverage_estimates,
        need_estimates=need_estimates,
        merger_years=_merger_years(inp, first, last),
        has_ages=has_ages,
    )


def _coverage_agg() -> pl.Expr:
    """A person's coverage from the positions of their decisions: the positions of services
    placed against a range (within, below, above) decide; "other" decisions are left out unless
    there is nothing else. Within if every placed decision is within; below (above) if some are
    below (above) and none above (below); "mixed" decisions both ways count as other."""
    p = pl.col("position")
    below = (p == "below").any()
    above = (p == "above").any()
    placed = p.is_in(["within", "below", "above"]).any()
    return (
        pl.when(p.is_null().all())
        .then(pl.lit(None, pl.Utf8))
        .when(~placed)
        .then(pl.lit("other"))
        .when(below & above)
        .then(pl.lit("other"))
        .when(below)
        .then(pl.lit("below"))
        .when(above)
        .then(pl.lit("above"))
        .otherwise(pl.lit("within"))
        .alias("coverage")
    )
