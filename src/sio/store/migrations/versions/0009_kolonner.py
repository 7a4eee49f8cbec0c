"""A columnar copy of the stored state as of an imported data version (`inn_kolonner`: one
Parquet blob per version and input table), and an index on each input table's `versjon`, so that
the rows added after the newest copy are found without a scan (`sio.store.columns`).

The copy is derived from the rows, which stay the source of truth: a store without copies (one
migrated from 0008, or a version whose copy was not written) reads its rows as before.

The input tables are written out here, as they were when this migration was made.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "inn_kolonner"
INPUT_TABLES = (
    "kommuner",
    "deltakelse",
    "utgifter",
    "befolkning",
    "toppfinansiering",
    "prosjektkostnader",
    "vedtak",
    "kartlegging",
    "personer",
)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column(
            "data_versjon",
            sa.Integer,
            sa.ForeignKey("data_versjon.id"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("tabell", sa.String(40), primary_key=True, nullable=False),
        sa.Column("rader", sa.Integer, nullable=False),
        sa.Column("innhold", sa.LargeBinary, nullable=False),
    )
    for name in INPUT_TABLES:
        op.create_index(f"ix_inn_{name}_versjon", f"inn_{name}", ["versjon"])
    if op.get_bind().dialect.name == "postgresql":
        # a copy is never changed (it may be deleted: it is derived, and the rows are read then)
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION sio_append_only()"
        )


def downgrade() -> None:
    for name in INPUT_TABLES:
        op.drop_index(f"ix_inn_{name}_versjon", f"inn_{name}")
    op.drop_table(TABLE)
