"""The quick proof that a vedtak table breaks no rule, and its typed form (interfaces.md §1).

Nearly every vedtak table that reaches a computation is valid. Instead of evaluating each rule on
each of a million rows, `typed_vedtak` checks the columns of few distinct values (municipality,
service, price group, unit, volume, dates) once per distinct value, and the rest with a handful of
whole-column aggregates, in a few vectorised passes. The answer is one-sided: either the table
provably breaks none of the vedtak rules of `sio.data.validation` — and then it comes back typed,
with the activity kernel's derived columns (`sio.rules.aktivitetstilskudd.with_derived`), the
table of groups and the rows that the "unusual volume" warning names — or `None`, and the caller
runs the full row-by-row diagnosis, which names every problem by file, line, field and rule.

The frame may be native (`sio.data.readers.RawTable`: a Parquet file's own types, or a CSV's
unstripped text); its cells are seen as `text_expr` shows them, exactly as a text read would.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from sio.data.readers import text_expr
from sio.data.tables import (
    CODE_RE,
    DATE_RE,
    NUM_RE,
    PSEUDONYM_RE,
    STANDARD_GROUP,
    TABLE_BY_NAME,
    UNITS,
)
from sio.rules.aktivitetstilskudd import _FAR

_DISTINCT = ("prisgruppe", "omfang", "fra", "til")
_TEXT = TABLE_BY_NAME["vedtak"].columns
_PER_MONTH = ("timer_per_maaned", "per_maaned")
# a lookup table of group ids indexed by (municipality, service, price group) up to this size
_DENSE_MAX = 1 << 20


@dataclass(frozen=True)
class VedtakRules:
    """What the vedtak rules take from the parameters."""

    priced: Mapping[str, Collection[str]]  # service with a unit price → its price groups
    lump: Collection[str]  # services of the lump-sum grant
    hour: Collection[str]  # services priced per hour
    day: Collection[str]  # services priced per day


@dataclass(frozen=True)
class TypedVedtak:
    """A vedtak table that breaks no rule: typed, derived, grouped, and its unusual rows."""

    vedtak: pl.DataFrame  # the columns of `InputData.vedtak`
    groups: pl.DataFrame  # gid, kommunenummer, tjeneste, prisgruppe
    unusual: pl.DataFrame  # `_line` (and `_src`) of each row with a volume above the usual range


def _texts(values: pl.Series, native: bool) -> pl.Series:
    """The distinct `values` of a column as the text validation sees."""
    if not native:
        return values
    return values.to_frame("v").select(text_expr("v", values.dtype)).to_series()


def _empty(s: pl.Series) -> pl.Series:
    return s.is_null() | (s == "")


def _mapped(col: str, old: pl.Series, new: pl.Series, dtype: pl.DataType) -> pl.Expr:
    """Column `col` with each distinct value of `old` replaced by the same position of `new`
    (nulls stay null); the column itself where that changes nothing."""
    if old.dtype == dtype and old.equals(new, check_names=False, null_equal=True):
        return pl.col(col)
    keep = old.is_not_null()
    old, new = old.filter(keep), new.filter(keep)
    if old.dtype == dtype and old.equals(new, check_names=False, null_equal=True):
        return pl.col(col)  # only a null was to become something else: nulls stay null
    if old.dtype == pl.Utf8:  # a text column: by its index in the distinct values
        index = pl.col(col).cast(pl.Enum(old.to_list())).to_physical()
        return pl.lit(new.cast(dtype)).gather(index).alias(col)
    return pl.col(col).replace_strict(old, new, return_dtype=dtype)


def typed_vedtak(
    frame: pl.DataFrame, codes: pl.DataFrame, rules: VedtakRules, native: bool
) -> TypedVedtak | None:
    """The vedtak of `frame` (the table's columns, `_line`, maybe `_src`) typed and derived, if
    they break no rule given the municipalities `codes` (kommunenummer, gyldig_fra_d,
    gyldig_til_d); None if they might."""
    n = frame.height
    schema = frame.schema
    if n == 0 or (not native and any(schema[c] != pl.Utf8 for c in _TEXT)):
        return None

    def text(c: str) -> pl.Expr:
        """The column as text; a native text column as it is (spaces around a value make the
        value unknown below, and the table is left to the full diagnosis)."""
        return text_expr(c, schema[c]) if native and schema[c] != pl.Utf8 else pl.col(c)

    def empty(e: pl.Expr) -> pl.Expr:
        return e.is_null() | (e == "")

    # pass 1: the distinct values of some columns of few values; the columns of many values
    ids, persons = text("vedtak_id"), text("person_id")
    padded = [
        (pl.col(c).str.len_bytes() != pl.col(c).str.strip_chars().str.len_bytes()).any()
        for c in ("vedtak_id", "person_id")
        if native and schema[c] == pl.Utf8
    ]
    if schema["vedtak_id"] == pl.Utf8 and frame.get_column("vedtak_id").is_sorted():
        repeated = (ids == ids.shift(1)).any()  # duplicates side by side
    else:  # distinct hashes are distinct values (equal hashes: left to the full diagnosis)
        repeated = ids.hash().n_unique() != n
    # A date column's text is monotone in the date (YYYY-MM-DD while the year has four digits):
    # its least and greatest dates (and a null, if any) stand for all its distinct values.
    as_dates = [c for c in ("fra", "til") if native and schema[c] == pl.Date]

    def distinct(c: str) -> list[pl.Expr]:
        if c not in as_dates:
            return [pl.col(c).unique().implode()]
        return [
            pl.col(c).min().alias(f"{c}:min"),
            pl.col(c).max().alias(f"{c}:max"),
            pl.col(c).has_nulls().alias(f"{c}:null"),
        ]

    summary = (
        frame.lazy()
        .select(
            *(e for c in _DISTINCT for e in distinct(c)),
            pl.any_horizontal(empty(ids).any(), empty(persons).any(), *padded).alias("bad"),
            repeated.alias("repeated"),
            persons.str.contains(PSEUDONYM_RE).any().alias("pseudonym"),
        )
        .collect()
    )
    first = summary.select("bad", "repeated", "pseudonym").row(0, named=True)
    if first["bad"] or first["repeated"] or first["pseudonym"]:
        return None
    u: dict[str, pl.Series] = {}
    for c in _DISTINCT:
        if c in as_dates:
            ends = [summary.get_column(f"{c}:{x}") for x in ("min", "max")]  # kept in Polars:
            if summary.get_column(f"{c}:null")[0]:  # a year of five digits is no Python date
                ends.append(pl.Series([None], dtype=pl.Date))
            u[c] = pl.concat(ends).rename(c)
        else:
            u[c] = summary.get_column(c)[0]
    t = {c: _texts(u[c], native) for c in _DISTINCT}

    known = (
        codes.filter(pl.col("kommunenummer").str.contains(CODE_RE))
        .unique("kommunenummer")
        .sort("kommunenummer")
    )
    k_list = known.get_column("kommunenummer").to_list()
    services = sorted(set(rules.priced) | set(rules.lump))
    g_texts = t["prisgruppe"].fill_null(STANDARD_GROUP).replace("", STANDARD_GROUP)
    groups = sorted(set(g_texts.to_list()))
    g_pos = g_texts.replace_strict(groups, list(range(len(groups))), return_dtype=pl.UInt32)
    units = list(UNITS)

    omfang = t["omfang"]
    if _empty(omfang).any() or not omfang.str.contains(NUM_RE).all():
        return None
    volume = omfang.cast(pl.Float64, strict=False)
    if (volume < 0).any():
        return None
    dates: dict[str, pl.Series] = {}
    for c in ("fra", "til"):
        given = ~_empty(t[c])
        if c == "fra" and not given.all():
            return None
        d = t[c].str.to_date("%Y-%m-%d", strict=False)
        bad = given & (~t[c].str.contains(DATE_RE).fill_null(False) | d.is_null())
        if bad.any():
            return None
        dates[c] = d

    nk, ns, ng, ne = len(k_list), len(services), len(groups), len(units)
    if nk * ns * ng * ne >= 1 << 62:
        return None
    tpu, doegn = units.index("timer_per_uke"), units.index("doegn")

    # pass 2: the typed columns, and the codes of the few-valued ones (null: not a known value)
    def as_text(c: str, values: pl.Series) -> pl.Expr:
        return _mapped(c, u[c], values, pl.Utf8())

    key_type = pl.UInt32() if nk * ns * ng * ne < 1 << 32 else pl.UInt64()

    def code(c: str, allowed: Sequence[str]) -> pl.Expr:
        return text(c).cast(pl.Enum(allowed), strict=False).to_physical().cast(key_type)

    extra = ["_src"] if "_src" in frame.columns else []
    g_code = _mapped("prisgruppe", u["prisgruppe"], g_pos, pl.UInt32())
    if u["prisgruppe"].null_count():
        g_code = g_code.fill_null(groups.index(STANDARD_GROUP))
    k, s, e = pl.col("_k"), pl.col("_s"), pl.col("_e")
    typed = (
        frame.lazy()
        .select(
            ids,
            persons,
            text("kommunenummer"),
            text("tjeneste"),
            as_text("prisgruppe", g_texts).fill_null(STANDARD_GROUP),
            _mapped("omfang", u["omfang"], volume, pl.Float64()),
            as_text("omfang", omfang).alias("omfang_tekst"),
            text("enhet"),
            _mapped("fra", u["fra"], dates["fra"], pl.Date()),
            _mapped("til", u["til"], dates["til"], pl.Date()),
            pl.col("_line").cast(pl.Int64).alias("line"),
            *extra,
            code("kommunenummer", k_list).alias("_k"),
            code("tjeneste", services).alias("_s"),
            code("enhet", units).alias("_e"),
            g_code.cast(key_type).alias("_g"),
        )
        .with_columns(((k * ns + s) * ng + pl.col("_g")).alias("_kg"))
        .collect()
    )
    if typed.select(pl.any_horizontal(k.has_nulls(), s.has_nulls(), e.has_nulls())).item():
        return None  # an empty, unknown or padded municipality, service or unit

    # pass 3: the rules across columns, as aggregates
    k_fra = pl.lit(known.get_column("gyldig_fra_d")).gather(k)
    k_til = pl.lit(known.get_column("gyldig_til_d")).gather(k)
    fra, til, vol = pl.col("fra"), pl.col("til"), pl.col("omfang")
    checks = (
        typed.lazy()
        .select(
            (pl.col("_kg") * ne + e).unique().implode().alias("combos"),
            (til < fra).fill_null(False).any().alias("order"),
            ((e == tpu) & (vol > 168)).fill_null(False).any().alias("range"),
            ((fra < k_fra) | (til > k_til) | (til.is_null() & k_til.is_not_null()))
            .fill_null(False)
            .any()
            .alias("validity"),
        )
        .collect()
        .row(0, named=True)
    )
    if checks["order"] or checks["range"] or checks["validity"]:
        return None
    triples: set[tuple[int, int, int]] = set()
    for key in checks["combos"]:
        kg, ei = divmod(int(key), ne)
        ks, gi = divmod(kg, ng)
        ki, si = divmod(ks, ns)
        service, group, unit = services[si], groups[gi], units[ei]
        if service in rules.priced and group not in rules.priced[service]:
            return None  # price_group
        if unit in ("timer_per_uke", "timer_per_maaned") and service in rules.day:
            return None  # unit_service
        if unit == "doegn" and service in rules.hour:
            return None
        triples.add((ki, si, gi))

    # the kernel's columns (the contract of `with_derived`)
    order = sorted(triples)
    keys = [(ki * ns + si) * ng + gi for ki, si, gi in order]
    kg_col = pl.col("_kg")
    if nk * ns * ng <= _DENSE_MAX:
        lookup = [0] * (nk * ns * ng)
        for gid, key in enumerate(keys):
            lookup[key] = gid
        gid_expr = pl.lit(pl.Series(lookup, dtype=pl.UInt32)).gather(kg_col)
    else:
        gid_expr = kg_col.replace_strict(keys, list(range(len(keys))), return_dtype=pl.UInt32)
    unusual_row = ((e == tpu) & (vol > 84) & (vol <= 168)) | ((e == doegn) & (vol > 2))
    unusual = (
        typed.lazy()
        .filter(unusual_row.fill_null(False))
        .select(pl.col("line").alias("_line"), *extra)
        .collect()
    )
    vedtak = typed.select(
        "vedtak_id",
        "person_id",
        "kommunenummer",
        "tjeneste",
        "prisgruppe",
        "omfang",
        "omfang_tekst",
        "enhet",
        "fra",
        "til",
        "line",
        gid_expr.alias("gid"),
        fra.cast(pl.Int32).alias("_fra"),
        til.cast(pl.Int32).fill_null(_FAR).alias("_til"),
        (vol / pl.when(e == tpu).then(7.0).otherwise(1.0)).alias("_q"),
        e.is_in([units.index(x) for x in _PER_MONTH]).cast(pl.Float64).alias("_m"),
    )
    group_table = pl.DataFrame(
        {
            "gid": pl.Series(range(len(order)), dtype=pl.UInt32),
            "kommunenummer": [k_list[ki] for ki, _s, _g in order],
            "tjeneste": [services[si] for _k, si, _g in order],
            "prisgruppe": [groups[gi] for _k, _s, gi in order],
        }
    )
    return TypedVedtak(vedtak, group_table, unusual)
