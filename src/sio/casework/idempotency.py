"""Safe retries of creating writes: the `Idempotency-Key` header (IETF httpapi draft
"The Idempotency-Key HTTP Header Field").

A creating write (`POST` answering 201) with the header claims (account, key) in `idempotens`
inside the request's own transaction, before the handler runs:

- a new key is inserted with the request's fingerprint (SHA-256 of method, path and body); the
  handler's 2xx answer is stored with it when the transaction commits, so the key and the
  write it guards commit together — or, on an error answer, neither does;
- a repeat with the same fingerprint gets the stored answer again and stores nothing;
- a repeat with another fingerprint is refused (422, as the draft says);
- two requests with the same key at once: the database's primary key makes the second wait
  for the first (PostgreSQL waits on the uncommitted row; SQLite's writers take turns), and it
  then finds the stored answer.

A key is kept for `SIO_IDEMPOTENS_TIMER` hours (default 24); after that the same key is a new
request. `sio konto rydd-logg` removes expired keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sio.casework.schema import idempotency

HEADER = "Idempotency-Key"
HOURS_ENV = "SIO_IDEMPOTENS_TIMER"
DEFAULT_HOURS = 24.0
# printable ASCII without spaces, at most 255 characters (a UUID, a ULID, a random token …)
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def lifetime() -> dt.timedelta:
    """How long a key is kept (the setting `SIO_IDEMPOTENS_TIMER`, hours)."""
    hours = float(os.environ.get(HOURS_ENV, "") or DEFAULT_HOURS)
    return dt.timedelta(hours=hours)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request as the key guards it: method, path with query and the body (as canonical JSON
    when it is JSON, so that spacing and key order do not count)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    h = hashlib.sha256()
    for part in (method.encode(), b"\n", path.encode(), b"\n", canonical):
        h.update(part)
    return h.hexdigest()


@dataclass(frozen=True)
class Stored:
    """The first answer of a key."""

    status: int
    body: str


class Reused(Exception):
    """The key was used before with another request."""


# built once; the row count of an INSERT is only kept when asked for (SQLAlchemy 2.1 drops it
# otherwise, and every new key then cost a SELECT and an UPDATE more)
_CLAIM_PG = (
    postgresql.insert(idempotency)
    .on_conflict_do_nothing()
    .execution_options(preserve_rowcount=True)
)
_CLAIM_SQLITE = (
    sqlite.insert(idempotency).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
)


def claim(
    conn: Connection, konto_id: int, key: str, fp: str, now: dt.datetime, keep: dt.timedelta
) -> Stored | None:
    """Claim `key` for this request: None if the handler is to run, else the stored answer;
    `Reused` if the key belongs to another request."""
    values = dict(
        konto_id=konto_id, nokkel=key, fingeravtrykk=fp, opprettet=now, utloper=now + keep
    )
    stmt = _CLAIM_PG if conn.dialect.name == "postgresql" else _CLAIM_SQLITE
    if conn.execute(stmt, values).rowcount == 1:
        return None  # a new key: one statement
    row = conn.execute(
        select(idempotency).where(idempotency.c.konto_id == konto_id, idempotency.c.nokkel == key)
    ).one()
    expires = row.utloper if row.utloper.tzinfo else row.utloper.replace(tzinfo=dt.UTC)
    if expires < now or row.status is None:
        # expired (or left without an answer, which a commit never does): a new request
        conn.execute(
            update(idempotency)
            .where(idempotency.c.konto_id == konto_id, idempotency.c.nokkel == key)
            .values(fingeravtrykk=fp, status=None, svar=None, opprettet=now, utloper=now + keep)
        )
        return None
    if row.fingeravtrykk != fp:
        raise Reused()
    return Stored(int(row.status), str(row.svar))


_STORE = (
    update(idempotency)
    .where(idempotency.c.konto_id == bindparam("k"), idempotency.c.nokkel == bindparam("n"))
    .values(status=bindparam("s"), svar=bindparam("b"))
)  # built once, as the claim


def store(conn: Connection, konto_id: int, key: str, status: int, body: bytes) -> None:
    """Keep the answer of a claimed key (in the request's transaction)."""
    conn.execute(_STORE, {"k": konto_id, "n": key, "s": status, "b": body.decode()})
