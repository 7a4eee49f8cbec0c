"""Where each decided service lies against the criteria's recommendation for the person's latest
assessment: within, below or above the recommended range, or another service (scheme.md §4.3).

The recommendation is the LEON recommendation of `sio.criteria.leon.recommend`, and the position
of a decision is `sio.criteria.leon.check_decision`'s: nothing is decided here that the casework
service would decide differently. To be fast on a national data set, `recommend` is called once
per distinct (criteria version, need level, set of indicated services) — its services and ranges
depend on nothing else — and `check_decision` once per distinct (recommendation, service, unit,
volume). Which services are indicated is computed for every assessment at once, from the same
conditions as `sio.criteria.leon.indicated`, with the data loader's expression of the condition
language (`sio.data.evaluation_tables.condition_expr`) for the score tests and the row's need level
for `need_level_at_least`.

An assessment that gives only a need level (no scores) has no recommendation: a decision of a
service on the care ladder is placed against that service's range for the need level (the range
`recommend` would give it), and any other service is "other".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from sio.criteria.conditions import Condition
    from sio.criteria.loader import CriteriaSet
    from sio.criteria.model import CriteriaVersion

__all__ = ["POSITIONS", "decision_positions", "eligibility_expr", "version_index_expr"]

POSITIONS: tuple[str, ...] = ("within", "below", "above", "other")


def eligibility_expr(condition: Condition, level_col: str = "behovsniva") -> pl.Expr:
    """The eligibility condition of a service as a Boolean expression over the 17 score columns
    and the need-level column (`sio.criteria.conditions.holds` with the row's need level)."""
    from sio.criteria.conditions import NEED_LEVELS, AllOf, AnyOf, NeedLevelAtLeast
    from sio.data.evaluation_tables import condition_expr

    if isinstance(condition, NeedLevelAtLeast):
        at_least = NEED_LEVELS[NEED_LEVELS.index(condition.need_level_at_least) :]
        return pl.col(level_col).is_in(list(at_least))
    if isinstance(condition, AllOf):
        return pl.all_horizontal([eligibility_expr(c, level_col) for c in condition.all_of])
    if isinstance(condition, AnyOf):
        return pl.any_horizontal([eligibility_expr(c, level_col) for c in condition.any_of])
    return condition_expr(condition)


def version_index_expr(criteria: CriteriaSet, date_col: str) -> pl.Expr:
    """The index (in `criteria`) of the version in force on each row's date; the first version
    also before it came into force (as the data loader classifies need levels)."""
    versions = list(criteria)
    index: pl.Expr = pl.lit(0, pl.Int32)
    for i, version in enumerate(versions[1:], start=1):
        index = (
            pl.when(pl.col(date_col) >= pl.lit(version.valid_from))
            .then(pl.lit(i, pl.Int32))
            .otherwise(index)
        )
    return index


def _masks(assessments: pl.DataFrame, versions: list[CriteriaVersion]) -> pl.DataFrame:
    """`assessments` (scored rows, with `_v`) with `_mask`: the indicated services of the row's
    criteria version as a sorted, comma-separated list of codes."""
    parts = []
    for i, version in enumerate(versions):
        rows = assessments.filter(pl.col("_v") == i)
        if rows.is_empty():
            continue
        codes = sorted(version.care_ladder.services)
        flags = [
            pl.when(eligibility_expr(version.care_ladder.services[c].eligibility))
            .then(pl.lit(c))
            .otherwise(pl.lit(None, pl.Utf8))
            for c in codes
        ]
        parts.append(
            rows.with_columns(pl.concat_str(flags, separator=",", ignore_nulls=True).alias("_mask"))
        )
    if not parts:
        return assessments.with_columns(pl.lit("", pl.Utf8).alias("_mask"))
    return pl.concat(parts)


def _recommendations(
    keys: pl.DataFrame, versions: list[CriteriaVersion]
) -> dict[tuple[int, str, str], object]:
    """One LEON recommendation per distinct (version, need level, indicated services), from a
    representative assessment of each."""
    from sio.criteria.iplos import Assessment, scores_from_mapping
    from sio.criteria.leon import recommend
    from sio.data.tables import IPLOS_COLUMNS

    out: dict[tuple[int, str, str], object] = {}
    for row in keys.iter_rows(named=True):
        scores = scores_from_mapping({c: int(row[c]) for c in IPLOS_COLUMNS})
        day: dt.date = row["dato"]
        assessment = Assessment(
            scores=scores, assessed_on=day, assessor="sio evaluer", signed_on=day
        )
        version = versions[row["_v"]]
        rec = recommend(assessment, version)
        key = (int(row["_v"]), str(row["behovsniva"]), str(row["_mask"]))
        out[key] = rec
    return out


def decision_positions(decisions: pl.DataFrame, criteria: CriteriaSet) -> pl.DataFrame:
    """Each decision's position against its assessment.

    `decisions` has one row per decision in force (columns `_row`, `tjeneste`, `enhet`,
    `omfang`) with its assessment joined on (`dato`, the 17 score columns, `behovsniva`,
    `skaarer`; null where the person has no assessment). Returns `_row` and `position` (one of
    POSITIONS) for the decisions with an assessment; the criteria items the positions rest on are
    `criteria_estimates(criteria)`."""
    from sio.criteria.leon import Recommendation, check_decision, convert_volume
    from sio.data.tables import IPLOS_COLUMNS

    versions = list(criteria)
    assessed = decisions.filter(pl.col("behovsniva").is_not_null()).with_columns(
        version_index_expr(criteria, "dato").alias("_v")
    )
    scored = assessed.filter(pl.col("skaarer"))
    level_only = assessed.filter(~pl.col("skaarer"))
    parts: list[pl.DataFrame] = []
    if not scored.is_empty():
        # the indicated services of each distinct assessment, then of each decision
        distinct = scored.select("_v", "dato", "behovsniva", *IPLOS_COLUMNS).unique(
            ["_v", "behovsniva", *IPLOS_COLUMNS], keep="first", maintain_order=True
        )
        distinct = _masks(distinct, versions)
        scored = scored.join(
            distinct.select("_v", "behovsniva", *IPLOS_COLUMNS, "_mask"),
            on=["_v", "behovsniva", *IPLOS_COLUMNS],
            how="left",
            nulls_equal=True,
        )
        keys = distinct.unique(["_v", "behovsniva", "_mask"], keep="first", maintain_order=True)
        recs = _recommendations(keys, versions)
        checks = scored.select("_v", "behovsniva", "_mask", "tjeneste", "enhet", "omfang").unique()
        positions: list[str] = []
        for v, level, mask, service, unit, volume in checks.iter_rows():
            rec = recs[(v, level, mask)]
            assert isinstance(rec, Recommendation)
            positions.append(
                check_decision(rec, versions[v], service, float(volume), unit).position
            )
        checks = checks.with_columns(pl.Series("position", positions, pl.Utf8))
        parts.append(
            scored.join(
                checks, on=["_v", "behovsniva", "_mask", "tjeneste", "enhet", "omfang"], how="left"
            ).select("_row", "position")
        )
    if not level_only.is_empty():
        checks = level_only.select("_v", "behovsniva", "tjeneste", "enhet", "omfang").unique()
        positions = []
        for v, level, service, unit, volume in checks.iter_rows():
            svc = versions[v].care_ladder.services.get(service)
            position = "other"
            if svc is not None:
                rng = svc.volume[level]
                comparable = convert_volume(float(volume), unit, svc.unit)
                if comparable is not None:
                    position = (
                        "below"
                        if comparable < rng.min - 1e-9
                        else "above"
                        if comparable > rng.max + 1e-9
                        else "within"
                    )
            positions.append(position)
        checks = checks.with_columns(pl.Series("position", positions, pl.Utf8))
        parts.append(
            level_only.join(
                checks, on=["_v", "behovsniva", "tjeneste", "enhet", "omfang"], how="left"
            ).select("_row", "position")
        )
    if not parts:
        return pl.DataFrame(schema={"_row": pl.UInt32, "position": pl.Utf8})
    return pl.concat(parts)


def criteria_estimates(criteria: CriteriaSet) -> tuple[str, ...]:
    """The criteria items (need level, care ladder, services) that rest on estimates, in any
    version: the coverage figures rest on them."""
    out: set[str] = set()
    for version in criteria:
        out.update(p for p in version.estimates() if p.startswith(("need_level", "care_ladder")))
    return tuple(sorted(out))
