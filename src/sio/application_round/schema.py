"""Tables of the application round (SQLAlchemy Core; created by migration 0006).

`soknad` holds an application as received; everything after it — a council decision sent
later, the directorate's assessment, the offer, the municipality's answer — is an event in
`soknad_hendelse`, append-only, so that the round's history can be read back as it happened.
An accepted offer's event names the data version that holds its participation record.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text

import sio.casework.schema  # noqa: F401  (the accounts the rows refer to)
from sio.store.schema import metadata

application = Table(
    "soknad",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kommunenummer", String(4), nullable=False),
    Column("utlysning", String(20), nullable=False),
    Column("mottatt", Date, nullable=False),
    Column("kommunestyrevedtak", Date, nullable=True),
    Column("modell", String(1), nullable=False),
    Column("oensket_start", Date, nullable=True),
    Column("bestiller_utfoerer", Text, nullable=False),
    Column("kompetanse", Text, nullable=False),
    Column("kjoep", Text, nullable=False),
    Column("systemer", Text, nullable=False),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("opprettet_av", Integer, ForeignKey("konto.id"), nullable=False),
    Index("ix_soknad_kommune", "kommunenummer"),
)

event = Table(
    "soknad_hendelse",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("soknad_id", Integer, ForeignKey("soknad.id"), nullable=False),
    # kommunestyrevedtak | vurdering | tilbud | aksept | nei | avslag
    Column("art", String(20), nullable=False),
    Column("innhold", JSON, nullable=False),
    Column("tidspunkt", DateTime(timezone=True), nullable=False),
    Column("konto_id", Integer, ForeignKey("konto.id"), nullable=False),
    Column("versjon", Integer, ForeignKey("data_versjon.id"), nullable=True),
    Index("ix_soknad_hendelse_soknad", "soknad_id", "id"),
)
