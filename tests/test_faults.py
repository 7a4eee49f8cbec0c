"""Faults of the machine and the configuration give one clear line, and the store stays intact:
a mistyped or unreachable database, a lost connection in the middle of an import (the server ends
the session), a full disk (a small filesystem the test mounts), parallel imports into SQLite.

Each runs the real `sio` command in a subprocess against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from conftest import write_input
from test_cli import small_world
from test_store import pg_url  # noqa: F401  (a fresh PostgreSQL database per test)

SIO = [sys.executable, "-c", "from sio.entry import main; main()"]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _run(args: list[str], url: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ, SIO_DATABASE_URL=url, SIO_LANG="nb", COLUMNS="200", **env)
    full.pop("SIO_DEBUG", None)
    return subprocess.run([*SIO, *args], env=full, capture_output=True, text=True, timeout=300)


def _world(tmp: Path, name: str, hours: int = 7, extra: int = 0) -> Path:
    w = small_world()
    w["vedtak"][0]["omfang"] = hours
    base = dict(w["vedtak"][0])
    for i in range(extra):
        w["vedtak"].append({**base, "vedtak_id": f"X{i}", "person_id": f"Q{i}"})
    return write_input(tmp / name, w)


def _versions(url: str) -> str:
    res = _run(["data", "versions", "--format", "json"], url)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize(
    "url",
    [
        "nonsense",
        "postgresql+psycopg://postgres@127.0.0.1:5999/sio",  # nothing listens there
        "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_here",
    ],
)
def test_a_wrong_database_url_is_one_line_and_exit_2(url: str) -> None:
    res = _run(["data", "versions"], url)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "SIO_DATABASE_URL" in lines[0], res.stderr


def test_a_connection_lost_mid_import_is_one_line_and_stores_nothing(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = _world(tmp_path, "a")
    assert _run(["import", str(first)], pg_url).returncode == 0
    before = _versions(pg_url)
    second = _world(tmp_path, "b", hours=9)
    env = dict(os.environ, SIO_DATABASE_URL=pg_url, SIO_LANG="nb", SIO_TEST_HOLD_IMPORT="20")
    proc = subprocess.Popen(
        [*SIO, "import", str(second)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    database = pg_url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    killed = 0
    try:
        deadline = time.monotonic() + 60
        while killed == 0 and time.monotonic() < deadline:  # the import holds its transaction
            time.sleep(0.5)
            with admin.connect() as conn:
                killed = len(
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :d AND state = 'idle in transaction'"
                        ),
                        {"d": database},
                    ).all()
                )
        _out, err = proc.communicate(timeout=120)
    finally:
        admin.dispose()
        if proc.poll() is None:
            proc.kill()
    assert killed >= 1
    assert proc.returncode == 1
    text_err = err.decode()
    assert "Traceback" not in text_err
    assert "Forbindelsen til databasen ble brutt: ingenting ble lagret." in text_err
    assert _versions(pg_url) == before
    assert _run(["import", str(second)], pg_url).returncode == 0  # a rerun works


def test_a_full_disk_is_one_line_and_stores_nothing(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount)], capture_output=True
    )
    if res.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a small filesystem: {res.stderr!r}")
        pytest.skip("mounting a small filesystem needs root")
    try:
        url = f"sqlite:///{mount / 'sio.db'}"
        assert _run(["import", str(_world(tmp_path, "a"))], url).returncode == 0
        before = _versions(url)
        big = _world(tmp_path, "big", hours=9, extra=20_000)
        res2 = _run(["import", str(big)], url)
        assert res2.returncode == 1, res2.stderr
        assert "Traceback" not in res2.stderr
        assert "Disken er full: ingenting ble lagret, databasen er som før." in res2.stderr
        assert _versions(url) == before
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_parallel_imports_into_sqlite_all_finish(tmp_path: Path) -> None:
    """Four imports at once into a fresh SQLite store: each waits for the lock and stores its
    own version — no traceback, no lost version."""
    url = f"sqlite:///{tmp_path / 'sio.db'}"
    dirs = [_world(tmp_path, f"d{i}", hours=7 + i) for i in range(4)]
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_LANG="nb")
    procs = [
        subprocess.Popen(
            [*SIO, "import", str(d)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for d in dirs
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_o, e) in zip(procs, outs, strict=True):
        assert p.returncode == 0, e.decode()
        assert b"Traceback" not in e
    assert _versions(url).count('"versjon"') == 4


@pytest.mark.parametrize("where", ["into-a-file", "a-folder"])
def test_an_output_path_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, where: str
) -> None:
    """`--ut` naming a path inside a file, or an existing folder, where a file is to be written."""
    data = _world(tmp_path, "d")
    target = data / "kommuner.csv" / "x.json" if where == "into-a-file" else tmp_path
    url = f"sqlite:///{tmp_path / 'sio.db'}"
    res = _run(["beregn", "--data", str(data), "--aar", "2016", "--ut", str(target)], url)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    problem = (
        "det ligger en fil der det trengs en mappe"
        if where == "into-a-file"
        else "det ligger en mappe der det trengs en fil"
    )
    named = data / "kommuner.csv" if where == "into-a-file" else target  # what stands in the way
    assert f"{named}: {problem}. Sjekk stien du oppga (for eksempel --ut)" in res.stderr
