"""Shared set-up of the browser tests: `sio serve` as a real process on a free 127.0.0.1 port
with a temporary SQLite store (nothing in the home directory), Debian's Chromium driven by
Playwright (no browser download), axe-core from the vendored copy, and screenshots kept under
tmp/artifacts/web (git-ignored).

Without Chromium the tests are skipped on a workstation and fail under CI=true."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "src" / "sio" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tmp" / "artifacts" / "web"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACCOUNT = re.compile(r"(?:Demokonto|Demo account): (\S+) / (\S+) \((\w+)\)")


def chromium() -> str:
    """Debian's Chromium; a skip without it (a failure under CI=true)."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    if found is None:
        message = "Chromium is missing (apt-get install chromium): the browser tests cannot run"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `sio serve`: its address, its store and the demo accounts it printed."""

    url: str
    database_url: str
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)  # role → (name, password)
    console: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("sio-serve")) as srv:
        yield srv


@contextmanager
def serve(home: Path, **extra_env: str) -> Iterator[Server]:
    """`sio serve` on an empty SQLite store in `home` (a test module that changes the store's
    data starts its own, so that the shared one keeps the demo data's figures); `extra_env`
    adds variables to the server's environment."""
    port = free_port()
    db = f"sqlite:///{home / 'sio.db'}"
    env = {
        **os.environ,
        "SIO_DATABASE_URL": db,
        "XDG_DATA_HOME": str(home / "data"),
        "HOME": str(home),
        "SIO_COOKIE_SECURE": "0",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
        **extra_env,
    }
    env.pop("SIO_LANG", None)
    sio = Path(sys.executable).with_name("sio")
    proc = subprocess.Popen(
        [str(sio), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    srv = Server(f"http://127.0.0.1:{port}", db)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 180  # a loaded machine: the demo import takes a while
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            srv.console.append(line.rstrip())
            if m := ACCOUNT.search(line):
                srv.accounts[m.group(3)] = (m.group(1), m.group(2))
            if "http://127.0.0.1" in line:
                break
        _wait_for(port, deadline)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("sio serve did not start")


# One Playwright and one browser per test process, whichever modules use them: each module that
# imports the `browser` fixture gets a fixture of its own, and a second running sync Playwright in
# one process is refused ("Sync API inside the asyncio loop"). Closed at the end of the session
# (`close_browser`, called from conftest.py).
_SHARED: dict[str, Any] = {}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if "browser" not in _SHARED:
        path = chromium()
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        _SHARED["playwright"] = pw
        _SHARED["browser"] = pw.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
    yield _SHARED["browser"]


def close_browser() -> None:
    """Close the shared browser and Playwright, if a test started them."""
    b = _SHARED.pop("browser", None)
    pw = _SHARED.pop("playwright", None)
    if b is not None:
        b.close()
    if pw is not None:
        pw.stop()


def sign_in(browser: Any, server: Server, role: str, lang: str | None = None) -> Any:
    """A new page signed in as the demo account of `role`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(15000)
    name, password = server.accounts[role]
    page.goto(server.url + "/innlogging")
    page.get_by_label("Brukernavn").fill(name)
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_load_state("networkidle")
    return page


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of WCAG 2.1 A/AA on the page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    tall = page.evaluate("document.documentElement.scrollHeight") > 4000
    page.screenshot(path=str(out), full_page=not tall)  # a long table: its first screen
    return out
