"""Tables of the data store (SQLAlchemy Core).

Every input table of interfaces.md §1 is stored append-only with the data version that brought
each row. A row whose key (e.g. `vedtak_id`) already exists supersedes the earlier row from its
version on; nothing is updated or deleted. Cells are stored as the validated text of the input,
so that a version reads back exactly as it was imported (decimals keep their decimal text; an
organisation number is kept in its compact 9-digit form). Optional columns (`TableSpec.
optional_columns`, e.g. `inn_kommuner.organisasjonsnummer`, added by migration 0002) are null in
rows imported before they existed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from sio.data.tables import TABLES
from sio.store.keys import KEYS  # re-exported: the key of each input table

__all__ = [
    "INPUT_TABLES",
    "KEYS",
    "column_copy",
    "computed",
    "data_version",
    "metadata",
    "result",
]

metadata = MetaData()

data_version = Table(
    "data_versjon",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("opprettet", DateTime(timezone=True), nullable=False),
    Column("bruker", String(200), nullable=False),
    Column("kilde", Text, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("rader", JSON, nullable=False),
)

INPUT_TABLES: dict[str, Table] = {}
for spec in TABLES:
    INPUT_TABLES[spec.name] = Table(
        f"inn_{spec.name}",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("versjon", Integer, ForeignKey("data_versjon.id"), nullable=False),
        Column("rad", Integer, nullable=True),
        *[Column(c, Text, nullable=True) for c in spec.all_columns],
        Index(f"ix_inn_{spec.name}_key", *KEYS[spec.name], "versjon"),
        # migration 0009: the rows of the versions after a columnar copy (`sio.store.columns`)
        Index(f"ix_inn_{spec.name}_versjon", "versjon"),
    )

# migration 0009: the state as of an imported version, per input table, as one Parquet blob
# (derived from the rows, which stay the source of truth; `sio.store.columns`)
column_copy = Table(
    "inn_kolonner",
    metadata,
    Column("data_versjon", Integer, ForeignKey("data_versjon.id"), primary_key=True),
    Column("tabell", String(40), primary_key=True),
    Column("rader", Integer, nullable=False),
    Column("innhold", LargeBinary, nullable=False),
)

result = Table(
    "resultat",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("beregnet", DateTime(timezone=True), nullable=False),
    Column("data_versjon", Integer, ForeignKey("data_versjon.id"), nullable=False),
    Column("parameter_versjon", String(40), nullable=False),
    Column("aar", Integer, nullable=False),
    Column("kommunenummer", String(4), nullable=False),
    Column("rad", JSON, nullable=False),
    Index("ix_resultat_versions", "data_versjon", "parameter_versjon", "aar"),
)

# migration 0008: figures computed from a data version and a parameter version (derived, kept so
# that pages read them instead of computing; `sio.store.cache`)
computed = Table(
    "beregnet",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("art", String(40), nullable=False),
    Column("data_versjon", Integer, ForeignKey("data_versjon.id"), nullable=False),
    Column("parameter_versjon", String(40), nullable=False),
    Column("noekkel", String(400), nullable=False),
    Column("innhold", Text, nullable=False),
    Column("beregnet", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "art", "data_versjon", "parameter_versjon", "noekkel", name="uq_beregnet_noekkel"
    ),
)
