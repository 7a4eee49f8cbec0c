"""A case's latest record and the case list do not cost more as other cases accumulate
(migration 0010, `service.list_cases`): the record tables' index by case is `(sak_id, id)`, the
latest record of an old case is one index entry on PostgreSQL, and the list's count reads no
person for the cases off the page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text

from sio.casework import service
from sio.casework.schema import assessment, recommendation
from sio.store.db import make_engine, migrate
from test_store import _pg_database, pg_url, store_url  # noqa: F401  (fixtures)

RECORD_TABLES = ("kartlegging", "anbefaling", "sak_vedtak", "revurdering")


def _index_columns(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        return {
            t: next(
                list(ix["column_names"])
                for ix in insp.get_indexes(t)
                if ix["name"] == f"ix_{t}_sak"
            )
            for t in RECORD_TABLES
        }
    finally:
        engine.dispose()


def test_the_record_tables_index_by_case_and_id_and_the_migration_goes_back(
    store_url: str,  # noqa: F811
) -> None:
    from alembic import command

    from sio.store.db import alembic_config

    engine = make_engine(store_url)
    migrate(engine)
    assert _index_columns(store_url) == {t: ["sak_id", "id"] for t in RECORD_TABLES}
    cfg = alembic_config(store_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    assert _index_columns(store_url) == {t: ["sak_id"] for t in RECORD_TABLES}
    migrate(engine)
    assert _index_columns(store_url) == {t: ["sak_id", "id"] for t in RECORD_TABLES}
    engine.dispose()


def _cases(conn: Connection, n: int) -> None:
    """n cases of municipality 9001, of persons 1..n, by account 1 (raw rows: no service)."""
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    conn.execute(
        text(
            "INSERT INTO konto (id, brukernavn, rolle, kommunenummer, aktiv, opprettet) "
            "VALUES (1, 'sb', 'saksbehandler', '9001', true, :t)"
        ),
        {"t": now},
    )
    conn.execute(
        text(
            "INSERT INTO person (id, fodselsnummer, pseudonym, opprettet) "
            "SELECT g, lpad(g::text, 11, '0'), 'p' || g, :t FROM generate_series(1, :n) g"
        ),
        {"t": now, "n": n},
    )
    conn.execute(
        text(
            "INSERT INTO sak (id, kommunenummer, person_id, mottatt, henvendelse, opprettet, "
            "opprettet_av) SELECT g, '9001', g, '2020-01-02', 'x', :t, 1 "
            "FROM generate_series(1, :n) g"
        ),
        {"t": now, "n": n},
    )


def _plan(conn: Connection, sql: str) -> dict[str, Any]:
    raw = conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")).scalar_one()
    plan: dict[str, Any] = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for p in plan.get("Plans", []) for n in _nodes(p))]


def test_an_old_cases_latest_assessment_is_one_index_entry_on_postgresql(
    pg_url: str,  # noqa: F811
) -> None:
    """Case 1's only assessment is followed by 5 000 assessments of 500 other cases: the lookup
    of case 1's latest assessment (and recommendation) reads one row of its index, where the
    index on `sak_id` alone let PostgreSQL walk the primary key back over all 5 000."""
    engine = make_engine(pg_url)
    migrate(engine)
    with engine.begin() as conn:
        _cases(conn, 501)
        values = "'9001', '{}'::json, '2020-03-04', 'x', '2020-03-04', 'y', now(), 1"  # no scores
        conn.execute(
            text(
                "INSERT INTO kartlegging (sak_id, kommunenummer, skaarer, kartlagt_dato, "
                "kartlagt_av, signert_dato, hva_er_viktig, opprettet, opprettet_av) "
                f"SELECT CASE WHEN g = 0 THEN 1 ELSE 2 + g % 500 END, {values} "
                "FROM generate_series(0, 5000) g ORDER BY g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO anbefaling (sak_id, kommunenummer, kartlegging_id, kriterieversjon, "
                "resultat, opprettet, opprettet_av) SELECT sak_id, '9001', id, 'k', '{}'::json, "
                "now(), 1 FROM kartlegging ORDER BY id"
            )
        )
        conn.execute(text("ANALYZE kartlegging"))
        conn.execute(text("ANALYZE anbefaling"))
        for table, index in (
            (assessment, "ix_kartlegging_sak"),
            (recommendation, "ix_anbefaling_sak"),
        ):
            stmt = service._LATEST[table.name].params(sak_id=1)  # the statement a write runs
            sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            scans = [n for n in _nodes(_plan(conn, sql)) if "Scan" in n["Node Type"]]
            assert [(n["Node Type"], n.get("Index Name"), n["Actual Rows"]) for n in scans] == [
                ("Index Scan", index, 1)
            ]
            assert scans[0].get("Rows Removed by Filter", 0) == 0
            latest = conn.execute(stmt).one()
            assert (latest.id, latest.sak_id) == (1, 1)  # the first row stored, case 1's only one
    engine.dispose()


def test_the_case_list_reads_only_the_pages_persons_on_postgresql(
    pg_url: str,  # noqa: F811
) -> None:
    """3 000 cases: the page of 20 and the count 3 000 in one query, which looks up 20 persons
    (not 3 000, as a count over the join with the persons did)."""
    engine = make_engine(pg_url)
    migrate(engine)
    from sio.casework.access import Principal

    p = Principal(1, "sb", "saksbehandler", "9001", "token")
    with engine.begin() as conn:
        _cases(conn, 3000)
        conn.execute(text("ANALYZE sak"))
        conn.execute(text("ANALYZE person"))
        statements: list[str] = []

        def keep(_c: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
            if statement.lstrip().startswith("SELECT") and "totalt" in statement:
                statements.append(statement % {k: repr(v) for k, v in params.items()})

        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", keep)
        page = service.list_cases(conn, p, 3, 20, None)
        event.remove(engine, "before_cursor_execute", keep)
        assert page["totalt"] == 3000
        assert [c["id"] for c in page["saker"]] == list(range(2960, 2940, -1))
        assert [c["pseudonym"] for c in page["saker"]][:2] == ["p2960", "p2959"]
        (sql,) = statements
        person_scans = [n for n in _nodes(_plan(conn, sql)) if n.get("Relation Name") == "person"]
        assert [n["Actual Rows"] * n.get("Actual Loops", 1) for n in person_scans] == [20]
    engine.dispose()


@pytest.mark.parametrize("per_page", [1, 7])
def test_the_case_lists_pages_and_count_on_both_databases(
    store_url: str,  # noqa: F811
    per_page: int,
) -> None:
    """Every page of the municipality's 8 cases (a ninth is another's), newest first, each
    with the count 8; a page past the end too."""
    engine = make_engine(store_url)
    migrate(engine)
    from sio.casework.access import Principal

    p = Principal(1, "sb", "saksbehandler", "9001", "token")
    with engine.begin() as conn:
        now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
        conn.execute(
            text(
                "INSERT INTO konto (id, brukernavn, rolle, kommunenummer, aktiv, opprettet) "
                "VALUES (1, 'sb', 'saksbehandler', '9001', true, :t)"
            ),
            {"t": now},
        )
        for i in range(1, 10):
            conn.execute(
                text(
                    "INSERT INTO person (id, fodselsnummer, pseudonym, opprettet) "
                    "VALUES (:i, :f, :p, :t)"
                ),
                {"i": i, "f": f"{i:011d}", "p": f"p{i}", "t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO sak (id, kommunenummer, person_id, mottatt, henvendelse, "
                    "opprettet, opprettet_av) VALUES (:i, :k, :i, '2020-01-02', 'x', :t, 1)"
                ),
                {"i": i, "t": now, "k": "9001" if i != 5 else "9002"},  # case 5 elsewhere
            )
        ours = [9, 8, 7, 6, 4, 3, 2, 1]
        pages = -(-len(ours) // per_page)
        for n in range(1, pages + 2):
            page = service.list_cases(conn, p, n, per_page, None)
            assert page["totalt"] == 8
            assert [c["id"] for c in page["saker"]] == ours[(n - 1) * per_page : n * per_page]
            assert [c["pseudonym"] for c in page["saker"]] == [
                f"p{i}" for i in ours[(n - 1) * per_page : n * per_page]
            ]
    engine.dispose()
