"""The audit log at 10 million rows: "who has seen this person" (`audit.access_log`) and "what
has this user seen" (`audit.account_log`, newest 100) on PostgreSQL, target ≤ 50 ms each. Not
a test.

Set-up: a fresh PostgreSQL database, migrated; `logg` filled with N rows in one
INSERT … SELECT generate_series (200 000 persons, 2 000 accounts, five years of timestamps;
so ~50 rows per person and ~5 000 per account), the indexes built after the load, ANALYZE.
Then each query runs for 200 random ids (after 20 warm-up runs), timed from the Python call to
the last row, through the service's own functions; the three slowest calls of each are made
again and their statement explained (EXPLAIN ANALYZE, BUFFERS), to tell a slow plan or a cold
disk from a wait for the CPU. The database is dropped at the end.

Run: .venv/bin/python benchmarks/casework_audit.py [--rows 10000000] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from sio.casework import audit
from sio.casework.schema import audit_log
from sio.store.db import make_engine, migrate

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
PERSONS = 200_000
ACCOUNTS = 2_000
TARGET_MS = 50.0


def _timed(fn, ids: list[int], conn) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    for i in ids[:20]:
        fn(i)
    timed = []
    for i in ids[20:]:
        t0 = time.perf_counter()
        fn(i)
        timed.append(((time.perf_counter() - t0) * 1000, i))
    times = sorted(t for t, _i in timed)
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95)], 2),
        "max_ms": round(times[-1], 2),
        "slowest": [_explain(fn, i, t, conn) for t, i in sorted(timed, reverse=True)[:3]],
    }


def _explain(fn, i: int, ms: float, conn) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Why a call was slow: the same call again, timed, and the server's own time for its
    statement (EXPLAIN ANALYZE, BUFFERS): a slow call whose statement is fast inside PostgreSQL
    and fast again waited for a CPU, not for its plan or the disk."""
    seen: list[tuple[str, Any]] = []

    def grab(_c, _cur, statement, parameters, _ctx, _many):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(conn.engine, "before_cursor_execute", grab)
    try:
        t0 = time.perf_counter()
        fn(i)
        again = (time.perf_counter() - t0) * 1000
    finally:
        event.remove(conn.engine, "before_cursor_execute", grab)
    statement, parameters = seen[-1]
    plan = conn.exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
    ).scalar_one()[0]
    top = plan["Plan"]
    return {
        "id": i,
        "ms": round(ms, 2),
        "same_call_again_ms": round(again, 2),
        "server_execution_ms": round(plan["Execution Time"], 2),
        "server_planning_ms": round(plan["Planning Time"], 2),
        "shared_blocks_hit": top.get("Shared Hit Blocks"),
        "shared_blocks_read": top.get("Shared Read Blocks"),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results-casework-audit.json"
    )
    args = ap.parse_args()
    name = f"sio_bench_audit_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{PG}/{name}")
    try:
        migrate(engine)
        indexes = [i for i in audit_log.indexes]
        t0 = time.monotonic()
        with engine.begin() as c:
            for i in indexes:
                c.execute(text(f"DROP INDEX {i.name}"))
            c.execute(
                text(
                    "INSERT INTO logg (tidspunkt, konto_id, brukernavn, rolle, handling, ressurs, "
                    "sak_id, person_id, kommunenummer, begrunnelse) "
                    "SELECT now() - (g % 157680000) * interval '1 second', g % :accounts, "
                    "'bruker' || (g % :accounts), 'saksbehandler', 'les', 'saksliste', "
                    "g % 1000000, (g * 7919) % :persons, '5035', 'saksbehandling' "
                    "FROM generate_series(1::bigint, :rows) g"
                ),
                {"rows": args.rows, "persons": PERSONS, "accounts": ACCOUNTS},
            )
        load_s = time.monotonic() - t0
        t0 = time.monotonic()
        with engine.begin() as c:
            for i in indexes:
                i.create(c)
            c.execute(text("ANALYZE logg"))
        index_s = time.monotonic() - t0
        rng = random.Random(1)
        persons = [rng.randrange(PERSONS) for _ in range(220)]
        accounts = [rng.randrange(ACCOUNTS) for _ in range(220)]
        with engine.connect() as c:
            who = _timed(lambda p: audit.access_log(c, p, "5035"), persons, c)
            what = _timed(lambda k: audit.account_log(c, k, limit=100), accounts, c)
            week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
            page = _timed(
                lambda k: audit.account_log(c, k, before=week_ago, limit=100), accounts, c
            )
            size = c.execute(text("SELECT pg_total_relation_size('logg')")).scalar_one()
        result = {
            "rows": args.rows,
            "load_s": round(load_s, 1),
            "index_s": round(index_s, 1),
            "table_and_indexes_mib": round(size / 2**20),
            "who_has_seen_this_person": who,
            "what_has_this_user_seen_newest_100": what,
            "what_has_this_user_seen_before_a_week_ago_100": page,
            "target_ms": TARGET_MS,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        print(json.dumps(result, indent=2))
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
