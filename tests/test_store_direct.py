"""Reading a stored version and storing a year's results through the database's own driver
(`sio.store.direct`, what `sio compute --db` uses) on SQLite and PostgreSQL: the same data and
the same stored rows as the SQLAlchemy path, without importing SQLAlchemy, and the usual way
(with its messages) whenever the store is not ready for it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import test_store
from conftest import write_input
from sio.casework.feed import VedtakRow, append_version
from sio.data.validation import InputInvalid
from sio.engine import Engine as SioEngine
from sio.parameters import ParameterSet
from sio.store import direct
from sio.store.results import store_results as store_with_engine
from sio.store.versions import import_path
from sio.store.versions import load_version as load_with_engine
from test_cli import EXPECTED_2016, small_world
from test_store import _store

store_url = test_store.store_url

# the small world's 2016 activity grant (test_cli.small_world: May–Dec, 245 days at 7 h/week,
# 720 kr/h): 245 h × 720 kr = 176 400 kr; a second such vedtak doubles it
ONE_VEDTAK = 176_400


def _imported(url: str, tmp_path: Path, params: ParameterSet) -> Engine:
    engine = _store(url)
    assert import_path(engine, write_input(tmp_path / "d", small_world()), params).versjon == 1
    return engine


def _decision(engine: Engine, vedtak_id: str) -> int:
    """A casework decision of 7 h/week: a version of its own, one row after the copy."""
    row = VedtakRow(
        vedtak_id, "P1", "9001", "HJSPL", None, "7", "timer_per_uke", dt.date(2016, 1, 1), None
    )
    with engine.begin() as conn:
        return append_version(conn, row, "saksbehandling", "tester")


def _activity(data: object, params: ParameterSet) -> int:
    return int(SioEngine(data, params).compute_year(2016).results[0].aktivitetstilskudd)  # type: ignore[arg-type]


def test_the_driver_reads_what_the_engine_path_reads(
    store_url: str, tmp_path: Path, params: ParameterSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 1 from its copy, version 2 (a decision) from the copy and the row after it."""
    engine = _imported(store_url, tmp_path, params)
    assert _decision(engine, "V2") == 2
    monkeypatch.setenv("SIO_DATABASE_URL", store_url)
    for version, expected in ((1, ONE_VEDTAK), (2, 2 * ONE_VEDTAK), (None, 2 * ONE_VEDTAK)):
        read = direct._read(version, ())
        assert read is not None, version  # through the driver, not the usual way
        data, v = direct.load_version(params, version)
        assert v == (version or 2)
        assert _activity(data, params) == expected
        same, _v = load_with_engine(engine, params, version)
        assert data.vedtak.sort("vedtak_id").equals(same.vedtak.sort("vedtak_id"))
    engine.dispose()


def test_the_usual_way_when_the_driver_cannot(
    store_url: str, tmp_path: Path, params: ParameterSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No copy (deleted: it is derived), an older migration, or no such version: the usual way,
    with the same figures and the same message."""
    engine = _imported(store_url, tmp_path, params)
    monkeypatch.setenv("SIO_DATABASE_URL", store_url)
    with pytest.raises(InputInvalid) as exc:
        direct.load_version(params, 7)
    assert "7" in exc.value.report()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM inn_kolonner"))
    assert direct._read(None, ()) is None
    data, v = direct.load_version(params)
    assert (v, _activity(data, params)) == (1, ONE_VEDTAK)
    monkeypatch.setattr(direct, "SCHEMA_REVISION", "0001")
    with direct._opened() as store:
        assert store is None
    engine.dispose()


def test_results_are_stored_as_the_engine_path_stores_them(
    store_url: str, tmp_path: Path, params: ParameterSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _imported(store_url, tmp_path, params)
    monkeypatch.setenv("SIO_DATABASE_URL", store_url)
    data, v = direct.load_version(params)
    year = SioEngine(data, params).compute_year(2016)
    assert direct.store_results(year, v) == 1
    assert store_with_engine(engine, year, v) == 1
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT beregnet, data_versjon, parameter_versjon, aar, kommunenummer "
                "FROM resultat ORDER BY id"
            )
        ).all()
        texts = conn.execute(text("SELECT CAST(rad AS TEXT) FROM resultat ORDER BY id")).all()
    assert len(rows) == 2
    (t1, *rest1), (t2, *rest2) = rows
    assert rest1 == rest2 and rest1[:4] == [1, params.version, 2016, "9001"]
    stored = json.loads(texts[0][0])
    assert {k: stored[k] for k in EXPECTED_2016} == EXPECTED_2016
    assert texts[0] == texts[1]  # the same JSON text
    assert str(t1)[:19] <= str(t2)[:19]  # the same form of a time (SQLite: text)
    engine.dispose()


def test_compute_db_does_without_sqlalchemy(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """The whole command, as a process: the figures, and no SQLAlchemy or psycopg loaded."""
    _imported(store_url, tmp_path, params).dispose()
    probe = (
        "import sys\n"
        "from sio.entry import main\n"
        "sys.argv = ['sio', 'compute', '--db', '--year', '2016', '--format', 'json']\n"
        "import atexit\n"
        "atexit.register(lambda: sys.stderr.write('LOADED=' + ','.join(sorted(\n"
        "    m for m in ('sqlalchemy', 'psycopg', 'alembic') if m in sys.modules)) + '\\n'))\n"
        "main()\n"
    )
    env = dict(os.environ, SIO_DATABASE_URL=store_url)
    res = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    row = json.loads(res.stdout)[0]
    assert {k: row[k] for k in EXPECTED_2016} == EXPECTED_2016
    assert "LOADED=\n" in res.stderr
