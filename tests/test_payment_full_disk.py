"""A full disk during a payment run: on the database's disk or on the disk the payment file and
letters go to (a small filesystem the test mounts). The run fails with one Norwegian line and
exit 1; the ledger is exactly as before, and neither the payment file nor a letter is left half
written; once there is space again, the same command makes the run and writes every file.

Runs the real `sio` command in a subprocess against a real SQLite store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import write_input
from test_cli import small_world
from test_utbetaling import _with_orgnr

SIO = [sys.executable, "-c", "from sio.entry import main; main()"]
FULL = (
    "Disken er full: ingenting ble lagret, databasen er som før. Frigjør plass og kjør "
    "kommandoen på nytt."
)


def _run(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_LANG="nb", COLUMNS="200")
    env.pop("SIO_DEBUG", None)
    return subprocess.run([*SIO, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
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
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """Fill `disk` until the filesystem refuses, then give back `leave` bytes."""
    filler = disk / "fyll"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == 28  # ENOSPC
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _ledger(db: Path) -> list[tuple[object, ...]]:
    """Every row of the ledger's tables, as stored."""
    with sqlite3.connect(db) as c:
        rows: list[tuple[object, ...]] = []
        for table in ("utbetalingskjoring", "postering", "parameter_versjon"):
            rows += [(table, *r) for r in c.execute(f"SELECT * FROM {table} ORDER BY 1")]
    return rows


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name != "fyll")


@pytest.mark.parametrize("full", ["database", "output"])
def test_a_full_disk_in_a_payment_run_posts_nothing_and_writes_no_half_file(
    tmp_path: Path, small_disk: Path, full: str
) -> None:
    db = (small_disk if full == "database" else tmp_path) / "sio.db"
    out_root = small_disk if full == "output" else tmp_path / "ut"
    out_root.mkdir(exist_ok=True)
    url = f"sqlite:///{db}"
    data = write_input(tmp_path / "data", _with_orgnr(small_world()))
    assert _run(["import", str(data)], url).returncode == 0
    first = _run(["utbetaling", "kjor", "--maaned", "2016-05", "--ut", str(out_root / "mai")], url)
    assert first.returncode == 0, first.stderr
    before = _ledger(db)
    assert [r[0] for r in before].count("utbetalingskjoring") == 1
    files_before = _files(out_root)
    # Room for a few kB: on the output disk the payment file's CSV and workbook would fit,
    # the letters would not (as written before they were staged).
    filler = _fill(small_disk, leave=20_000 if full == "output" else 0)

    res = _run(["utbetaling", "kjor", "--maaned", "2016-06", "--ut", str(out_root / "juni")], url)

    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert [ln for ln in res.stderr.splitlines() if ln.strip()] == [FULL]
    assert _ledger(db) == before  # no run, no line, no parameter version added
    assert _files(out_root) == files_before  # no payment file, letter or hidden folder left

    filler.unlink()  # space again: the same command makes the run and writes all of it
    again = _run(["utbetaling", "kjor", "--maaned", "2016-06", "--ut", str(out_root / "juni")], url)
    assert again.returncode == 0, again.stderr
    runs = [r for r in _ledger(db) if r[0] == "utbetalingskjoring"]
    assert [r[3] for r in runs] == ["2016-05", "2016-06"]  # (table, id, art, periode, …)
    written = _files(out_root / "juni")
    assert "utbetaling-2016-06.csv" in written and "utbetaling-2016-06.xlsx" in written
    assert "posteringer-2016-06.csv" in written and "brev/index.html" in written
    assert any(f.startswith("brev/") and f.endswith(".html") and "index" not in f for f in written)
    assert _files(out_root) == sorted(
        [*files_before, "juni", *(f"juni/{f}" for f in written)]
    )  # moved into place: no hidden folder left beside it
