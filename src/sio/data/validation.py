"""Validation of an input directory (interfaces.md §1): every problem, in one run, before any sum.

Each check is a vectorised Polars expression over the text columns as read, so a file of a
million rows is checked in one pass. A problem names the file, the line (header = line 1), the
field and the rule it broke, in the current language. Errors stop the run; warnings do not.

The vedtak — the one large table — are first tried on a fast path (`sio.data.vedtak_fast`): read
natively (only their columns, in the file's own types), checked once per distinct value and by a
few whole-column aggregates, and typed with the kernel's derived columns in the same passes. Only
when that path cannot prove every rule kept does the row-by-row diagnosis below run, which names
every problem exactly as it always has.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from sio.data.kommunehistorikk import KommuneHistorikk
from sio.data.model import InputData
from sio.data.price_check import RULE as PRICE_RULE
from sio.data.price_check import unpriced_vedtak
from sio.data.readers import (
    RawInput,
    RawTable,
    ReadAhead,
    read_for_loading,
    to_text,
    with_optional_columns,
)
from sio.data.tables import (
    AGA_ZONES,
    AGE_GROUPS,
    CODE_RE,
    DATE_RE,
    EVALUATION_TABLES,
    HOUR_UNITS,
    INT_RE,
    NUM_RE,
    PSEUDONYM_RE,
    STANDARD_GROUP,
    TABLE_BY_NAME,
    TABLES,
    UNITS,
)
from sio.data.vedtak_fast import TypedVedtak, VedtakRules, typed_vedtak
from sio.i18n import _
from sio.parameters import ParameterSet
from sio.rules.aktivitetstilskudd import with_derived

ERROR = "error"
WARNING = "warning"
_FIRST_PRICE_DATE = dt.date(2016, 1, 1)


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is, what rule it broke, how serious it is."""

    file: str
    row: int | None
    field: str | None
    rule: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = self.file + (f":{self.row}" if self.row is not None else "")
        fld = f" {self.field}:" if self.field else ""
        tag = "" if self.severity == ERROR else f" ({_('warning')})"
        return f"{where}:{fld} {self.message}{tag}"


class InputInvalid(Exception):
    """The input has errors; nothing was computed. Holds every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == ERROR]
        super().__init__(f"{len(errors)} error(s) in the input")

    def report(self, limit: int = 200) -> str:
        return format_problems(self.problems, limit)


def format_problems(problems: Sequence[Problem], limit: int = 200) -> str:
    """The problems as text lines, with a count of any left out."""
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(_("… and {n} more problems").format(n=len(problems) - limit))
    return "\n".join(lines)


def problems_json(problems: Sequence[Problem]) -> str:
    return json.dumps([asdict(p) for p in problems], ensure_ascii=False, indent=1)


class _Collector:
    def __init__(self, only: frozenset[str] | None = None) -> None:
        self.problems: list[Problem] = []
        self.only = only
        # checks wait here, per frame, and are evaluated in one pass over it (`flush`); a frame's
        # checks evaluated early (`settle`) wait here as their problems, under a key of their own
        self._pending: dict[object, tuple[RawTable, pl.DataFrame, list[_Check]] | list[Problem]]
        self._pending = {}

    def add(
        self,
        file: str,
        row: int | None,
        field: str | None,
        rule: str,
        message: str,
        severity: str = ERROR,
    ) -> None:
        self.problems.append(Problem(file, row, field, rule, message, severity))

    def check(
        self,
        table: RawTable,
        frame: pl.DataFrame,
        bad: pl.Expr,
        field: str,
        rule: str,
        message: str,
        severity: str = ERROR,
    ) -> None:
        """Add a problem for every row of `frame` (carrying `_line`) where `bad` is true.

        The check is evaluated at `flush`, together with every other check of the same frame.
        A frame that also carries `_src` (rows merged from several sources, as in an import on
        top of the stored data) names each row's own source instead of the table's file."""
        if self.only is not None and rule not in self.only:
            return
        entry = self._pending.setdefault(id(frame), (table, frame, []))
        assert not isinstance(entry, list)  # a settled key is never a frame's id
        entry[2].append(_Check(bad, field, rule, message, severity))

    def reserve(self) -> object:
        """A place for the problems of a frame not yet at hand (`place`): they come where the
        first check of a frame given now would have put them."""
        key = object()
        self._pending[key] = []
        return key

    def place(self, key: object, table: RawTable, frame: pl.DataFrame) -> None:
        """The checks of `frame` wait in the place `key` reserved (`reserve`)."""
        self._pending = {
            (id(frame) if k is key else k): ((table, frame, []) if k is key else v)
            for k, v in self._pending.items()
        }

    def flush(self) -> None:
        """Evaluate the waiting checks: one pass per frame, problems in line order, frames in the
        order of their first check. A message with ``{value}`` names the value it refused
        (`_echo`)."""
        for entry in self._pending.values():
            self.problems += entry if isinstance(entry, list) else _evaluate(*entry)
        self._pending.clear()

    def settle(self, keep: pl.DataFrame) -> None:
        """Evaluate the waiting checks of every frame but `keep` now, and let go of those frames;
        their problems wait in their place, so that `flush` gives the same problems in the same
        order as without this."""
        settled: dict[object, tuple[RawTable, pl.DataFrame, list[_Check]] | list[Problem]] = {}
        for key, entry in self._pending.items():
            if isinstance(entry, list) or entry[1] is keep:
                settled[key] = entry
            else:
                settled[object()] = _evaluate(*entry)
        self._pending = settled


def _evaluate(table: RawTable, frame: pl.DataFrame, checks: Sequence[_Check]) -> list[Problem]:
    """The problems of `checks` on `frame`: one pass over it, in line order."""
    flags = [ch.bad.fill_null(False).alias(f"_c{i}") for i, ch in enumerate(checks)]
    keep = ["_line", *(["_src"] if "_src" in frame.columns else [])]
    echoed = sorted({ch.field for ch in checks if _VALUE in ch.message})
    values = [pl.col(f).cast(pl.Utf8).alias(f"_v_{f}") for f in echoed]
    hits = (
        frame.lazy()
        .select(*keep, *values, *flags)
        .filter(pl.any_horizontal([pl.col(f"_c{i}") for i in range(len(checks))]))
        .collect()
    )
    problems: list[Problem] = []
    for row in hits.iter_rows(named=True):
        line = None if row["_line"] is None else int(row["_line"])
        src = row.get("_src") or table.file
        for i, ch in enumerate(checks):
            if row[f"_c{i}"]:
                msg = ch.message
                if _VALUE in msg:
                    msg = msg.replace(_VALUE, _echo(row[f"_v_{ch.field}"]))
                problems.append(Problem(src, line, ch.field, ch.rule, msg, ch.severity))
    return problems


_VALUE = "{value}"


def _echo(value: str | None) -> str:
    """A refused value as a message shows it: quoted, or "(empty)"."""
    return _("(empty)") if value is None or not value.strip() else f"'{value}'"


@dataclass(frozen=True)
class _Check:
    bad: pl.Expr
    field: str
    rule: str
    message: str
    severity: str


def _empty(col: str) -> pl.Expr:
    return pl.col(col).is_null() | (pl.col(col) == "")


def _present(col: str) -> pl.Expr:
    return ~_empty(col)


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.to_date("%Y-%m-%d", strict=False)


def _check_date(c: _Collector, table: RawTable, df: pl.DataFrame, col: str) -> None:
    """A date cell is of the form YYYY-MM-DD and names a day of the calendar (not 2020-02-31);
    the message echoes the value. Together the two checks refuse what the fast path
    (`sio.data.vedtak_fast`) refuses: a cell that is present and not a parsable YYYY-MM-DD."""
    form = pl.col(col).str.contains(DATE_RE)
    c.check(table, df, _present(col) & ~form, col, "date", _("not a date YYYY-MM-DD: {value}"))
    c.check(
        table,
        df,
        _present(col) & form & _date(col).is_null(),
        col,
        "date",
        _("no such day: {value}"),
    )


def _with_lines(frame: pl.DataFrame, first: int = 2) -> pl.DataFrame:
    """`frame` with `_line`: the caller's, or the file's line of each row (the first row's is
    `first`, 2 below a header on the first line)."""
    if "_line" in frame.columns:  # lines given by the caller (merged sources)
        return frame.with_columns(pl.col("_line").cast(pl.Int64))
    return frame.with_row_index("_line", offset=first).with_columns(pl.col("_line").cast(pl.Int64))


# The rules that depend on the parameters. A stored version was validated as a whole when it was
# created (every import is checked together with everything stored, and a stored state has one row
# per key by construction); parameters may have changed since, so a version read back from the
# store (`trusted=True`) is re-checked for these rules only.
PARAMETER_RULES = frozenset({"service", "price_group", "unit", "unit_service", PRICE_RULE})


def validate_raw(
    raw: RawInput,
    params: ParameterSet,
    trusted: bool = False,
    fast: bool = True,
    consume: bool = False,
) -> tuple[InputData | None, list[Problem]]:
    """Check everything; return typed data if there are no errors, and every problem found.

    With `trusted` (a version read back from the store) only the parameter rules are checked.
    The vedtak are first tried on the fast path (`sio.data.vedtak_fast`), and the evaluation's
    tables on theirs (`sio.data.evaluation_fast`), which either proves that they break no rule
    or leaves them to the row-by-row diagnosis; `fast=False` goes straight to the diagnosis
    (same result, slower). With `consume` (the caller is done with `raw`) the frames of `raw`'s
    evaluation tables are emptied once they are typed, so that the vedtak are typed in memory
    they no longer need."""
    c = _Collector(only=PARAMETER_RULES if trusted else None)
    for file, message in raw.read_errors:
        c.add(file, None, None, "read", message)
    frames: dict[str, pl.DataFrame] = {}
    for spec in TABLES:
        table = raw.tables.get(spec.name)
        if table is None:
            continue
        missing = [col for col in spec.columns if col not in table.frame.columns]
        for col in missing:
            # the header's line: 1 in a file, the header's row in a sheet with a title above
            header_line = table.first_line - 1
            c.add(table.file, header_line, col, "column", _("required column is missing"))
        if not missing:  # a native vedtak table is first tried on the fast path, and so are
            # the evaluation's tables (their text form is made only if their proof fails)
            quick = spec.name == "vedtak" or spec.name in EVALUATION_TABLES
            frame = table.frame if quick else table.text()
            frames[spec.name] = with_optional_columns(_with_lines(frame, table.first_line), spec)
    absent = [n for n, spec in TABLE_BY_NAME.items() if not spec.optional and n not in frames]
    if absent:
        reported = {file for file, _m in raw.read_errors}
        for name in absent:  # e.g. an import of one table into an empty store
            if name not in raw.tables and f"{name}.csv" not in reported:
                c.add(
                    f"{name}.csv",
                    None,
                    None,
                    "read",
                    _("required file is missing (CSV, Parquet or Excel sheet)"),
                )
        return None, c.problems
    for optional in ("toppfinansiering", "prosjektkostnader"):
        if optional not in frames:
            cols = [*TABLE_BY_NAME[optional].columns, "_line"]
            frames[optional] = pl.DataFrame(
                {c: [] for c in cols},
                schema={c: (pl.Int64 if c == "_line" else pl.Utf8) for c in cols},
            )
            raw.tables.setdefault(optional, RawTable(optional, optional, frames[optional]))
    t = raw.tables
    # the evaluation's tables are checked once the municipalities are known: their problems, if
    # any, take the place that their first check (for NUL characters) has here
    places: dict[str, object] = {}
    for name, frame in frames.items():  # NUL cannot be stored (PostgreSQL refuses it)
        if name in EVALUATION_TABLES:
            places[name] = c.reserve()
            continue
        # the vedtak's coded columns are checked against their sets of values; ids are free text
        free_text = ["vedtak_id", "person_id"] if name == "vedtak" else frame.columns
        if name == "vedtak":  # a million ids: first one quick look whether any holds a NUL
            free_text = _may_hold_nul(frame, free_text)
        _check_nul(c, t[name], frame, free_text)
    kommuner = _check_kommuner(c, t["kommuner"], frames["kommuner"])
    if c.only is None:  # a stored version was compared when it was imported
        _check_against_history(c, t["kommuner"], frames["kommuner"])
    codes = kommuner.select("kommunenummer", "gyldig_fra_d", "gyldig_til_d").unique("kommunenummer")
    deltakelse = _check_deltakelse(c, t["deltakelse"], frames["deltakelse"], codes)
    utgifter = _check_keyed_amounts(
        c,
        t["utgifter"],
        frames["utgifter"],
        codes,
        "netto_driftsutgifter",
        extra_key="kostra_funksjon",
        allow_negative=True,
    )
    befolkning = _check_keyed_amounts(
        c, t["befolkning"], frames["befolkning"], codes, "antall", extra_key="aldersgruppe"
    )
    topp = _check_keyed_amounts(
        c, t["toppfinansiering"], frames["toppfinansiering"], codes, "beloep"
    )
    prosjekt = _check_keyed_amounts(
        c, t["prosjektkostnader"], frames["prosjektkostnader"], codes, "beloep"
    )
    personer, kartlegging = _check_evaluation_tables(c, t, frames, codes, places, fast)
    if consume:  # the evaluation's tables as read are no longer needed (a check still waiting
        # holds the frame it checks)
        for name in EVALUATION_TABLES:
            if name in t:
                t[name].frame = t[name].frame.clear()
    # the checks of the tables but the vedtak are evaluated now (their problems keep their place),
    # so that the text forms of the tables (the evaluation's large ones) are freed before the
    # vedtak are typed
    c.settle(keep=frames["vedtak"])
    for name in ("kartlegging", "personer"):
        frames.pop(name, None)
    vtable = t["vedtak"]
    typed = _typed_vedtak(frames["vedtak"], codes, params, vtable.native) if fast else None
    if typed is None:  # the full diagnosis, row by row
        vframe = frames.pop("vedtak")
        if vtable.native:
            try:
                vframe = to_text(vframe, skip=("_line", "_src"))
            except pl.exceptions.PolarsError as exc:  # e.g. bytes that are not UTF-8
                c.add(vtable.file, None, None, "read", _cannot_read(exc))
                c.flush()
                return None, c.problems
        vedtak = _check_vedtak(c, vtable, vframe, codes, params)
    else:
        frames.pop("vedtak")
        c.check(vtable, typed.unusual, pl.lit(True), "omfang", "unusual", _unusual(), WARNING)
    c.flush()
    errors = [p for p in c.problems if p.severity == ERROR]
    if errors:
        return None, c.problems
    if typed is None:
        derived, groups = with_derived(vedtak)
    else:
        derived, groups = typed.vedtak, typed.groups
    if c.only is None or PRICE_RULE in c.only:
        for line, svc, grp, month in unpriced_vedtak(derived, deltakelse, params).iter_rows():
            c.add(
                vtable.file,
                line,
                "prisgruppe",
                PRICE_RULE,
                _("no unit price for {service} {group} in force on {date}").format(
                    service=svc, group=grp, date=month.isoformat()
                ),
            )
        if any(p.severity == ERROR for p in c.problems):
            return None, c.problems
    data = InputData(
        kommuner=kommuner.select(
            "kommunenummer",
            "navn",
            pl.col("gyldig_fra_d").alias("gyldig_fra"),
            pl.col("gyldig_til_d").alias("gyldig_til"),
            "aga_sone",
            "reiseindeks",
            pl.when(_present("etterfolger")).then(pl.col("etterfolger")).alias("etterfolger"),
            pl.col("_orgnr").alias("organisasjonsnummer"),
        ).sort("kommunenummer"),
        deltakelse=deltakelse,
        utgifter=utgifter,
        befolkning=befolkning,
        toppfinansiering=topp,
        prosjektkostnader=prosjekt,
        vedtak=derived,
        vedtak_groups=groups,
        kartlegging=kartlegging,
        personer=personer,
        source=str(raw.directory),
    )
    return data, c.problems


def _may_hold_nul(frame: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    """Those of the text `columns` of `frame` in which some cell holds a NUL character (their
    bytes searched at once, which is cheaper than the check row by row)."""
    text = [c for c in columns if c in frame.columns and frame.schema[c] == pl.Utf8]
    if not text:
        return []
    found = (  # lazily: the columns are searched side by side
        frame.lazy()
        .select(pl.col(c).cast(pl.Binary).bin.contains(b"\x00").any().alias(c) for c in text)
        .collect()
        .row(0)
    )
    return [c for c, hit in zip(text, found, strict=True) if hit]


def _check_nul(c: _Collector, table: RawTable, frame: pl.DataFrame, columns: Sequence[str]) -> None:
    """Refuse a NUL character in those of the text `columns` that `frame` has."""
    for col in columns:
        if col in frame.columns and col != "_src" and frame.schema[col] == pl.Utf8:
            c.check(
                table,
                frame,
                pl.col(col).str.contains("\x00", literal=True),
                col,
                "nul",
                _("contains a NUL character, which cannot be stored"),
            )


def _check_evaluation_tables(
    c: _Collector,
    t: dict[str, RawTable],
    frames: dict[str, pl.DataFrame],
    codes: pl.DataFrame,
    places: dict[str, object],
    fast: bool = True,
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """The optional `personer` and `kartlegging` (docs/evaluation-data.md), typed; None for a
    table that is absent or has no rows (the criteria are loaded only when there are any).

    `frames` holds them as read (`RawTable.frame`); they are first tried on the quick proof
    (`sio.data.evaluation_fast`), and only if it fails turned into text and checked row by row,
    their problems in the `places` reserved for them (`fast=False`: straight to the latter)."""
    present = [n for n in ("personer", "kartlegging") if n in frames and frames[n].height]
    if not present:
        return None, None
    if fast:
        from sio.data.evaluation_fast import typed_evaluation

        natives: dict[str, bool] = {n: t[n].native for n in present}
        quick = typed_evaluation({n: frames[n] for n in present}, natives, codes)
        if quick is not None:
            return quick
    from sio.data.evaluation_tables import check_kartlegging, check_personer

    for name in ("kartlegging", "personer"):
        if name in frames:
            table = t[name]
            spec = TABLE_BY_NAME[name]
            frames[name] = with_optional_columns(_with_lines(table.text(), table.first_line), spec)
            c.place(places[name], table, frames[name])
            _check_nul(c, table, frames[name], frames[name].columns)

    personer = (
        check_personer(c, t["personer"], frames["personer"]) if "personer" in present else None
    )
    kartlegging = None
    if "kartlegging" in present:
        kartlegging = check_kartlegging(c, t["kartlegging"], frames["kartlegging"], codes, personer)
    return personer, kartlegging


def _check_code(c: _Collector, table: RawTable, df: pl.DataFrame, col: str) -> None:
    c.check(
        table,
        df,
        _present(col) & ~pl.col(col).str.contains(CODE_RE),
        col,
        "code",
        _("a municipality code has four digits as text (e.g. 0301): {value}"),
    )
    c.check(table, df, _empty(col), col, "required", _("required value is empty"))


# Spaces that a spreadsheet may put between the digit groups of a number (no-break, narrow).
_WIDE_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


_NINE_DIGITS = re.compile(r"[0-9]{9}")
_ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2, 1)


def _orgnr(value: str | None) -> tuple[str | None, str | None]:
    """(the compact 9-digit form, None) of a valid organisation number; (None, the rule it
    breaks) of an invalid one; (None, None) of an empty cell (unknown)."""
    if value is None or not value.strip():
        return None, None
    if _NINE_DIGITS.fullmatch(value):  # the compact form: python-stdnum's mod-11 check, inline
        ok = sum(w * int(d) for w, d in zip(_ORGNR_WEIGHTS, value, strict=True)) % 11 == 0
        return (value, None) if ok else (None, "check_digit")
    from stdnum.exceptions import InvalidChecksum, ValidationError  # only when there are any
    from stdnum.no import orgnr

    try:
        return orgnr.validate(value.translate(_WIDE_SPACES)), None
    except InvalidChecksum:
        return None, "check_digit"
    except ValidationError:
        return None, "orgnr"


def compact_organisasjonsnummer(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with each valid `organisasjonsnummer` in its compact 9-digit form ("123 456 785" →
    "123456785") and an empty cell as null; invalid values are left for validation to report.
    A frame without the column is returned as it is."""
    if "organisasjonsnummer" not in df.columns:
        return df
    values = df.get_column("organisasjonsnummer").to_list()
    out = [None if not (v or "").strip() else (_orgnr(v)[0] or v) for v in values]
    return df.with_columns(pl.Series("organisasjonsnummer", out, dtype=pl.Utf8))


def _check_organisasjonsnummer(c: _Collector, table: RawTable, df: pl.DataFrame) -> pl.DataFrame:
    """Check the optional `organisasjonsnummer` (python-stdnum, one call per municipality: the
    table is small); adds `_orgnr`, the compact form, null where empty or invalid."""
    checked = [_orgnr(v) for v in df.get_column("organisasjonsnummer").to_list()]
    df = df.with_columns(
        pl.Series("_orgnr", [v for v, _r in checked], dtype=pl.Utf8),
        pl.Series("_orgnr_rule", [r for _v, r in checked], dtype=pl.Utf8),
    )
    c.check(
        table,
        df,
        pl.col("_orgnr_rule") == "orgnr",
        "organisasjonsnummer",
        "orgnr",
        _("an organisation number has nine digits (spaces are allowed)"),
    )
    c.check(
        table,
        df,
        pl.col("_orgnr_rule") == "check_digit",
        "organisasjonsnummer",
        "check_digit",
        _("wrong check digit: not a valid organisation number"),
    )
    return df


def _check_kommuner(c: _Collector, table: RawTable, df: pl.DataFrame) -> pl.DataFrame:
    _check_code(c, table, df, "kommunenummer")
    c.check(table, df, _empty("navn"), "navn", "required", _("required value is empty"))
    c.check(table, df, _empty("gyldig_fra"), "gyldig_fra", "required", _("required value is empty"))
    for col in ("gyldig_fra", "gyldig_til"):
        _check_date(c, table, df, col)
    df = df.with_columns(
        _date("gyldig_fra").alias("gyldig_fra_d"), _date("gyldig_til").alias("gyldig_til_d")
    )
    df = _check_organisasjonsnummer(c, table, df)
    c.check(
        table,
        df,
        pl.col("gyldig_til_d") < pl.col("gyldig_fra_d"),
        "gyldig_til",
        "order",
        _("'gyldig_til' is before 'gyldig_fra'"),
    )
    c.check(
        table,
        df,
        ~pl.col("aga_sone").is_in(list(AGA_ZONES)),
        "aga_sone",
        "zone",
        _("employer-tax zone must be one of {zones}").format(zones=", ".join(AGA_ZONES)),
    )
    c.check(
        table,
        df,
        _empty("reiseindeks") | ~pl.col("reiseindeks").str.contains(NUM_RE),
        "reiseindeks",
        "number",
        _("not a number (use a decimal point): {value}"),
    )
    c.check(
        table,
        df,
        pl.col("reiseindeks").str.starts_with("-"),
        "reiseindeks",
        "negative",
        _("must be 0 or more"),
    )
    c.check(
        table,
        df,
        pl.col("kommunenummer").is_duplicated() & _present("kommunenummer"),
        "kommunenummer",
        "duplicate",
        _("the municipality code occurs more than once"),
    )
    c.check(
        table,
        df,
        _present("etterfolger") & ~pl.col("etterfolger").str.contains(CODE_RE),
        "etterfolger",
        "code",
        _("a municipality code has four digits as text (e.g. 0301): {value}"),
    )
    c.check(
        table,
        df,
        _present("etterfolger") & pl.col("gyldig_til_d").is_null(),
        "etterfolger",
        "successor",
        _("a successor requires 'gyldig_til'"),
    )
    named = df.filter(_present("etterfolger")).get_column("etterfolger").unique().to_list()
    c.check(
        table,
        df,
        pl.col("kommunenummer").is_in(named)
        & pl.col("gyldig_fra_d").is_not_null()
        & ((pl.col("gyldig_fra_d").dt.month() != 1) | (pl.col("gyldig_fra_d").dt.day() != 1)),
        "gyldig_fra",
        "successor_start",
        _("a successor (named as 'etterfolger') starts on 1 January"),
    )
    succ = df.select(
        pl.col("kommunenummer").alias("etterfolger"),
        pl.col("gyldig_fra_d").alias("_succ_fra"),
    ).unique("etterfolger")
    j = df.join(succ, on="etterfolger", how="left")
    c.check(
        table,
        j,
        _present("etterfolger") & pl.col("_succ_fra").is_null(),
        "etterfolger",
        "unknown",
        _("the successor is not in the municipality list"),
    )
    c.check(
        table,
        j,
        _present("etterfolger")
        & pl.col("_succ_fra").is_not_null()
        & (pl.col("_succ_fra") != pl.col("gyldig_til_d") + pl.duration(days=1)),
        "etterfolger",
        "successor_date",
        _("the successor's 'gyldig_fra' must be the day after this 'gyldig_til'"),
    )
    return df


def _check_against_history(c: _Collector, table: RawTable, df: pl.DataFrame) -> None:
    """Warn where a successor differs from the municipality history the package ships (SSB's
    numbering of the scheme's and the control group's municipalities)."""
    history = _shipped_history()
    cols = ["kommunenummer", "etterfolger", "_line", *(["_src"] if "_src" in df.columns else [])]
    for row in df.select(cols).iter_rows(named=True):
        code, succ = row["kommunenummer"], row["etterfolger"]
        if not succ or code not in history:
            continue
        expected = sorted({ch.new_code for ch in history.outgoing(code)})
        if expected and succ not in expected:
            c.add(
                row.get("_src") or table.file,
                row["_line"],
                "etterfolger",
                "history",
                _("SSB's history has {code} → {expected}").format(
                    code=code, expected=", ".join(expected)
                ),
                WARNING,
            )


@lru_cache(maxsize=1)
def _shipped_history() -> KommuneHistorikk:
    return KommuneHistorikk.shipped()


def looked_up(df: pl.DataFrame, right: pl.DataFrame, on: str) -> pl.DataFrame:
    """`df` with the other columns of `right` for each row's `on` (null where `right` has none):
    a left join, rows in `df`'s order, that copies none of `df`'s own columns (only the key is
    joined). If `right` holds a key more than once, the join itself (rows repeated)."""
    found = df.select(on).join(right, on=on, how="left", maintain_order="left")
    if found.height != df.height:
        return df.join(right, on=on, how="left", maintain_order="left")
    return df.hstack(found.drop(on).get_columns())


def _join_validity(df: pl.DataFrame, codes: pl.DataFrame) -> pl.DataFrame:
    return looked_up(
        df,
        codes.rename({"gyldig_fra_d": "_k_fra", "gyldig_til_d": "_k_til"}).with_columns(
            pl.lit(True).alias("_k_known")
        ),
        "kommunenummer",
    )


def _check_known_code(c: _Collector, table: RawTable, df: pl.DataFrame) -> None:
    c.check(
        table,
        df,
        _present("kommunenummer")
        & pl.col("kommunenummer").str.contains(CODE_RE)
        & pl.col("_k_known").is_null(),
        "kommunenummer",
        "unknown",
        _("the municipality is not in kommuner"),
    )


def _check_deltakelse(
    c: _Collector, table: RawTable, df: pl.DataFrame, codes: pl.DataFrame
) -> pl.DataFrame:
    _check_code(c, table, df, "kommunenummer")
    df = _join_validity(df, codes)
    _check_known_code(c, table, df)
    c.check(
        table,
        df,
        ~pl.col("modell").is_in(["A", "B"]),
        "modell",
        "model",
        _("model must be A or B"),
    )
    c.check(table, df, _empty("fra"), "fra", "required", _("required value is empty"))
    for col in ("fra", "til", "aktivitet_fra"):
        _check_date(c, table, df, col)
    df = df.with_columns(
        _date("fra").alias("fra_d"),
        _date("til").alias("til_d"),
        _date("aktivitet_fra").alias("aktivitet_fra_d"),
    )
    first = _("must be the first day of a month")
    c.check(table, df, pl.col("fra_d").dt.day() != 1, "fra", "month_start", first)
    c.check(
        table, df, pl.col("aktivitet_fra_d").dt.day() != 1, "aktivitet_fra", "month_start", first
    )
    c.check(
        table,
        df,
        pl.col("til_d") != pl.col("til_d").dt.month_end(),
        "til",
        "month_end",
        _("must be the last day of a month"),
    )
    c.check(
        table, df, pl.col("til_d") < pl.col("fra_d"), "til", "order", _("'til' is before 'fra'")
    )
    c.check(
        table,
        df,
        pl.col("aktivitet_fra_d").is_not_null() & (pl.col("modell") != "A"),
        "aktivitet_fra",
        "model_a_only",
        _("'aktivitet_fra' applies to model A only"),
    )
    c.check(
        table,
        df,
        (pl.col("aktivitet_fra_d") < pl.col("fra_d"))
        | (pl.col("aktivitet_fra_d") > pl.col("til_d")),
        "aktivitet_fra",
        "within",
        _("'aktivitet_fra' must lie within the period"),
    )
    cov = pl.col("covid_saerordning").str.to_lowercase()
    c.check(
        table,
        df,
        _present("covid_saerordning") & ~cov.is_in(["true", "false"]),
        "covid_saerordning",
        "bool",
        _("must be true, false or empty"),
    )
    c.check(
        table,
        df,
        (pl.col("fra_d") < pl.col("_k_fra"))
        | (pl.col("til_d") > pl.col("_k_til"))
        | (
            pl.col("til_d").is_null()
            & pl.col("_k_til").is_not_null()
            & pl.col("fra_d").is_not_null()
        ),
        "fra",
        "validity",
        _("the period must lie within the municipality's validity"),
    )
    # overlapping (or month-sharing) periods of one municipality
    far = dt.date(9999, 12, 31)
    s = df.filter(pl.col("fra_d").is_not_null()).sort("kommunenummer", "fra_d")
    s = s.with_columns(
        pl.col("til_d").fill_null(far).shift(1).over("kommunenummer").alias("_prev_til")
    )
    c.check(
        table,
        s,
        pl.col("_prev_til") >= pl.col("fra_d"),
        "fra",
        "overlap",
        _("overlaps another participation period of the same municipality"),
    )
    return df.select(
        "kommunenummer",
        "modell",
        pl.col("fra_d").alias("fra"),
        pl.col("til_d").alias("til"),
        pl.coalesce("aktivitet_fra_d", "fra_d").alias("aktivitet_fra"),
        (cov.fill_null("true").replace("", "true") == "true").alias("covid_saerordning"),
    ).sort("kommunenummer", "fra")


def _check_keyed_amounts(
    c: _Collector,
    table: RawTable,
    df: pl.DataFrame,
    codes: pl.DataFrame,
    amount: str,
    extra_key: str | None = None,
    allow_negative: bool = False,
) -> pl.DataFrame:
    _check_code(c, table, df, "kommunenummer")
    df = _join_validity(df, codes)
    _check_known_code(c, table, df)
    c.check(
        table,
        df,
        _empty("aar") | ~pl.col("aar").str.contains(r"^\d{4}$"),
        "aar",
        "year",
        _("not a year (four digits): {value}"),
    )
    c.check(
        table,
        df,
        _empty(amount) | ~pl.col(amount).str.contains(INT_RE),
        amount,
        "integer",
        _("not a whole number: {value}"),
    )
    if not allow_negative:
        c.check(
            table,
            df,
            pl.col(amount).str.starts_with("-"),
            amount,
            "negative",
            _("must be 0 or more"),
        )
    keys = ["kommunenummer", "aar"]
    if extra_key == "kostra_funksjon":
        c.check(
            table,
            df,
            ~pl.col(extra_key).str.contains(r"^\d{3}$"),
            extra_key,
            "function",
            _("a KOSTRA function has three digits: {value}"),
        )
    elif extra_key == "aldersgruppe":
        c.check(
            table,
            df,
            ~pl.col(extra_key).is_in(list(AGE_GROUPS)),
            extra_key,
            "age_group",
            _("age group must be one of {groups}").format(groups=", ".join(AGE_GROUPS)),
        )
    if extra_key:
        keys.append(extra_key)
    c.check(
        table,
        df,
        pl.struct(keys).is_duplicated(),
        keys[-1],
        "duplicate",
        _("the same key occurs more than once"),
    )
    return df.select(
        *keys[:1],
        pl.col("aar").cast(pl.Int32, strict=False),
        *keys[2:],
        pl.col(amount).cast(pl.Int64, strict=False),
    )


def _typed_vedtak(
    frame: pl.DataFrame, codes: pl.DataFrame, params: ParameterSet, native: bool
) -> TypedVedtak | None:
    """The fast path (`sio.data.vedtak_fast`); None leaves the table to the diagnosis, also
    when a cell cannot be seen as text at all (the diagnosis reports that)."""
    try:
        return typed_vedtak(frame, codes, vedtak_rules(params), native)
    except pl.exceptions.PolarsError:
        return None


def _cannot_read(exc: Exception) -> str:
    return _("cannot read file: {error}").format(error=exc)


def vedtak_rules(params: ParameterSet) -> VedtakRules:
    """What the vedtak rules take from `params`: the priced services and their price groups, the
    lump-sum services, and the services priced per hour and per day."""
    priced, lump = _service_tables(params)
    return VedtakRules(
        priced={s: frozenset(g) for s, g in priced.items()},
        lump=frozenset(lump),
        hour=frozenset(s for s in priced if _price_unit(params, s) == "time"),
        day=frozenset(s for s in priced if _price_unit(params, s) == "doegn"),
    )


def _unusual() -> str:
    return _("volume far above the usual range")


def _service_tables(params: ParameterSet) -> tuple[dict[str, set[str]], set[str]]:
    priced = {
        s: set(params.children(f"aktivitetstilskudd.enhetspris.{s}"))
        for s in params.children("aktivitetstilskudd.enhetspris")
    }
    lump = set(params.children("rundsumtilskudd.tjenester"))
    return priced, lump


def _price_unit(params: ParameterSet, service: str) -> str:
    path = f"aktivitetstilskudd.enhet.{service}"
    if not params.has(path):
        return ""
    p = params.get(path)
    dv = p.at(dt.date(9999, 1, 1)) or (p.values[0] if p.values else None)
    return str(dv.value) if dv is not None else ""


def _check_vedtak(
    c: _Collector, table: RawTable, df: pl.DataFrame, codes: pl.DataFrame, params: ParameterSet
) -> pl.DataFrame:
    priced, lump = _service_tables(params)
    for col in ("vedtak_id", "person_id", "tjeneste", "enhet", "fra", "omfang"):
        c.check(table, df, _empty(col), col, "required", _("required value is empty"))
    _check_code(c, table, df, "kommunenummer")
    c.check(
        table,
        df,
        pl.col("vedtak_id").is_duplicated() & _present("vedtak_id"),
        "vedtak_id",
        "duplicate",
        _("the same vedtak_id occurs more than once"),
    )
    c.check(
        table,
        df,
        pl.col("person_id").str.contains(PSEUDONYM_RE),
        "person_id",
        "pseudonym",
        _("looks like a national identity number; person_id must be a pseudonym"),
    )
    df = _join_validity(df, codes)
    _check_known_code(c, table, df)
    known = sorted(set(priced) | lump)
    c.check(
        table,
        df,
        _present("tjeneste") & ~pl.col("tjeneste").is_in(known),
        "tjeneste",
        "service",
        _("unknown service (known: {services})").format(services=", ".join(known)),
    )
    group_pairs = pl.DataFrame(
        [(s, g) for s, gs in priced.items() for g in gs],
        schema={"tjeneste": pl.Utf8, "_grp": pl.Utf8},
        orient="row",
    ).with_columns(pl.lit(True).alias("_grp_ok"))
    df = df.with_columns(
        pl.when(_present("prisgruppe"))
        .then(pl.col("prisgruppe"))
        .otherwise(pl.lit(STANDARD_GROUP))
        .alias("_grp")
    ).join(group_pairs, on=["tjeneste", "_grp"], how="left")
    c.check(
        table,
        df,
        pl.col("tjeneste").is_in(list(priced)) & pl.col("_grp_ok").is_null(),
        "prisgruppe",
        "price_group",
        _("the price group does not exist for this service"),
    )
    c.check(
        table,
        df,
        _present("enhet") & ~pl.col("enhet").is_in(list(UNITS)),
        "enhet",
        "unit",
        _("unit must be one of {units}").format(units=", ".join(UNITS)),
    )
    hour = [s for s in priced if _price_unit(params, s) == "time"]
    day = [s for s in priced if _price_unit(params, s) == "doegn"]
    c.check(
        table,
        df,
        pl.col("enhet").is_in(list(HOUR_UNITS)) & pl.col("tjeneste").is_in(day),
        "enhet",
        "unit_service",
        _("hour units only for services priced per hour"),
    )
    c.check(
        table,
        df,
        (pl.col("enhet") == "doegn") & pl.col("tjeneste").is_in(hour),
        "enhet",
        "unit_service",
        _("'doegn' only for services priced per day"),
    )
    c.check(
        table,
        df,
        _present("omfang") & pl.col("omfang").str.contains(r"^-?\d+,\d+$"),
        "omfang",
        "decimal_comma",
        _("decimal comma; use a decimal point (7.5, not 7,5): {value}"),
    )
    c.check(
        table,
        df,
        _present("omfang")
        & ~pl.col("omfang").str.contains(NUM_RE)
        & ~pl.col("omfang").str.contains(r"^-?\d+,\d+$"),
        "omfang",
        "number",
        _("not a number: {value}"),
    )
    omfang = pl.col("omfang").cast(pl.Float64, strict=False)
    c.check(table, df, omfang < 0, "omfang", "negative", _("volume must be 0 or more"))
    c.check(
        table,
        df,
        (pl.col("enhet") == "timer_per_uke") & (omfang > 168),
        "omfang",
        "range",
        _("more hours per week than a week has (168)"),
    )
    c.check(
        table,
        df,
        ((pl.col("enhet") == "timer_per_uke") & (omfang > 84) & (omfang <= 168))
        | ((pl.col("enhet") == "doegn") & (omfang > 2)),
        "omfang",
        "unusual",
        _unusual(),
        WARNING,
    )
    for col in ("fra", "til"):
        _check_date(c, table, df, col)
    df = df.with_columns(_date("fra").alias("fra_d"), _date("til").alias("til_d"))
    c.check(
        table, df, pl.col("til_d") < pl.col("fra_d"), "til", "order", _("'til' is before 'fra'")
    )
    c.check(
        table,
        df,
        pl.col("_k_known").is_not_null()
        & (
            (pl.col("fra_d") < pl.col("_k_fra"))
            | (pl.col("til_d") > pl.col("_k_til"))
            | (pl.col("til_d").is_null() & pl.col("_k_til").is_not_null())
        ),
        "kommunenummer",
        "validity",
        _("the municipality is not valid on the vedtak's dates"),
    )
    return df.select(
        "vedtak_id",
        "person_id",
        "kommunenummer",
        "tjeneste",
        pl.col("_grp").alias("prisgruppe"),
        omfang.alias("omfang"),
        pl.col("omfang").alias("omfang_tekst"),
        "enhet",
        pl.col("fra_d").alias("fra"),
        pl.col("til_d").alias("til"),
        pl.col("_line").alias("line"),
    )


def check_vedtak_rows(
    rows: Sequence[dict[str, str | None]],
    kommuner: Sequence[tuple[str, dt.date, dt.date | None]],
    params: ParameterSet,
    source: str = "vedtak",
) -> list[Problem]:
    """The vedtak rules an import applies, for rows that come from elsewhere than a file (a
    casework decision): `rows` hold the text cells of interfaces.md §1, `kommuner` the code,
    first and last valid day of the municipalities they name."""
    cols = TABLE_BY_NAME["vedtak"].columns
    frame = pl.DataFrame(
        {col: [r.get(col) for r in rows] for col in cols}, schema=dict.fromkeys(cols, pl.Utf8)
    )
    codes = pl.DataFrame(
        kommuner,
        schema={"kommunenummer": pl.Utf8, "gyldig_fra_d": pl.Date, "gyldig_til_d": pl.Date},
        orient="row",
    )
    table = RawTable("vedtak", source, frame)
    c = _Collector()
    _check_vedtak(c, table, _with_lines(frame), codes, params)
    c.flush()
    return c.problems


def load_input(
    directory: Path,
    params: ParameterSet,
    evaluation: bool = True,
    ahead: ReadAhead | None = None,
) -> tuple[InputData, list[Problem]]:
    """Read and validate an input directory; raise `InputInvalid` with every problem if bad.
    With `evaluation=False` the evaluation's tables (`EVALUATION_TABLES`) are neither read nor
    checked, and `InputData.kartlegging` and `.personer` are None (the engine's commands).
    `ahead`: the same read of the same directory, already started (`ReadAhead`)."""
    if ahead is not None and (ahead.directory, ahead.evaluation) == (directory, evaluation):
        raw = ahead.result()
    else:  # the evaluation's tables are large: their text form is made only while checked
        raw = read_for_loading(directory, evaluation)
    data, problems = validate_raw(raw, params, consume=True)
    if data is None:
        raise InputInvalid(problems)
    return data, problems


def warnings_of(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == WARNING]
