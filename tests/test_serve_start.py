"""`sio serve` says where it serves and what, every time it starts — not only on an empty store
(issue 11): the test starts the real command on a store that already has data and accounts, reads
the first lines it prints while it runs, and asks the address it named for a page."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from conftest import write_input
from sio.casework.api import create_account
from sio.parameters import ParameterSet
from sio.store.db import make_engine, migrate
from sio.store.versions import import_path
from test_cli import small_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lines(proc: subprocess.Popen[str], n: int, timeout: float) -> list[str]:
    """The first `n` lines of the process's output, waiting at most `timeout` seconds."""
    got: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            got.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    out: list[str] = []
    while len(out) < n:
        try:
            out.append(got.get(timeout=timeout))
        except queue.Empty:
            break
    return out


def test_serve_prints_its_address_and_what_it_serves_on_a_store_with_data(
    tmp_path: Path, params: ParameterSet
) -> None:
    db = tmp_path / "sio.db"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    migrate(engine)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    create_account(engine, "admin", "et langt passord", "admin", None)
    engine.dispose()
    port = _free_port()
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_LANG="nb", COLUMNS="80")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sio.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    try:
        lines = _lines(proc, 5, timeout=60)
        assert lines == [
            f"Tjener på http://127.0.0.1:{port}/ — åpne adressen i en nettleser og logg inn.",
            "  Sider: /direktorat, /kommune/NNNN, /parametere (innlogging på /innlogging)",
            "  JSON-API: /openapi.json, dokumentert på /docs",
            f"  Database: {url} (dataversjon 1)",
            "Stopp med Ctrl+C.",
        ]
        # the address it named answers (the server may need a moment after printing)
        body = ""
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for _attempt in range(300):
            try:
                with direct.open(f"http://127.0.0.1:{port}/openapi.json", timeout=5) as r:
                    body = r.read().decode("utf-8")
                break
            except OSError:
                threading.Event().wait(0.1)
        assert '"openapi"' in body
    finally:
        proc.terminate()
        proc.wait(timeout=30)
