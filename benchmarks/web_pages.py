"""Server time of the directorate's and finance pages (`sio.web.pages`, `imports_pages`,
`payments_pages`, `join_pages`) on the national synthetic data set: `sio synth national`
imported into a fresh SQLite store (or an empty PostgreSQL database), `sio serve` as a
subprocess, then as the demo directorate account: the directorate overview once cold (the
first request after start: the data version is loaded and every year computed), a month's
payment run (timed apart), and every page requested in turn as a signed-in browser would. Not
a test.

The time is measured at the client on loopback, so it is the server's time plus a fraction of a
millisecond. Figures go to benchmarks/results-web-pages.json and are recorded in
benchmarks/README.md ("The directorate's and finance pages").

Run: .venv/bin/python benchmarks/web_pages.py [--rounds 20]
     [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]   (an empty database)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = re.compile(r"(?:Demokonto|Demo account): (\S+) / (\S+) \((\w+)\)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sio(*args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("sio")), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--database-url")
    ap.add_argument("--month", default="2021-01", help="the month of the timed payment run")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="sio-bench-web-"))
    url = args.database_url or f"sqlite:///{home / 'sio.db'}"
    env = {
        **os.environ,
        "SIO_DATABASE_URL": url,
        "XDG_DATA_HOME": str(home / "data"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "SIO_COOKIE_SECURE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    data = home / "national"
    synth_s = sio("synth", "national", "--out", str(data), env=env)
    import_s = sio("import", str(data), env=env)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("sio")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    accounts: dict[str, tuple[str, str]] = {}
    assert server.stdout is not None
    for line in server.stdout:
        if m := ACCOUNT.search(line):
            accounts[m.group(3)] = (m.group(1), m.group(2))
        if "http://127.0.0.1" in line:
            break
    # keep reading the server's console, so that a full pipe never holds it up
    threading.Thread(target=lambda: [None for _line in server.stdout or ()], daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {"synth_s": round(synth_s, 2), "import_s": round(import_s, 2)}
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        c = httpx.Client(base_url=base, timeout=600, follow_redirects=False)
        name, password = accounts["direktorat"]
        c.post("/innlogging", data={"brukernavn": name, "passord": password, "neste": "/"})

        def timed(method: str, path: str, **kw: Any) -> tuple[float, httpx.Response]:
            start = time.perf_counter()
            r = c.request(method, path, **kw)
            took = (time.perf_counter() - start) * 1000
            assert r.status_code < 400, (path, r.status_code, r.text[:300])
            return took, r

        cold, _r = timed("GET", "/direktorat")
        results["overview_cold_ms"] = round(cold)
        token_match = CSRF.search(c.get("/utbetaling").text)
        assert token_match is not None
        token = token_match.group(1)
        run_ms, r = timed(
            "POST", "/utbetaling/kjor", data={"csrf_token": token, "maaned": args.month}
        )
        run_path = r.headers["location"]
        results["payment_run_ms"] = round(run_ms)
        first_run_page, page = timed("GET", run_path)
        results["run_page_first_ms"] = round(first_run_page)
        letter = re.search(r'href="(/utbetaling/kjoring/\d+/brev/\d{4})"', page.text)
        assert letter is not None
        year = args.month[:4]
        join = {
            "csrf_token": token,
            "kommune": "5021",
            "startaar": "2021",
            "aar": "3",
            "utgift_234": "10000000",
            "utgift_253": "60000000",
            "utgift_254": "30000000",
            "bef_0": "5000",
            "bef_1": "800",
            "bef_2": "300",
            "bef_3": "60",
            "volum_HJSPL": "10",
            "volum_INST_LANG": "12",
        }
        pages: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", "/direktorat", {}),
            ("GET", f"/direktorat?aar={year}", {}),
            ("GET", "/kommune/9001", {}),
            ("GET", f"/kommune/9001/forklaring?aar={year}", {}),
            ("GET", "/direktorat/import", {}),
            ("GET", "/direktorat/import/diff?fra=1&til=1", {}),
            ("GET", "/utbetaling", {}),
            ("GET", run_path, {}),
            ("GET", letter.group(1), {}),
            ("GET", f"/utbetaling/status?aar={year}", {}),
            ("GET", "/bor-vi-delta", {}),
            ("POST", "/bor-vi-delta", {"files": {k: (None, v) for k, v in join.items()}}),
            ("GET", "/parametere", {}),
            ("GET", "/parametere?q=tak", {}),
            ("GET", "/parametere?fra=2019-06-30&til=2020-06-30", {}),
            ("GET", "/parametere/inntektspaaslag.tak", {}),
        ]
        times: dict[str, list[float]] = {f"{m} {path}": [] for m, path, _kw in pages}
        for _ in range(args.rounds):
            for method, path, kw in pages:
                took, _r = timed(method, path, **kw)
                times[f"{method} {path}"].append(took)
        results["pages"] = {
            k: {"p50_ms": round(p(v, 0.5)), "p95_ms": round(p(v, 0.95))} for k, v in times.items()
        }
        results["rounds"] = args.rounds
        results["database"] = "postgresql" if url.startswith("postgresql") else "sqlite"
        results["load_average"] = [round(x, 1) for x in os.getloadavg()]
    finally:
        server.terminate()
        server.wait(20)
    out = ROOT / "benchmarks" / "results-web-pages.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
