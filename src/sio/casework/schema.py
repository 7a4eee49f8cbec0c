"""Tables of the casework service (SQLAlchemy Core; created by migration 0003).

Persons' national identity numbers live only in `person`; everything else refers to a person by
the internal id or the keyed pseudonym. Every casework row carries its municipality, so that
queries can be scoped by it. The audit log `logg` is append-only in the database, except for
the retention run, which may delete only the rows older than the cutoff it writes to
`logg_sletting` in its own transaction (migration 0004).

Migration 0004 added `sak.vedtak_teller` (the case's decision counter, taken with one atomic
UPDATE … RETURNING so that concurrent decisions get distinct `vedtak_id`s), a unique index on a
decision's first row, the `idempotens` table of `Idempotency-Key`s and the audit log's indexes
by account and by time. Migration 0010 made each record table's index by case `(sak_id, id)`, so
that a case's latest record is found without walking the table; migration 0011 added
`sak_antall`, the number of cases per municipality, kept by a trigger on `sak`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from sio.store.schema import metadata

account = Table(
    "konto",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("brukernavn", String(100), nullable=False, unique=True),
    Column("passord_hash", String(200), nullable=True),  # None: only external (OIDC) login
    Column("rolle", String(20), nullable=False),
    Column("kommunenummer", String(4), nullable=True),
    Column("oidc_subject", String(200), nullable=True, unique=True),
    Column("aktiv", Boolean, nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
)

session = Table(
    "okt",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("konto_id", Integer, ForeignKey("konto.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("utloper", DateTime(timezone=True), nullable=False),
    Column("avsluttet", DateTime(timezone=True), nullable=True),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("konto_id", Integer, ForeignKey("konto.id"), nullable=False),
    Column("navn", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("utloper", DateTime(timezone=True), nullable=False),
    Column("tilbakekalt", DateTime(timezone=True), nullable=True),
)

login_attempt = Table(
    "innloggingsforsok",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("brukernavn", String(100), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("tidspunkt", DateTime(timezone=True), nullable=False),
    Column("vellykket", Boolean, nullable=False),
    Index("ix_innloggingsforsok_bruker", "brukernavn", "tidspunkt"),
    Index("ix_innloggingsforsok_ip", "ip", "tidspunkt"),
)

person = Table(
    "person",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fodselsnummer", String(11), nullable=False, unique=True),
    Column("pseudonym", String(64), nullable=False, unique=True),
    Column("opprettet", DateTime(timezone=True), nullable=False),
)

case = Table(
    "sak",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommunenummer", String(4), nullable=False),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False),
    Column("mottatt", Date, nullable=False),
    Column("henvendelse", Text, nullable=False),
    Column("foreloepig_svar", Date, nullable=True),
    Column("kriterieversjon", String(40), nullable=True),  # fixed at the first decision
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("opprettet_av", Integer, ForeignKey("konto.id"), nullable=False),
    # decisions numbered so far (SAK<id>-1, -2, …); raised by one atomic UPDATE … RETURNING
    Column("vedtak_teller", Integer, nullable=False, server_default="0"),
    Index("ix_sak_kommune", "kommunenummer", "id"),
)

# migration 0011: the number of cases per municipality, raised by a trigger on `sak` in the
# transaction that stores a case (the case list's `totalt`, without counting the cases)
case_count = Table(
    "sak_antall",
    metadata,
    Column("kommunenummer", String(4), primary_key=True),
    Column("antall", Integer, nullable=False),
)

assessment = Table(
    "kartlegging",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sak_id", Integer, ForeignKey("sak.id"), nullable=False),
    Column("kommunenummer", String(4), nullable=False),
    Column("skaarer", JSON, nullable=False),
    Column("kartlagt_dato", Date, nullable=False),
    Column("kartlagt_av", String(200), nullable=False),
    Column("signert_dato", Date, nullable=False),
    Column("hva_er_viktig", Text, nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("opprettet_av", Integer, ForeignKey("konto.id"), nullable=False),
    Index("ix_kartlegging_sak", "sak_id", "id"),  # the latest first (migration 0010)
)

recommendation = Table(
    "anbefaling",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sak_id", Integer, ForeignKey("sak.id"), nullable=False),
    Column("kommunenummer", String(4), nullable=False),
    Column("kartlegging_id", Integer, ForeignKey("kartlegging.id"), nullable=False),
    Column("kriterieversjon", String(40), nullable=False),
    Column("resultat", JSON, nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("opprettet_av", Integer, ForeignKey("konto.id"), nullable=False),
    Index("ix_anbefaling_sak", "sak_id", "id"),
)

decision = Table(
    "sak_vedtak",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sak_id", Integer, ForeignKey("sak.id"), nullable=False),
    Column("kommunenummer", String(4), nullable=False),
    Column("vedtak_id", String(40), nullable=False),  # the engine's key; kept when changed
    Column("erstatter", Integer, ForeignKey("sak_vedtak.id"), nullable=True),
    Column("tjeneste", String(40), nullable=False),
    Column("prisgruppe", String(40), nullable=True),
    Column("omfang", String(20), nullable=False),  # decimal text
    Column("enhet", String(20), nullable=False),
    Column("fra", Date, nullable=False),
    Column("til", Date, nullable=True),
    Column("maal", Text, nullable=False),
    Column("revurderes", Date, nullable=False),
    Column("vedtaksdato", Date, nullable=False),
    Column("anbefaling_id", Integer, ForeignKey("anbefaling.id"), nullable=True),
    Column("plassering", String(10), nullable=False),  # within | below | above | other
    Column("avviksbegrunnelse", String(60), nullable=True),
    Column("avvikstekst", Text, nullable=False),
    Column("kriterieversjon", String(40), nullable=False),
    Column("data_versjon", Integer, ForeignKey("data_versjon.id"), nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("opprettet_av", Integer, ForeignKey("konto.id"), nullable=False),
    Index("ix_sak_vedtak_sak", "sak_id", "id"),
    Index("ix_sak_vedtak_kommune", "kommunenummer", "kriterieversjon"),
    # one first row per vedtak_id: a second decision with the same id can never be stored
    Index(
        "ux_sak_vedtak_forste",
        "vedtak_id",
        unique=True,
        sqlite_where=text("erstatter IS NULL"),
        postgresql_where=text("erstatter IS NULL"),
    ),
)

reevaluation = Table(
    "revurdering",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sak_id", Integer, ForeignKey("sak.id"), nullable=False),
    Column("kommunenummer", String(4), nullable=False),
    Column("dato", Date, nullable=False),
    Column("vurdering", Text, nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("opprettet_av", Integer, ForeignKey("konto.id"), nullable=False),
    Index("ix_revurdering_sak", "sak_id", "id"),
)

audit_log = Table(
    "logg",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("tidspunkt", DateTime(timezone=True), nullable=False),
    Column("konto_id", Integer, nullable=True),
    Column("brukernavn", String(100), nullable=False),
    Column("rolle", String(20), nullable=False),
    Column("handling", String(10), nullable=False),  # les | skriv
    Column("ressurs", String(100), nullable=False),
    Column("sak_id", Integer, nullable=True),
    Column("person_id", Integer, nullable=True),
    Column("kommunenummer", String(4), nullable=True),
    Column("begrunnelse", Text, nullable=False),
    Index("ix_logg_person", "person_id", "tidspunkt"),  # who has seen this person
    Index("ix_logg_konto", "konto_id", "tidspunkt"),  # what has this user seen
    Index("ix_logg_tidspunkt", "tidspunkt"),  # the retention run
)

# The retention run's permit: while a row is here (inside the run's transaction only), the
# triggers let rows of `logg` older than `foer` be deleted, and no others.
audit_log_deletion = Table(
    "logg_sletting",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("foer", DateTime(timezone=True), nullable=False),
)

# Idempotency-Key (IETF httpapi draft): the first answer to a creating write, per account and
# key, replayed for a repeat with the same request until `utloper`.
idempotency = Table(
    "idempotens",
    metadata,
    Column("konto_id", Integer, ForeignKey("konto.id"), primary_key=True),
    Column("nokkel", String(255), primary_key=True),
    Column("fingeravtrykk", String(64), nullable=False),  # SHA-256 of method, path and body
    Column("status", Integer, nullable=True),  # None until the first request has answered
    Column("svar", Text, nullable=True),  # the answer's JSON body
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("utloper", DateTime(timezone=True), nullable=False),
    Index("ix_idempotens_utloper", "utloper"),
)


# the tables whose planner statistics the service keeps fresh (`sio.store.statistics`, decision
# 0026): those its requests read — its own but the append-only audit log, and the data store's
# persons and municipalities that an assessment and a decision are checked against
STATISTICS_TABLES = frozenset(
    [
        *(t.name for t in (account, session, api_token, login_attempt, person, case, case_count)),
        *(t.name for t in (assessment, recommendation, decision, reevaluation, idempotency)),
        "inn_personer",
        "inn_kommuner",
    ]
)
