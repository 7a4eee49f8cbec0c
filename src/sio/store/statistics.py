"""Fresh planner statistics on PostgreSQL without relying on autovacuum: `ANALYZE` of the tables
that grew (decision 0026).

The store only grows: the casework service adds cases, records and log rows at every request,
an import adds data versions and their rows, a payment run its ledger. PostgreSQL plans each
statement from the statistics `ANALYZE` keeps; a table never analyzed has none, and the planner
then takes 0.5 % of the table for any `kommunenummer = …` (the default selectivity) where a
municipality holds half of it. With that estimate it chose, for the case list, a join that
compared every case of the municipality with every case of the page — a cost that grew with the
cases stored, and the p99 of the 30-minute soak with it. Where autovacuum runs it analyzes such
tables on its own, but a server may run without it (the CI's PostgreSQL does) or with it tuned
for other work, and the service must not depend on that.

`analyze_grown` analyzes the tables whose rows changed since their last `ANALYZE` by more than
autovacuum's own default rule (50 rows plus 10 % of the table, as `pg_stat_user_tables` and
`pg_class` count them, plus the rows a batch says it has just stored: a session's own changes
reach the statistics only once it is idle or ends), one table at a time in its own short
transaction. On a growing table that is once per 10 % of growth, so ever more rarely; `ANALYZE`
samples at most 30 000 rows whatever the table's size and blocks no read or write. One session
analyzes at a time (an advisory lock, tried, never waited for). Nothing is done on SQLite.

Callers: an import (`sio import`, or from the pages) and a payment run after their commit, for
the tables they grew; and the casework service, whose workers start the check in a thread of
their own at most once a minute after a request (`Upkeep.tick`), never in a request's
transaction, for the tables its requests read — not the audit log, which they only append to
and whose `ANALYZE` is the costliest (0.3 s at 1.3 million rows; `inn_kartlegging` 0.5 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

# autovacuum's defaults (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor)
BASE_ROWS = 50
SHARE = 0.1
# the advisory lock of the check (an arbitrary 64-bit key: "sio stat")
LOCK_KEY = 0x73696F2073746174

_CHANGED = text(
    "SELECT s.relname, s.n_mod_since_analyze, greatest(c.reltuples, 0) "
    "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
    "WHERE s.schemaname = current_schema() ORDER BY s.relname"
)


def due(
    conn: Connection,
    tables: Collection[str] | None = None,
    added: Mapping[str, int] | None = None,
) -> list[str]:
    """The tables (of `tables`, or all of the store's schema) whose statistics are stale by the
    rule of the module docstring, counting `added` rows per table on top of what the
    statistics have seen (a session's own changes reach them only when it is idle or ends);
    always empty on SQLite."""
    if conn.dialect.name != "postgresql":
        return []
    added = added or {}
    return [
        str(name)
        for name, changed, rows in conn.execute(_CHANGED)
        if (tables is None or name in tables)
        and int(changed) + added.get(name, 0) > BASE_ROWS + SHARE * float(rows)
    ]


def analyze_grown(
    engine: Engine,
    tables: Collection[str] | None = None,
    added: Mapping[str, int] | None = None,
) -> list[str]:
    """`ANALYZE` each table of `tables` (default: every table of the store) that is due (`due`,
    with the caller's `added` rows); returns the tables analyzed ([] on SQLite, or when another
    session is at it). Never raises for a database error: fresh statistics are an
    optimisation, not part of anyone's work."""
    if engine.dialect.name != "postgresql":
        return []
    done: list[str] = []
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
                conn.rollback()
                return []
            try:
                stale = due(conn, tables, added)
                conn.commit()
                for name in stale:
                    quoted = conn.dialect.identifier_preparer.quote(name)
                    conn.execute(text(f"ANALYZE {quoted}"))
                    conn.commit()
                    done.append(name)
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                conn.commit()
    except SQLAlchemyError:
        return done
    return done


class Upkeep:
    """The casework service's check (`analyze_grown` of `tables` in a thread of its own), started
    by `tick` at most once every `every` seconds; one at a time per process."""

    def __init__(
        self, engine: Engine, tables: Collection[str] | None = None, every: float = 60.0
    ) -> None:
        self.engine, self.every = engine, every
        self.tables = None if tables is None else frozenset(tables)
        self._next = time.monotonic() + every
        self._lock = threading.Lock()
        self._running: threading.Thread | None = None

    def tick(self) -> None:
        """Start the check if it is due (cheap when it is not: a clock read)."""
        now = time.monotonic()
        if now < self._next or self.engine.dialect.name != "postgresql":
            return
        with self._lock:
            if now < self._next or (self._running is not None and self._running.is_alive()):
                return
            self._next = now + self.every
            self._running = threading.Thread(
                target=analyze_grown,
                args=(self.engine, self.tables),
                name="sio-statistikk",
                daemon=True,
            )
            self._running.start()
