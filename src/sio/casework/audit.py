"""The audit log of every read and write of a person's data: who, when, what, which case, why.

Rows are only ever added (the database refuses UPDATE and DELETE on `logg`), one per person
touched — a list page of 20 cases is 20 rows —, written in one statement per request in the
request's transaction: on PostgreSQL one `INSERT … SELECT … FROM unnest(…)` of the request's
case, person and municipality ids as arrays (the other columns are the same for every row), one
SQL text whatever the number of rows, so that it is compiled once and prepared by the driver; on
SQLite one `executemany` of the single-row insert. (A multi-row `INSERT … VALUES (…), (…)` is a
new statement for SQLAlchemy every time — it never caches one — and was compiled anew on every
request: 1–3 ms of CPU each.) Two indexes answer the two questions asked of the log: who has seen
this person (`person_id, tidspunkt`: `access_log`) and what has this user seen (`konto_id,
tidspunkt`: `account_log`, newest first, a page at a time).

Retention: rows older than `SIO_LOGG_DAGER` days (default 1826, five years; the municipality as
data controller sets its own) are removed by `sio konto rydd-logg` (`prune`). The run may delete
only rows older than the cutoff it writes to `logg_sletting` inside its own transaction (the
triggers check it), and it logs itself as a row of `logg`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text

from sio.casework.access import Principal
from sio.casework.schema import audit_log, audit_log_deletion, idempotency

DEFAULT_REASON = "saksbehandling"
RETENTION_ENV = "SIO_LOGG_DAGER"
DEFAULT_RETENTION_DAYS = 1826


def record(
    conn: Connection,
    p: Principal,
    handling: str,
    ressurs: str,
    entries: Iterable[tuple[int | None, int | None, str | None]],
    reason: str | None,
) -> None:
    """One row per (case id, person id, municipality) touched; `handling` is `les` or `skriv`.
    All rows go in one statement: one round trip per request (see the module docstring)."""
    entries = list(entries)
    if not entries:
        return
    common = {
        "tidspunkt": dt.datetime.now(dt.UTC),
        "konto_id": p.konto_id,
        "brukernavn": p.brukernavn,
        "rolle": p.rolle,
        "handling": handling,
        "ressurs": ressurs,
        "begrunnelse": (reason or DEFAULT_REASON)[:500],
    }
    if conn.dialect.name == "postgresql":
        conn.execute(
            _BATCH_PG,
            {
                **common,
                "saker": [e[0] for e in entries],
                "personer": [e[1] for e in entries],
                "kommuner": [e[2] for e in entries],
            },
        )
        return
    rows = [
        {**common, "sak_id": sak_id, "person_id": person_id, "kommunenummer": kommune}
        for sak_id, person_id, kommune in entries
    ]
    conn.execute(_ONE, rows)


# built once (see the module docstring)
_ONE = insert(audit_log)
_BATCH_PG = text(
    "INSERT INTO logg (tidspunkt, konto_id, brukernavn, rolle, handling, ressurs, begrunnelse, "
    "sak_id, person_id, kommunenummer) "
    "SELECT CAST(:tidspunkt AS timestamptz), CAST(:konto_id AS integer), "
    "CAST(:brukernavn AS varchar), CAST(:rolle AS varchar), CAST(:handling AS varchar), "
    "CAST(:ressurs AS varchar), CAST(:begrunnelse AS text), e.sak_id, e.person_id, e.kommune "
    "FROM unnest(CAST(:saker AS integer[]), CAST(:personer AS integer[]), "
    "CAST(:kommuner AS varchar[])) WITH ORDINALITY AS e(sak_id, person_id, kommune, n) "
    "ORDER BY e.n"
)


def access_log(conn: Connection, person_id: int, kommunenummer: str | None) -> list[dict[str, Any]]:
    """Who has seen this person: the log rows about one person (in one municipality, or all if
    None), oldest first."""
    q = (
        select(audit_log)
        .where(audit_log.c.person_id == person_id)
        .order_by(audit_log.c.tidspunkt, audit_log.c.id)
    )
    if kommunenummer is not None:
        q = q.where(audit_log.c.kommunenummer == kommunenummer)
    return [dict(r._mapping) for r in conn.execute(q).fetchall()]


def account_log(
    conn: Connection, konto_id: int, before: dt.datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """What has this user seen: the account's log rows, newest first, `limit` at a time
    (the next page: `before` = the last row's `tidspunkt`)."""
    q = select(audit_log).where(audit_log.c.konto_id == konto_id)
    if before is not None:
        q = q.where(audit_log.c.tidspunkt < before)
    q = q.order_by(audit_log.c.tidspunkt.desc(), audit_log.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q).fetchall()]


def retention() -> dt.timedelta:
    """How long log rows are kept (the setting `SIO_LOGG_DAGER`, days)."""
    return dt.timedelta(days=int(os.environ.get(RETENTION_ENV, "") or DEFAULT_RETENTION_DAYS))


@dataclass(frozen=True)
class Pruned:
    cutoff: dt.datetime
    log_rows: int
    keys: int


def prune(conn: Connection, user: str, keep: dt.timedelta, now: dt.datetime) -> Pruned:
    """Remove log rows older than `now - keep` and expired Idempotency-Keys, and log the run
    (in the caller's transaction)."""
    cutoff = now - keep
    conn.execute(insert(audit_log_deletion).values(foer=cutoff))
    old = audit_log.c.tidspunkt < cutoff
    n = int(conn.execute(select(func.count()).where(old)).scalar_one())
    if n:
        conn.execute(delete(audit_log).where(old))
    conn.execute(delete(audit_log_deletion))
    keys = conn.execute(delete(idempotency).where(idempotency.c.utloper < now)).rowcount
    conn.execute(
        insert(audit_log).values(
            tidspunkt=now,
            konto_id=None,
            brukernavn=user[:100],
            rolle="drift",
            handling="slett",
            ressurs="logg",
            begrunnelse=(
                f"oppbevaringstid {keep.days} dager: {n} rader eldre enn "
                f"{cutoff.isoformat(timespec='seconds')} slettet"
            ),
        )
    )
    return Pruned(cutoff, n, int(keys))
