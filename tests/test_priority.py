"""Batch commands yield the CPU (decision 0022): `sio import` and `sio utbetaling kjor` lower
their own priority by `SIO_BATSJ_NICE` (default 10) unless `--normal-prioritet` is given.

Each check runs in a process of its own (the test process keeps its priority): `lower()` in a
small Python process with a thread started before it, and the real `sio import`, held inside its
transaction (`SIO_TEST_HOLD_IMPORT`) while the test reads the process's niceness from outside."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import write_input
from test_cli import small_world

SIO = [sys.executable, "-c", "from sio.entry import main; main()"]

PROBE = """
import os, sys, threading, time
from sio import priority
ready = threading.Event()
seen = []
def worker():
    ready.set()
    time.sleep(0.3)
    seen.append(os.getpriority(os.PRIO_PROCESS, 0))
t = threading.Thread(target=worker)
t.start()
ready.wait()
got = priority.lower(normal=sys.argv[1] == "normal")
t.join()
late = []
t2 = threading.Thread(target=lambda: late.append(os.getpriority(os.PRIO_PROCESS, 0)))
t2.start()
t2.join()
base = int(sys.argv[2])
now = os.getpriority(os.PRIO_PROCESS, 0)
print(now - base, got - base, seen[0] - base, late[0] - base)
"""


def _probe(mode: str, **env: str) -> list[int]:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    full = {k: v for k, v in os.environ.items() if k != "SIO_BATSJ_NICE"} | env
    res = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(base)],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    return [int(x) for x in res.stdout.split()]


def test_lower_adds_ten_to_every_thread_by_default() -> None:
    if os.getpriority(os.PRIO_PROCESS, 0) > 9:
        pytest.skip("the test runs at niceness 10 or more: nothing left to add")
    # main thread, returned value, a thread that ran before, a thread started after
    assert _probe("lower") == [10, 10, 10, 10]


def test_the_step_is_set_by_the_environment_and_capped_at_19() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    # CI may run the suite under `nice` already: the step is added, and the sum capped at 19
    assert _probe("lower", SIO_BATSJ_NICE="3") == [min(base + 3, 19) - base] * 4
    assert _probe("lower", SIO_BATSJ_NICE="19") == [19 - base] * 4
    assert _probe("lower", SIO_BATSJ_NICE="0") == [0, 0, 0, 0]


def test_normal_priority_changes_nothing() -> None:
    assert _probe("normal") == [0, 0, 0, 0]
    assert _probe("normal", SIO_BATSJ_NICE="5") == [0, 0, 0, 0]


def _niceness_while_held(tmp_path: Path, *extra: str) -> tuple[int, int]:
    """(the niceness of a held `sio import`, the test's own)."""
    folder = write_input(tmp_path / "in", small_world())
    env = {k: v for k, v in os.environ.items() if k != "SIO_BATSJ_NICE"}
    env |= {
        "SIO_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SIO_LANG": "nb",
        "SIO_TEST_HOLD_IMPORT": "30",
    }
    proc = subprocess.Popen(
        [*SIO, "import", str(folder), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        ps = psutil.Process(proc.pid)
        deadline = time.monotonic() + 60
        # held inside its transaction: the store file has its journal or WAL beside it
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.name.startswith("store.db-") for p in tmp_path.iterdir()):
                time.sleep(0.2)
                return ps.nice(), os.getpriority(os.PRIO_PROCESS, 0)
            time.sleep(0.05)
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise AssertionError(f"the import was not held: {err}")
    finally:
        proc.kill()
        proc.wait()


def test_sio_import_runs_lowered_by_ten(tmp_path: Path) -> None:
    nice, own = _niceness_while_held(tmp_path)
    assert nice == min(own + 10, 19)


def test_sio_import_with_normal_priority_keeps_it(tmp_path: Path) -> None:
    nice, own = _niceness_while_held(tmp_path, "--normal-prioritet")
    assert nice == own


def test_the_payment_run_has_the_option() -> None:
    res = subprocess.run(
        [*SIO, "utbetaling", "kjor", "--help"],
        env=dict(os.environ, SIO_LANG="nb", COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "--normal-prioritet" in res.stdout
