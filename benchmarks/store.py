"""Benchmark of the data store: import of the national synthetic data set into SQLite and
PostgreSQL, and `compute --db` (load from the database + the full-year computation).

Each measurement runs in a fresh subprocess so that its peak memory (ru_maxrss) is its own.
Run: .venv/bin/python benchmarks/store.py [--persons 400000] [--year 2021]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchdata import data_set_name  # benchmarks/ is on sys.path when run as a script
from sqlalchemy import create_engine, text

HERE = Path(__file__).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from sio.parameters import load_parameters
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path, load_version
from sio.engine import Engine
mode, url, data_dir, year = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
params = load_parameters()
engine = make_engine(url)
migrate(engine)
t0 = time.perf_counter()
out = {}
if mode == "import":
    res = import_path(engine, data_dir, params, user="benchmark")
    out["seconds"] = time.perf_counter() - t0
    out["rows"] = res.rader
else:
    data, version = load_version(engine, params)
    t1 = time.perf_counter()
    result = Engine(data, params).compute_year(year)
    t2 = time.perf_counter()
    out["load_seconds"] = t1 - t0
    out["compute_seconds"] = t2 - t1
    out["seconds"] = t2 - t0
    out["municipalities"] = len(result.results)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_child(mode: str, url: str, data_dir: Path, year: int) -> dict[str, object]:
    p = subprocess.run(
        [sys.executable, "-c", CHILD, mode, url, str(data_dir), str(year)],
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode != 0:
        raise SystemExit(f"{mode} on {url} failed:\n{p.stderr}")
    result: dict[str, object] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=400_000)
    ap.add_argument("--year", type=int, default=2021)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="compute --db runs per backend")
    ap.add_argument("--out", type=Path, default=HERE / "results-store.json")
    args = ap.parse_args()

    from sio.data.synth import write_national

    data_dir = HERE / "data" / data_set_name(args.persons, args.year, args.seed)
    if not data_dir.exists():
        write_national(data_dir, seed=args.seed, persons=args.persons, year=args.year)

    results: dict[str, object] = {"persons": args.persons, "year": args.year}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        name = f"sio_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        pg_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            for backend, url in (("sqlite", sqlite_url), ("postgresql", pg_url)):
                imp = run_child("import", url, data_dir, args.year)
                runs = [run_child("compute", url, data_dir, args.year) for _ in range(args.repeat)]
                runs.sort(key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
                med = runs[len(runs) // 2]
                results[backend] = {"import": imp, "compute_db_median": med, "runs": runs}
                print(
                    f"{backend:10s} import {float(imp['seconds']):6.1f} s "  # type: ignore[arg-type]
                    f"(peak {float(imp['peak_rss_mb']):.0f} MB); "  # type: ignore[arg-type]
                    f"compute --db median {float(med['seconds']):.2f} s "  # type: ignore[arg-type]
                    f"(load {float(med['load_seconds']):.2f} s + compute "  # type: ignore[arg-type]
                    f"{float(med['compute_seconds']):.2f} s; peak "  # type: ignore[arg-type]
                    f"{float(med['peak_rss_mb']):.0f} MB)"  # type: ignore[arg-type]
                )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results["self_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
