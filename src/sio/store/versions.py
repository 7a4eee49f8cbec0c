"""Versioned imports: a file or folder becomes a new, immutable data version.

`import_path` validates what is imported together with the data already stored (so that a
correction file with only `vedtak` is checked against the stored municipalities), and stores the
new and changed rows under a new version — all in one transaction: a failure or a killed process
leaves the store exactly as before. Importing the same content twice is a no-op that says so; two
imports of the same content at the same time produce one version (the content hash is unique).

`load_version` reads the state as of a version: per key, the row of the newest version up to it.
An import also stores that state as a columnar copy (`sio.store.columns`), and a version is read
from the newest copy at or below it plus the rows stored after it. Without a copy each table is
read in one query straight into Arrow columns by the database's ADBC driver (SQLite: a large
table in two halves at once). The state is then re-checked against the parameter rules only and
typed on the fast path of `sio.data.vedtak_fast`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import URL, Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from sio.data.model import InputData
from sio.data.readers import (
    RawInput,
    RawTable,
    ReadError,
    read_sheet,
    read_table,
    with_optional_columns,
    workbook_sheets,
)
from sio.data.tables import EVALUATION_TABLES, TABLE_BY_NAME, TABLES
from sio.data.validation import (
    InputInvalid,
    Problem,
    compact_organisasjonsnummer,
    validate_raw,
)
from sio.i18n import _
from sio.parameters import ParameterSet
from sio.store.columns import schema as _schema
from sio.store.columns import state_from_copy, write_copy
from sio.store.direct import raw_from_state as _raw_from_state
from sio.store.direct import typed_version
from sio.store.schema import INPUT_TABLES, KEYS, column_copy, data_version
from sio.store.statistics import analyze_grown

if TYPE_CHECKING:
    from adbc_driver_manager import AdbcConnection, AdbcDatabase


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the version (new or existing), and the rows it stored per table."""

    versjon: int
    ny: bool
    rader: dict[str, int]
    problems: list[Problem]


@dataclass(frozen=True)
class VersionInfo:
    """One data version as `sio data versions` lists it."""

    versjon: int
    opprettet: dt.datetime
    bruker: str
    kilde: str
    sha256: str
    rader: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "versjon": self.versjon,
            "opprettet": self.opprettet.isoformat(),
            "bruker": self.bruker,
            "kilde": self.kilde,
            "sha256": self.sha256,
            "rader": self.rader,
        }


# -- reading what is imported -------------------------------------------------------------------


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():
        files = [
            f
            for f in sorted(path.iterdir())
            if f.suffix in (".csv", ".parquet", ".xlsx") and not f.name.startswith(("~", "."))
        ]
        if not files:
            raise InputInvalid(
                [Problem(str(path), None, None, "read", _("no CSV, Parquet or Excel files"))]
            )
        return files
    if not path.exists():
        raise InputInvalid([Problem(str(path), None, None, "read", _("file not found"))])
    return [path]


def read_import(path: Path) -> tuple[dict[str, RawTable], str, list[Problem]]:
    """The tables in a file or folder, the content hash, and problems met while reading."""
    files = _files_of(path)
    digest = hashlib.sha256()
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        try:
            if f.suffix == ".xlsx":
                for sheet in workbook_sheets(f):
                    if sheet in TABLE_BY_NAME:
                        tables[sheet] = read_sheet(f, sheet)
            elif f.stem in TABLE_BY_NAME:
                tables[f.stem] = read_table(f, f.stem)
            else:
                problems.append(
                    Problem(f.name, None, None, "read", _("not an input table of the format"))
                )
        except ReadError as exc:
            problems.append(Problem(exc.file, None, None, "read", exc.message))
    return tables, digest.hexdigest(), problems


# -- reading the store ----------------------------------------------------------------------------


def latest_version(conn: Connection) -> int | None:
    v = conn.execute(select(func.max(data_version.c.id))).scalar()
    return int(v) if v is not None else None


@dataclass(frozen=True)
class _Scope:
    """Which stored rows make up a version: those of versions up to `version` (no condition when
    no later version exists); `only`, the one version up to it, if there is just one — every row
    then has it (`versjon` references `data_versjon`), and it need not be read."""

    version: int
    bounded: bool = True
    only: int | None = None


def _rows_query(name: str, scope: _Scope, id_range: tuple[int, int] | None = None) -> str:
    cols = ", ".join(TABLE_BY_NAME[name].all_columns)
    table = INPUT_TABLES[name].name
    where = [f"versjon <= {int(scope.version)}"] if scope.bounded else []
    if id_range is not None:
        where += [f"id >= {int(id_range[0])}", f"id < {int(id_range[1])}"]
    head = "rad" if scope.only is not None else "versjon, rad"
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {head}, {cols} FROM {table}{condition}"


def _arrow_database(url: URL) -> AdbcDatabase:
    """An ADBC handle on the same database, whose connections read query results straight into
    Arrow arrays (the driver's own API: no Arrow or pandas layer to import)."""
    if url.get_backend_name() == "sqlite":
        import adbc_driver_sqlite

        return adbc_driver_sqlite.connect(str(Path(url.database or "").resolve()))
    import adbc_driver_postgresql

    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    database: AdbcDatabase = adbc_driver_postgresql.connect(uri)
    return database


def _query(connection: AdbcConnection, sql: str, sqlite: bool, rows: int) -> pl.DataFrame:
    """The result of `sql` (at most `rows` rows) as columns: SQLite's rows are put into Arrow
    arrays by the driver; PostgreSQL sends them in its binary COPY format."""
    from adbc_driver_manager import AdbcStatement

    statement = AdbcStatement(connection)
    try:
        if sqlite:
            # The driver infers each column's type from its first batch; read everything as one
            # batch, so that a column empty in the first rows is not taken for integers.
            statement.set_options(**{"adbc.sqlite.query.batch_rows": max(rows, 1024)})
        statement.set_sql_query(sql)
        stream, _count = statement.execute_query()
        return pl.DataFrame(stream)
    finally:
        statement.close()


# SQLite tables above this many rows are read in two halves at once (two cores, two
# connections, each stepping through its half); PostgreSQL scans the table once.
_SPLIT_ROWS = 200_000


def _id_range(conn: Connection, name: str) -> tuple[int, int] | None:
    """The first and last row id of an input table (two index look-ups, no scan)."""
    table = INPUT_TABLES[name]
    lo = conn.execute(select(func.min(table.c.id))).scalar()
    hi = conn.execute(select(func.max(table.c.id))).scalar()
    return None if lo is None or hi is None else (int(lo), int(hi))


def _read_rows(
    connection: AdbcConnection,
    sqlite: bool,
    name: str,
    scope: _Scope,
    ids: tuple[int, int],
    whole: bool = False,
) -> pl.DataFrame:
    """The rows of table `name` in `scope` with ids in [ids[0], ids[1]) (`whole`: all there are),
    typed as `_schema` says."""
    sql = _rows_query(name, scope, None if whole else ids)
    df = _query(connection, sql, sqlite, ids[1] - ids[0])
    if scope.only is not None:
        df = df.with_columns(pl.lit(scope.only).alias("versjon"))
    return df.select(pl.col(c).cast(t) for c, t in _schema(name).items())


def read_state(
    conn: Connection, version: int, skip: Collection[str] = (), *, use_copy: bool = True
) -> dict[str, pl.DataFrame]:
    """Every input table as of `version` (text columns plus `versjon` and `rad`): per key, the row
    of the newest version up to `version`: from the newest columnar copy at or below it and the
    rows after it, or else (and with `use_copy=False`) with each table read from its rows as
    columns (Arrow), not as rows."""
    specs = [spec for spec in TABLES if spec.name not in skip]
    if use_copy:
        copied = state_from_copy(conn, version, [spec.name for spec in specs])
        if copied is not None:
            return copied
    from adbc_driver_manager import AdbcConnection

    sqlite = conn.engine.url.get_backend_name() == "sqlite"
    ranges = {spec.name: _id_range(conn, spec.name) for spec in specs}
    known = conn.execute(select(data_version.c.id).where(data_version.c.id <= version)).all()
    scope = _Scope(
        version,
        bounded=(latest_version(conn) or 0) > version,
        only=int(known[0][0]) if len(known) == 1 else None,
    )
    out: dict[str, pl.DataFrame] = {}
    database = _arrow_database(conn.engine.url)
    connections = [AdbcConnection(database)]
    try:
        for spec in specs:
            ids = ranges[spec.name]
            if ids is None:
                out[spec.name] = pl.DataFrame(schema=_schema(spec.name))
                continue
            lo, end = ids[0], ids[1] + 1
            if end - lo > _SPLIT_ROWS and sqlite:
                if len(connections) == 1:
                    connections.append(AdbcConnection(database))
                mid = (lo + end) // 2
                halves = [(connections[0], (lo, mid)), (connections[1], (mid, end))]
                with ThreadPoolExecutor(max_workers=2) as pool:
                    parts = pool.map(
                        lambda h, name=spec.name: _read_rows(h[0], sqlite, name, scope, h[1]),
                        halves,
                    )
                    df = pl.concat(list(parts))
            else:
                df = _read_rows(connections[0], sqlite, spec.name, scope, (lo, end), True)
            if df.get_column("versjon").n_unique() > 1:  # corrections: the newest row per key
                df = df.sort("versjon").unique(
                    list(KEYS[spec.name]), keep="last", maintain_order=True
                )
            out[spec.name] = df
    finally:
        for connection in connections:
            connection.close()
        database.close()
    return out


def _check_version(v: int, latest: int) -> None:
    if not 1 <= v <= latest:
        message = _("no data version {v} (the newest is {latest})").format(v=v, latest=latest)
        raise InputInvalid([Problem(_("database"), None, None, "version", message)])


def load_version(
    engine: Engine, params: ParameterSet, version: int | None = None, evaluation: bool = True
) -> tuple[InputData, int]:
    """The input data as of `version` (default: the latest), validated and typed; with
    `evaluation=False` without the evaluation's tables (see `load_input`)."""
    with engine.connect() as conn:
        latest = latest_version(conn)
        if latest is None:
            raise InputInvalid(
                [Problem(_("database"), None, None, "empty", _("no data imported yet"))]
            )
        v = latest if version is None else version
        _check_version(v, latest)
        skip = () if evaluation else EVALUATION_TABLES
        state = read_state(conn, v, skip)
    return typed_version(state, v, params), v


# -- importing -----------------------------------------------------------------------------------


def _merge(
    current: pl.DataFrame, new: pl.DataFrame, name: str, src: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the merged state, the new rows that are not already stored identically).

    An optional column that the new file does not have keeps the stored value of each key (a
    file in the older format says nothing about it); an empty cell in a file that has the column
    says "unknown" and supersedes. Organisation numbers are stored in their compact form."""
    spec = TABLE_BY_NAME[name]
    cols = list(spec.all_columns)
    keys = list(KEYS[name])
    absent = [c for c in spec.optional_columns if c not in new.columns]
    if spec.whole_rows:  # an absent column is empty in every new row (`TableSpec.whole_rows`)
        absent = []
    new = new.with_row_index("_line", offset=2).with_columns(
        pl.col("_line").cast(pl.Int64), pl.lit(src).alias("_src")
    )
    new = compact_organisasjonsnummer(with_optional_columns(new, spec))
    if absent and current.height:
        stored = current.select(*keys, *absent)
        new = new.drop(absent).join(
            stored, on=keys, how="left", nulls_equal=True, maintain_order="left"
        )
    cur = current.select(*cols, pl.col("rad").alias("_line"), pl.lit("db").alias("_src"))
    kept = cur.join(new.select(keys), on=keys, how="anti", nulls_equal=True)
    merged = pl.concat([new.select(*cols, "_line", "_src"), kept], how="vertical")
    changed = new.join(cur.select(cols), on=cols, how="anti", nulls_equal=True)
    return merged, changed


def import_path(
    engine: Engine,
    path: Path,
    params: ParameterSet,
    user: str | None = None,
    *,
    dry_run: bool = False,
    source: str | None = None,
) -> ImportResult:
    """Validate `path` on top of the stored data and store it as a new version (or say that the
    same content is already stored). With `dry_run` everything is checked and counted but
    nothing is stored (`versjon` 0 when the content would be new: the pages' "confirm" step);
    `source` is what the version records as its source (default: the path)."""
    tables, sha, problems = read_import(path)
    errors = [p for p in problems if p.severity == "error"]
    for name, t in tables.items():
        missing = [c for c in TABLE_BY_NAME[name].columns if c not in t.frame.columns]
        errors += [
            Problem(t.file, 1, c, "column", _("required column is missing")) for c in missing
        ]
    if errors:
        raise InputInvalid(problems + [e for e in errors if e not in problems])
    with engine.connect() as conn:
        latest = latest_version(conn)
        existing = conn.execute(
            select(data_version.c.id).where(data_version.c.sha256 == sha)
        ).scalar()
        if existing is not None and existing == latest:
            return ImportResult(int(existing), False, {}, problems)
        if existing is not None:
            # The same bytes as an older version, imported again on top of later ones (a
            # correction taken back): what differs from the newest state is stored as a new
            # version, under a key of these bytes on top of that newest version.
            sha = hashlib.sha256(f"{sha}@{latest}".encode()).hexdigest()
            again = conn.execute(
                select(data_version.c.id).where(data_version.c.sha256 == sha)
            ).scalar()
            if again is not None:
                return ImportResult(int(again), False, {}, problems)
        state = read_state(conn, latest) if latest else {}
    merged: dict[str, RawTable] = {}
    to_store: dict[str, pl.DataFrame] = {}
    for spec in TABLES:
        cur = state.get(spec.name)
        if cur is None:
            cur = pl.DataFrame(
                schema={"versjon": pl.Int64, "rad": pl.Int64}
                | {c: pl.Utf8 for c in spec.all_columns}
            )
        if spec.name in tables:
            t = tables[spec.name]
            given = [c for c in spec.all_columns if c in t.frame.columns]
            frame, changed = _merge(cur, t.frame.select(given), spec.name, t.file)
            merged[spec.name] = RawTable(spec.name, t.file, frame)
            to_store[spec.name] = changed
        elif cur.height:
            merged.update(_raw_from_state({spec.name: cur}, latest, ""))
    raw = RawInput(path, merged)
    data, vproblems = validate_raw(raw, params)
    if data is None:
        raise InputInvalid(problems + vproblems)
    rows = {name: df.height for name, df in to_store.items()}
    if latest is not None and not any(rows.values()):
        # other bytes, same rows: every row is already stored identically
        return ImportResult(latest, False, {}, problems + vproblems)
    if dry_run:
        return ImportResult(0, True, rows, problems + vproblems)
    try:
        version = _store(engine, sha, source or str(path), user or current_user(), to_store, rows)
    except IntegrityError:
        # the same content was stored by a concurrent import a moment ago
        with engine.connect() as conn:
            existing = conn.execute(
                select(data_version.c.id).where(data_version.c.sha256 == sha)
            ).scalar()
        if existing is None:
            raise
        return ImportResult(int(existing), False, {}, problems + vproblems)
    # the version's tables grew (and the service's since the last check): fresh planner
    # statistics for what is due, after the commit (decision 0026)
    grown = {INPUT_TABLES[name].name: n for name, n in rows.items() if n}
    grown |= {data_version.name: 1, column_copy.name: len(grown)}
    analyze_grown(engine, grown, grown)
    return ImportResult(version, True, rows, problems + vproblems)


def current_user() -> str:
    """Who is recorded on a data version or a payment run: `SIO_USER` (e.g. set by a scheduler
    that runs on behalf of a named person), else the operating-system user."""
    named = os.environ.get("SIO_USER", "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "ukjent"


def _store(
    engine: Engine,
    sha: str,
    source: str,
    user: str,
    tables: Mapping[str, pl.DataFrame],
    rows: dict[str, int],
) -> int:
    with engine.begin() as conn:
        version = conn.execute(
            insert(data_version)
            .values(
                opprettet=dt.datetime.now(dt.UTC),
                bruker=user,
                kilde=source,
                sha256=sha,
                rader=rows,
            )
            .returning(data_version.c.id)
        ).scalar_one()
        stored: dict[str, pl.DataFrame] = {}
        for name, df in tables.items():
            if df.height:
                stored[name] = _bulk_insert(conn, name, df, int(version))
                _fault_injection_pause()
        write_copy(conn, int(version), stored)
    return int(version)


def _fault_injection_pause() -> None:
    """For the crash tests only: `SIO_TEST_HOLD_IMPORT=SECONDS` holds an import inside its
    transaction after the first table is written, so that a test can kill the process there."""
    hold = os.environ.get("SIO_TEST_HOLD_IMPORT")
    if hold:
        time.sleep(float(hold))


def _bulk_insert(conn: Connection, name: str, df: pl.DataFrame, version: int) -> pl.DataFrame:
    """Store the rows `df` of table `name` as `version`; returns them as stored."""
    cols = list(TABLE_BY_NAME[name].all_columns)
    frame = df.select(pl.lit(version).alias("versjon"), pl.col("_line").alias("rad"), *cols)
    table = INPUT_TABLES[name].name
    names = ["versjon", "rad", *cols]
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        assert raw is not None
        sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
            for row in frame.iter_rows():
                copy.write_row(row)
        return frame
    placeholders = ", ".join("?" for _n in names)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",
        list(frame.iter_rows()),
    )
    return frame


def list_versions(engine: Engine) -> list[VersionInfo]:
    with engine.connect() as conn:
        rows = conn.execute(select(data_version).order_by(data_version.c.id)).fetchall()
    return [
        VersionInfo(r.id, r.opprettet, r.bruker, r.kilde, r.sha256, dict(r.rader)) for r in rows
    ]


def diff_versions(engine: Engine, v1: int, v2: int) -> list[dict[str, Any]]:
    """What changed from version v1 to v2: per table and municipality, the rows added (new keys),
    superseded (keys whose row changed) and, when v2 is the older version, removed."""
    out: list[dict[str, Any]] = []
    with engine.connect() as conn:
        latest = latest_version(conn) or 0
        for v in (v1, v2):
            _check_version(v, latest)
        a, b = read_state(conn, v1), read_state(conn, v2)
    for spec in TABLES:
        keys = list(KEYS[spec.name])
        left = a[spec.name].rename({"versjon": "_va"}).drop("rad")
        right = b[spec.name].rename({"versjon": "_vb"}).drop("rad")
        j = right.join(left.select(*keys, "_va"), on=keys, how="left", nulls_equal=True)
        j = j.with_columns(
            pl.when(pl.col("_va").is_null())
            .then(pl.lit("lagt_til"))
            .when(pl.col("_va") != pl.col("_vb"))
            .then(pl.lit("erstattet"))
            .otherwise(pl.lit("uendret"))
            .alias("_status")
        )
        removed = left.join(right.select(keys), on=keys, how="anti", nulls_equal=True)
        # every input table but personer has kommunenummer
        if "kommunenummer" not in j.columns:
            j, removed = (
                f.with_columns(pl.lit(None, pl.Utf8).alias("kommunenummer")) for f in (j, removed)
            )
        j = pl.concat(
            [
                j.select("kommunenummer", "_status"),
                removed.select("kommunenummer", pl.lit("fjernet").alias("_status")),
            ],
            how="vertical",
        )
        counts = (
            j.filter(pl.col("_status") != "uendret")
            .group_by("kommunenummer", "_status")
            .len()
            .sort("kommunenummer", "_status")
        )
        for k, status, n in counts.iter_rows():
            out.append({"tabell": spec.name, "kommunenummer": k, "endring": status, "rader": n})
    return out
