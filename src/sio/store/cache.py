"""Figures computed from a stored data version and a parameter version, kept in the store
(table `beregnet`, migration 0008) so that they are computed once and then read: by every page
request, by a second worker on the same database and after a restart.

A stored data version never changes and neither does a parameter set with the same version, so
neither does anything computed from the pair: an entry is keyed by what it is (`art`), the data
version, the parameter version and a key of its own (a year, a municipality, a pair of versions
…), and is never updated. A new data version or parameter version simply has no entries yet.
Entries are derived data: deleting them loses nothing but the time to compute them again.

`computations` counts, per kind, the entries this process computed because none was stored
(`record_computation`); the tests read it to see that a second request, a second worker or a
restart computes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from sio.store.schema import computed

__all__ = [
    "computations",
    "read",
    "read_many",
    "record_computation",
    "write",
]

computations: Counter[str] = Counter()
_count_lock = threading.Lock()


def record_computation(art: str) -> None:
    """Note that an entry of `art` was computed (not read)."""
    with _count_lock:
        computations[art] += 1


def read(conn: Connection, art: str, data_version: int, params_version: str, key: str) -> Any:
    """The stored entry (its JSON value), or None."""
    text = conn.execute(
        select(computed.c.innhold).where(
            computed.c.art == art,
            computed.c.data_versjon == data_version,
            computed.c.parameter_versjon == params_version,
            computed.c.noekkel == key,
        )
    ).scalar_one_or_none()
    return None if text is None else json.loads(text)


def read_many(
    conn: Connection, art: str, data_version: int, params_version: str, keys: Iterable[str]
) -> dict[str, Any]:
    """The stored entries among `keys` (missing keys are left out)."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = conn.execute(
        select(computed.c.noekkel, computed.c.innhold).where(
            computed.c.art == art,
            computed.c.data_versjon == data_version,
            computed.c.parameter_versjon == params_version,
            computed.c.noekkel.in_(wanted),
        )
    )
    return {k: json.loads(v) for k, v in rows}


def write(
    target: Engine | Connection,
    art: str,
    data_version: int,
    params_version: str,
    entries: Mapping[str, Any],
) -> None:
    """Store `entries` (key → JSON value). An entry another worker stored first is kept as it
    is (both computed the same thing). On an engine: in a transaction of its own; on a
    connection: in the caller's transaction."""
    if not entries:
        return
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "art": art,
            "data_versjon": data_version,
            "parameter_versjon": params_version,
            "noekkel": k,
            "innhold": json.dumps(v, ensure_ascii=False, separators=(",", ":")),
            "beregnet": now,
        }
        for k, v in entries.items()
    ]
    if isinstance(target, Connection):
        _insert(target, rows)
        return
    with target.begin() as conn:
        _insert(conn, rows)


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    name = conn.dialect.name
    if name == "postgresql":
        stmt: Any = postgresql.insert(computed).on_conflict_do_nothing()
    elif name == "sqlite":
        stmt = sqlite.insert(computed).on_conflict_do_nothing()
    else:  # pragma: no cover - the store runs on SQLite and PostgreSQL only
        stmt = computed.insert()
    conn.execute(stmt, rows)
