"""The columnar copy of a stored version: the state as of an imported data version, per input
table, as one Parquet blob (table `inn_kolonner`, migration 0009).

Reading a version's million vedtak row by row costs more than everything else `sio compute --db`
does; reading one blob of a few megabytes costs a tenth of it. So an import writes, in its own
transaction (nothing of it stays if the import fails), the state as of the new version — per key
the row of the newest version up to it, with `versjon` and `rad`, exactly the frames that
`sio.store.versions.read_state` reads from the rows — and a read of version v takes the newest copy
at or below v and applies the few rows stored after it (a casework decision is a version of its
own, with one row and no copy), found through the index on `versjon`.

The rows stay the source of truth: a copy is derived from them and equal to what they give (the
tests compare them after imports, corrections and casework versions). A store without copies —
migrated from before 0009, or a version whose import could not write one — is read from its rows
as before, and so is a version with more than `DELTA_MAX` rows after its newest copy.

On PostgreSQL, rows of an older version can still be in flight when an import writes its copy (a
casework decision that took its version number before the import did and has not committed yet);
the copy would miss them. So the copy is written only once no other transaction that has inserted
a data version is still open (`_older_writers_done`), waiting at most `WAIT_S`; otherwise that
version simply has no copy. On SQLite an import is the only writer (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from sio.data.tables import TABLE_BY_NAME, TABLES
from sio.store.keys import KEYS

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "DELTA_MAX",
    "WAIT_S",
    "Query",
    "dbapi_query",
    "newest_copy",
    "query_of",
    "schema",
    "state_from_copy",
    "write_copy",
]

# more rows than this stored after the newest copy: the version is read from its rows instead
DELTA_MAX = 50_000
# how long an import waits for older versions' transactions before it writes no copy
WAIT_S = 10.0
_BATCH = 50_000

# A query's result as a frame of the given columns (in order) and types. The reader's queries
# carry no parameters: only integers (`int()`) and the names of input tables (`TABLE_BY_NAME`)
# are written into their SQL, so the same text runs on every driver.
Query = Callable[[str, Mapping[str, pl.DataType]], pl.DataFrame]


def schema(name: str) -> dict[str, pl.DataType]:
    """The columns of a table's state: `versjon`, `rad` and the text columns of the format."""
    cols = TABLE_BY_NAME[name].all_columns
    return {"versjon": pl.Int64(), "rad": pl.Int64()} | {c: pl.Utf8() for c in cols}


def _frame(rows: Collection[Any], want: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict(want), orient="row")


def dbapi_query(connection: Any, **cursor_options: Any) -> Query:
    """The queries of a DB-API connection (sqlite3, psycopg), on a cursor of `cursor_options`."""

    def run(sql: str, want: Mapping[str, pl.DataType]) -> pl.DataFrame:
        cur = connection.cursor(**cursor_options)
        try:
            cur.execute(sql)
            return _frame(cur.fetchall(), want)
        finally:
            cur.close()

    return run


def query_of(conn: Connection | Query) -> Query:
    """The queries of a SQLAlchemy connection, in its transaction: on PostgreSQL through the
    driver's binary protocol (bytea as stored, not as twice as much hexadecimal text that the
    server encodes and the client decodes again)."""
    if callable(conn):
        return conn
    if conn.dialect.name == "postgresql":
        return dbapi_query(conn.connection.dbapi_connection, binary=True)

    def run(sql: str, want: Mapping[str, pl.DataType]) -> pl.DataFrame:
        return _frame(conn.exec_driver_sql(sql).all(), want)

    return run


def _known(name: str) -> str:
    """`name`, an input table of the format (only such names are ever written into SQL)."""
    if name not in TABLE_BY_NAME:
        raise ValueError(name)
    return name


def _table(name: str) -> str:
    return f"inn_{_known(name)}"


def newest_copy(conn: Connection | Query, version: int) -> int | None:
    """The newest version at or below `version` that has a columnar copy."""
    sql = f"SELECT max(data_versjon) FROM inn_kolonner WHERE data_versjon <= {int(version)}"
    v = query_of(conn)(sql, {"v": pl.Int64()}).item()
    return None if v is None else int(v)


def _encode(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def _decode(blob: bytes, name: str) -> pl.DataFrame:
    df = pl.read_parquet(io.BytesIO(blob))
    want = schema(name)
    if df.columns != list(want):  # a copy of another layout of the table: not used
        raise _Unusable(name)
    return df.select(pl.col(c).cast(t) for c, t in want.items())


class _Unusable(Exception):
    """A copy that does not fit the table as it is now."""


def _blobs(query: Query, version: int, names: Collection[str]) -> dict[str, bytes]:
    """The blobs of the copy of `version` for the tables `names`."""
    listed = ", ".join(f"'{_known(n)}'" for n in names)
    sql = (
        "SELECT tabell, innhold FROM inn_kolonner "
        f"WHERE data_versjon = {int(version)} AND tabell IN ({listed})"
    )
    df = query(sql, {"tabell": pl.Utf8(), "innhold": pl.Binary()})
    tables, blobs = df.get_column("tabell").to_list(), df.get_column("innhold").to_list()
    return dict(zip(tables, blobs, strict=True))


def _count_after(query: Query, name: str, after: int, upto: int) -> int:
    sql = (
        f"SELECT count(*) FROM {_table(name)} "
        f"WHERE versjon > {int(after)} AND versjon <= {int(upto)}"
    )
    n = query(sql, {"n": pl.Int64()}).item()
    return int(n or 0)


def _later_rows(query: Query, name: str, after: int, upto: int) -> pl.DataFrame:
    """The stored rows of the versions after `after` up to `upto`, in the order they were stored
    (versjon, id), as a frame of `schema(name)` (a reader's few rows after a copy)."""
    want = schema(name)
    sql = (
        f"SELECT {', '.join(want)} FROM {_table(name)} "
        f"WHERE versjon > {int(after)} AND versjon <= {int(upto)} ORDER BY versjon, id"
    )
    return query(sql, want)


def _rows_after(conn: Connection, name: str, after: int, before: int) -> pl.DataFrame:
    """The stored rows of versions after `after` and before `before` (exclusive), in the order
    they were stored (versjon, id), as a frame of `schema(name)`; fetched in batches (an import
    into a store without a copy reads every stored row here)."""
    from sqlalchemy import select

    from sio.store.schema import INPUT_TABLES

    table = INPUT_TABLES[name]
    want = schema(name)
    columns = [table.c[c] for c in want]
    query = (
        select(*columns)
        .where(table.c.versjon > after, table.c.versjon < before)
        .order_by(table.c.versjon, table.c.id)
    )
    result = conn.execute(query.execution_options(yield_per=_BATCH))
    frames = [
        pl.DataFrame([tuple(r) for r in part], schema=want, orient="row")
        for part in result.partitions()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=want)


def _apply(base: pl.DataFrame, later: pl.DataFrame, name: str) -> pl.DataFrame:
    """`base` (a state) with the rows of `later` (of newer versions, in the order stored) on
    top: per key, the newest row (as `read_state` keeps it)."""
    if not later.height:
        return base
    df = pl.concat([base, later], how="vertical")
    return df.unique(list(KEYS[name]), keep="last", maintain_order=True)


def state_from_copy(
    conn: Connection | Query, version: int, names: Collection[str]
) -> dict[str, pl.DataFrame] | None:
    """The tables `names` as of `version` from the newest copy at or below it and the rows
    stored after it; None when there is no usable copy or too many rows after it. `conn`: a
    SQLAlchemy connection, or the queries of a driver's own connection (`sio.store.direct`)."""
    query = query_of(conn)
    copied = newest_copy(query, version)
    if copied is None:
        return None
    blobs = _blobs(query, copied, names)
    if set(blobs) != set(names):
        return None
    counts = {n: _count_after(query, n, copied, version) if copied < version else 0 for n in names}
    if sum(counts.values()) > DELTA_MAX:
        return None
    out: dict[str, pl.DataFrame] = {}
    try:
        for name in names:
            base = _decode(blobs.pop(name), name)
            if counts[name]:
                base = _apply(base, _later_rows(query, name, copied, version), name)
            out[name] = base
    except _Unusable:
        return None
    return out


# another open transaction in this database that has inserted a data version (an INSERT holds
# ROW EXCLUSIVE on the table until it ends; foreign keys to it take ROW SHARE) — except one that
# waits for this transaction: an import of the same content, waiting on the unique content hash,
# which fails once this one commits
_OTHER_WRITERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND relation = 'data_versjon'::regclass AND mode = 'RowExclusiveLock' AND granted "
    "AND pid <> pg_backend_pid() AND NOT pg_backend_pid() = ANY(pg_blocking_pids(pid))"
)


def _older_writers_done(conn: Connection, wait_s: float) -> bool:
    """Whether every transaction that took a version number before this one's has ended
    (PostgreSQL; waits at most `wait_s`). Such a transaction inserted its version before this
    one did, so it holds its lock on `data_versjon` until it ends: once no other transaction
    holds one, every older version is committed or rolled back, and the next statement sees
    it. (A transaction that takes its lock later has a newer version, which no copy of this
    one contains.)"""
    deadline = time.monotonic() + wait_s
    pause = 0.002
    while True:
        if not conn.exec_driver_sql(_OTHER_WRITERS).scalar():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def write_copy(conn: Connection, version: int, stored: Mapping[str, pl.DataFrame]) -> bool:
    """Write the copy of `version` in the caller's transaction, which has just stored the rows
    `stored` (per table, in `schema` columns) as that version. False: no copy was written."""
    from sqlalchemy import insert

    from sio.store.schema import column_copy

    if conn.dialect.name == "postgresql" and not _older_writers_done(conn, WAIT_S):
        return False
    names = [spec.name for spec in TABLES]
    query = query_of(conn)
    copied = newest_copy(query, version - 1)
    base: dict[str, pl.DataFrame] = {}
    if copied is not None:
        blobs = _blobs(query, copied, names)
        try:
            base = {n: _decode(blobs.pop(n), n) for n in names} if set(blobs) == set(names) else {}
        except _Unusable:
            base = {}
    after = copied if base and copied is not None else 0  # no copy: every older row, stored
    entries = []
    for name in names:
        want = schema(name)
        state = base.get(name, pl.DataFrame(schema=want))
        own = stored.get(name, pl.DataFrame(schema=want)).select(
            pl.col(c).cast(t) for c, t in want.items()
        )
        later = pl.concat([_rows_after(conn, name, after, version), own], how="vertical")
        state = _apply(state, later, name)
        entries.append(
            {
                "data_versjon": version,
                "tabell": name,
                "rader": state.height,
                "innhold": _encode(state),
            }
        )
        del state
    conn.execute(insert(column_copy), entries)
    return True
