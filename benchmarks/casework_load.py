"""Load benchmark of the casework service: a mixed workload (80 % reads, 20 % writes) from wrk on
loopback against `sio serve` on PostgreSQL, at a fixed rate. Not a test.

Set-up: a fresh PostgreSQL database, the demo data of 2020 imported (the municipalities a case
needs), caseworker accounts and bearer tokens for two municipalities, and seeded cases walked
through the API (application, assessment, recommendation, most with a decision) so that the
reads have data. Then `sio serve` runs as a subprocess, wrk sends the mix at the target rate
(benchmarks/casework_load.lua), and the figures go to benchmarks/results-casework.json.
The database is dropped and the server stopped at the end.

Run: .venv/bin/python benchmarks/casework_load.py [--rate 200] [--duration 60] [--repeat 2]
Needs wrk (Debian: apt-get install -y wrk) and PostgreSQL on 127.0.0.1:5432 (trust auth).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil
from sqlalchemy import create_engine, text
from stdnum.no import fodselsnummer

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
MUNICIPALITIES = ("4624", "5035")  # Bjørnafjorden, Stjørdal: in the trial in 2020
TARGET_P99_MS = 100.0

SCORES = {
    "sosial_deltakelse": 1,
    "beslutninger_dagliglivet": 1,
    "styre_atferd": 1,
    "alminnelig_husarbeid": 3,
    "skaffe_varer": 3,
    "personlig_hygiene": 2,
    "av_og_paakledning": 1,
    "spise": 1,
    "lage_mat": 2,
    "ivareta_egen_helse": 2,
    "bevege_seg_innendoers": 1,
    "bevege_seg_utendoers": 2,
    "toalett": 1,
    "hukommelse": 1,
    "kommunikasjon": 1,
    "syn": 1,
    "hoersel": 9,
}
DECISION = {
    "tjeneste": "PB_DAGL",
    "omfang": "1",
    "enhet": "timer_per_uke",
    "fra": "2020-04-01",
    "maal": "Klare seg hjemme",
    "vedtaksdato": "2020-03-10",
}


def identity_number(n: int) -> str:
    """A valid fødselsnummer, different for every n below 2 800 (born in 1940)."""
    for ind in range(100 + n % 400, 500):
        base = f"{1 + n % 28:02d}0140{ind:03d}"
        try:
            k1 = fodselsnummer.calc_check_digit1(base)
            k2 = fodselsnummer.calc_check_digit2(base + k1)
            return str(fodselsnummer.validate(base + k1 + k2))
        except Exception:
            continue
    raise ValueError(f"no valid number for {n}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return time.perf_counter() - t0


# -- set-up ---------------------------------------------------------------------------------------


def set_up_store(url: str, env: dict[str, str], tmp: Path, caseworkers: int) -> dict[str, Any]:
    """Demo data imported, caseworker accounts and tokens; returns tokens per municipality."""
    demo = run(
        [str(BIN / "sio"), "demo", "--out", str(tmp / "demo"), "--fra-aar", "2020", "--til-aar",
         "2020"],
        env,
    )  # fmt: skip
    imported = run([str(BIN / "sio"), "import", str(tmp / "demo" / "inndata")], env)
    from sio.casework.api import create_account, issue_token
    from sio.store.db import make_engine

    engine = make_engine(url)
    tokens: dict[str, list[str]] = {}
    for k in MUNICIPALITIES:
        for i in range(caseworkers):
            kid = create_account(engine, f"sb{k}_{i}", None, "saksbehandler", k)
            tokens.setdefault(k, []).append(issue_token(engine, kid, "last"))
    engine.dispose()
    return {"tokens": tokens, "demo_seconds": demo, "import_seconds": imported}


def start_server(
    env: dict[str, str], port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    cmd = [str(BIN / "sio"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sio serve stopped:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                # every worker answers: a few more requests before the load starts
                for _ in range(4 * workers):
                    httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5)
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("sio serve did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its workers (our own session)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def seed_cases(base: str, tokens: dict[str, list[str]], n: int) -> list[tuple[int, str]]:
    """n cases walked through the API, split over the municipalities; three in four get a
    decision, the rest stay at the recommendation (so that deadlines run over)."""

    def ok(r: httpx.Response) -> Any:
        if r.status_code not in (200, 201):
            raise SystemExit(
                f"seeding: {r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
            )
        return r.json()

    def one(i: int) -> tuple[int, str]:
        k = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        token = tokens[k][i // len(MUNICIPALITIES) % len(tokens[k])]
        h = {"Authorization": f"Bearer {token}"}
        received = dt.date(2020, 1, 2) + dt.timedelta(days=i % 60)
        r = client.post(
            "/api/saker",
            headers=h,
            json={
                "fodselsnummer": identity_number(i),
                "mottatt": received.isoformat(),
                "henvendelse": "Søker hjelp til husarbeid og innkjøp",
            },
        )
        sak = int(ok(r)["id"])
        r = client.post(
            f"/api/saker/{sak}/kartlegginger",
            headers=h,
            json={
                "skaarer": SCORES,
                "kartlagt_dato": "2020-03-04",
                "kartlagt_av": "Kari Kartlegger",
                "signert_dato": "2020-03-04",
                "hva_er_viktig": "Å bo hjemme og gå tur med hunden",
            },
        )
        ok(r)
        ok(client.post(f"/api/saker/{sak}/anbefalinger", headers=h))
        if i % 4 != 3:
            ok(client.post(f"/api/saker/{sak}/vedtak", headers=h, json=DECISION))
        return sak, token

    with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


# -- the load -------------------------------------------------------------------------------------


def cpu_snapshot(proc: subprocess.Popen[bytes]) -> tuple[float, float, float]:
    """(machine busy CPU seconds, machine total CPU seconds, server process tree CPU seconds)."""
    t = psutil.cpu_times()
    total = sum(t)
    busy = total - t.idle - getattr(t, "iowait", 0.0)
    server = 0.0
    try:
        root = psutil.Process(proc.pid)
        for p in [root, *root.children(recursive=True)]:
            c = p.cpu_times()
            server += c.user + c.system
    except psutil.NoSuchProcess:
        pass
    return busy, total, server


def run_wrk(
    url: str, cases_file: Path, rate: int, seconds: int, threads: int, connections: int,
    close_share: float, kind: str | None = None,
) -> tuple[dict[str, Any], str]:  # fmt: skip
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    cmd += ["--timeout", "5s", "-s", str(HERE / "casework_load.lua"), url, "--"]
    cmd += [str(cases_file), f"{rate / threads:g}", f"{close_share:g}"] + ([kind] if kind else [])
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"wrk failed:\n{p.stdout}\n{p.stderr}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("CASEWORK_RESULT ")]
    if not lines:
        raise SystemExit(f"no result line from wrk:\n{p.stdout}\n{p.stderr}")
    out: dict[str, Any] = json.loads(lines[-1].removeprefix("CASEWORK_RESULT "))
    return out, " ".join(cmd)


def summarise(raw: dict[str, Any], rate: int) -> dict[str, Any]:
    lat = raw["latency_us"]
    pct = lat["percentiles"]
    sock = raw["socket_errors"]
    socket_errors = sock["connect"] + sock["read"] + sock["write"] + sock["timeout"]
    achieved = raw["requests"] / (raw["duration_us"] / 1e6)
    s = {
        "requests": raw["requests"],
        "seconds": round(raw["duration_us"] / 1e6, 2),
        "rate_per_s": round(achieved, 1),
        "p50_ms": pct["50"] / 1000,
        "p90_ms": pct["90"] / 1000,
        "p99_ms": pct["99"] / 1000,
        "p99_9_ms": pct["99.9"] / 1000,
        "max_ms": lat["max"] / 1000,
        "mean_ms": round(lat["mean"] / 1000, 3),
        "non_2xx": raw["non_2xx"],
        "socket_errors": socket_errors,
        "errors": raw["non_2xx"] + socket_errors,
        "late_sends": raw["late_sends"],
    }
    s["target_met"] = s["p99_ms"] <= TARGET_P99_MS and s["errors"] == 0 and achieved >= 0.98 * rate
    return s


def line(label: str, s: dict[str, Any]) -> str:
    return (
        f"{label}: {s['requests']} requests in {s['seconds']} s = {s['rate_per_s']}/s; "
        f"p50 {s['p50_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, "
        f"max {s['max_ms']:.1f} ms; errors {s['errors']} (non-2xx {s['non_2xx']}, socket "
        f"{s['socket_errors']}); late sends {s['late_sends']}; target "
        f"{'met' if s['target_met'] else 'MISSED'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=int, default=200, help="requests per second (default 200)")
    ap.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs back to back (default 2)")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of load before (default 5)")
    ap.add_argument("--workers", type=int, default=2, help="sio serve workers (default 2)")
    ap.add_argument("--cases", type=int, default=400, help="seeded cases (default 400)")
    ap.add_argument("--caseworkers", type=int, default=2, help="per municipality (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    ap.add_argument(
        "--close-share",
        type=float,
        default=0.05,
        help="share of requests with 'Connection: close', so that connections are opened\n"
        "again during the run and spread over the workers (default 0.05)",
    )
    ap.add_argument("--only", help="send one kind of request only (e.g. overdue; no JSON file)")
    ap.add_argument("--database", default="sio_bench_casework")
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep the database and the server (cases in /tmp/casework_cases.tsv)",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results-casework.json")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    url = f"{PG}/{args.database}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{args.database}"'))
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_PSEUDONYM_KEY=secrets.token_hex(32))
    os.environ.update(SIO_DATABASE_URL=url, SIO_PSEUDONYM_KEY=env["SIO_PSEUDONYM_KEY"])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc: subprocess.Popen[bytes] | None = None
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "rate": args.rate,
        "duration_s": args.duration,
        "workers": args.workers,
        "wrk_threads": args.threads,
        "wrk_connections": args.connections,
        "close_share": args.close_share,
        "mix": "80 % reads (get_case 35, list_cases 20, overdue 10, criteria 15), "
        "20 % writes (post_assessment 7, post_recommendation 6, post_decision 7)",
        "target": f"p99 <= {TARGET_P99_MS:g} ms, no errors, at {args.rate} requests/s",
    }
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            t0 = time.perf_counter()
            store = set_up_store(url, env, tmp, args.caseworkers)
            proc = start_server(env, port, args.workers, tmp / "serve.log")
            t1 = time.perf_counter()
            seeded = seed_cases(base, store["tokens"], args.cases)
            t2 = time.perf_counter()
            cases_file = Path("/tmp/casework_cases.tsv") if args.keep else tmp / "cases.tsv"
            cases_file.write_text("".join(f"{sak}\t{tok}\n" for sak, tok in seeded))
            results["setup"] = {
                "demo_seconds": round(store["demo_seconds"], 2),
                "import_seconds": round(store["import_seconds"], 2),
                "seed_seconds": round(t2 - t1, 2),
                "seeded_cases": len(seeded),
                "municipalities": list(MUNICIPALITIES),
                "caseworkers": args.caseworkers * len(MUNICIPALITIES),
            }
            print(
                f"set-up: demo data {store['demo_seconds']:.1f} s, import "
                f"{store['import_seconds']:.1f} s, server up after {t1 - t0:.1f} s in all, "
                f"{len(seeded)} cases seeded through the API in {t2 - t1:.1f} s"
            )
            if args.warmup:
                run_wrk(
                    base, cases_file, args.rate, args.warmup, args.threads, args.connections,
                    args.close_share,
                )  # fmt: skip
            runs = []
            for i in range(args.repeat):
                load0 = os.getloadavg()[0]
                c0 = cpu_snapshot(proc)
                raw, cmd = run_wrk(
                    base, cases_file, args.rate, args.duration, args.threads, args.connections,
                    args.close_share, args.only,
                )  # fmt: skip
                c1 = cpu_snapshot(proc)
                s = summarise(raw, args.rate)
                wall = raw["duration_us"] / 1e6
                s["machine_cpu_busy_pct"] = round(100 * (c1[0] - c0[0]) / (c1[1] - c0[1]), 1)
                s["server_cpu_cores"] = round((c1[2] - c0[2]) / wall, 2)
                s["loadavg_before"] = round(load0, 2)
                s["sent_by_kind"] = raw["sent_by_kind"]
                s["status_counts"] = raw["status_counts"]
                s["error_samples"] = raw["error_samples"]
                s["wrk"] = raw
                runs.append(s)
                print(line(f"run {i + 1}", s))
                print(
                    f"  server CPU {s['server_cpu_cores']} cores, machine busy "
                    f"{s['machine_cpu_busy_pct']} %, load average before {s['loadavg_before']}"
                )
                for sample in raw["error_samples"]:
                    print(f"  error: {sample}")
            results["wrk_command"] = cmd
            results["runs"] = runs
            with create_engine(url).connect() as conn:
                results["rows_after"] = {
                    t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in ("sak", "kartlegging", "anbefaling", "sak_vedtak", "logg")
                }
            if args.keep:
                print(f"kept: server on {base} (pid {proc.pid}), database {args.database}")
                proc = None
    finally:
        if proc is not None:
            stop_server(proc)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)'))
        admin.dispose()
    results["met"] = all(r["target_met"] for r in results.get("runs", []))
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    if args.only is None:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.out}")
    print(
        f"target (p99 <= {TARGET_P99_MS:g} ms, no errors): {'met' if results['met'] else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
