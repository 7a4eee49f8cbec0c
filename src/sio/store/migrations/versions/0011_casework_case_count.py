"""Casework: the number of cases per municipality, `sak_antall`, kept by a trigger on `sak`.

The case list answers with the municipality's number of cases (`totalt`). Counting them at every
request read every case of the municipality, so the list's cost grew with the store: after a
10-minute soak (3 146 cases) 1 907 buffers and 2.2 ms a page on PostgreSQL (decision 0026).
`sak_antall` holds the count per municipality, raised by one in the transaction that stores a
case (a trigger, so that every way a case is stored counts; cases are never deleted). Filled
from `sak` here; the downgrade drops it and the trigger.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sak_antall",
        sa.Column("kommunenummer", sa.String(length=4), nullable=False),
        sa.Column("antall", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kommunenummer"),
    )
    op.execute(
        "INSERT INTO sak_antall (kommunenummer, antall) "
        "SELECT kommunenummer, COUNT(*) FROM sak GROUP BY kommunenummer"
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION sio_sak_antall() RETURNS trigger AS $$
            BEGIN
                INSERT INTO sak_antall (kommunenummer, antall) VALUES (NEW.kommunenummer, 1)
                ON CONFLICT (kommunenummer) DO UPDATE SET antall = sak_antall.antall + 1;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER sak_antall_ny AFTER INSERT ON sak "
            "FOR EACH ROW EXECUTE FUNCTION sio_sak_antall()"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER sak_antall_ny AFTER INSERT ON sak BEGIN "
            "INSERT OR IGNORE INTO sak_antall (kommunenummer, antall) "
            "VALUES (NEW.kommunenummer, 0); "
            "UPDATE sak_antall SET antall = antall + 1 WHERE kommunenummer = NEW.kommunenummer; "
            "END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER sak_antall_ny ON sak")
        op.execute("DROP FUNCTION sio_sak_antall()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER sak_antall_ny")
    op.drop_table("sak_antall")
