"""Server time of the allocation office's pages (`sio.web.casework_pages`): `sio serve` as a
subprocess on a fresh store with the demo data, cases seeded through the JSON API as the demo
caseworker (application, assessment, recommendation, every other case decided), then each page
requested in turn from loopback as a signed-in browser would (cookie session; the forms' POSTs
with their CSRF and form tokens). Not a test.

The time is measured at the client on loopback, so it is the server's time plus a fraction of a
millisecond. Figures go to benchmarks/results-web-casework.json and are recorded in
benchmarks/README.md.

Run: .venv/bin/python benchmarks/web_casework.py [--cases 200] [--rounds 60]
     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]   (an empty database)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
from stdnum.no import fodselsnummer

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = re.compile(r"(?:Demokonto|Demo account): (\S+) / (\S+) \((\w+)\)")
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


def identity_number(n: int) -> str:
    for ind in range(100 + n % 400, 500):
        base = f"{1 + n % 28:02d}{1 + n // 28 % 12:02d}40{ind:03d}"
        try:
            k1 = fodselsnummer.calc_check_digit1(base)
            k2 = fodselsnummer.calc_check_digit2(base + k1)
            return str(fodselsnummer.validate(base + k1 + k2))
        except Exception:
            continue
    raise AssertionError("no valid number")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(home: Path, database_url: str) -> tuple[subprocess.Popen[str], str, dict[str, Any]]:
    port = free_port()
    env = {
        **os.environ,
        "SIO_DATABASE_URL": database_url,
        "XDG_DATA_HOME": str(home / "data"),
        "HOME": str(home),
        "SIO_COOKIE_SECURE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    sio = Path(sys.executable).with_name("sio")
    proc = subprocess.Popen(
        [str(sio), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    accounts: dict[str, Any] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := ACCOUNT.search(line):
            accounts[m.group(3)] = (m.group(1), m.group(2))
        if "http://127.0.0.1" in line:
            break
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/tilgjengelighet", timeout=5)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, url, accounts


def seed(s: httpx.Client, url: str, csrf: str, n: int) -> list[int]:
    h = {"X-CSRF-Token": csrf}
    ids = []
    for i in range(n):
        r = s.post(
            url + "/api/saker",
            json={
                "fodselsnummer": identity_number(i),
                "mottatt": "2021-09-01",
                "henvendelse": "Trenger hjelp til rengjøring og innkjøp",
            },
            headers=h,
        )
        r.raise_for_status()
        sak = r.json()["id"]
        ids.append(sak)
        s.post(
            f"{url}/api/saker/{sak}/kartlegginger",
            json={
                "skaarer": SCORES,
                "kartlagt_dato": "2021-09-08",
                "kartlagt_av": "Kari Kartlegger",
                "signert_dato": "2021-09-08",
            },
            headers=h,
        ).raise_for_status()
        s.post(f"{url}/api/saker/{sak}/anbefalinger", headers=h).raise_for_status()
        if i % 2 == 0:
            s.post(
                f"{url}/api/saker/{sak}/vedtak",
                json={
                    "tjeneste": "PB_DAGL",
                    "omfang": "1",
                    "enhet": "timer_per_uke",
                    "fra": "2021-10-01",
                    "til": "2021-12-31",
                    "vedtaksdato": "2021-09-15",
                },
                headers=h,
            ).raise_for_status()
    return ids


def token_of(html: str) -> str:
    found = re.search(r'name="skjema" value="([^"]+)"', html)
    assert found, "no form token"
    return found.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sio-bench-web-") as tmp:
        home = Path(tmp)
        db = args.database_url or f"sqlite:///{home / 'sio.db'}"
        proc, url, accounts = start(home, db)
        try:
            s = httpx.Client(timeout=120)
            name, password = accounts["saksbehandler"]
            me = s.post(url + "/api/innlogging", json={"brukernavn": name, "passord": password})
            me.raise_for_status()
            csrf = me.json()["csrf_token"]
            t0 = time.perf_counter()
            ids = seed(s, url, csrf, args.cases)
            seeded = time.perf_counter() - t0
            undecided = [x for i, x in enumerate(ids) if i % 2 == 1]
            rng = random.Random(1)
            pages = {
                "/saker": lambda: "/saker",
                "/saker?side=5": lambda: "/saker?side=5",
                "/saker/{id}": lambda: f"/saker/{rng.choice(ids)}",
                "/saker/{id}/kartlegging": lambda: f"/saker/{rng.choice(ids)}/kartlegging",
                "/saker/{id}/anbefaling": lambda: f"/saker/{rng.choice(ids)}/anbefaling",
                "/saker/{id}/vedtak": lambda: f"/saker/{rng.choice(ids)}/vedtak",
                "/saker/{id}/historikk": lambda: f"/saker/{rng.choice(ids)}/historikk",
                "/saker/{id}/innsyn": lambda: f"/saker/{rng.choice(ids)}/innsyn",
            }
            times: dict[str, list[float]] = {k: [] for k in pages}
            times["POST /saker/ny"] = []
            times["POST /saker/{id}/vedtak"] = []
            for r in range(args.rounds):
                for key, path in pages.items():
                    t = time.perf_counter()
                    answer = s.get(url + path())
                    times[key].append(time.perf_counter() - t)
                    assert answer.status_code == 200, (key, answer.status_code)
                form = s.get(url + "/saker/ny").text
                t = time.perf_counter()
                answer = s.post(
                    url + "/saker/ny",
                    data={
                        "csrf_token": csrf,
                        "skjema": token_of(form),
                        "fodselsnummer": identity_number(10_000 + r),
                        "mottatt": "2021-10-01",
                        "henvendelse": "Hjelp til innkjøp",
                    },
                )
                times["POST /saker/ny"].append(time.perf_counter() - t)
                assert answer.status_code == 303, answer.status_code
                if undecided:
                    sak = undecided.pop()
                    form = s.get(f"{url}/saker/{sak}/vedtak").text
                    t = time.perf_counter()
                    answer = s.post(
                        f"{url}/saker/{sak}/vedtak",
                        data={
                            "csrf_token": csrf,
                            "skjema": token_of(form),
                            "tjeneste": "PB_DAGL",
                            "prisgruppe": "STANDARD",
                            "omfang": "1,5",
                            "enhet": "timer_per_uke",
                            "fra": "2021-10-01",
                            "til": "2021-12-31",
                            "vedtaksdato": "2021-09-20",
                        },
                    )
                    times["POST /saker/{id}/vedtak"].append(time.perf_counter() - t)
                    assert answer.status_code == 303, answer.status_code
        finally:
            proc.terminate()
            proc.wait(10)
    out: dict[str, Any] = {
        "database": "postgresql" if args.database_url else "sqlite",
        "cases": args.cases,
        "rounds": args.rounds,
        "seed_seconds": round(seeded, 1),
        "load_average": os.getloadavg()[0],
        "pages": {},
    }
    print(f"{args.cases} cases seeded in {seeded:.1f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':32} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for key, xs in times.items():
        if not xs:
            continue
        xs = sorted(x * 1000 for x in xs)
        p50, p95 = xs[len(xs) // 2], xs[min(len(xs) - 1, int(len(xs) * 0.95))]
        out["pages"][key] = {"n": len(xs), "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        print(f"{key:32} {len(xs):4d} {p50:8.1f} {p95:8.1f} {xs[-1]:8.1f}")
    (ROOT / "benchmarks" / "results-web-casework.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
