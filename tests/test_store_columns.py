"""The columnar copy of a stored version (`sio.store.columns`, migration 0009) on SQLite and
PostgreSQL: equal to the rows after imports, corrections and casework versions; a store without
copies (migrated from 0008) still reads from its rows and gets a copy with its next import; an
older version's open transaction on PostgreSQL keeps an import from writing a copy that would
miss its rows."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, text

import test_store
from conftest import write_input
from sio.casework.feed import VedtakRow, append_version
from sio.engine import Engine as SioEngine
from sio.parameters import ParameterSet
from sio.store import columns
from sio.store.db import alembic_config, current_revision
from sio.store.schema import KEYS
from sio.store.versions import import_path, load_version, read_state
from test_cli import EXPECTED_2016, small_world
from test_store import _store

# the store's tests' fixtures: each store on SQLite and PostgreSQL, and PostgreSQL alone
store_url = test_store.store_url
pg_url = test_store.pg_url


def _sorted(state: dict[str, pl.DataFrame]) -> dict[str, list[dict[str, object]]]:
    """A state's rows per table, in key order (the copy and the rows agree on what, not on the
    order the database happens to return rows in)."""
    return {n: df.sort(list(KEYS[n]), nulls_last=True).to_dicts() for n, df in state.items()}


def _both(engine: Engine, version: int) -> tuple[dict[str, object], dict[str, object]]:
    with engine.connect() as conn:
        from_copy = read_state(conn, version)
        from_rows = read_state(conn, version, use_copy=False)
    return _sorted(from_copy), _sorted(from_rows)


def _copies(engine: Engine) -> list[tuple[int, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data_versjon, tabell, rader FROM inn_kolonner ORDER BY 1, 2")
        ).all()
    return [(int(v), str(t), int(n)) for v, t, n in rows]


def _correction(tmp_path: Path, name: str, lines: list[str]) -> Path:
    d = tmp_path / name
    d.mkdir()
    header = "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til"
    (d / "vedtak.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return d


def _decision(engine: Engine, vedtak_id: str, omfang: str) -> int:
    """A casework decision: a data version of its own with one vedtak row and no copy."""
    row = VedtakRow(
        vedtak_id, "P1", "9001", "HJSPL", None, omfang, "timer_per_uke", dt.date(2016, 1, 1), None
    )
    with engine.begin() as conn:
        return append_version(conn, row, "saksbehandling", "tester")


def _activity_2016(engine: Engine, params: ParameterSet, version: int) -> int:
    data, _v = load_version(engine, params, version)
    return int(SioEngine(data, params).compute_year(2016).results[0].aktivitetstilskudd)


def test_every_version_reads_the_same_from_its_copy_as_from_its_rows(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """Versions: 1 the small world (V1 7 h/week), 2 a correction (V1 14 h/week), 3 a casework
    decision V2 at 7 h/week (no copy: read from copy 2 and the one row after it), 4 an import of
    V3 at 7 h/week on top. The 2016 activity grant, by hand (May–Dec, 245 days, 720 kr/h, as in
    test_cli.small_world): 7 h/week is 245 h = 176 400 kr, so v1 176 400; v2 352 800; v3
    352 800 + 176 400 = 529 200; v4 529 200 + 176 400 = 705 600."""
    engine = _store(store_url)
    assert import_path(engine, write_input(tmp_path / "d", small_world()), params).versjon == 1
    v1 = "V1,P1,9001,HJSPL,,14,timer_per_uke,2016-01-01,"
    assert import_path(engine, _correction(tmp_path, "k1", [v1]), params).versjon == 2
    assert _decision(engine, "V2", "7") == 3
    v3 = "V3,P1,9001,HJSPL,,7,timer_per_uke,2016-01-01,"
    assert import_path(engine, _correction(tmp_path, "k2", [v3]), params).versjon == 4

    copied = {(v, t): n for v, t, n in _copies(engine)}
    assert sorted({v for v, _t in copied}) == [1, 2, 4]  # every import; not the decision
    assert [copied[(v, "vedtak")] for v in (1, 2, 4)] == [1, 1, 3]  # V1; V1 corrected; V1–V3
    assert copied[(4, "befolkning")] == 8 and copied[(4, "prosjektkostnader")] == 0
    for v in (1, 2, 3, 4):
        from_copy, from_rows = _both(engine, v)
        assert from_copy == from_rows, v
    with engine.connect() as conn:
        vedtak = read_state(conn, 4)["vedtak"].sort("vedtak_id")
    assert vedtak.select("vedtak_id", "versjon", "omfang").rows() == [
        ("V1", 2, "14"),
        ("V2", 3, "7"),
        ("V3", 4, "7"),
    ]
    expected = {1: 176_400, 2: 352_800, 3: 529_200, 4: 705_600}
    assert {v: _activity_2016(engine, params, v) for v in expected} == expected
    engine.dispose()


def test_a_version_far_past_its_copy_is_read_from_its_rows(
    store_url: str, tmp_path: Path, params: ParameterSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows after the newest copy than `DELTA_MAX`: the version is read from its rows,
    with the same figures (two decisions of 7 h/week on top: 3 × 176 400 = 529 200)."""
    engine = _store(store_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    _decision(engine, "V2", "7")
    last = _decision(engine, "V3", "7")
    monkeypatch.setattr(columns, "DELTA_MAX", 1)
    with engine.connect() as conn:
        assert columns.state_from_copy(conn, last, ["vedtak"]) is None
        assert columns.state_from_copy(conn, last - 1, ["vedtak"]) is not None
    from_copy, from_rows = _both(engine, last)
    assert from_copy == from_rows
    assert _activity_2016(engine, params, last) == 529_200
    engine.dispose()


def test_a_store_from_before_the_copies_reads_its_rows_and_gets_a_copy_on_import(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """Down to 0008 (no `inn_kolonner`) and up again: the stored versions have no copy and read
    from their rows (the figures of test_cli.EXPECTED_2016); the next import writes a copy of
    the whole state, the old rows included (V1 and the new V2: 2 × 176 400 = 352 800)."""
    from alembic import command

    engine = _store(store_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    url = engine.url.render_as_string(hide_password=False)
    for target in ("0008", "head"):
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            (command.downgrade if target == "0008" else command.upgrade)(cfg, target)
        if target == "0008":
            assert current_revision(engine) == "0008"
    assert _copies(engine) == []
    data, v = load_version(engine, params)
    row = SioEngine(data, params).compute_year(2016).results[0].to_dict()
    assert v == 1 and {k: row[k] for k in EXPECTED_2016} == EXPECTED_2016

    v2 = "V2,P1,9001,HJSPL,,7,timer_per_uke,2016-01-01,"
    assert import_path(engine, _correction(tmp_path, "k", [v2]), params).versjon == 2
    assert [(v, n) for v, t, n in _copies(engine) if t == "vedtak"] == [(2, 2)]
    from_copy, from_rows = _both(engine, 2)
    assert from_copy == from_rows
    assert _activity_2016(engine, params, 2) == 352_800
    engine.dispose()


def test_an_open_older_version_keeps_an_import_from_writing_a_copy(
    pg_url: str, tmp_path: Path, params: ParameterSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A casework decision takes version 2 and stays open while an import takes version 3: the
    import waits for it (`WAIT_S`, here 0.5 s), then writes no copy — one without V2 would be
    wrong once the decision commits. Version 3 then reads from its rows, V2 included (V1, V2
    and V3 at 7 h/week: 3 × 176 400 = 529 200)."""
    monkeypatch.setattr(columns, "WAIT_S", 0.5)
    engine = _store(pg_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    row = VedtakRow(
        "V2", "P1", "9001", "HJSPL", None, "7", "timer_per_uke", dt.date(2016, 1, 1), None
    )
    v3 = "V3,P1,9001,HJSPL,,7,timer_per_uke,2016-01-01,"
    with engine.begin() as open_conn:
        assert append_version(open_conn, row, "saksbehandling", "tester") == 2
        started = time.monotonic()
        assert import_path(engine, _correction(tmp_path, "k", [v3]), params).versjon == 3
        assert time.monotonic() - started >= 0.5
    assert [v for v, t, _n in _copies(engine) if t == "vedtak"] == [1]
    from_copy, from_rows = _both(engine, 3)
    assert from_copy == from_rows
    assert _activity_2016(engine, params, 3) == 529_200
    engine.dispose()


def test_an_import_waits_for_an_older_version_to_commit_and_copies_it(
    pg_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """The decision of version 2 commits 0.3 s into the import's wait: the import's copy of
    version 3 holds V2 (V1, V2, V3: 3 rows, 529 200 kr of activity grant in 2016)."""
    engine = _store(pg_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    row = VedtakRow(
        "V2", "P1", "9001", "HJSPL", None, "7", "timer_per_uke", dt.date(2016, 1, 1), None
    )
    open_conn = engine.connect()
    open_conn.begin()
    assert append_version(open_conn, row, "saksbehandling", "tester") == 2
    timer = threading.Timer(0.3, open_conn.commit)
    timer.start()
    try:
        v3 = "V3,P1,9001,HJSPL,,7,timer_per_uke,2016-01-01,"
        assert import_path(engine, _correction(tmp_path, "k", [v3]), params).versjon == 3
    finally:
        timer.join()
        open_conn.close()
    assert [(v, n) for v, t, n in _copies(engine) if t == "vedtak"] == [(1, 1), (3, 3)]
    from_copy, from_rows = _both(engine, 3)
    assert from_copy == from_rows
    assert _activity_2016(engine, params, 3) == 529_200
    engine.dispose()


def test_postgresql_refuses_to_change_a_copy(
    pg_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """A copy is never changed in place (it may be deleted: the rows are read then)."""
    from sqlalchemy.exc import DBAPIError

    engine = _store(pg_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE inn_kolonner SET rader = 0"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM inn_kolonner"))
    assert _copies(engine) == []
    assert _activity_2016(engine, params, 1) == 176_400
    engine.dispose()


def test_two_imports_of_the_same_file_at_once_make_one_version_with_its_copy(
    pg_url: str, tmp_path: Path
) -> None:
    """The second import waits on the first's content hash and then finds the version stored;
    the first does not wait for the second (which waits for it: it would give up after
    `WAIT_S` and write no copy) and writes its copy."""
    from test_store import _import_subprocess

    engine = _store(pg_url)
    d = write_input(tmp_path / "d", small_world())
    procs = [_import_subprocess(pg_url, d, hold=1.0) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [(v, n) for v, t, n in _copies(engine) if t == "vedtak"] == [(1, 1)]
    engine.dispose()
