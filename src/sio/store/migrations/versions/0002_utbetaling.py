"""Payments: parameter versions, payment runs and the append-only ledger; organisation numbers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("parameter_versjon", "utbetalingskjoring", "postering")


def upgrade() -> None:
    op.add_column("inn_kommuner", sa.Column("organisasjonsnummer", sa.Text, nullable=True))
    op.create_table(
        "parameter_versjon",
        sa.Column("versjon", sa.String(40), primary_key=True),
        sa.Column("opprettet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kilde", sa.Text, nullable=False),
        sa.Column("overstyring", sa.JSON, nullable=True),
    )
    op.create_table(
        "utbetalingskjoring",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("art", sa.String(20), nullable=False),
        sa.Column("periode", sa.String(7), nullable=False),
        sa.Column("startet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bruker", sa.String(200), nullable=False),
        sa.Column("data_versjon", sa.Integer, sa.ForeignKey("data_versjon.id"), nullable=False),
        sa.Column(
            "parameter_versjon",
            sa.String(40),
            sa.ForeignKey("parameter_versjon.versjon"),
            nullable=False,
        ),
        sa.UniqueConstraint("art", "periode", name="uq_utbetalingskjoring_periode"),
    )
    op.create_table(
        "postering",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("kjoring_id", sa.Integer, sa.ForeignKey("utbetalingskjoring.id"), nullable=False),
        sa.Column("opprettet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bruker", sa.String(200), nullable=False),
        sa.Column("kommunenummer", sa.String(4), nullable=False),
        sa.Column("aar", sa.Integer, nullable=False),
        sa.Column("maaned", sa.Integer, nullable=True),
        sa.Column("komponent", sa.String(30), nullable=False),
        sa.Column("art", sa.String(20), nullable=False),
        sa.Column("beloep_oere", sa.BigInteger, nullable=False),
        sa.Column("begrunnelse", sa.Text, nullable=False),
        sa.Column("data_versjon", sa.Integer, sa.ForeignKey("data_versjon.id"), nullable=False),
        sa.Column(
            "parameter_versjon",
            sa.String(40),
            sa.ForeignKey("parameter_versjon.versjon"),
            nullable=False,
        ),
        sa.Column("forrige_data_versjon", sa.Integer, nullable=True),
        sa.Column("forrige_parameter_versjon", sa.String(40), nullable=True),
    )
    op.create_index("ix_postering_periode", "postering", ["kommunenummer", "aar", "maaned"])
    op.create_index("ix_postering_kjoring", "postering", ["kjoring_id"])
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        # Money that has left the state is never edited: corrections are new lines.
        if dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION sio_append_only()"
            )
        elif dialect == "sqlite":
            for what in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{what.lower()} BEFORE {what} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'sio: {what} on {table} is not allowed "
                    "(append-only)'); END"
                )


def downgrade() -> None:
    op.drop_table("postering")
    op.drop_table("utbetalingskjoring")
    op.drop_table("parameter_versjon")
    op.drop_column("inn_kommuner", "organisasjonsnummer")
