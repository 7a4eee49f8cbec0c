"""The application round: applications (`soknad`) and their events (`soknad_hendelse`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "soknad",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kommunenummer", sa.String(length=4), nullable=False),
        sa.Column("utlysning", sa.String(length=20), nullable=False),
        sa.Column("mottatt", sa.Date(), nullable=False),
        sa.Column("kommunestyrevedtak", sa.Date(), nullable=True),
        sa.Column("modell", sa.String(length=1), nullable=False),
        sa.Column("oensket_start", sa.Date(), nullable=True),
        sa.Column("bestiller_utfoerer", sa.Text(), nullable=False),
        sa.Column("kompetanse", sa.Text(), nullable=False),
        sa.Column("kjoep", sa.Text(), nullable=False),
        sa.Column("systemer", sa.Text(), nullable=False),
        sa.Column("opprettet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opprettet_av", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["opprettet_av"], ["konto.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_soknad_kommune", "soknad", ["kommunenummer"])
    op.create_table(
        "soknad_hendelse",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("soknad_id", sa.Integer(), nullable=False),
        sa.Column("art", sa.String(length=20), nullable=False),
        sa.Column("innhold", sa.JSON(), nullable=False),
        sa.Column("tidspunkt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("konto_id", sa.Integer(), nullable=False),
        sa.Column("versjon", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["soknad_id"], ["soknad.id"]),
        sa.ForeignKeyConstraint(["konto_id"], ["konto.id"]),
        sa.ForeignKeyConstraint(["versjon"], ["data_versjon.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_soknad_hendelse_soknad", "soknad_hendelse", ["soknad_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_soknad_hendelse_soknad", table_name="soknad_hendelse")
    op.drop_table("soknad_hendelse")
    op.drop_index("ix_soknad_kommune", table_name="soknad")
    op.drop_table("soknad")
