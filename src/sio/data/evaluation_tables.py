"""The evaluation's input tables `kartlegging` and `personer` (docs/evaluation-data.md): their
checks and their typed form.

Both tables are optional extensions of interfaces.md §1. An assessment row gives either the 17
IPLOS scores (`sio.criteria.iplos`: 1–5, or 9 = not relevant) or, where the source has no
scores, only the aggregate need level (`behovsniva`); where it gives scores, the need level is
computed from them with the need-level rule of the allocation criteria in force on the
assessment's date (`sio.criteria.need_level`; an assessment dated before the first criteria
version uses that first version). A row that gives both must agree with the rule.

The rule is evaluated here as one Polars expression per criteria version, so that a million
assessments are classified in one pass; `need_level_expr` follows the semantics of
`sio.criteria.conditions.holds` exactly (9 counts as 1, means compared as exact fractions), and
tests/test_evaluation_data.py checks it against `sio.criteria.need_level.classify`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

import polars as pl

from sio.data.readers import RawTable
from sio.data.tables import IPLOS_COLUMNS, KJOENN, PSEUDONYM_RE, TABLE_BY_NAME
from sio.data.validation import (
    Problem,
    _check_code,
    _check_date,
    _check_known_code,
    _Collector,
    _date,
    _empty,
    _join_validity,
    _present,
    looked_up,
)
from sio.i18n import _

if TYPE_CHECKING:
    from sio.criteria.conditions import Condition
    from sio.criteria.loader import CriteriaSet
    from sio.criteria.model import NeedLevelRule

__all__ = [
    "FIRST_BIRTH_YEAR",
    "check_kartlegging",
    "check_kartlegging_rows",
    "check_personer",
    "need_level_expr",
]

FIRST_BIRTH_YEAR = 1880
"""The earliest year of birth accepted (no one alive was born before it)."""


def _required(c: _Collector, table: RawTable, df: pl.DataFrame, col: str) -> None:
    c.check(table, df, _empty(col), col, "required", _("required value is empty"))


def _pseudonym(c: _Collector, table: RawTable, df: pl.DataFrame) -> None:
    c.check(
        table,
        df,
        pl.col("person_id").str.contains(PSEUDONYM_RE),
        "person_id",
        "pseudonym",
        _("looks like a national identity number; person_id must be a pseudonym"),
    )


def _bool(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_lowercase()


def check_personer(
    c: _Collector, table: RawTable, df: pl.DataFrame, today: dt.date | None = None
) -> pl.DataFrame:
    """Check `personer` (person_id, foedselsaar, optional kjoenn and bor_alene); return it typed
    (see `InputData.personer`)."""
    last = (today or dt.date.today()).year
    _required(c, table, df, "person_id")
    _pseudonym(c, table, df)
    c.check(
        table,
        df,
        pl.col("person_id").is_duplicated() & _present("person_id"),
        "person_id",
        "duplicate",
        _("the same person_id occurs more than once"),
    )
    year_form = pl.col("foedselsaar").str.contains(r"^\d{4}$")
    c.check(
        table,
        df,
        _empty("foedselsaar") | ~year_form,
        "foedselsaar",
        "year",
        _("not a year (four digits): {value}"),
    )
    year = pl.col("foedselsaar").cast(pl.Int32, strict=False)
    c.check(
        table,
        df,
        year_form & ((year < FIRST_BIRTH_YEAR) | (year > last)),
        "foedselsaar",
        "birth_year",
        _("the year of birth must lie between {first} and {last}: {value}").format(
            first=FIRST_BIRTH_YEAR, last=last, value="{value}"
        ),
    )
    c.check(
        table,
        df,
        _present("kjoenn") & ~pl.col("kjoenn").is_in(list(KJOENN)),
        "kjoenn",
        "sex",
        _("must be K (kvinne), M (mann) or empty: {value}"),
    )
    c.check(
        table,
        df,
        _present("bor_alene") & ~_bool("bor_alene").is_in(["true", "false"]),
        "bor_alene",
        "bool",
        _("must be true, false or empty"),
    )
    return df.select(
        "person_id",
        year.alias("foedselsaar"),
        pl.when(_present("kjoenn")).then(pl.col("kjoenn")).alias("kjoenn"),
        pl.when(_present("bor_alene")).then(_bool("bor_alene") == "true").alias("bor_alene"),
    ).sort("person_id")


def _effective(col: str) -> pl.Expr:
    """A score as the criteria compare it: 9 (not relevant) counts as 1 (`effective_score`)."""
    from sio.criteria.iplos import NOT_RELEVANT, NOT_RELEVANT_COUNTS_AS

    score = pl.col(col)
    return pl.when(score == NOT_RELEVANT).then(NOT_RELEVANT_COUNTS_AS).otherwise(score)


def condition_expr(condition: Condition) -> pl.Expr:
    """The condition as a Boolean expression over Int columns named after the IPLOS variables
    (the semantics of `sio.criteria.conditions.holds` for facts without a need level)."""
    from sio.criteria.conditions import AllOf, AnyOf, MeanAtLeast, NeedLevelAtLeast, ScoresAtLeast

    if isinstance(condition, ScoresAtLeast):
        rule = condition.scores_at_least
        hits = [(_effective(v) >= rule.min_score).cast(pl.Int32) for v in rule.chosen()]
        return pl.sum_horizontal(hits) >= rule.count
    if isinstance(condition, MeanAtLeast):
        rule_m = condition.mean_at_least
        chosen = rule_m.chosen()
        bound = Fraction(str(rule_m.value))  # mean ≥ p/q ⟺ sum × q ≥ p × n, in integers
        total = pl.sum_horizontal([_effective(v).cast(pl.Int64) for v in chosen])
        return total * bound.denominator >= bound.numerator * len(chosen)
    if isinstance(condition, NeedLevelAtLeast):
        return pl.lit(False)  # a need-level rule has no need level to test (as `holds`)
    if isinstance(condition, AllOf):
        return pl.all_horizontal([condition_expr(x) for x in condition.all_of])
    assert isinstance(condition, AnyOf)
    return pl.any_horizontal([condition_expr(x) for x in condition.any_of])


def need_level_expr(criteria: CriteriaSet, date_col: str = "dato") -> pl.Expr:
    """The need level of each row from its 17 score columns (Int) and its date: the rule of the
    criteria version in force on the date (the first version also before it came into force)."""
    versions = list(criteria)
    level = _level_of(versions[0].need_level)
    for version in versions[1:]:
        level = (
            pl.when(pl.col(date_col) >= pl.lit(version.valid_from))
            .then(_level_of(version.need_level))
            .otherwise(level)
        )
    return level


def _level_of(rule: NeedLevelRule) -> pl.Expr:
    """One version's need-level rule (`sio.criteria.need_level.classify`) as an expression."""
    return (
        pl.when(condition_expr(rule.omfattende))
        .then(pl.lit("omfattende"))
        .when(condition_expr(rule.middels_til_stort))
        .then(pl.lit("middels_til_stort"))
        .otherwise(pl.lit("noe_avgrenset"))
    )


def check_kartlegging(
    c: _Collector,
    table: RawTable,
    df: pl.DataFrame,
    codes: pl.DataFrame,
    personer: pl.DataFrame | None,
) -> pl.DataFrame:
    """Check `kartlegging` against the municipalities (`codes`: kommunenummer with its first and
    last valid day) and, if there is a `personer` table, against the persons (typed); return it
    typed (see `InputData.kartlegging`)."""
    from sio.criteria.conditions import NEED_LEVELS
    from sio.criteria.iplos import SCORES
    from sio.criteria.loader import load_criteria

    for col in ("person_id", "dato"):
        _required(c, table, df, col)
    _pseudonym(c, table, df)
    _check_code(c, table, df, "kommunenummer")
    _check_date(c, table, df, "dato")
    df = _join_validity(df.with_columns(_date("dato").alias("_dato")), codes)
    _check_known_code(c, table, df)
    dato = pl.col("_dato")
    c.check(
        table,
        df,
        pl.col("_k_known").is_not_null() & ((dato < pl.col("_k_fra")) | (dato > pl.col("_k_til"))),
        "kommunenummer",
        "validity",
        _("the municipality is not valid on the assessment's date"),
    )
    c.check(
        table,
        df,
        pl.struct("person_id", "dato").is_duplicated() & _present("person_id") & _present("dato"),
        "dato",
        "duplicate",
        _("the same person is assessed more than once on this day"),
    )
    valid = [str(s) for s in SCORES]
    allowed = {*valid, ""}
    for v in IPLOS_COLUMNS:  # a column's distinct values first: the row check only if needed
        if set(df.get_column(v).drop_nulls().unique().to_list()) <= allowed:
            continue
        c.check(
            table,
            df,
            _present(v) & ~pl.col(v).is_in(valid),
            v,
            "iplos_score",
            _("an IPLOS score must be 1, 2, 3, 4, 5 or 9 (9 = not relevant): {value}"),
        )
    given = pl.sum_horizontal([_present(v).cast(pl.Int32) for v in IPLOS_COLUMNS])
    df = df.with_columns(given.alias("_n_scores"))
    partial = (pl.col("_n_scores") > 0) & (pl.col("_n_scores") < len(IPLOS_COLUMNS))
    some_partial = bool(df.select(partial.any()).item())
    for v in IPLOS_COLUMNS if some_partial else ():
        c.check(
            table,
            df,
            partial & _empty(v),
            v,
            "iplos_partial",
            _("the row gives scores for some of the 17 IPLOS variables, but not for this one"),
        )
    c.check(
        table,
        df,
        (pl.col("_n_scores") == 0) & _empty("behovsniva"),
        "behovsniva",
        "need_given",
        _("give either the 17 IPLOS scores or a need level (behovsniva)"),
    )
    c.check(
        table,
        df,
        _present("behovsniva") & ~pl.col("behovsniva").is_in(list(NEED_LEVELS)),
        "behovsniva",
        "need_level",
        _("the need level must be one of {levels}: {value}").format(
            levels=", ".join(NEED_LEVELS), value="{value}"
        ),
    )
    complete = pl.col("_n_scores") == len(IPLOS_COLUMNS)
    scores = [
        pl.when(complete).then(pl.col(v).cast(pl.Int8, strict=False)).alias(v)
        for v in IPLOS_COLUMNS
    ]
    df = df.with_columns(scores)
    all_valid = pl.all_horizontal([pl.col(v).is_not_null() for v in IPLOS_COLUMNS])
    computed = (
        pl.when(all_valid & dato.is_not_null())
        .then(need_level_expr(load_criteria(), "_dato"))
        .alias("_computed")
    )
    df = df.with_columns(computed)
    for level in NEED_LEVELS:
        c.check(
            table,
            df,
            _present("behovsniva")
            & (pl.col("_computed") == level)
            & (pl.col("behovsniva") != level),
            "behovsniva",
            "need_level_disagrees",
            _("the 17 scores give the need level {level}, not {value}").format(
                level=level, value="{value}"
            ),
        )
    if personer is not None:
        born = personer.select(
            "person_id", pl.col("foedselsaar").alias("_born"), pl.lit(True).alias("_known_person")
        )
        df = looked_up(df, born.unique("person_id"), "person_id")
        c.check(
            table,
            df,
            _present("person_id") & pl.col("_known_person").is_null(),
            "person_id",
            "unknown_person",
            _("the person is not in personer"),
        )
        c.check(
            table,
            df,
            dato.dt.year() < pl.col("_born"),
            "dato",
            "before_birth",
            _("the assessment is dated before the person's year of birth: {value}"),
        )
    return df.select(
        "person_id",
        "kommunenummer",
        dato.alias("dato"),
        *IPLOS_COLUMNS,
        pl.coalesce("_computed", pl.when(_present("behovsniva")).then(pl.col("behovsniva"))).alias(
            "behovsniva"
        ),
        complete.alias("skaarer"),
    ).sort("person_id", "dato")


def check_kartlegging_rows(
    rows: Sequence[Mapping[str, str | None]],
    kommuner: Sequence[tuple[str, dt.date, dt.date | None]],
    source: str = "kartlegging",
) -> list[Problem]:
    """The `kartlegging` rules an import applies, for rows that come from elsewhere than a file
    (an assessment in the casework service): `rows` hold the text cells, `kommuner` the code,
    first and last valid day of the municipalities they name."""
    from sio.data.validation import _with_lines

    cols = TABLE_BY_NAME["kartlegging"].all_columns
    frame = pl.DataFrame(
        {col: [r.get(col) for r in rows] for col in cols}, schema=dict.fromkeys(cols, pl.Utf8)
    )
    codes = pl.DataFrame(
        kommuner,
        schema={"kommunenummer": pl.Utf8, "gyldig_fra_d": pl.Date, "gyldig_til_d": pl.Date},
        orient="row",
    )
    c = _Collector()
    check_kartlegging(c, RawTable("kartlegging", source, frame), _with_lines(frame), codes, None)
    c.flush()
    return c.problems
