"""The quick proof that the evaluation's tables `personer` and `kartlegging` break no rule, and
their typed form (docs/evaluation-data.md).

The checks of `sio.data.evaluation_tables` turn each table into text first (the 17 IPLOS score
columns of a Parquet file are small integers; as text they take several times the memory) and
evaluate every rule on every row. Nearly every table that reaches a computation is valid, so
`typed_evaluation` first tries to prove that: the columns of few distinct values (scores, need
level, municipality, dates, year of birth, sex) are checked once per distinct value, in their
text form as a text read gives it (`sio.data.readers.text_expr`), and the rest with a handful of
whole-column aggregates, on the table as read. The answer is one-sided, as in
`sio.data.vedtak_fast`: either neither table breaks a rule — and they come back typed exactly as
`check_personer` and `check_kartlegging` type them — or `None`, and the caller runs the full
diagnosis, which names every problem by file, line, field and rule.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from sio.data.readers import text_expr
from sio.data.tables import (
    CODE_RE,
    DATE_RE,
    IPLOS_COLUMNS,
    KJOENN,
    PSEUDONYM_RE,
)

_YEAR_RE = r"^\d{4}$"


def _no_nul_possible(dtype: pl.DataType) -> bool:
    """Whether the text form of a column of `dtype` can never hold a NUL character."""
    return (
        dtype.is_numeric()
        or dtype in (pl.Date, pl.Boolean, pl.Null)
        or isinstance(dtype, pl.Datetime)
    )


def _usable(frame: pl.DataFrame, ids: str) -> bool:
    """Whether the quick proof can read `frame`: its id column is text, every other column text
    or of a type whose text cannot hold a NUL, and its rows come from one source."""
    if "_src" in frame.columns or frame.schema[ids] != pl.Utf8:
        return False
    return all(
        dtype == pl.Utf8 or _no_nul_possible(dtype)
        for c, dtype in frame.schema.items()
        if c != "_line"
    )


def _texts(values: pl.Series, native: bool) -> pl.Series:
    """The distinct `values` of a column as the text validation sees."""
    if not native:
        return values
    return values.to_frame("v").select(text_expr("v", values.dtype)).to_series()


def _given(text: pl.Series) -> pl.Series:
    """Whether each text is a value (neither null nor empty)."""
    return (text.is_not_null() & (text != "")).fill_null(False)


def _mapped(col: str, old: pl.Series, new: pl.Series, dtype: pl.DataType) -> pl.Expr:
    """Column `col` with each distinct value of `old` replaced by the same position of `new`
    (nulls stay null); the column itself where that changes nothing."""
    keep = old.is_not_null()
    old, new = old.filter(keep), new.filter(keep).cast(dtype)
    if old.len() == 0 or (old.dtype == dtype and old.equals(new, check_names=False)):
        return pl.col(col).cast(dtype)
    try:  # a cast is elementwise: where it maps each distinct value right, it maps the column
        if old.cast(dtype, strict=False).equals(new, check_names=False):
            return pl.col(col).cast(dtype, strict=False)
    except pl.exceptions.PolarsError:
        pass
    return pl.col(col).replace_strict(old, new, default=None, return_dtype=dtype)


def _ids_summary(ids: str, native: bool) -> list[pl.Expr]:
    """Aggregates that are true where the id column breaks a rule: an empty or padded id (a
    padded one is left to the diagnosis, which strips it), one that looks like a national
    identity number."""
    c = pl.col(ids)
    exprs = [
        (c.is_null() | (c == "")).any().alias("_empty"),
        c.str.contains(PSEUDONYM_RE).any().alias("_pseudonym"),
    ]
    if native:
        padded = c.str.len_bytes() != c.str.strip_chars().str.len_bytes()
        exprs.append(padded.any().alias("_padded"))
    return exprs


def _nul_summary(frame: pl.DataFrame) -> list[pl.Expr]:
    """Aggregates that are true where a text column holds a NUL character (stripping spaces
    does not remove one, so a native text column is searched as it is)."""
    return [
        pl.col(c).cast(pl.Binary).bin.contains(b"\x00").any().alias(f"_nul_{c}")
        for c, dtype in frame.schema.items()
        if dtype == pl.Utf8 and c not in ("_line", "_src")
    ]


def _first_pass(
    frame: pl.DataFrame, ids: str, distinct: tuple[str, ...], native: bool
) -> tuple[bool, dict[str, pl.Series]]:
    """(whether the id and NUL aggregates all hold, the distinct values of the `distinct`
    columns), in one pass over `frame`."""
    summary = (
        frame.lazy()
        .select(
            *_ids_summary(ids, native),
            *_nul_summary(frame),
            *(pl.col(c).unique().implode() for c in distinct),
        )
        .collect()
    )
    flags = summary.drop(*distinct).row(0)
    return not any(flags), {c: summary.get_column(c)[0] for c in distinct}


def typed_personer(
    frame: pl.DataFrame, native: bool, today: dt.date | None = None
) -> pl.DataFrame | None:
    """`personer` (person_id, foedselsaar, kjoenn, bor_alene, `_line`, maybe other columns)
    typed as `check_personer` types it, if it breaks none of its rules; None if it might."""
    from sio.data.evaluation_tables import FIRST_BIRTH_YEAR

    if not _usable(frame, "person_id"):
        return None
    last = (today or dt.date.today()).year
    ok, u = _first_pass(frame, "person_id", ("foedselsaar", "kjoenn", "bor_alene"), native)
    if not ok:
        return None
    t = {c: _texts(v, native) for c, v in u.items()}
    year_text = t["foedselsaar"]
    if not (_given(year_text) & year_text.str.contains(_YEAR_RE).fill_null(False)).all():
        return None
    year = year_text.cast(pl.Int32, strict=False)
    if ((year < FIRST_BIRTH_YEAR) | (year > last)).any():
        return None
    sex = t["kjoenn"]
    if (_given(sex) & ~sex.is_in(list(KJOENN))).any():
        return None
    alone = t["bor_alene"].str.strip_chars().str.to_lowercase()
    if (_given(t["bor_alene"]) & ~alone.is_in(["true", "false"])).any():
        return None
    sex_typed = pl.select(pl.when(_given(sex)).then(sex)).to_series()
    alone_typed = pl.select(pl.when(_given(t["bor_alene"])).then(alone == "true")).to_series()
    typed = _in_order(
        frame.select(
            "person_id",
            _mapped("foedselsaar", u["foedselsaar"], year, pl.Int32()),
            _mapped("kjoenn", u["kjoenn"], sex_typed, pl.Utf8()),
            _mapped("bor_alene", u["bor_alene"], alone_typed, pl.Boolean()),
        ),
        ("person_id",),
    )
    ids = pl.col("person_id")
    if typed.select((ids == ids.shift(1)).fill_null(False).any()).item():
        return None  # a person_id given twice (side by side once sorted)
    return typed


def typed_kartlegging(
    frame: pl.DataFrame,
    codes: pl.DataFrame,
    personer: pl.DataFrame | None,
    native: bool,
) -> pl.DataFrame | None:
    """`kartlegging` (person_id, kommunenummer, dato, the 17 scores, behovsniva, `_line`, maybe
    other columns) typed as `check_kartlegging` types it, if it breaks none of its rules given
    the municipalities `codes` (kommunenummer, gyldig_fra_d, gyldig_til_d) and the typed
    `personer` (None: no such table); None if it might."""
    from sio.criteria.conditions import NEED_LEVELS
    from sio.criteria.iplos import SCORES
    from sio.criteria.loader import load_criteria
    from sio.data.evaluation_tables import need_level_expr

    if not _usable(frame, "person_id"):
        return None
    distinct = ("kommunenummer", "dato", *IPLOS_COLUMNS, "behovsniva")
    ok, u = _first_pass(frame, "person_id", distinct, native)
    if not ok:
        return None
    t = {c: _texts(v, native) for c, v in u.items()}

    code = t["kommunenummer"]
    known = codes.get_column("kommunenummer").to_list()
    if not (_given(code) & code.str.contains(CODE_RE) & code.is_in(known)).fill_null(False).all():
        return None
    day = t["dato"]
    date = day.str.to_date("%Y-%m-%d", strict=False)
    if not (_given(day) & day.str.contains(DATE_RE) & date.is_not_null()).fill_null(False).all():
        return None
    valid = [str(s) for s in SCORES]
    scores: list[pl.Expr] = []
    for v in IPLOS_COLUMNS:
        given = _given(t[v])
        if (given & ~t[v].is_in(valid)).any():
            return None
        score = pl.select(pl.when(given).then(t[v].cast(pl.Int8, strict=False))).to_series()
        scores.append(_mapped(v, u[v], score, pl.Int8()))
    level = t["behovsniva"]
    if (_given(level) & ~level.is_in(list(NEED_LEVELS))).any():
        return None
    level_typed = pl.select(pl.when(_given(level)).then(level)).to_series()

    n_scores = pl.sum_horizontal([pl.col(v).is_not_null().cast(pl.Int32) for v in IPLOS_COLUMNS])
    n, given_level, dato = pl.col("_n"), pl.col("_given"), pl.col("dato")
    complete = n == len(IPLOS_COLUMNS)
    typed = _in_order(
        frame.lazy()
        .select(
            "person_id",
            _mapped("kommunenummer", u["kommunenummer"], code, pl.Utf8()),
            _mapped("dato", u["dato"], date, pl.Date()),
            *scores,
            _mapped("behovsniva", u["behovsniva"], level_typed, pl.Utf8()).alias("_given"),
        )
        .with_columns(n_scores.alias("_n"))
        .with_columns(pl.when(complete).then(need_level_expr(load_criteria(), "dato")).alias("_c"))
        .collect(),
        ("person_id", "dato"),
    )
    computed = pl.col("_c")
    same_key = (pl.col("person_id") == pl.col("person_id").shift(1)) & (dato == dato.shift(1))
    checks = (
        typed.lazy()
        .select(
            ((n > 0) & ~complete).any().alias("partial"),  # scores for some variables only
            ((n == 0) & given_level.is_null()).any().alias("need_given"),  # neither
            (given_level.is_not_null() & (computed != given_level))
            .fill_null(False)
            .any()
            .alias("disagrees"),
            same_key.fill_null(False).any().alias("duplicate"),  # side by side once sorted
        )
        .collect()
        .row(0)
    )
    if any(checks):
        return None
    spans = (
        typed.lazy()
        .group_by("kommunenummer")
        .agg(dato.min().alias("_first"), dato.max().alias("_last"))
        .join(codes.lazy(), on="kommunenummer", how="left")
        .select(
            (
                (pl.col("_first") < pl.col("gyldig_fra_d"))
                | (pl.col("_last") > pl.col("gyldig_til_d"))
            )
            .fill_null(False)
            .any()
        )
        .collect()
        .item()
    )
    if spans:
        return None  # an assessment outside its municipality's validity
    if personer is not None:
        born = personer.lazy().select("person_id", pl.col("foedselsaar").alias("_born"))
        orphan_or_early = (
            typed.lazy()
            .select("person_id", "dato")
            .join(born, on="person_id", how="left")
            .select((pl.col("_born").is_null() | (dato.dt.year() < pl.col("_born"))).any())
            .collect()
            .item()
        )
        if orphan_or_early:
            return None
    return typed.select(
        "person_id",
        "kommunenummer",
        "dato",
        *IPLOS_COLUMNS,
        pl.coalesce(computed, given_level).alias("behovsniva"),
        complete.alias("skaarer"),
    )


def _in_order(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """`frame` sorted by `keys` (none of them null); a frame already in that order (as a file
    written in it is) is returned as it is, without sorting."""
    cols = [pl.col(k) for k in keys]
    # each row's keys are at least the previous row's, compared as a sort compares them
    at_least = cols[-1] >= cols[-1].shift(1)
    for c in reversed(cols[:-1]):
        at_least = (c > c.shift(1)) | ((c == c.shift(1)) & at_least)
    ordered = frame.select(at_least.fill_null(True).all()).item()  # the first row: no previous
    return frame if ordered else frame.sort(*keys)


def typed_evaluation(
    frames: dict[str, pl.DataFrame],
    native: dict[str, bool],
    codes: pl.DataFrame,
) -> tuple[pl.DataFrame | None, pl.DataFrame | None] | None:
    """(personer, kartlegging) typed, for those of the two in `frames` (a table absent there:
    None), if neither breaks a rule; None if one might."""
    personer = kartlegging = None
    if "personer" in frames:
        personer = typed_personer(frames["personer"], native["personer"])
        if personer is None:
            return None
    if "kartlegging" in frames:
        kartlegging = typed_kartlegging(
            frames["kartlegging"], codes, personer, native["kartlegging"]
        )
        if kartlegging is None:
            return None
    return personer, kartlegging
