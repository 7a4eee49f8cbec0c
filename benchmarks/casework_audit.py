"""The audit log at 10 million rows: "who has seen this person" (`audit.access_log`) and "what
has this user seen" (`audit.account_log`, newest 100) on PostgreSQL, target ≤ 50 ms each. Not
a test.

Set-up: a fresh PostgreSQL database, migrated; `logg` filled with N rows in one
INSERT … SELECT generate_series (200 000 persons, 2 000 accounts, five years of timestamps;
so ~50 rows per person and ~5 000 per account), the indexes built after the load, ANALYZE.
Then each query runs for 200 random ids (after 20 warm-up runs), timed from the Python call to
the last row, through the service's own functions. The database is dropped at the end.

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

from sqlalchemy import create_engine, text

from sio.casework import audit
from sio.casework.schema import audit_log
from sio.store.db import make_engine, migrate

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
PERSONS = 200_000
ACCOUNTS = 2_000
TARGET_MS = 50.0


def _timed(fn, ids: list[int]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for i in ids[:20]:
        fn(i)
    times = []
    for i in ids[20:]:
        t0 = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(len(times) * 0.95)], 2),
        "max_ms": round(times[-1], 2),
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
            who = _timed(lambda p: audit.access_log(c, p, "5035"), persons)
            what = _timed(lambda k: audit.account_log(c, k, limit=100), accounts)
            week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
            page = _timed(lambda k: audit.account_log(c, k, before=week_ago, limit=100), accounts)
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
