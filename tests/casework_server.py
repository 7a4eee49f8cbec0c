"""A running `sio serve --workers 2` for the casework tests that need real processes: the store
prepared by casework_support.prepare_store, the server started on a free port with the store's
URL, and requests sent at the same moment from several client processes."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(url: str, workers: int = 2, **env: str) -> Iterator[str]:
    """`sio serve --workers N` on the store at `url`; yields its base URL."""
    port = _free_port()
    environ = {
        **os.environ,
        "SIO_DATABASE_URL": url,
        "SIO_PSEUDONYM_KEY": os.environ.get("SIO_PSEUDONYM_KEY") or secrets.token_hex(32),
        "SIO_COOKIE_SECURE": "0",
        **env,
    }
    proc = subprocess.Popen(
        [str(BIN / "sio"), "serve", "--port", str(port), "--workers", str(workers)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        up = 0
        while up < 2 * workers:  # several answers in a row: every worker has started
            if proc.poll() is not None:
                raise RuntimeError(f"sio serve ended: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise RuntimeError("sio serve did not start")
            try:
                up += httpx2.get(base + "/openapi.json", timeout=5).status_code == 200
            except httpx2.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _post(args: tuple[Any, str, str, dict[str, str], dict[str, Any]]) -> tuple[int, Any]:
    barrier, base, path, headers, body = args
    with httpx2.Client(base_url=base, timeout=120) as client:
        client.get("/openapi.json")  # connected before the barrier
        barrier.wait()
        r = client.post(path, headers=headers, json=body)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, r.text


def post_at_once(
    base: str, path: str, requests: list[tuple[dict[str, str], dict[str, Any]]]
) -> list[tuple[int, Any]]:
    """Every request from its own process, released together by a barrier: (status, body)."""
    ctx = multiprocessing.get_context("fork")
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(len(requests))
        with ctx.Pool(len(requests)) as pool:
            return pool.map(_post, [(barrier, base, path, h, b) for h, b in requests])
