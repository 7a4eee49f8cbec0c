"""Where the store lives and how it is opened: SQLite by default, PostgreSQL by URL.

`SIO_DATABASE_URL` names the database (e.g. `postgresql+psycopg://user@127.0.0.1:5432/sio`);
without it the store is a SQLite file in the user's data directory. The schema is created and
migrated with Alembic on first use. SQLAlchemy is imported when an engine is made: a command
that reads a version through the driver alone (`sio.store.direct`) does without it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

ENV_VAR = "SIO_DATABASE_URL"
# The newest migration (tests/test_store.py checks it against Alembic's head). A store already at
# it is opened without loading Alembic, which costs about 0.4 s at every start of a command.
SCHEMA_REVISION = "0011"


def database_url() -> str:
    """The database URL: `SIO_DATABASE_URL`, or a SQLite file in the user's data directory."""
    url = os.environ.get(ENV_VAR, "").strip()
    if url:
        return url
    folder = Path(user_data_dir("sio", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'sio.db'}"


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA foreign_keys=ON")
    # A rollback journal, not WAL: the Arrow reader (ADBC) opens the file on its own and must see
    # every committed version; a killed writer's hot journal is rolled back on the next open.
    cur.execute("PRAGMA journal_mode=DELETE")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _sqlite_begin(conn: object) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]


def make_engine(url: str | None = None, pre_ping: bool = True) -> Engine:
    """An engine for `url` (default: `database_url()`), SQLite tuned for one writer at a time.

    Statement parameters are never put into error messages (`hide_parameters`): they can hold
    a person's identity number. `pre_ping=False` (the casework service) saves a round trip per
    request and recycles connections after 30 minutes instead."""
    from sqlalchemy import create_engine, event

    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn: object, _record: object) -> None:
            dbapi_conn.isolation_level = None  # type: ignore[attr-defined]

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if pre_ping:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    return create_engine(url, pool_recycle=1800, pool_size=10, hide_parameters=True)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("sio.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def current_revision(engine: Engine) -> str | None:
    """The migration the store is at (None for an empty database)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(url: str | None = None) -> Engine:
    """An engine on a migrated store (created on first use); one engine per URL."""
    return _open(url or database_url())


@lru_cache(maxsize=8)
def _open(url: str) -> Engine:
    engine = make_engine(url)
    if current_revision(engine) != SCHEMA_REVISION:
        migrate(engine)
    return engine
