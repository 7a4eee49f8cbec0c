"""The payment ledger in the database: parameter versions, payment runs, ledger lines and the
opening balances (what was paid before the ledger took over, migration 0007).

All four tables are append-only (migrations 0002 and 0007: PostgreSQL and SQLite refuse UPDATE
and DELETE with triggers). A run and its lines are written in one transaction, under a lock that
serialises runs (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-level advisory lock), and
`(art, periode)` is unique: two runs of the same month started at the same time give one run,
and a run killed halfway leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
)

from sio.store.schema import metadata
from sio.utbetaling.model import InngaendeSaldo, Kjoring, Postering

parameter_version = Table(
    "parameter_versjon",
    metadata,
    Column("versjon", String(40), primary_key=True),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("kilde", Text, nullable=False),
    Column("overstyring", JSON, nullable=True),
)

payment_run = Table(
    "utbetalingskjoring",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("art", String(20), nullable=False),
    Column("periode", String(7), nullable=False),
    Column("startet", DateTime(timezone=True), nullable=False),
    Column("bruker", String(200), nullable=False),
    Column("data_versjon", Integer, ForeignKey("data_versjon.id"), nullable=False),
    Column(
        "parameter_versjon",
        String(40),
        ForeignKey("parameter_versjon.versjon"),
        nullable=False,
    ),
    UniqueConstraint("art", "periode", name="uq_utbetalingskjoring_periode"),
)

posting = Table(
    "postering",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kjoring_id", Integer, ForeignKey("utbetalingskjoring.id"), nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("bruker", String(200), nullable=False),
    Column("kommunenummer", String(4), nullable=False),
    Column("aar", Integer, nullable=False),
    Column("maaned", Integer, nullable=True),
    Column("komponent", String(30), nullable=False),
    Column("art", String(20), nullable=False),
    Column("beloep_oere", BigInteger, nullable=False),
    Column("begrunnelse", Text, nullable=False),
    Column("data_versjon", Integer, ForeignKey("data_versjon.id"), nullable=False),
    Column(
        "parameter_versjon",
        String(40),
        ForeignKey("parameter_versjon.versjon"),
        nullable=False,
    ),
    Column("forrige_data_versjon", Integer, nullable=True),
    Column("forrige_parameter_versjon", String(40), nullable=True),
    Index("ix_postering_periode", "kommunenummer", "aar", "maaned"),
    Index("ix_postering_kjoring", "kjoring_id"),
)

opening_balance = Table(
    "inngaende_saldo",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommunenummer", String(4), nullable=False),
    Column("aar", Integer, nullable=False),
    Column("utbetalt_oere", BigInteger, nullable=False),
    Column("til_og_med_maaned", Integer, nullable=True),
    Column("kilde", Text, nullable=False),
    Column("registrert", DateTime(timezone=True), nullable=False),
    Column("bruker", String(200), nullable=False),
    UniqueConstraint("kommunenummer", "aar", name="uq_inngaende_saldo"),
)

# the advisory lock that serialises payment runs on PostgreSQL (any constant; "SIO" in ASCII)
_PG_LOCK = 0x53494F


class AlreadyRun(Exception):
    """The run exists already (possibly committed a moment ago by a concurrent process)."""

    def __init__(self, run: Kjoring) -> None:
        super().__init__(f"{run.art} {run.periode} exists (run {run.id})")
        self.run = run


def _kjoring(r: Any) -> Kjoring:
    startet = r.startet
    if startet.tzinfo is None:  # SQLite gives naive datetimes back
        startet = startet.replace(tzinfo=dt.UTC)
    return Kjoring(r.id, r.art, r.periode, startet, r.bruker, r.data_versjon, r.parameter_versjon)


def _postering(r: Any) -> Postering:
    return Postering(
        kommunenummer=r.kommunenummer,
        aar=r.aar,
        maaned=r.maaned,
        komponent=r.komponent,
        art=r.art,
        beloep_oere=int(r.beloep_oere),
        begrunnelse=r.begrunnelse,
        data_versjon=r.data_versjon,
        parameter_versjon=r.parameter_versjon,
        forrige_data_versjon=r.forrige_data_versjon,
        forrige_parameter_versjon=r.forrige_parameter_versjon,
        id=int(r.id),
        kjoring_id=r.kjoring_id,
    )


def list_runs(conn: Connection) -> list[Kjoring]:
    rows = conn.execute(select(payment_run).order_by(payment_run.c.id)).fetchall()
    return [_kjoring(r) for r in rows]


def find_run(conn: Connection, art: str, periode: str) -> Kjoring | None:
    r = conn.execute(
        select(payment_run).where(payment_run.c.art == art, payment_run.c.periode == periode)
    ).first()
    return _kjoring(r) if r is not None else None


def postings(
    conn: Connection,
    *,
    aar: int | None = None,
    kjoring_id: int | None = None,
    up_to_run: int | None = None,
    kommunenummer: str | None = None,
) -> list[Postering]:
    """Ledger lines in the order they were posted, optionally filtered."""
    q = select(posting).order_by(posting.c.id)
    if aar is not None:
        q = q.where(posting.c.aar == aar)
    if kjoring_id is not None:
        q = q.where(posting.c.kjoring_id == kjoring_id)
    if up_to_run is not None:
        q = q.where(posting.c.kjoring_id <= up_to_run)
    if kommunenummer is not None:
        q = q.where(posting.c.kommunenummer == kommunenummer)
    return [_postering(r) for r in conn.execute(q).fetchall()]


def paid_per_year(conn: Connection, up_to_run: int) -> dict[tuple[str, int], int]:
    """Everything posted per (municipality, year) by the runs up to and including `up_to_run`."""
    q = (
        select(posting.c.kommunenummer, posting.c.aar, func.sum(posting.c.beloep_oere))
        .where(posting.c.kjoring_id <= up_to_run)
        .group_by(posting.c.kommunenummer, posting.c.aar)
    )
    return {(k, int(y)): int(total) for k, y, total in conn.execute(q)}


def run_totals(conn: Connection) -> dict[int, tuple[int, int]]:
    """Per run: the number of lines and their sum in øre."""
    q = select(posting.c.kjoring_id, func.count(), func.sum(posting.c.beloep_oere)).group_by(
        posting.c.kjoring_id
    )
    return {int(r): (int(n), int(total)) for r, n, total in conn.execute(q)}


def get_posting(conn: Connection, posting_id: int) -> Postering | None:
    r = conn.execute(select(posting).where(posting.c.id == posting_id)).first()
    return _postering(r) if r is not None else None


def get_run(conn: Connection, run_id: int) -> Kjoring | None:
    r = conn.execute(select(payment_run).where(payment_run.c.id == run_id)).first()
    return _kjoring(r) if r is not None else None


def parameter_overrides(conn: Connection, versjon: str) -> tuple[bool, Any]:
    """(known, the stored override mapping or None) of a parameter version."""
    r = conn.execute(
        select(parameter_version.c.overstyring).where(parameter_version.c.versjon == versjon)
    ).first()
    return (r is not None, r[0] if r is not None else None)


def lock(conn: Connection) -> None:
    """Serialise payment runs (SQLite's `BEGIN IMMEDIATE` already holds the write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def post_run(
    engine: Engine,
    art: str,
    periode: str,
    user: str,
    data_versjon: int,
    parameter_versjon: str,
    parameter_source: str,
    overrides: Any,
    plan: Callable[[Connection], Iterable[Postering]],
    pause: Callable[[], None] | None = None,
) -> tuple[Kjoring, list[Postering]]:
    """Store a run and the lines `plan` gives, in one transaction under the run lock.

    `plan` is called inside the lock with the connection, so that it sees every run committed
    before; it may raise to abandon the run. Raises `AlreadyRun` if the run exists.
    """
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        lock(conn)
        existing = find_run(conn, art, periode)
        if existing is not None:
            raise AlreadyRun(existing)
        lines = list(plan(conn))
        known, _o = parameter_overrides(conn, parameter_versjon)
        if not known:
            conn.execute(
                insert(parameter_version).values(
                    versjon=parameter_versjon,
                    opprettet=now,
                    kilde=parameter_source,
                    overstyring=overrides,
                )
            )
        run_id = conn.execute(
            insert(payment_run)
            .values(
                art=art,
                periode=periode,
                startet=now,
                bruker=user,
                data_versjon=data_versjon,
                parameter_versjon=parameter_versjon,
            )
            .returning(payment_run.c.id)
        ).scalar_one()
        if lines:
            conn.execute(
                insert(posting),
                [
                    {
                        "kjoring_id": run_id,
                        "opprettet": now,
                        "bruker": user,
                        "kommunenummer": p.kommunenummer,
                        "aar": p.aar,
                        "maaned": p.maaned,
                        "komponent": p.komponent,
                        "art": p.art,
                        "beloep_oere": p.beloep_oere,
                        "begrunnelse": p.begrunnelse,
                        "data_versjon": p.data_versjon,
                        "parameter_versjon": p.parameter_versjon,
                        "forrige_data_versjon": p.forrige_data_versjon,
                        "forrige_parameter_versjon": p.forrige_parameter_versjon,
                    }
                    for p in lines
                ],
            )
        if pause is not None:
            pause()
        run = Kjoring(run_id, art, periode, now, user, data_versjon, parameter_versjon)
        stored = postings(conn, kjoring_id=run_id)
    return run, stored


def _saldo(r: Any) -> InngaendeSaldo:
    registrert = r.registrert
    if registrert is not None and registrert.tzinfo is None:
        registrert = registrert.replace(tzinfo=dt.UTC)
    return InngaendeSaldo(
        kommunenummer=r.kommunenummer,
        aar=int(r.aar),
        utbetalt_oere=int(r.utbetalt_oere),
        til_og_med_maaned=None if r.til_og_med_maaned is None else int(r.til_og_med_maaned),
        kilde=r.kilde,
        registrert=registrert,
        bruker=r.bruker,
        id=int(r.id),
    )


def opening_balances(conn: Connection) -> dict[tuple[str, int], InngaendeSaldo]:
    """Every stored opening balance by (municipality, year)."""
    rows = conn.execute(select(opening_balance).order_by(opening_balance.c.id)).fetchall()
    return {(r.kommunenummer, int(r.aar)): _saldo(r) for r in rows}


def store_opening_balances(
    engine: Engine,
    user: str,
    check: Callable[[Connection], list[InngaendeSaldo]],
) -> list[InngaendeSaldo]:
    """Store the opening balances that `check` gives, in one transaction under the run lock
    (`check` sees every run and balance committed before and may raise to store nothing)."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        lock(conn)
        rows = check(conn)
        if rows:
            conn.execute(
                insert(opening_balance),
                [
                    {
                        "kommunenummer": b.kommunenummer,
                        "aar": b.aar,
                        "utbetalt_oere": b.utbetalt_oere,
                        "til_og_med_maaned": b.til_og_med_maaned,
                        "kilde": b.kilde,
                        "registrert": now,
                        "bruker": user,
                    }
                    for b in rows
                ],
            )
        stored = opening_balances(conn)
    return [stored[(b.kommunenummer, b.aar)] for b in rows]
