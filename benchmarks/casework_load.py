"""Load benchmark of the casework service: the mix of issue 16 (the case list 3, a case 3, a
write 3; every write with an Idempotency-Key and sent again with the same key when it is not
acknowledged in time) from wrk on loopback against `sio serve` on PostgreSQL, at fixed rates.
Not a test.

A write is the next step of a case, as a caseworker takes them: an assessment, a recommendation,
a decision, round after round. After `--rounds` rounds (default 3) the case is done and the
client opens a new case in its place (`POST /api/saker` for a new person, with an
Idempotency-Key and accounted for like every other write), so that however long the run, a
case holds at most a few rounds of history, as real cases do. (Until session 6 the writes went
to the seeded cases forever, in random order: after 12 minutes at 200/s each case held some 60
assessments, recommendations and decisions, and reading one cost three times as much as at the
start. `--rounds 0` still does that, in order.)

Set-up: a fresh PostgreSQL database, the demo data of 2020 imported (the municipalities a case
needs), caseworker accounts and bearer tokens for two municipalities, and seeded cases walked
through the API (application, assessment, recommendation, most with a decision) so that the
reads have data. Then `sio serve` runs as a subprocess and wrk sends the mix
(benchmarks/casework_load.lua) step by step as `--plan` says (or `--rate` × `--duration` ×
`--repeat`; `--soak MINUTES` for a long run in one-minute slices, with the workers' memory
sampled between slices). After the load, writes still unacknowledged are sent again with their
key (as a client would), and every acknowledged write — the new cases too — is checked against
the database: each in the store exactly once, and nothing in the store that no client was told
of. The figures go
to benchmarks/results-casework.json; the database is dropped and the server stopped at the end.

Run: .venv/bin/python benchmarks/casework_load.py [--rate 200] [--duration 60] [--repeat 2]
     .venv/bin/python benchmarks/casework_load.py --plan 200x60,400x60,800x30,1600x30@300,200x30
     .venv/bin/python benchmarks/casework_load.py --soak 30 --rate 100
Needs wrk (Debian: apt-get install -y wrk) and PostgreSQL on 127.0.0.1:5432 (trust auth).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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


def new_persons(n: int) -> list[str]:
    """n distinct valid fødselsnumre of persons born 1941–1999 (so none is a seeded case's),
    up to three a day, for the cases the load opens."""
    out: list[str] = []
    day = dt.date(1941, 1, 1)
    while len(out) < n:
        if day.year > 1999:
            raise ValueError(f"no more than {len(out)} identity numbers")
        found = 0
        for ind in range(500):  # individual numbers 000–499: born 1900–1999
            base = f"{day:%d%m%y}{ind:03d}"
            try:
                k1 = fodselsnummer.calc_check_digit1(base)
                k2 = fodselsnummer.calc_check_digit2(base + k1)
                out.append(str(fodselsnummer.validate(base + k1 + k2)))
            except Exception:
                continue
            found += 1
            if found == 3 or len(out) == n:
                break
        day += dt.timedelta(days=1)
    return out


class Pools:
    """The identity numbers each wrk thread takes for the cases it opens, one file a thread;
    after a run the numbers it used are taken off (LOG_PREFIX.pool.log says how many)."""

    def __init__(self, prefix: Path, threads: int, numbers: list[str]) -> None:
        self.prefix = prefix
        self.left = {t: numbers[t - 1 :: threads] for t in range(1, threads + 1)}
        self._write()

    def _write(self) -> None:
        for t, numbers in self.left.items():
            Path(f"{self.prefix}.{t}.txt").write_text("".join(f"{x}\n" for x in numbers))

    def used(self, log_prefix: Path) -> int:
        """Take off what the run of `log_prefix` used; returns how many that was."""
        f = Path(f"{log_prefix}.pool.log")
        if not f.exists():
            return 0
        n = 0
        for ln in f.read_text().splitlines():
            t, k = (int(x) for x in ln.split("\t"))
            self.left[t] = self.left[t][k:]
            n += k
        self._write()
        return n


def carry_cases(cases_file: Path, log_prefix: Path) -> None:
    """The cases as a run left them (a case it opened in place of a finished one, each case's
    next write) become the next run's cases file."""
    state = Path(f"{log_prefix}.cases.tsv")
    if state.exists() and state.read_text().strip():
        lines = sorted(state.read_text().splitlines(), key=lambda ln: int(ln.split("\t")[0]))
        cases_file.write_text("".join(f"{ln}\n" for ln in lines))


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


@dataclass
class Seeded:
    """A case the load writes to: its id, a caseworker's token, the person's identity number,
    the write rounds it has had and the kind of its next write."""

    sak: int
    token: str
    fnr: str
    rounds: int
    next: str

    def line(self) -> str:
        return f"{self.sak}\t{self.token}\t{self.fnr}\t{self.rounds}\t{self.next}\n"


def seed_cases(base: str, tokens: dict[str, list[str]], n: int) -> list[Seeded]:
    """n cases walked through the API, split over the municipalities; three in four get a
    decision (their first round done), the rest stay at the recommendation (so that deadlines
    run over; their next write is the decision)."""

    def ok(r: httpx.Response) -> Any:
        if r.status_code not in (200, 201):
            raise SystemExit(
                f"seeding: {r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
            )
        return r.json()

    def one(i: int) -> Seeded:
        k = MUNICIPALITIES[i % len(MUNICIPALITIES)]
        token = tokens[k][i // len(MUNICIPALITIES) % len(tokens[k])]
        h = {"Authorization": f"Bearer {token}"}
        received = dt.date(2020, 1, 2) + dt.timedelta(days=i % 60)
        fnr = identity_number(i)
        r = client.post(
            "/api/saker",
            headers=h,
            json={
                "fodselsnummer": fnr,
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
            return Seeded(sak, token, fnr, 1, "post_assessment")
        return Seeded(sak, token, fnr, 0, "post_decision")

    with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


# -- the load -------------------------------------------------------------------------------------


def db_snapshot(url: str) -> tuple[int, int, int]:
    """(transactions committed, buffers hit or read, rows fetched) of the load's database, from
    PostgreSQL's cumulative statistics: per slice, the database's work per transaction (the
    diagnostic that found the list's growth, decision 0026)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT xact_commit, blks_hit + blks_read, tup_fetched FROM pg_stat_database "
                    "WHERE datname = current_database()"
                )
            ).one()
    finally:
        engine.dispose()
    return int(row[0]), int(row[1]), int(row[2])


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
    url: str, cases_file: Path, step: Step, threads: int, close_share: float, rounds: int,
    pools: Pools, log_prefix: Path, tag: str, timeout_ms: int, wrk_timeout: int,
    kind: str | None = None,
) -> tuple[dict[str, Any], str, float]:  # fmt: skip
    """One wrk run; (its result line, the command, wrk's own CPU seconds). The cases file is
    then the cases as the run left them, and the identity numbers it used are gone from the
    pools."""
    cmd = ["wrk", "-t", str(threads), "-c", str(step.connections), "-d", f"{step.seconds}s"]
    cmd += ["--timeout", f"{wrk_timeout}s", "-s", str(HERE / "casework_load.lua"), url, "--"]
    cmd += [str(cases_file), f"{step.rate / threads:g}", str(threads), f"{close_share:g}"]
    cmd += [str(log_prefix), tag, str(timeout_ms), kind or "-", str(rounds), str(pools.prefix)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    carry_cases(cases_file, log_prefix)
    pools.used(log_prefix)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        raise SystemExit(f"wrk failed:\n{p.stdout}\n{p.stderr}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("CASEWORK_RESULT ")]
    if not lines:
        raise SystemExit(f"no result line from wrk:\n{p.stdout}\n{p.stderr}")
    out: dict[str, Any] = json.loads(lines[-1].removeprefix("CASEWORK_RESULT "))
    shown = [Path(c).name if c.startswith("/") else c for c in cmd]  # no machine paths
    return out, " ".join(shown), cpu


@dataclass(frozen=True)
class Step:
    """One stretch of load: `rate` requests/s for `seconds` over `connections` connections."""

    rate: int
    seconds: int
    connections: int

    @property
    def label(self) -> str:
        return f"{self.rate}/s × {self.seconds} s, {self.connections} connections"


def parse_plan(text_: str, connections: int) -> list[Step]:
    """Steps from "200x60,1600x30@300" (RATExSECONDS[@CONNECTIONS])."""
    steps = []
    for part in text_.split(","):
        load, _, conns = part.strip().partition("@")
        rate, _, seconds = load.partition("x")
        steps.append(Step(int(rate), int(seconds), int(conns) if conns else connections))
    return steps


def summarise(raw: dict[str, Any], rate: int) -> dict[str, Any]:
    lat = raw["latency_us"]
    pct = lat["percentiles"]
    sock = raw["socket_errors"]
    socket_errors = sock["connect"] + sock["read"] + sock["write"] + sock["timeout"]
    achieved = raw["requests"] / (raw["duration_us"] / 1e6)
    statuses = {str(k): v for k, v in raw["status_counts"].items()}
    s = {
        "requests": raw["requests"],
        "seconds": round(raw["duration_us"] / 1e6, 2),
        "rate_per_s": round(achieved, 1),
        "p50_ms": pct["50"] / 1000,
        "p90_ms": pct["90"] / 1000,
        "p95_ms": pct["95"] / 1000,
        "p99_ms": pct["99"] / 1000,
        "p99_9_ms": pct["99.9"] / 1000,
        "max_ms": lat["max"] / 1000,
        "mean_ms": round(lat["mean"] / 1000, 3),
        "non_2xx": raw["non_2xx"],
        "shed_503": statuses.get("503", 0),
        "server_errors_5xx_not_503": sum(
            v for k, v in statuses.items() if k.startswith("5") and k != "503"
        ),
        "socket_errors": socket_errors,
        "timeouts": sock["timeout"],
        "errors": raw["non_2xx"] + socket_errors,
        "late_sends": raw["late_sends"],
        "writes": raw["writes"],
    }
    s["target_met"] = s["p99_ms"] <= TARGET_P99_MS and s["errors"] == 0 and achieved >= 0.98 * rate
    return s


def line(label: str, s: dict[str, Any]) -> str:
    return (
        f"{label}: {s['requests']} requests in {s['seconds']} s = {s['rate_per_s']}/s; "
        f"p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, "
        f"max {s['max_ms']:.1f} ms; errors {s['errors']} (non-2xx {s['non_2xx']}, of them 503 "
        f"{s['shed_503']}; socket {s['socket_errors']}, time-outs {s['timeouts']}); "
        f"writes sent again {s['writes']['retries']}; late sends {s['late_sends']}"
    )


def worker_rss(proc: subprocess.Popen[bytes]) -> list[float]:
    """Resident memory of each `sio serve` worker process, MiB."""
    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for k in kids:
        with contextlib.suppress(psutil.NoSuchProcess):
            out.append(round(k.memory_info().rss / 2**20, 1))
    return sorted(out)


# -- every acknowledged write in the store exactly once ----------------------------------------

KIND_TABLE = {
    "post_case": "sak",
    "post_assessment": "kartlegging",
    "post_recommendation": "anbefaling",
    "post_decision": "sak_vedtak",
}


class Interleaved:
    """Imports and payment runs made while the load runs, as the directorate's analysts make
    them while caseworkers work: every `import_every` seconds `sio import` of a small vedtak
    file (new vedtak of the load's two municipalities, ids of their own), every `pay_every`
    seconds `sio utbetaling kjor` for the next month of 2020 — each a subprocess against the
    same database as the server. `check` then accounts for every one of them in the store."""

    def __init__(self, env: dict[str, str], tmp: Path, import_every: int, pay_every: int) -> None:
        self.env, self.tmp = env, tmp
        self.import_every, self.pay_every = import_every, pay_every
        self.imports: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self.started: list[tuple[float, str]] = []  # (time, "import 12:34:56"): per slice
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        t0 = time.monotonic()
        next_import = t0 + self.import_every / 2 if self.import_every else float("inf")
        next_pay = t0 + self.pay_every if self.pay_every else float("inf")
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_import:
                self._import(len(self.imports) + 1)
                next_import += self.import_every
            elif now >= next_pay and len(self.payments) < 12:
                self._pay(f"2020-{len(self.payments) + 1:02d}")
                next_pay += self.pay_every
            else:
                self._stop.wait(0.5)

    def _run(self, cmd: list[str]) -> dict[str, Any]:
        t0 = time.perf_counter()
        self.started.append((time.time(), f"{cmd[1]} {time.strftime('%H:%M:%S')}"))
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=False)
        return {
            "rc": p.returncode,
            "seconds": round(time.perf_counter() - t0, 2),
            "at": time.strftime("%H:%M:%S"),
            "stderr_tail": p.stderr.strip().splitlines()[-3:],
        }

    def _import(self, n: int) -> None:
        folder = self.tmp / f"import{n:03d}"
        folder.mkdir()
        ids = [f"VSOAK{n:03d}-{k:03d}" for k in range(20)]
        rows = [
            f"{vid},PSOAK{n:03d}{k:03d},{MUNICIPALITIES[k % 2]},HJSPL,,{1 + k % 7}.5,"
            f"timer_per_uke,2020-{1 + k % 12:02d}-01,"
            for k, vid in enumerate(ids)
        ]
        header = "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til"
        (folder / "vedtak.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        r = self._run([str(BIN / "sio"), "import", str(folder)])
        r["vedtak_ids"] = ids
        self.imports.append(r)
        print(f"  import {n}: exit {r['rc']} in {r['seconds']} s", flush=True)

    def _pay(self, month: str) -> None:
        out = self.tmp / "utbetaling" / month
        r = self._run([str(BIN / "sio"), "utbetaling", "kjor", "--maaned", month, "--ut", str(out)])
        r["month"] = month
        r["file"] = str(out / f"posteringer-{month}.csv")
        self.payments.append(r)
        print(f"  payment run {month}: exit {r['rc']} in {r['seconds']} s", flush=True)

    def check(self, url: str) -> dict[str, Any]:
        """Every import that answered 0 is one data version holding its 20 vedtak once; every
        payment run that answered 0 is one run in the ledger whose postings are exactly the
        lines of the file it wrote (count and sum to the øre); any other exit is a failure."""
        out: dict[str, Any] = {"imports": len(self.imports), "payment_runs": len(self.payments)}
        failures = [r for r in self.imports + self.payments if r["rc"] != 0]
        out["failed"] = failures
        with create_engine(url).connect() as conn:
            ids = [v for r in self.imports if r["rc"] == 0 for v in r["vedtak_ids"]]
            counts = Counter(
                r[0]
                for r in conn.execute(
                    text("SELECT vedtak_id FROM inn_vedtak WHERE vedtak_id = ANY(:ids)"),
                    {"ids": ids},
                )
            )
            out["imported_vedtak"] = {
                "expected": len(ids),
                "present_once": sum(1 for v in ids if counts[v] == 1),
            }
            lines = []
            for r in self.payments:
                if r["rc"] != 0:
                    continue
                with Path(r["file"]).open(encoding="utf-8") as fh:
                    file_rows = list(csv.DictReader(fh))
                runs = conn.execute(
                    text("SELECT id FROM utbetalingskjoring WHERE art = 'maaned' AND periode = :p"),
                    {"p": r["month"]},
                ).all()
                db = conn.execute(
                    text(
                        "SELECT count(*), coalesce(sum(beloep_oere), 0) FROM postering p "
                        "JOIN utbetalingskjoring k ON k.id = p.kjoring_id "
                        "WHERE k.art = 'maaned' AND k.periode = :p"
                    ),
                    {"p": r["month"]},
                ).one()
                file_sum = sum(int(x["beloep_oere"]) for x in file_rows)
                lines.append(
                    {
                        "month": r["month"],
                        "runs_in_ledger": len(runs),
                        "postings": int(db[0]),
                        "file_lines": len(file_rows),
                        "sum_oere_ledger": int(db[1]),
                        "sum_oere_file": file_sum,
                        "accounted": len(runs) == 1
                        and int(db[0]) == len(file_rows)
                        and int(db[1]) == file_sum,
                    }
                )
            out["payment_runs_checked"] = lines
        out["all_accounted"] = (
            not failures
            and out["imported_vedtak"]["present_once"] == out["imported_vedtak"]["expected"]
            and all(x["accounted"] for x in lines)
        )
        return out


def max_ids(url: str) -> dict[str, int]:
    with create_engine(url).connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar_one())
            for t in KIND_TABLE.values()
        }


def resolve_pending(base: str, log_dir: Path) -> dict[str, Any]:
    """Writes that no answer acknowledged by the end of a wrk run are sent again with their key
    and body until a 2xx answer (as a client that keeps its key would); the answers are appended
    to the log as acknowledged."""
    resolved = failed = 0
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=base, timeout=30) as client:
        for pending in sorted(log_dir.glob("*.pending.log")):
            out = []
            for ln in pending.read_text(encoding="utf-8").splitlines():
                _u, kind, sak, key, token, path, *rest = ln.split("\t")
                body = rest[0] if rest else ""
                h = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
                if body:
                    h["Content-Type"] = "application/json"
                for attempt in range(1, 11):
                    r = client.post(path, headers=h, content=body.encode())
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        j = r.json()
                        out.append(
                            "\t".join(
                                [
                                    "A",
                                    kind,
                                    sak,
                                    key,
                                    "201",
                                    str(j["id"]),
                                    j.get("vedtak_id", ""),
                                    r.headers.get("Idempotent-Replayed", ""),
                                    f"d{attempt}",
                                    "0",
                                ]
                            )
                        )
                        resolved += 1
                        break
                    time.sleep(float(r.headers.get("Retry-After", "0.2") or 0.2))
                else:
                    failed += 1
            if out:
                with (pending.parent / "driver.log").open("a", encoding="utf-8") as fh:
                    fh.write("\n".join(out) + "\n")
            pending.unlink()
    return {"resolved": resolved, "failed": failed, "statuses": dict(statuses)}


def check_writes(
    url: str, log_dir: Path, before: dict[str, int], tag_prefix: str
) -> dict[str, Any]:
    """The driver's log of acknowledged writes against the database: per kind, the rows made
    since `before` are exactly the acknowledged ones (no write lost, none stored twice, none
    stored that no client was told of); every acknowledged decision is a vedtak row in the data
    store once; every acknowledged key is one kept answer, and no other key of the run is."""
    acked: dict[str, dict[str, int]] = {k: {} for k in KIND_TABLE}  # kind -> key -> id
    conflicts: list[str] = []
    vedtak_ids: set[str] = set()
    replayed = retried = 0
    for f in sorted(log_dir.glob("*.log")):
        for ln in f.read_text(encoding="utf-8").splitlines():
            parts = ln.split("\t")
            if parts[0] != "A":
                continue
            kind, key, rid, vid = parts[1], parts[3], int(parts[5]), parts[6]
            if key in acked[kind] and acked[kind][key] != rid:
                conflicts.append(f"{key}: {acked[kind][key]} and {rid}")
            acked[kind][key] = rid
            replayed += parts[7] == "true"
            retried += parts[8] != "1"
            if vid:
                vedtak_ids.add(vid)
    out: dict[str, Any] = {"conflicting_answers_for_one_key": conflicts}
    ok = not conflicts
    with create_engine(url).connect() as conn:
        for kind, table in KIND_TABLE.items():
            ids = set(acked[kind].values())
            stored = {
                int(r[0])
                for r in conn.execute(
                    text(f"SELECT id FROM {table} WHERE id > :m"), {"m": before[table]}
                )
            }
            row = {
                "acknowledged_keys": len(acked[kind]),
                "acknowledged_ids": len(ids),
                "stored_since_start": len(stored),
                "acknowledged_not_stored": len(ids - stored),
                "stored_not_acknowledged": len(stored - ids),
            }
            row["exactly_once"] = (
                len(ids) == len(acked[kind]) and ids == stored
            )  # one id per key, one key per id, and the same set
            ok = ok and row["exactly_once"]
            out[kind] = row
        n_vedtak = Counter(
            r[0]
            for r in conn.execute(
                text("SELECT vedtak_id FROM inn_vedtak WHERE vedtak_id = ANY(:ids)"),
                {"ids": sorted(vedtak_ids)},
            )
        )
        out["decisions_in_data_store"] = {
            "acknowledged": len(vedtak_ids),
            "present_once": sum(1 for v in vedtak_ids if n_vedtak[v] == 1),
            "missing": sum(1 for v in vedtak_ids if n_vedtak[v] == 0),
            "more_than_once": sum(1 for v in vedtak_ids if n_vedtak[v] > 1),
        }
        ok = ok and out["decisions_in_data_store"]["present_once"] == len(vedtak_ids)
        kept = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status BETWEEN 200 AND 299), count(*) "
                "FROM idempotens WHERE nokkel LIKE :p"
            ),
            {"p": tag_prefix + "%"},
        ).one()
        all_keys = sum(len(v) for v in acked.values())
        out["idempotency_keys"] = {
            "acknowledged": all_keys,
            "kept_with_2xx_answer": int(kept[0]),
            "kept_in_all": int(kept[1]),
        }
        ok = ok and int(kept[0]) == all_keys == int(kept[1])
    out["answers_replayed"] = replayed
    out["acknowledged_after_a_repeat"] = retried
    out["every_acknowledged_write_stored_exactly_once"] = ok
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=int, default=200, help="requests per second (default 200)")
    ap.add_argument("--duration", type=int, default=60, help="seconds per run (default 60)")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs back to back (default 2)")
    ap.add_argument(
        "--plan",
        help="steps instead of --rate/--duration/--repeat: RATExSECONDS[@CONNECTIONS],…\n"
        "(e.g. 200x60,400x60,1600x30@300,200x30)",
    )
    ap.add_argument(
        "--soak", type=int, help="minutes of --rate in one-minute slices (latency over time)"
    )
    ap.add_argument("--warmup", type=int, default=5, help="seconds of load before (default 5)")
    ap.add_argument("--workers", type=int, default=2, help="sio serve workers (default 2)")
    ap.add_argument("--cases", type=int, default=400, help="seeded cases (default 400)")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="write rounds (assessment, recommendation, decision) a case takes before the\n"
        "client opens a new case in its place (default 3; 0: the seeded cases forever)",
    )
    ap.add_argument("--caseworkers", type=int, default=2, help="per municipality (default 2)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    ap.add_argument(
        "--client-timeout",
        type=int,
        default=2000,
        help="ms after which a client sends an unacknowledged write again (default 2000)",
    )
    ap.add_argument(
        "--wrk-timeout",
        type=int,
        default=10,
        help="s after which wrk counts a request as timed out; latencies above it are not in\n"
        "its percentiles (default 10)",
    )
    ap.add_argument(
        "--close-share",
        type=float,
        default=0.05,
        help="share of requests with 'Connection: close', so that connections are opened\n"
        "again during the run and spread over the workers (default 0.05)",
    )
    ap.add_argument(
        "--import-every",
        type=int,
        default=0,
        help="seconds between imports of a small vedtak file during the load (0: none)",
    )
    ap.add_argument(
        "--pay-every",
        type=int,
        default=0,
        help="seconds between payment runs (2020-01, 2020-02, …) during the load (0: none)",
    )
    ap.add_argument("--only", help="send one kind of request only (e.g. get_case; no JSON file)")
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
    if args.soak:
        steps = [Step(args.rate, 60, args.connections)] * args.soak
    elif args.plan:
        steps = parse_plan(args.plan, args.connections)
    else:
        steps = [Step(args.rate, args.duration, args.connections)] * args.repeat

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
    run_tag = f"L{secrets.token_hex(3)}"
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "plan": [s.label for s in steps],
        "soak_minutes": args.soak,
        "workers": args.workers,
        "wrk_threads": args.threads,
        "close_share": args.close_share,
        "client_timeout_ms": args.client_timeout,
        "wrk_timeout_s": args.wrk_timeout,
        "mix": "list_cases 3, get_case 3, a write 3: a case's next step (post_assessment, "
        "post_recommendation, post_decision in turn; after --rounds rounds post_case, a new "
        "case in its place); writes with Idempotency-Key, sent again with the same key when "
        "not acknowledged within the client time-out",
        "rounds_per_case": args.rounds,
        "target": f"p99 <= {TARGET_P99_MS:g} ms, no errors, at the rate asked",
        "machine": {"cpus": os.cpu_count(), "shared": "other work ran on the machine"},
    }
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            log_dir = tmp / "log"
            log_dir.mkdir()
            t0 = time.perf_counter()
            store = set_up_store(url, env, tmp, args.caseworkers)
            proc = start_server(env, port, args.workers, tmp / "serve.log")
            t1 = time.perf_counter()
            seeded = seed_cases(base, store["tokens"], args.cases)
            t2 = time.perf_counter()
            cases_file = Path("/tmp/casework_cases.tsv") if args.keep else tmp / "cases.tsv"
            cases_file.write_text("".join(c.line() for c in seeded))
            # identity numbers enough for the most cases the writes can open (a third of the
            # requests are writes, a case takes 3 × rounds of them and one to open it)
            seconds = args.warmup + sum(s.seconds for s in steps)
            most = args.rate * seconds // (3 * (3 * args.rounds + 1)) + 100 if args.rounds else 0
            pools = Pools(tmp / "pool", args.threads, new_persons(most))
            results["setup"] = {
                "demo_seconds": round(store["demo_seconds"], 2),
                "import_seconds": round(store["import_seconds"], 2),
                "seed_seconds": round(t2 - t1, 2),
                "seeded_cases": len(seeded),
                "identity_numbers_for_new_cases": most,
                "municipalities": list(MUNICIPALITIES),
                "caseworkers": args.caseworkers * len(MUNICIPALITIES),
            }
            print(
                f"set-up: demo data {store['demo_seconds']:.1f} s, import "
                f"{store['import_seconds']:.1f} s, server up after {t1 - t0:.1f} s in all, "
                f"{len(seeded)} cases seeded through the API in {t2 - t1:.1f} s"
            )
            before = max_ids(url)
            common = (args.threads, args.close_share, args.rounds, pools)
            if args.warmup:
                run_wrk(
                    base, cases_file, Step(min(args.rate, 200), args.warmup, args.connections),
                    *common, log_dir / "warmup", f"{run_tag}w", args.client_timeout,
                    args.wrk_timeout,
                )  # fmt: skip
            results["worker_rss_mib_start"] = worker_rss(proc)
            print(f"workers' RSS at the start: {results['worker_rss_mib_start']} MiB")
            inter = Interleaved(env, tmp, args.import_every, args.pay_every)
            if args.import_every or args.pay_every:
                inter.start()
            runs = []
            for i, step in enumerate(steps):
                load0 = os.getloadavg()
                c0 = cpu_snapshot(proc)
                d0, started0 = db_snapshot(url), time.time()
                raw, cmd, wrk_cpu = run_wrk(
                    base, cases_file, step, *common, log_dir / f"run{i + 1}",
                    f"{run_tag}r{i + 1}", args.client_timeout, args.wrk_timeout, args.only,
                )  # fmt: skip
                c1 = cpu_snapshot(proc)
                d1, started1 = db_snapshot(url), time.time()
                s = summarise(raw, step.rate)
                xacts = max(d1[0] - d0[0], 1)
                s["db_per_transaction"] = {
                    "transactions": d1[0] - d0[0],
                    "buffers": round((d1[1] - d0[1]) / xacts, 1),
                    "rows_fetched": round((d1[2] - d0[2]) / xacts, 1),
                }
                s["batch_started"] = [
                    what for at, what in list(inter.started) if started0 <= at < started1
                ]
                wall = raw["duration_us"] / 1e6
                s["step"] = step.label
                s["rate_asked"] = step.rate
                s["connections"] = step.connections
                s["machine_cpu_busy_pct"] = round(100 * (c1[0] - c0[0]) / (c1[1] - c0[1]), 1)
                s["server_cpu_cores"] = round((c1[2] - c0[2]) / wall, 2)
                s["wrk_cpu_cores"] = round(wrk_cpu / wall, 2)
                s["loadavg_before"] = [round(x, 2) for x in load0]
                s["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
                s["worker_rss_mib"] = worker_rss(proc)
                s["sent_by_kind"] = raw["sent_by_kind"]
                s["status_counts"] = raw["status_counts"]
                s["error_samples"] = raw["error_samples"]
                s["ended_at"] = time.strftime("%H:%M:%S")
                runs.append(s)
                print(line(f"run {i + 1} ({step.label})", s), flush=True)
                print(
                    f"  server CPU {s['server_cpu_cores']} cores, wrk {s['wrk_cpu_cores']} "
                    f"cores, machine busy {s['machine_cpu_busy_pct']} %, load average "
                    f"{s['loadavg_before']} → {s['loadavg_after']}, workers' RSS "
                    f"{s['worker_rss_mib']} MiB, database "
                    f"{s['db_per_transaction']['buffers']} buffers per transaction, batch "
                    f"started: {', '.join(s['batch_started']) or '-'}",
                    flush=True,
                )
                for sample in raw["error_samples"][:3]:
                    print(f"  error: {sample}")
            if args.import_every or args.pay_every:
                inter.stop()
            results["wrk_command"] = cmd
            results["runs"] = runs
            results["worker_rss_mib_end"] = worker_rss(proc)
            results["pending_writes_sent_again_after_the_load"] = resolve_pending(base, log_dir)
            results["writes_checked"] = check_writes(url, log_dir, before, run_tag)
            print("writes:", json.dumps(results["writes_checked"], ensure_ascii=False))
            if args.import_every or args.pay_every:
                results["interleaved"] = inter.check(url)
                shown = dict(results["interleaved"])
                shown.pop("payment_runs_checked")
                print("imports and payment runs:", json.dumps(shown, ensure_ascii=False))
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
    results["met"] = (
        all(r["target_met"] for r in results.get("runs", []))
        and results.get("interleaved", {"all_accounted": True})["all_accounted"]
    )
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    if args.only is None:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.out}")
    print(
        f"target (p99 <= {TARGET_P99_MS:g} ms, no errors): {'met' if results['met'] else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
