"""Claiming an Idempotency-Key (`sio.casework.idempotency.claim`) on SQLite and PostgreSQL: a new
key is one statement, a repeat finds the kept answer, another request with the key is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from sio.casework import idempotency
from sio.casework.api import create_account
from sio.store.db import make_engine, migrate
from test_store import _pg_database, store_url  # noqa: F401  (fixtures)


def test_a_new_key_is_claimed_with_one_statement(store_url: str) -> None:  # noqa: F811
    engine = make_engine(store_url)
    migrate(engine)
    kid = create_account(engine, "sb", None, "saksbehandler", "0301")
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _cur, sql, *_rest: statements.append(sql)
    )
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    keep = dt.timedelta(hours=24)
    with engine.connect() as c, c.begin():
        assert idempotency.claim(c, kid, "k-1", "fp-a", now, keep) is None
        sent = [s for s in statements if not s.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE
        assert len(sent) == 1 and sent[0].lstrip().upper().startswith("INSERT")
        idempotency.store(c, kid, "k-1", 201, b'{"id":7}')
    with engine.connect() as c, c.begin():
        later = now + dt.timedelta(hours=1)
        assert idempotency.claim(c, kid, "k-1", "fp-a", later, keep) == idempotency.Stored(
            201, '{"id":7}'
        )
        with pytest.raises(idempotency.Reused):
            idempotency.claim(c, kid, "k-1", "fp-b", later, keep)
        # past its lifetime the key is a new request again
        assert idempotency.claim(c, kid, "k-1", "fp-b", now + keep * 2, keep) is None
    engine.dispose()
