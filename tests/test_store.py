"""The data store on SQLite and PostgreSQL: versioned imports, corrections, diff, compute --db,
append-only enforcement, a killed import, and concurrent imports of the same file."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from conftest import write_input
from sio.cli import app
from sio.data.validation import InputInvalid
from sio.parameters import ParameterSet
from sio.store.db import make_engine, migrate
from sio.store.versions import diff_versions, import_path, list_versions, load_version
from test_cli import EXPECTED_2016, small_world

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_available() -> bool:
    try:
        with create_engine(PG_ADMIN).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@contextmanager
def _pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards)."""
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is required under CI")
        pytest.skip("PostgreSQL not available")
    name = f"sio_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sio.db'}"
        return
    with _pg_database() as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    with _pg_database() as url:
        yield url


def _store(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    migrate(engine)
    return engine


def test_import_is_versioned_and_idempotent(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(store_url)
    d = write_input(tmp_path / "d", small_world())
    first = import_path(engine, d, params, user="tester")
    assert (first.versjon, first.ny) == (1, True)
    assert first.rader["vedtak"] == 1 and first.rader["befolkning"] == 8
    again = import_path(engine, d, params)
    assert (again.versjon, again.ny) == (1, False)
    versions = list_versions(engine)
    assert [v.versjon for v in versions] == [1]
    assert versions[0].bruker == "tester" and len(versions[0].sha256) == 64
    data, _v = load_version(engine, params)
    from sio.engine import Engine

    row = Engine(data, params).compute_year(2016).results[0].to_dict()
    assert {k: row[k] for k in EXPECTED_2016} == EXPECTED_2016
    engine.dispose()


def test_a_correction_supersedes_without_rewriting_the_past(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """Version 2 corrects V1 from 7 to 14 hours a week: the 2016 activity grant doubles from
    176 400 kr (245 days × 720 kr) to 352 800 kr; version 1 still gives 176 400 kr."""
    from sio.engine import Engine

    engine = _store(store_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    corr = tmp_path / "korr"
    corr.mkdir()
    (corr / "vedtak.csv").write_text(
        "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til\n"
        "V1,P1,9001,HJSPL,,14,timer_per_uke,2016-01-01,\n",
        encoding="utf-8",
    )
    res = import_path(engine, corr / "vedtak.csv", params)
    assert (res.versjon, res.ny, res.rader) == (2, True, {"vedtak": 1})
    new, _ = load_version(engine, params)
    old, _ = load_version(engine, params, 1)
    assert Engine(new, params).compute_year(2016).results[0].aktivitetstilskudd == 352_800
    assert Engine(old, params).compute_year(2016).results[0].aktivitetstilskudd == 176_400
    assert diff_versions(engine, 1, 2) == [
        {"tabell": "vedtak", "kommunenummer": "9001", "endring": "erstattet", "rader": 1}
    ]
    engine.dispose()


def test_a_bad_correction_is_refused_whole_and_names_the_row(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(store_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    bad = tmp_path / "vedtak.csv"
    bad.write_text(
        "vedtak_id,person_id,kommunenummer,tjeneste,prisgruppe,omfang,enhet,fra,til\n"
        "V2,P2,9001,HJSPL,,3,timer_per_uke,2016-02-01,\n"
        "V3,P3,9999,HJSPL,,3,timer_per_uke,2016-02-01,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputInvalid) as exc:
        import_path(engine, bad, params)
    where = {(p.file, p.row, p.field, p.rule) for p in exc.value.problems}
    assert ("vedtak.csv", 3, "kommunenummer", "unknown") in where
    assert [v.versjon for v in list_versions(engine)] == [1]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inn_vedtak")).scalar() == 1
    engine.dispose()


def test_cli_import_versions_diff_and_compute_db(store_url: str, tmp_path: Path) -> None:
    env = {"SIO_DATABASE_URL": store_url}
    runner = CliRunner()
    d = write_input(tmp_path / "d", small_world())
    res = runner.invoke(app, ["import", str(d)], env=env)
    assert res.exit_code == 0, res.output
    assert "1" in res.output
    res = runner.invoke(app, ["import", str(d)], env=env)
    assert res.exit_code == 0 and "1" in res.output
    res = runner.invoke(app, ["data", "versions", "--format", "json"], env=env)
    versions = json.loads(res.stdout)
    assert [v["versjon"] for v in versions] == [1]
    assert set(versions[0]) >= {"versjon", "opprettet", "kilde", "sha256", "rader"}
    res = runner.invoke(app, ["compute", "--db", "--year", "2016", "--format", "json"], env=env)
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)[0]
    assert {k: row[k] for k in EXPECTED_2016} == EXPECTED_2016
    res = runner.invoke(app, ["compute", "--db", "--versjon", "7", "--year", "2016"], env=env)
    assert res.exit_code == 2
    engine = make_engine(store_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT data_versjon, parameter_versjon, aar FROM resultat")
        ).fetchall()
    assert [(r[0], r[2]) for r in stored] == [(1, 2016)]
    assert stored[0][1].startswith("p-")
    engine.dispose()


def test_postgresql_refuses_update_and_delete(
    pg_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(pg_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    for sql in ("UPDATE inn_vedtak SET omfang = '1'", "DELETE FROM data_versjon"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    engine.dispose()


def _import_subprocess(url: str, path: Path, hold: float) -> subprocess.Popen[str]:
    env = dict(os.environ, SIO_DATABASE_URL=url, SIO_TEST_HOLD_IMPORT=str(hold))
    return subprocess.Popen(
        [sys.executable, "-m", "sio.cli", "import", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT count(*) FROM data_versjon")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM inn_vedtak")).scalar()
    engine.dispose()
    return int(versions or 0), int(rows or 0)


def test_an_import_killed_halfway_leaves_the_store_as_before(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(store_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    engine.dispose()
    before = _counts(store_url)
    w = small_world()
    w["vedtak"] = [dict(w["vedtak"][0], vedtak_id=f"N{i}") for i in range(2000)]
    proc = _import_subprocess(store_url, write_input(tmp_path / "big", w), hold=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the rows are written, inside the transaction
        time.sleep(0.2)
        if proc.poll() is not None:
            break
        if store_url.startswith("postgresql"):
            eng = make_engine(store_url)
            with eng.connect() as conn:
                busy = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in%'")
                ).scalar()
            eng.dispose()
            if busy:
                break
        elif (tmp_path / "sio.db-journal").exists():  # inside the write transaction
            time.sleep(1.0)
            break
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _counts(store_url) == before
    engine = _store(store_url)
    assert [v.versjon for v in list_versions(engine)] == [1]
    engine.dispose()


def test_two_imports_of_the_same_file_at_once_make_one_version(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(store_url)
    engine.dispose()
    d = write_input(tmp_path / "d", small_world())
    procs = [_import_subprocess(store_url, d, hold=1.0) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _counts(store_url) == (1, 1)


def test_recomputing_the_same_versions_gives_identical_oere(store_url: str, tmp_path: Path) -> None:
    env = {"SIO_DATABASE_URL": store_url}
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["import", str(write_input(tmp_path / "d", small_world()))], env=env
        ).exit_code
        == 0
    )
    for _ in range(2):
        res = runner.invoke(app, ["compute", "--db", "--year", "2016", "--format", "json"], env=env)
        assert res.exit_code == 0, res.output
    engine = make_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data_versjon, parameter_versjon, rad FROM resultat ORDER BY id")
        ).fetchall()
    engine.dispose()
    assert len(rows) == 2
    first, second = (
        (r[0], r[1], r[2] if isinstance(r[2], dict) else json.loads(r[2])) for r in rows
    )
    assert first == second
    assert first[2]["netto"] == EXPECTED_2016["netto"]


def test_import_problem_report_as_json(store_url: str, tmp_path: Path) -> None:
    w = small_world()
    w["vedtak"][0]["omfang"] = "-1"
    res = CliRunner().invoke(
        app,
        ["import", str(write_input(tmp_path / "d", w)), "--format", "json"],
        env={"SIO_DATABASE_URL": store_url},
    )
    assert res.exit_code == 2
    report = json.loads(res.stdout)
    assert [(p["file"], p["row"], p["field"], p["rule"], p["severity"]) for p in report] == [
        ("vedtak.csv", 2, "omfang", "negative", "error")
    ]


def test_explain_from_the_database(store_url: str, tmp_path: Path) -> None:
    env = {"SIO_DATABASE_URL": store_url}
    runner = CliRunner()
    d = write_input(tmp_path / "d", small_world())
    assert runner.invoke(app, ["import", str(d)], env=env).exit_code == 0
    res = runner.invoke(
        app,
        [
            "explain",
            "--db",
            "--versjon",
            "1",
            "--kommune",
            "9001",
            "--year",
            "2016",
            "--maaned",
            "6",
        ],
        env=env,
    )
    assert res.exit_code == 0, res.output
    # June 2016: 30 days × 7 h / 7 = 30 hours × 720 kr = 2 160 000 øre
    assert "2 160 000" in res.output.replace("\xa0", " ")
    res = runner.invoke(app, ["explain", "--kommune", "9001", "--year", "2016"], env=env)
    assert res.exit_code == 2


def test_same_rows_in_other_bytes_make_no_new_version(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """The same table saved again (here as Parquet instead of CSV) stores nothing new."""
    import polars as pl

    engine = _store(store_url)
    d = write_input(tmp_path / "d", small_world())
    import_path(engine, d, params)
    again = tmp_path / "again"
    again.mkdir()
    pl.read_csv(d / "vedtak.csv", infer_schema=False).write_parquet(again / "vedtak.parquet")
    res = import_path(engine, again, params)
    assert (res.versjon, res.ny) == (1, False)
    assert [v.versjon for v in list_versions(engine)] == [1]
    engine.dispose()


def test_a_stored_version_is_rechecked_against_changed_parameters(
    store_url: str, tmp_path: Path
) -> None:
    """Stored HJSPL vedtak in hours per week are refused when an override prices HJSPL per day;
    the problem names the stored version and the line the row came from."""
    env = {"SIO_DATABASE_URL": store_url}
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["import", str(write_input(tmp_path / "d", small_world()))], env=env
        ).exit_code
        == 0
    )
    ov = tmp_path / "ov.yaml"
    ov.write_text("aktivitetstilskudd.enhet.HJSPL: {2015-01-01: doegn}\n", encoding="utf-8")
    res = runner.invoke(app, ["compute", "--db", "--year", "2016", "--override", str(ov)], env=env)
    assert res.exit_code == 2
    assert "versjon 1:2: enhet:" in res.output.replace("\xa0", " ")


def test_the_schema_revision_constant_is_alembics_head(store_url: str) -> None:
    from alembic.script import ScriptDirectory

    from sio.store.db import SCHEMA_REVISION, alembic_config, current_revision

    script = ScriptDirectory.from_config(alembic_config(store_url))
    assert script.get_current_head() == SCHEMA_REVISION
    engine = _store(store_url)
    assert current_revision(engine) == SCHEMA_REVISION
    engine.dispose()


# -- the optional organisasjonsnummer of kommuner (migration 0002) --------------------------------
# 123456785 is valid (hand computation in tests/test_validation.py: 138 = 12·11 + 6, 11 − 6 = 5);
# 100000008: 1·3 = 3, check digit 11 − 3 = 8. Both fictional: real numbers begin with 8 or 9.


def _kommuner_csv(d: Path, orgnr: str | None, navn: str = "Testby") -> Path:
    """kommuner.csv of small_world, with an organisasjonsnummer column unless `orgnr` is None."""
    d.mkdir(parents=True, exist_ok=True)
    header = "kommunenummer,navn,gyldig_fra,gyldig_til,aga_sone,reiseindeks,etterfolger"
    row = f"9001,{navn},1900-01-01,,1,0,"
    if orgnr is not None:
        header += ",organisasjonsnummer"
        row += f",{orgnr}"
    (d / "kommuner.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    return d / "kommuner.csv"


def _stored_orgnr(engine, version: int) -> list[str | None]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text("SELECT organisasjonsnummer FROM inn_kommuner WHERE versjon = :v"),
                {"v": version},
            )
        ]


def test_organisation_number_round_trips_through_stored_versions(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """v1: the old format (no column) → null. v2: "123 456 785" → stored and read back compact.
    v3: a file in the old format with another name keeps the stored number. v4: an empty cell
    says unknown. v5: another number. Every version reads back as it was."""
    engine = _store(store_url)
    d = write_input(tmp_path / "d", small_world())
    assert import_path(engine, d, params).versjon == 1
    steps = [
        ("123 456 785", "Testby", "123456785"),
        (None, "Testby nord", "123456785"),
        ("", "Testby nord", None),
        ("100000008", "Testby nord", "100000008"),
    ]
    for i, (cell, navn, expected) in enumerate(steps, start=2):
        res = import_path(engine, _kommuner_csv(tmp_path / f"k{i}", cell, navn), params)
        assert (res.versjon, res.ny, res.rader) == (i, True, {"kommuner": 1}), cell
        assert _stored_orgnr(engine, i) == [expected]
    assert _stored_orgnr(engine, 1) == [None]
    expected_by_version = {1: None, 2: "123456785", 3: "123456785", 4: None, 5: "100000008"}
    for v, expected in expected_by_version.items():
        data, _v = load_version(engine, params, v)
        assert data.kommuner.get_column("organisasjonsnummer").to_list() == [expected], v
        assert data.kommuner.schema["organisasjonsnummer"] == pl.Utf8
    # the same number written with spaces is the same row: nothing new to store
    again = import_path(
        engine, _kommuner_csv(tmp_path / "again", "100 000 008", "Testby nord"), params
    )
    assert (again.versjon, again.ny) == (5, False)
    assert diff_versions(engine, 4, 5) == [
        {"tabell": "kommuner", "kommunenummer": "9001", "endring": "erstattet", "rader": 1}
    ]
    engine.dispose()


def test_an_invalid_organisation_number_is_refused_on_import(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(store_url)
    import_path(engine, write_input(tmp_path / "d", small_world()), params)
    with pytest.raises(InputInvalid) as exc:
        import_path(engine, _kommuner_csv(tmp_path / "k", "123 456 789"), params)
    assert [(p.file, p.row, p.field, p.rule) for p in exc.value.problems] == [
        ("kommuner.csv", 2, "organisasjonsnummer", "check_digit")
    ]
    assert [v.versjon for v in list_versions(engine)] == [1]
    engine.dispose()


def test_a_version_stored_before_the_column_existed_reads_back_as_null(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """A store at migration 0001 with a stored municipality, upgraded to the newest migration:
    the municipality's organisation number is unknown (null); a later import can give it."""
    from alembic import command
    from sqlalchemy import insert

    from sio.store.db import alembic_config
    from sio.store.schema import data_version

    engine = make_engine(store_url)
    with engine.begin() as conn:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(
            insert(data_version).values(
                opprettet=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                bruker="tester",
                kilde="old",
                sha256="0" * 64,
                rader={"kommuner": 1},
            )
        )
        conn.execute(
            text(
                "INSERT INTO inn_kommuner (versjon, rad, kommunenummer, navn, gyldig_fra, "
                "gyldig_til, aga_sone, reiseindeks, etterfolger) "
                "VALUES (1, 2, '9001', 'Testby', '1900-01-01', NULL, '1', '0', NULL)"
            )
        )
    migrate(engine)
    data, v = load_version(engine, params)
    assert v == 1
    assert data.kommuner.select("kommunenummer", "organisasjonsnummer").rows() == [("9001", None)]
    d = write_input(tmp_path / "d", small_world())
    _kommuner_csv(d, "123456785")
    res = import_path(engine, d, params)
    assert res.versjon == 2 and res.rader["kommuner"] == 1
    data, _v = load_version(engine, params)
    assert data.kommuner.get_column("organisasjonsnummer").to_list() == ["123456785"]
    engine.dispose()


def test_one_table_into_an_empty_store_names_the_missing_files(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    engine = _store(store_url)
    with pytest.raises(InputInvalid) as exc:
        import_path(engine, _kommuner_csv(tmp_path / "k", "123456785"), params)
    assert [(p.file, p.row, p.rule) for p in exc.value.problems] == [
        ("deltakelse.csv", None, "read"),
        ("utgifter.csv", None, "read"),
        ("befolkning.csv", None, "read"),
        ("vedtak.csv", None, "read"),
    ]
    assert list_versions(engine) == []
    engine.dispose()


def test_a_stored_version_loads_as_its_files_do(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """The typed data read back from the store equal those read from the imported folder."""
    from polars.testing import assert_frame_equal

    from sio.data.validation import load_input
    from test_loading_fast import _world

    engine = _store(store_url)
    d = write_input(tmp_path / "d", _world())
    import_path(engine, d, params)
    stored, _v = load_version(engine, params)
    folder, _p = load_input(d, params)
    for name in ("kommuner", "deltakelse", "utgifter", "befolkning", "vedtak", "vedtak_groups"):
        assert_frame_equal(getattr(stored, name), getattr(folder, name))
    engine.dispose()


def test_a_column_empty_in_its_first_thousand_rows_reads_back(
    store_url: str, tmp_path: Path, params: ParameterSet
) -> None:
    """1100 vedtak, open (no `til`) but the last 50, which end 2016-06-30: the column is read
    as text, not taken for integers from its empty first rows."""
    engine = _store(store_url)
    w = small_world()
    w["vedtak"] = [
        {
            "vedtak_id": f"V{i:04d}",
            "person_id": f"P{i}",
            "kommunenummer": "9001",
            "tjeneste": "HJSPL",
            "omfang": "1",
            "enhet": "timer_per_uke",
            "fra": "2016-01-01",
            "til": "2016-06-30" if i >= 1050 else "",
        }
        for i in range(1100)
    ]
    import_path(engine, write_input(tmp_path / "d", w), params)
    data, _v = load_version(engine, params)
    til = data.vedtak.sort("vedtak_id").get_column("til")
    assert til.null_count() == 1050
    assert til.drop_nulls().to_list() == [dt.date(2016, 6, 30)] * 50
    engine.dispose()
