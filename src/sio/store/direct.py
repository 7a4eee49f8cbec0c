"""A stored version read, and a computed year stored, through the database's own driver alone:
what `sio compute --db` needs, without SQLAlchemy.

Reading a national version from its columnar copy (`sio.store.columns`) takes a few queries and
one blob of a few megabytes; making a SQLAlchemy engine for them (importing it, building the
table definitions, initialising the dialect, compiling each statement) costs more CPU than the
rest of reading the version, and on PostgreSQL the psycopg driver's import as much again. So on
a store that is at the newest migration (`sio.store.db.SCHEMA_REVISION`) and has a copy, the
version is read with the standard library's `sqlite3`, or on PostgreSQL with the ADBC driver
(`adbc_driver_postgresql`, which `sio.store.versions` reads rows with as well), running the same
queries as the SQLAlchemy path (`sio.store.columns.state_from_copy`) and giving the same frames.

Anything else — a URL of another form, a store to create or migrate, no data yet, a version that
does not exist, no usable copy, the driver failing — goes the usual way (`sio.store.db.open_store`,
`sio.store.versions.load_version`), which also gives the usual messages and errors. The results
are stored the same way: in one transaction, the same columns and the same values as
`sio.store.results.store_results` (the row as JSON of `json.dumps`, the time in UTC; on SQLite in
SQLAlchemy's text form of a date and time).

On SQLite the version is read in one read transaction (`BEGIN`: the committed state, without
waiting for an import that is being written); on PostgreSQL each query sees the committed state
as it does in a SQLAlchemy connection (READ COMMITTED).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sio.data.tables import EVALUATION_TABLES, TABLE_BY_NAME, TABLES
from sio.i18n import _
from sio.store.columns import Query, dbapi_query, state_from_copy
from sio.store.db import SCHEMA_REVISION, database_url

if TYPE_CHECKING:
    from adbc_driver_manager import AdbcConnection, AdbcDatabase

    from sio.data.model import InputData
    from sio.data.readers import RawTable
    from sio.engine import YearResult
    from sio.parameters import ParameterSet

__all__ = ["load_version", "raw_from_state", "store_results", "typed_version"]


@dataclass(frozen=True)
class _Target:
    """Where the store is, as its driver takes it: a SQLite file, or a libpq URI."""

    backend: str  # "sqlite" or "postgresql"
    where: str


def _target(url: str) -> _Target | None:
    """The driver's form of `url`, if it is a plain SQLite file that exists or a PostgreSQL URL
    for psycopg without query options (anything else is left to SQLAlchemy)."""
    if "?" in url or "%" in url:
        return None
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        return _Target("sqlite", path) if path and Path(path).is_file() else None
    for prefix in ("postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return _Target("postgresql", "postgresql://" + url[len(prefix) :])
    return None


class _Store:
    """One connection of the driver: its queries, and statements with parameters."""

    def __init__(self, target: _Target) -> None:
        self.backend = target.backend
        self._adbc: AdbcConnection | None = None
        self._sqlite: sqlite3.Connection | None = None
        if target.backend == "sqlite":
            con = sqlite3.connect(target.where, timeout=60, isolation_level=None)
            # as `sio.store.db.make_engine` sets up every connection
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA journal_mode=DELETE")
            con.execute("PRAGMA busy_timeout=60000")
            self._sqlite = con
            self.query: Query = dbapi_query(con)
        else:
            from adbc_driver_manager import AdbcConnection

            self._adbc = AdbcConnection(_pg_database(target.where))
            self.query = _adbc_query(self._adbc)

    def close(self) -> None:
        if self._sqlite is not None:
            if self._sqlite.in_transaction:
                self._sqlite.execute("ROLLBACK")  # a read transaction: nothing to keep
            self._sqlite.close()
        if self._adbc is not None:
            self._adbc.close()

    def scalar(self, sql: str, dtype: pl.DataType) -> Any:
        df = self.query(sql, {"v": dtype})
        return df.item() if df.height == 1 else None

    def begin_read(self) -> None:
        """On SQLite: one read transaction for the queries that follow (ended by `close`)."""
        if self._sqlite is not None:
            self._sqlite.execute("BEGIN")

    def at_newest_migration(self) -> bool:
        revision = self.scalar("SELECT version_num FROM alembic_version", pl.Utf8())
        return bool(revision == SCHEMA_REVISION)

    def insert_results(self, rows: list[dict[str, Any]]) -> None:
        """`rows` into `resultat`, in one transaction."""
        cols = ["beregnet", "data_versjon", "parameter_versjon", "aar", "kommunenummer", "rad"]
        if self._sqlite is not None:
            con = self._sqlite
            values = [
                (r["beregnet"].strftime("%Y-%m-%d %H:%M:%S.%f"), *(r[c] for c in cols[1:]))
                for r in rows
            ]
            con.execute("BEGIN IMMEDIATE")
            try:
                con.executemany(
                    f"INSERT INTO resultat ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?)", values
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return
        from adbc_driver_manager import AdbcStatement

        assert self._adbc is not None
        frame = pl.DataFrame(
            rows,
            schema={
                "beregnet": pl.Datetime("us", "UTC"),
                "data_versjon": pl.Int32(),
                "parameter_versjon": pl.Utf8(),
                "aar": pl.Int32(),
                "kommunenummer": pl.Utf8(),
                "rad": pl.Utf8(),
            },
        )
        self._adbc.set_options(**{"adbc.connection.autocommit": "false"})
        statement = AdbcStatement(self._adbc)
        try:  # the driver's bulk ingest: one COPY (the row's text into its json column)
            statement.set_options(
                **{
                    "adbc.ingest.target_table": "resultat",
                    "adbc.ingest.mode": "adbc.ingest.mode.append",
                }
            )
            statement.bind_stream(frame.__arrow_c_stream__())
            statement.execute_update()
            self._adbc.commit()
        except BaseException:
            self._adbc.rollback()
            raise
        finally:
            statement.close()


@lru_cache(maxsize=4)
def _pg_database(uri: str) -> AdbcDatabase:
    """The ADBC driver's handle on a PostgreSQL database (loading the driver is most of the cost
    of a first connection; a handle is kept per URI)."""
    import adbc_driver_postgresql

    database: AdbcDatabase = adbc_driver_postgresql.connect(uri)
    return database


def _adbc_query(connection: AdbcConnection) -> Query:
    """The queries of an ADBC connection, their columns named and typed as asked."""
    from adbc_driver_manager import AdbcStatement

    def run(sql: str, want: Mapping[str, pl.DataType]) -> pl.DataFrame:
        statement = AdbcStatement(connection)
        try:
            statement.set_sql_query(sql)
            stream, _count = statement.execute_query()
            df = pl.DataFrame(stream)
        finally:
            statement.close()
        df = df.rename(dict(zip(df.columns, want, strict=True)))
        return df.select(pl.col(c).cast(t) for c, t in want.items())

    return run


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.Error]
    try:
        from adbc_driver_manager import Error
    except ImportError:  # pragma: no cover - installed with the project
        return tuple(errors)
    return (*errors, Error)


@contextmanager
def _opened() -> Iterator[_Store | None]:
    """A driver connection on the store, if it can be read and written directly (at the newest
    migration); None otherwise."""
    target = _target(database_url())
    if target is None:
        yield None
        return
    try:
        store = _Store(target)
    except _driver_errors():
        yield None
        return
    try:
        try:
            ready = store.at_newest_migration()
        except _driver_errors():  # e.g. no alembic_version yet
            ready = False
        yield store if ready else None
    finally:
        store.close()


def _read(version: int | None, skip: tuple[str, ...]) -> tuple[dict[str, pl.DataFrame], int] | None:
    """The state as of `version` (default: the latest) and that version, from a copy through the
    driver; None: not possible here (the usual way decides, and words any error)."""
    names = [spec.name for spec in TABLES if spec.name not in skip]
    try:
        with _opened() as store:
            if store is None:
                return None
            store.begin_read()
            latest = store.scalar("SELECT max(id) FROM data_versjon", pl.Int64())
            v = latest if version is None else version
            if latest is None or not 1 <= v <= latest:
                return None
            state = state_from_copy(store.query, int(v), names)
            return None if state is None else (state, int(v))
    except _driver_errors():
        return None


def raw_from_state(
    state: Mapping[str, pl.DataFrame], version: int | None, label: str
) -> dict[str, RawTable]:
    """The stored tables as raw tables whose rows name the source line (`_line`); problems in
    them are reported against the table's `file`, the database version."""
    from sio.data.readers import RawTable

    tables: dict[str, RawTable] = {}
    for name, df in state.items():
        src = _("database version {v}").format(v=version) if version else label
        frame = df.select(*TABLE_BY_NAME[name].all_columns, pl.col("rad").alias("_line"))
        tables[name] = RawTable(name, src, frame)
    return tables


def typed_version(
    state: Mapping[str, pl.DataFrame], version: int, params: ParameterSet
) -> InputData:
    """A stored version's state re-checked against the parameter rules and typed."""
    from sio.data.readers import RawInput
    from sio.data.validation import InputInvalid, validate_raw

    tables = raw_from_state(state, version, "")
    data, problems = validate_raw(RawInput(Path(f"db:{version}"), tables), params, trusted=True)
    if data is None:
        raise InputInvalid(problems)
    return data


def load_version(
    params: ParameterSet, version: int | None = None, evaluation: bool = True
) -> tuple[InputData, int]:
    """The input data as of `version` (default: the latest) in the store of `SIO_DATABASE_URL`,
    validated and typed, as `sio.store.versions.load_version` gives it on `open_store()`."""
    read = _read(version, () if evaluation else EVALUATION_TABLES)
    if read is None:
        from sio.store.db import open_store
        from sio.store.versions import load_version as load

        return load(open_store(), params, version, evaluation)
    state, v = read
    return typed_version(state, v, params), v


def store_results(year_result: YearResult, data_version: int) -> int:
    """Store the rows of a computed year in the store of `SIO_DATABASE_URL` (as
    `sio.store.results.store_results` does); returns how many were stored."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "beregnet": now,
            "data_versjon": data_version,
            "parameter_versjon": year_result.params_version,
            "aar": year_result.year,
            "kommunenummer": r.kommunenummer,
            "rad": json.dumps(r.to_dict()),
        }
        for r in year_result.results
    ]
    if not rows:
        return 0
    try:
        with _opened() as store:
            if store is not None:
                store.insert_results(rows)
                return len(rows)
    except _driver_errors():
        pass
    from sio.store.db import open_store
    from sio.store.results import store_results as store_with_engine

    return store_with_engine(open_store(), year_result, data_version)
