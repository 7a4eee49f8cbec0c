"""Initial schema: data versions, append-only input tables, stored results.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

INPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "kommuner": (
        "kommunenummer",
        "navn",
        "gyldig_fra",
        "gyldig_til",
        "aga_sone",
        "reiseindeks",
        "etterfolger",
    ),
    "deltakelse": ("kommunenummer", "modell", "fra", "til", "aktivitet_fra", "covid_saerordning"),
    "utgifter": ("kommunenummer", "aar", "kostra_funksjon", "netto_driftsutgifter"),
    "befolkning": ("kommunenummer", "aar", "aldersgruppe", "antall"),
    "toppfinansiering": ("kommunenummer", "aar", "beloep"),
    "prosjektkostnader": ("kommunenummer", "aar", "beloep"),
    "vedtak": (
        "vedtak_id",
        "person_id",
        "kommunenummer",
        "tjeneste",
        "prisgruppe",
        "omfang",
        "enhet",
        "fra",
        "til",
    ),
}
KEYS: dict[str, tuple[str, ...]] = {
    "kommuner": ("kommunenummer",),
    "deltakelse": ("kommunenummer", "fra"),
    "utgifter": ("kommunenummer", "aar", "kostra_funksjon"),
    "befolkning": ("kommunenummer", "aar", "aldersgruppe"),
    "toppfinansiering": ("kommunenummer", "aar"),
    "prosjektkostnader": ("kommunenummer", "aar"),
    "vedtak": ("vedtak_id",),
}


def upgrade() -> None:
    op.create_table(
        "data_versjon",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("opprettet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bruker", sa.String(200), nullable=False),
        sa.Column("kilde", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("rader", sa.JSON, nullable=False),
    )
    for name, columns in INPUT_COLUMNS.items():
        op.create_table(
            f"inn_{name}",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("versjon", sa.Integer, sa.ForeignKey("data_versjon.id"), nullable=False),
            sa.Column("rad", sa.Integer, nullable=True),
            *[sa.Column(c, sa.Text, nullable=True) for c in columns],
        )
        op.create_index(f"ix_inn_{name}_key", f"inn_{name}", [*KEYS[name], "versjon"])
    op.create_table(
        "resultat",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("beregnet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_versjon", sa.Integer, sa.ForeignKey("data_versjon.id"), nullable=False),
        sa.Column("parameter_versjon", sa.String(40), nullable=False),
        sa.Column("aar", sa.Integer, nullable=False),
        sa.Column("kommunenummer", sa.String(4), nullable=False),
        sa.Column("rad", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_resultat_versions", "resultat", ["data_versjon", "parameter_versjon", "aar"]
    )
    if op.get_bind().dialect.name == "postgresql":
        # The past is never edited: input rows and versions are append-only in the database.
        op.execute(
            """
            CREATE OR REPLACE FUNCTION sio_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'sio: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in ["data_versjon", *[f"inn_{n}" for n in INPUT_COLUMNS]]:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sio_append_only()"
            )


def downgrade() -> None:
    op.drop_table("resultat")
    for name in INPUT_COLUMNS:
        op.drop_table(f"inn_{name}")
    op.drop_table("data_versjon")
