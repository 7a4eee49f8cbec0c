"""Needs coverage (scheme.md §5): the share of users whose decided volume lies within, below and
above the criteria's recommended range for their assessment, per municipality and year, each
share with its Wilson 95 % interval. Users without an assessment are counted apart (`unassessed`);
the shares are of the assessed users. The position of each person comes from the analysis frame
(`sio.evaluation.frame`, `coverage`)."""

from __future__ import annotations

import polars as pl

__all__ = ["CATEGORIES", "coverage_table", "wilson"]

CATEGORIES: tuple[str, ...] = ("within", "below", "above", "other")
Z95 = 1.959963984540054


def wilson(successes: pl.Expr, n: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """The Wilson score interval of a proportion successes / n (null where n is 0)."""
    p = successes / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z**2 / (4 * n**2)).sqrt()) / denom
    ok = n > 0
    return (
        pl.when(ok).then((centre - half).clip(0.0, 1.0)),
        pl.when(ok).then((centre + half).clip(0.0, 1.0)),
    )


def coverage_table(
    persons: pl.DataFrame, by: tuple[str, ...] = ("kommunenummer", "aar")
) -> pl.DataFrame:
    """Per municipality and year: users, assessed users, and for each category its count, share
    and interval (`within`, `within_low`, `within_high`, …)."""
    c = pl.col("coverage")
    counts = persons.group_by(*by).agg(
        pl.len().alias("users"),
        c.is_not_null().sum().alias("assessed"),
        *[(c == cat).sum().alias(f"n_{cat}") for cat in CATEGORIES],
    )
    n = pl.col("assessed").cast(pl.Float64)
    shares = []
    for cat in CATEGORIES:
        k = pl.col(f"n_{cat}").cast(pl.Float64)
        low, high = wilson(k, n)
        shares += [
            pl.when(n > 0).then(k / n).alias(cat),
            low.alias(f"{cat}_low"),
            high.alias(f"{cat}_high"),
        ]
    return counts.with_columns(
        *shares, (pl.col("users") - pl.col("assessed")).alias("unassessed")
    ).sort(*by)
