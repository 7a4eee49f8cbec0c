"""Payments: opening balances, what a municipality was paid for a year before the ledger took
over (append-only like the rest of the ledger).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "inngaende_saldo"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kommunenummer", sa.String(4), nullable=False),
        sa.Column("aar", sa.Integer, nullable=False),
        sa.Column("utbetalt_oere", sa.BigInteger, nullable=False),
        sa.Column("til_og_med_maaned", sa.Integer, nullable=True),
        sa.Column("kilde", sa.Text, nullable=False),
        sa.Column("registrert", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bruker", sa.String(200), nullable=False),
        sa.UniqueConstraint("kommunenummer", "aar", name="uq_inngaende_saldo"),
    )
    dialect = op.get_bind().dialect.name
    # What was paid before the ledger is money like the ledger's: never edited, never deleted.
    if dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION sio_append_only()"
        )
    elif dialect == "sqlite":
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{what.lower()} BEFORE {what} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'sio: {what} on {TABLE} is not allowed "
                "(append-only)'); END"
            )


def downgrade() -> None:
    op.drop_table(TABLE)
