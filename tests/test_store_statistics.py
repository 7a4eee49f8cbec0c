"""The store's tables keep fresh planner statistics without autovacuum (`sio.store.statistics`,
decision 0026), and the case list's number of cases is kept per municipality (`sak_antall`,
migration 0011) instead of counted at every request."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

from sio.casework import service
from sio.casework.access import Principal
from sio.parameters import ParameterSet
from sio.store import statistics
from sio.store.db import alembic_config, make_engine, migrate
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

NOW = dt.datetime(2026, 12, 8, tzinfo=dt.UTC)


def _account(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO konto (id, brukernavn, rolle, kommunenummer, aktiv, opprettet) "
            "VALUES (1, 'sb', 'saksbehandler', '9001', true, :t)"
        ),
        {"t": NOW},
    )


def _cases(conn: Connection, first: int, last: int, kommune: str) -> None:
    """Cases first..last of municipality `kommune`, of persons of the same ids (raw rows, one
    statement each, as SQLite and PostgreSQL both take them)."""
    for i in range(first, last + 1):
        conn.execute(
            text(
                "INSERT INTO person (id, fodselsnummer, pseudonym, opprettet) "
                "VALUES (:i, :f, :p, :t)"
            ),
            {"i": i, "f": f"{i:011d}", "p": f"p{i}", "t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO sak (id, kommunenummer, person_id, mottatt, henvendelse, opprettet, "
                "opprettet_av) VALUES (:i, :k, :i, '2020-01-02', 'x', :t, 1)"
            ),
            {"i": i, "k": kommune, "t": NOW},
        )


def _counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(text("SELECT kommunenummer, antall FROM sak_antall")).all()
    return {str(k): int(n) for k, n in rows}


def _to(engine: Engine, url: str, revision: str, down: bool) -> None:
    from alembic import command

    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_the_number_of_cases_is_filled_by_the_migration_kept_by_the_trigger_and_goes_back(
    store_url: str,  # noqa: F811
) -> None:
    """Cases stored before migration 0011 (3 of 9001, 2 of 9002) are counted by it; cases stored
    after it raise their municipality's number by one each, a new municipality gets its row;
    the downgrade drops the table, and a new upgrade counts again from `sak`."""
    engine = make_engine(store_url)
    _to(engine, store_url, "0010", down=False)
    with engine.begin() as conn:
        _account(conn)
        _cases(conn, 1, 3, "9001")
        _cases(conn, 4, 5, "9002")
    _to(engine, store_url, "0011", down=False)
    with engine.begin() as conn:
        assert _counts(conn) == {"9001": 3, "9002": 2}
        _cases(conn, 6, 6, "9002")
        _cases(conn, 7, 7, "9003")
        assert _counts(conn) == {"9001": 3, "9002": 3, "9003": 1}
    with engine.connect() as conn:  # a rolled-back case is not counted
        tx = conn.begin()
        _cases(conn, 8, 8, "9001")
        tx.rollback()
    with engine.connect() as conn:
        assert _counts(conn) == {"9001": 3, "9002": 3, "9003": 1}
    _to(engine, store_url, "0010", down=True)
    assert "sak_antall" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        _cases(conn, 9, 9, "9001")  # no trigger left to fail on the missing table
    migrate(engine)
    with engine.connect() as conn:
        assert _counts(conn) == {"9001": 4, "9002": 3, "9003": 1}
    engine.dispose()


def test_the_case_list_answers_the_number_of_its_role(store_url: str) -> None:  # noqa: F811
    """A caseworker of 9001 sees 9001's number (4), the directorate every municipality's (7),
    also on a page past the end."""
    engine = make_engine(store_url)
    migrate(engine)
    with engine.begin() as conn:
        _account(conn)
        _cases(conn, 1, 4, "9001")
        _cases(conn, 5, 7, "9002")
        sb = Principal(1, "sb", "saksbehandler", "9001", "token")
        dir_ = Principal(1, "sb", "direktorat", None, "token")
        first = service.list_cases(conn, sb, 1, 3, None)
        assert (first["totalt"], [c["id"] for c in first["saker"]]) == (4, [4, 3, 2])
        assert service.list_cases(conn, sb, 3, 3, None)["totalt"] == 4  # past the end
        everyone = service.list_cases(conn, dir_, 1, 2, None)
        assert (everyone["totalt"], [c["id"] for c in everyone["saker"]]) == (7, [7, 6])
        assert service.list_cases(conn, dir_, 9, 2, None)["totalt"] == 7
    engine.dispose()


def _last_analyze(conn: Connection, table: str) -> Any:
    conn.execute(text("SELECT pg_stat_clear_snapshot()"))
    return conn.execute(
        text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
    ).scalar_one()


def _wait_for_stats(engine: Engine, table: str, rows: int) -> None:
    """The cumulative statistics see the table's changes (a session flushes its own when it
    ends, an idle one within 10 s: the pool's sessions are ended here)."""
    import time

    engine.dispose()
    with engine.connect() as conn:
        for _i in range(50):
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            n = conn.execute(
                text("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = :t"),
                {"t": table},
            ).scalar_one()
            if n >= rows:
                return
            time.sleep(0.1)
    raise AssertionError(f"{table}: the statistics did not see {rows} changed rows")


def _plan(conn: Connection, sql: str) -> dict[str, Any]:
    raw = conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")).scalar_one()
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for p in plan.get("Plans", []) for n in _nodes(p))]


def _bulk_cases(conn: Connection, n: int) -> None:
    """n cases of 9001 and n of 9002 (persons of the same ids), by account 1."""
    conn.execute(
        text(
            "INSERT INTO person (id, fodselsnummer, pseudonym, opprettet) "
            "SELECT g, lpad(g::text, 11, '0'), 'p' || g, :t FROM generate_series(1, :n) g"
        ),
        {"t": NOW, "n": 2 * n},
    )
    conn.execute(
        text(
            "INSERT INTO sak (id, kommunenummer, person_id, mottatt, henvendelse, opprettet, "
            "opprettet_av) SELECT g, CASE WHEN g % 2 = 0 THEN '9001' ELSE '9002' END, g, "
            "'2020-01-02', 'x', :t, 1 FROM generate_series(1, :n) g"
        ),
        {"t": NOW, "n": 2 * n},
    )


def test_a_grown_table_is_analyzed_once_and_then_not_again_until_it_grows(
    pg_url: str,  # noqa: F811
) -> None:
    """4 000 cases stored in a store never analyzed: `sak` and `person` are due (4 000 changed
    rows > 50 + 10 % of 0); `analyze_grown` analyzes them and they are no longer due; 100 more
    cases (< 50 + 10 % of 4 000 = 450) leave them fresh; 500 more make `sak` due again."""
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.begin() as conn:
        _account(conn)
        _bulk_cases(conn, 2000)
    _wait_for_stats(engine, "sak", 4000)
    with engine.connect() as conn:
        assert {"sak", "person"} <= set(statistics.due(conn))
        assert _last_analyze(conn, "sak") is None
    done = statistics.analyze_grown(engine)
    assert {"sak", "person"} <= set(done)
    with engine.connect() as conn:
        assert not {"sak", "person"} & set(statistics.due(conn))
        assert _last_analyze(conn, "sak") is not None
        reltuples = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'sak'")
        ).scalar_one()
        assert reltuples == 4000
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sak (id, kommunenummer, person_id, mottatt, henvendelse, "
                "opprettet, opprettet_av) SELECT g, '9001', 1, '2020-01-02', 'x', :t, 1 "
                "FROM generate_series(4001, 4100) g"
            ),
            {"t": NOW},
        )
    _wait_for_stats(engine, "sak", 100)
    assert "sak" not in statistics.analyze_grown(engine, ["sak"])
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sak (id, kommunenummer, person_id, mottatt, henvendelse, "
                "opprettet, opprettet_av) SELECT g, '9001', 1, '2020-01-02', 'x', :t, 1 "
                "FROM generate_series(4101, 4500) g"
            ),
            {"t": NOW},
        )
    _wait_for_stats(engine, "sak", 500)
    assert statistics.analyze_grown(engine, ["sak", "person"]) == ["sak"]
    engine.dispose()


def test_another_session_at_it_is_not_waited_for(pg_url: str) -> None:  # noqa: F811
    """While another session holds the check's advisory lock, `analyze_grown` does nothing and
    returns at once; on SQLite it never does anything."""
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.begin() as conn:
        _account(conn)
        _bulk_cases(conn, 100)
    _wait_for_stats(engine, "sak", 200)
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": statistics.LOCK_KEY})
        assert statistics.analyze_grown(engine) == []
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": statistics.LOCK_KEY})
    assert "sak" in statistics.analyze_grown(engine)
    engine.dispose()


def test_on_sqlite_nothing_is_due_or_done(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sio.db'}")
    migrate(engine)
    with engine.connect() as conn:
        assert statistics.due(conn) == []
    assert statistics.analyze_grown(engine) == []
    upkeep = statistics.Upkeep(engine, every=0.0)
    upkeep.tick()
    assert upkeep._running is None  # no thread started
    engine.dispose()


def test_the_service_upkeep_analyzes_in_a_thread_at_most_once_per_interval(
    pg_url: str,  # noqa: F811
) -> None:
    """`tick` before the interval has passed starts nothing; after it, one thread that analyzes
    what is due; a second tick at once starts no second one."""
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.begin() as conn:
        _account(conn)
        _bulk_cases(conn, 500)
    _wait_for_stats(engine, "sak", 1000)
    upkeep = statistics.Upkeep(engine, every=3600.0)
    upkeep.tick()
    assert upkeep._running is None
    upkeep = statistics.Upkeep(engine, every=0.2)
    import time

    time.sleep(0.3)
    upkeep.tick()
    first = upkeep._running
    assert first is not None
    upkeep.tick()
    assert upkeep._running is first
    first.join(30)
    with engine.connect() as conn:
        assert _last_analyze(conn, "sak") is not None
        assert "sak" not in statistics.due(conn)
    engine.dispose()


def test_the_case_list_of_a_large_municipality_reads_only_its_page_once_analyzed(
    pg_url: str,  # noqa: F811
) -> None:
    """20 000 cases, half of municipality 9001, statistics made by `analyze_grown`: page 3 of
    9001's list reads at most 120 cases to find its 60 newest, and 20 persons, and the number
    is 10 000. (Before the analysis the planner took 9001 for 0.5 % of the cases, 36 rows, and
    read and sorted all 10 000 of them for the page: decision 0026.)"""
    engine = make_engine(pg_url)
    migrate(engine)
    p = Principal(1, "sb", "saksbehandler", "9001", "token")
    with engine.begin() as conn:
        _account(conn)
        _bulk_cases(conn, 10000)
    _wait_for_stats(engine, "sak", 20000)
    assert "sak" in statistics.analyze_grown(engine)
    with engine.begin() as conn:
        statements: list[str] = []

        def keep(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
            if statement.lstrip().startswith("SELECT") and "totalt" in statement:
                statements.append(statement % {k: repr(v) for k, v in params.items()})

        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", keep)
        page = service.list_cases(conn, p, 3, 20, None)
        event.remove(engine, "before_cursor_execute", keep)
        assert page["totalt"] == 10000
        assert [c["id"] for c in page["saker"]] == list(range(19920, 19880, -2))
        (sql,) = statements
        nodes = _nodes(_plan(conn, sql))
        read = {
            n["Relation Name"]: n["Actual Rows"] + n.get("Rows Removed by Filter", 0)
            for n in nodes
            if n.get("Relation Name") == "sak" and n.get("Actual Loops") == 1
        }
        # the page's ids: the newest 60 of 9001 among the newest 120 cases (the two
        # municipalities' cases alternate), read from an index in order — not 10 000
        assert read["sak"] <= 120
        assert sum(n.get("Rows Removed by Join Filter", 0) for n in nodes) == 0
        person_rows = [
            n["Actual Rows"] * n["Actual Loops"]
            for n in nodes
            if n.get("Relation Name") == "person"
        ]
        assert person_rows == [20]
    engine.dispose()


def test_an_import_leaves_the_statistics_of_what_it_stored_fresh(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
    params: ParameterSet,
) -> None:
    """After an import on a store never analyzed, the tables it stored more than 50 rows in
    have been analyzed: none is due, and `pg_class` counts their rows; the casework
    tables it did not touch are left alone."""
    from conftest import write_input
    from sio.store.versions import import_path
    from test_cli import small_world

    engine = make_engine(pg_url)
    migrate(engine)
    with engine.begin() as conn:
        _account(conn)
        _bulk_cases(conn, 100)  # 200 cases: `sak` is due, but not the import's to analyze
    _wait_for_stats(engine, "sak", 200)
    world = small_world()
    first = world["vedtak"][0]
    world["vedtak"] = [  # 120 vedtak of the world's one kind, each of its own person
        {**first, "vedtak_id": f"V{i}", "person_id": f"P{i}"} for i in range(1, 121)
    ]
    res = import_path(engine, write_input(tmp_path / "d", world), params)
    # the tables it stored more rows in than the rule's 50 (fewer are not due by it)
    stored = [f"inn_{name}" for name, n in res.rader.items() if n > statistics.BASE_ROWS]
    assert "inn_vedtak" in stored
    with engine.connect() as conn:
        for table in stored:
            assert _last_analyze(conn, table) is not None, table
        rows = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'inn_vedtak'")
        ).scalar_one()
        assert rows == res.rader["vedtak"]
        assert not set(statistics.due(conn)) & {*stored, "data_versjon"}
        assert _last_analyze(conn, "sak") is None
        assert "sak" in statistics.due(conn)
    engine.dispose()
