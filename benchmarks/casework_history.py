"""What a casework request costs as its case's history grows: the case, the case list and each
write (assessment, recommendation, decision) on a case with 0, 20, 60 and 150 rounds of
assessment → recommendation → decision, on PostgreSQL. Not a test.

The app runs in this process (FastAPI's test client, no HTTP server), so that the CPU of a
request can be taken with `time.process_time` and every SQL statement it sends is timed and
counted (an engine event). Per depth the case is read `--reads` times and the list as many
times; then `--writes` more rounds are written and each write timed. Printed per depth: CPU and
wall milliseconds per request (medians), the answer's size, and the statements whose time
grows; `--profile` adds the top functions of a cProfile of `GET /api/saker/{id}` at the
deepest depth. The figures go to `--out` (JSON).

Run: .venv/bin/python benchmarks/casework_history.py [--depths 0,20,60,150] [--database h6_hist]
Needs PostgreSQL on 127.0.0.1:5432 (trust auth).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).parent))
from casework_load import DECISION, PG, SCORES, identity_number, set_up_store

ASSESSMENT = {
    "skaarer": SCORES,
    "kartlagt_dato": "2020-03-04",
    "kartlagt_av": "Kari Kartlegger",
    "signert_dato": "2020-03-04",
    "hva_er_viktig": "Å bo hjemme og gå tur med hunden",
}


class Statements:
    """Every statement's wall time, by its first 90 characters, under the current label."""

    def __init__(self) -> None:
        self.label = ""
        self.times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self._t0: dict[int, float] = {}

    def attach(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _before(_c: Any, cursor: Any, _s: Any, _p: Any, _x: Any, _m: Any) -> None:
            self._t0[id(cursor)] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_c: Any, cursor: Any, statement: str, _p: Any, _x: Any, _m: Any) -> None:
            t0 = self._t0.pop(id(cursor), None)
            if t0 is not None and self.label:
                key = " ".join(statement.split())[:90]
                self.times[self.label][key].append((time.perf_counter() - t0) * 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--depths", default="0,20,60,150", help="rounds of history (default 0,20,60,150)"
    )
    ap.add_argument("--reads", type=int, default=40, help="reads per depth (default 40)")
    ap.add_argument("--writes", type=int, default=8, help="rounds written per depth (default 8)")
    ap.add_argument("--database", default="h6_hist")
    ap.add_argument("--profile", action="store_true", help="cProfile of the deepest case's read")
    ap.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "casework-history.json"
    )
    args = ap.parse_args()
    depths = [int(x) for x in args.depths.split(",")]

    url = f"{PG}/{args.database}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{args.database}"'))
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_PSEUDONYM_KEY=secrets.token_hex(32))
    os.environ.update(SIO_DATABASE_URL=url, SIO_PSEUDONYM_KEY=env["SIO_PSEUDONYM_KEY"])
    results: dict[str, Any] = {"depths": {}}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = set_up_store(url, env, Path(tmp), 1)
            from fastapi.testclient import TestClient

            from sio.casework.api import create_app
            from sio.store.db import make_engine

            engine = make_engine(url, pre_ping=False)
            stmts = Statements()
            stmts.attach(engine)
            token = store["tokens"]["4624"][0]
            h = {"Authorization": f"Bearer {token}"}
            client = TestClient(create_app(engine, secure_cookies=False))
            # some other cases, so that the list has a page to show
            for i in range(40):
                r = client.post(
                    "/api/saker",
                    headers=h,
                    json={
                        "fodselsnummer": identity_number(1000 + i),
                        "mottatt": "2020-01-02",
                        "henvendelse": "Søker hjelp",
                    },
                )
                assert r.status_code == 201, r.text

            def timed(
                label: str, method: str, path: str, body: Any = None
            ) -> tuple[float, float, int]:
                stmts.label = label
                c0, w0 = time.process_time(), time.perf_counter()
                r = client.request(method, path, headers=h, json=body)
                c1, w1 = time.process_time(), time.perf_counter()
                stmts.label = ""
                assert r.status_code in (200, 201), f"{label}: {r.status_code} {r.text[:300]}"
                return (c1 - c0) * 1000, (w1 - w0) * 1000, len(r.content)

            def round_(sak: int, label: str | None = None) -> dict[str, tuple[float, float, int]]:
                out = {}
                for kind, path, body in (
                    ("post_assessment", "kartlegginger", ASSESSMENT),
                    ("post_recommendation", "anbefalinger", None),
                    ("post_decision", "vedtak", DECISION),
                ):
                    lab = f"{label}:{kind}" if label else ""
                    out[kind] = timed(lab, "POST", f"/api/saker/{sak}/{path}", body)
                return out

            for n, depth in enumerate(depths, start=1):
                r = client.post(
                    "/api/saker",
                    headers=h,
                    json={
                        "fodselsnummer": identity_number(n),
                        "mottatt": "2020-01-02",
                        "henvendelse": "Søker hjelp til husarbeid og innkjøp",
                    },
                )
                sak = int(r.json()["id"])
                for _ in range(depth):
                    round_(sak)
                row: dict[str, Any] = {}
                for kind, path in (
                    ("get_case", f"/api/saker/{sak}"),
                    ("list_cases", "/api/saker?side=1&per_side=20"),
                ):
                    samples = [timed(f"{depth}:{kind}", "GET", path) for _ in range(args.reads)]
                    row[kind] = samples
                writes: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
                for _ in range(args.writes):
                    for kind, v in round_(sak, str(depth)).items():
                        writes[kind].append(v)
                row.update(writes)
                summary = {
                    kind: {
                        "cpu_ms": round(statistics.median(s[0] for s in samples), 2),
                        "wall_ms": round(statistics.median(s[1] for s in samples), 2),
                        "answer_bytes": samples[-1][2],
                    }
                    for kind, samples in row.items()
                }
                sql = {}
                for kind in summary:
                    per = stmts.times.get(f"{depth}:{kind}", {})
                    reqs = len(row[kind])
                    sql[kind] = {
                        "statements_per_request": round(
                            sum(len(v) for v in per.values()) / reqs, 1
                        ),
                        "sql_ms_per_request": round(sum(sum(v) for v in per.values()) / reqs, 2),
                        "by_statement_ms": {k: round(sum(v) / reqs, 3) for k, v in per.items()},
                    }
                results["depths"][str(depth)] = {"summary": summary, "sql": sql}
                print(f"depth {depth}:")
                for kind, s in summary.items():
                    q = sql[kind]
                    print(
                        f"  {kind:20s} cpu {s['cpu_ms']:7.2f} ms  wall {s['wall_ms']:7.2f} ms  "
                        f"answer {s['answer_bytes']:7d} B  sql {q['statements_per_request']:4.1f} "
                        f"statements {q['sql_ms_per_request']:6.2f} ms"
                    )
                if args.profile and depth == max(depths):
                    prof = cProfile.Profile()
                    prof.enable()
                    for _ in range(10):
                        client.get(f"/api/saker/{sak}", headers=h)
                    prof.disable()
                    buf = io.StringIO()
                    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
                    results["profile_get_case"] = buf.getvalue()
                    print(buf.getvalue())
            # the statements of each kind whose time per request grows most from first to last depth
            first, last = str(depths[0]), str(depths[-1])
            growth = {}
            for kind in results["depths"][first]["sql"]:
                a = results["depths"][first]["sql"][kind]["by_statement_ms"]
                b = results["depths"][last]["sql"][kind]["by_statement_ms"]
                growth[kind] = sorted(
                    ((round(b.get(k, 0) - a.get(k, 0), 3), k) for k in set(a) | set(b)),
                    reverse=True,
                )[:4]
            results["statement_growth_ms"] = growth
            print("statements that grow most (ms per request, deepest − shallowest):")
            for kind, g in growth.items():
                print(f"  {kind}:")
                for d, k in g:
                    print(f"    {d:+8.3f}  {k}")
            client.close()
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        admin.dispose()
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
