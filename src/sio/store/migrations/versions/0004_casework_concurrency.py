"""Casework: an atomic decision counter per case, one first row per vedtak_id, Idempotency-Keys,
the audit log's indexes by account and time, and its retention permit.

- `sak.vedtak_teller`: decisions numbered so far, set from the decisions already stored;
- `ux_sak_vedtak_forste`: unique `vedtak_id` among first decisions (`erstatter IS NULL`);
- `idempotens`: the first answer per (account, Idempotency-Key) until it expires;
- `ix_logg_konto` (konto_id, tidspunkt) and `ix_logg_tidspunkt`;
- `logg_sletting`: while a row is there, `logg` rows older than its `foer` may be deleted (the
  retention run, inside its own transaction); every other UPDATE or DELETE is still refused.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sak", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vedtak_teller", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE sak SET vedtak_teller = (SELECT COUNT(DISTINCT v.vedtak_id) FROM sak_vedtak v "
        "WHERE v.sak_id = sak.id)"
    )
    op.create_index(
        "ux_sak_vedtak_forste",
        "sak_vedtak",
        ["vedtak_id"],
        unique=True,
        sqlite_where=sa.text("erstatter IS NULL"),
        postgresql_where=sa.text("erstatter IS NULL"),
    )
    op.create_table(
        "idempotens",
        sa.Column("konto_id", sa.Integer(), nullable=False),
        sa.Column("nokkel", sa.String(length=255), nullable=False),
        sa.Column("fingeravtrykk", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("svar", sa.Text(), nullable=True),
        sa.Column("opprettet", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utloper", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["konto_id"], ["konto.id"]),
        sa.PrimaryKeyConstraint("konto_id", "nokkel"),
    )
    op.create_index("ix_idempotens_utloper", "idempotens", ["utloper"])
    op.create_index("ix_logg_konto", "logg", ["konto_id", "tidspunkt"])
    op.create_index("ix_logg_tidspunkt", "logg", ["tidspunkt"])
    op.create_table(
        "logg_sletting",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("foer", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER logg_append_only ON logg")
        op.execute(
            """
            CREATE OR REPLACE FUNCTION sio_logg_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (
                    SELECT 1 FROM logg_sletting s WHERE OLD.tidspunkt < s.foer
                ) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'sio: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER logg_append_only BEFORE UPDATE OR DELETE ON logg "
            "FOR EACH ROW EXECUTE FUNCTION sio_logg_append_only()"
        )
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER logg_no_delete")
        op.execute(
            "CREATE TRIGGER logg_no_delete BEFORE DELETE ON logg "
            "WHEN NOT EXISTS (SELECT 1 FROM logg_sletting s WHERE OLD.tidspunkt < s.foer) "
            "BEGIN SELECT RAISE(ABORT, 'sio: DELETE on logg is not allowed (append-only)'); END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER logg_append_only ON logg")
        op.execute("DROP FUNCTION sio_logg_append_only()")
        op.execute(
            "CREATE TRIGGER logg_append_only BEFORE UPDATE OR DELETE ON logg "
            "FOR EACH ROW EXECUTE FUNCTION sio_append_only()"
        )
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER logg_no_delete")
        op.execute(
            "CREATE TRIGGER logg_no_delete BEFORE DELETE ON logg "
            "BEGIN SELECT RAISE(ABORT, 'sio: DELETE on logg is not allowed (append-only)'); END"
        )
    op.drop_table("logg_sletting")
    op.drop_index("ix_logg_tidspunkt", table_name="logg")
    op.drop_index("ix_logg_konto", table_name="logg")
    op.drop_index("ix_idempotens_utloper", table_name="idempotens")
    op.drop_table("idempotens")
    op.drop_index("ux_sak_vedtak_forste", table_name="sak_vedtak")
    with op.batch_alter_table("sak", schema=None) as batch_op:
        batch_op.drop_column("vedtak_teller")
