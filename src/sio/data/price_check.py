"""A vedtak in an activity-financed month needs a unit price in force (interfaces.md §2,
"Validation that the output depends on").

A vedtak line in an activity-financed month whose service and price group have no price in force
on the first day of that month is an error on the vedtak row (`prisgruppe`), never a line of
0 øre. The rule depends on the parameters, so a stored version is checked again against them
(decision 0006). Vectorised: the vedtak are joined with their municipality's activity-financed
periods and with the priced intervals of their group; a vedtak whose months of activity financing
are not covered by one priced interval breaks the rule. When every group's prices start before
the first activity-financed month and never end — the usual case — nothing needs joining.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from sio.parameters import ParameterSet
from sio.rules.aktivitetstilskudd import PRICE_ROOT, priced_groups

RULE = "price_in_force"
_FAR = dt.date(9999, 12, 1)


def _priced_intervals(params: ParameterSet) -> pl.DataFrame:
    """(tjeneste, prisgruppe, start, end): the periods in which a group has a price (end
    exclusive, null = open)."""
    rows: list[tuple[str, str, dt.date, dt.date | None]] = []
    for s, g in priced_groups(params):
        start: dt.date | None = None
        for dv in params.get(f"{PRICE_ROOT}.{s}.{g}").values:
            if dv.value is None:
                if start is not None:
                    rows.append((s, g, start, dv.start))
                start = None
            elif start is None:
                start = dv.start
        if start is not None:
            rows.append((s, g, start, None))
    return pl.DataFrame(
        rows,
        schema={"tjeneste": pl.Utf8, "prisgruppe": pl.Utf8, "_p0": pl.Date, "_p1": pl.Date},
        orient="row",
    )


def _month_start(col: pl.Expr) -> pl.Expr:
    return col.dt.truncate("1mo")


def unpriced_vedtak(
    vedtak: pl.DataFrame, deltakelse: pl.DataFrame, params: ParameterSet
) -> pl.DataFrame:
    """The vedtak rows (`line`, tjeneste, prisgruppe, `_maaned`: the first month without a price)
    that have a line in an activity-financed month with no price in force on its first day."""
    prices = _priced_intervals(params)
    activity = deltakelse.filter(pl.col("modell") == "A").select(
        "kommunenummer",
        pl.max_horizontal("fra", "aktivitet_fra").alias("_a0"),
        pl.col("til").fill_null(_FAR).alias("_a1"),
    )
    empty = pl.DataFrame(
        schema={"line": pl.Int64, "tjeneste": pl.Utf8, "prisgruppe": pl.Utf8, "_maaned": pl.Date}
    )
    if activity.is_empty() or vedtak.is_empty():
        return empty
    first_activity = activity.get_column("_a0").min()
    simple = prices.group_by("tjeneste", "prisgruppe").agg(
        pl.col("_p0").min(), pl.col("_p1").is_not_null().any().alias("_ends"), pl.len()
    )
    worst = simple.select(pl.col("_p0").max(), pl.col("_ends").any(), pl.col("len").max()).row(0)
    if worst[0] is not None and worst[0] <= first_activity and not worst[1] and worst[2] == 1:
        return empty  # every price is in force from before the first activity-financed month
    priced = set(zip(prices["tjeneste"].to_list(), prices["prisgruppe"].to_list(), strict=True))
    services = {s for s, _g in priced}
    v = vedtak.select(
        "line", "kommunenummer", "tjeneste", "prisgruppe", "fra", pl.col("til").fill_null(_FAR)
    ).filter(pl.col("tjeneste").is_in(list(services)))
    spans = (
        v.join(activity, on="kommunenummer", how="inner")
        .select(
            "line",
            "tjeneste",
            "prisgruppe",
            _month_start(pl.max_horizontal("fra", "_a0")).alias("_m1"),
            _month_start(pl.min_horizontal("til", "_a1")).alias("_m2"),
        )
        .filter(pl.col("_m1") <= pl.col("_m2"))
    )
    covered = (
        spans.with_row_index("_span")
        .join(prices, on=["tjeneste", "prisgruppe"], how="left")
        .with_columns(
            (
                (pl.col("_p0") <= pl.col("_m1"))
                & (pl.col("_p1").is_null() | (pl.col("_m2") < pl.col("_p1")))
            )
            .fill_null(False)
            .alias("_ok"),
            # the first month without a price: before the interval starts, else where it ends
            pl.when(pl.col("_p0").is_null() | (pl.col("_m1") < pl.col("_p0")))
            .then(pl.col("_m1"))
            .otherwise(_month_start(pl.col("_p1") - pl.duration(days=1)).dt.offset_by("1mo"))
            .alias("_first_missing"),
        )
        .group_by("_span", "line", "tjeneste", "prisgruppe", maintain_order=True)
        .agg(pl.col("_ok").any(), pl.col("_first_missing").min())
        .filter(~pl.col("_ok"))
    )
    return (
        covered.group_by("line", "tjeneste", "prisgruppe", maintain_order=True)
        .agg(pl.col("_first_missing").min().alias("_maaned"))
        .sort("line")
    )
