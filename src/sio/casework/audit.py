"""The audit log of every read and write of a person's data: who, when, what, which case, why.

Rows are only ever added (migration 0003 makes the table append-only in the database). A person's
own access log is the log rows about them (`access_log`), limited to the municipality that
produces it (the data controller of its cases).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from sio.casework.access import Principal
from sio.casework.schema import audit_log

DEFAULT_REASON = "saksbehandling"
_INSERT = insert(audit_log)  # built once; several rows go as one pipelined executemany


def record(
    conn: Connection,
    p: Principal,
    handling: str,
    ressurs: str,
    entries: Iterable[tuple[int | None, int | None, str | None]],
    reason: str | None,
) -> None:
    """One row per (case id, person id, municipality) touched; `handling` is `les` or `skriv`."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "tidspunkt": now,
            "konto_id": p.konto_id,
            "brukernavn": p.brukernavn,
            "rolle": p.rolle,
            "handling": handling,
            "ressurs": ressurs,
            "sak_id": sak_id,
            "person_id": person_id,
            "kommunenummer": kommune,
            "begrunnelse": (reason or DEFAULT_REASON)[:500],
        }
        for sak_id, person_id, kommune in entries
    ]
    if rows:
        conn.execute(_INSERT, rows)


def access_log(conn: Connection, person_id: int, kommunenummer: str | None) -> list[dict[str, Any]]:
    """The log rows about one person (in one municipality, or all if None), oldest first."""
    q = select(audit_log).where(audit_log.c.person_id == person_id).order_by(audit_log.c.id)
    if kommunenummer is not None:
        q = q.where(audit_log.c.kommunenummer == kommunenummer)
    return [dict(r._mapping) for r in conn.execute(q).fetchall()]
