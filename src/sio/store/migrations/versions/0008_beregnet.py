"""Computed page figures kept per (data version, parameter version): what the pages show of a
stored data version (annual rows, months, services), the payment status and the difference
between two versions, computed once and read by every worker and after a restart.

An entry is derived data: it can be dropped at any time and is computed again when needed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "beregnet"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("art", sa.String(40), nullable=False),
        sa.Column("data_versjon", sa.Integer, sa.ForeignKey("data_versjon.id"), nullable=False),
        sa.Column("parameter_versjon", sa.String(40), nullable=False),
        sa.Column("noekkel", sa.String(400), nullable=False),
        sa.Column("innhold", sa.Text, nullable=False),
        sa.Column("beregnet", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "art", "data_versjon", "parameter_versjon", "noekkel", name="uq_beregnet_noekkel"
        ),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
