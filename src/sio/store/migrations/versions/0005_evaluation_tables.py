"""The evaluation's input tables: `inn_kartlegging` (IPLOS assessments) and `inn_personer`
(birth year, sex, living alone), append-only like the other input tables (docs/evaluation-data.md).

The columns are written out here, as the file format had them when this migration was made: a
later change of `sio.data.tables` must come with its own migration.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

IPLOS = (
    "sosial_deltakelse",
    "beslutninger_dagliglivet",
    "styre_atferd",
    "alminnelig_husarbeid",
    "skaffe_varer",
    "personlig_hygiene",
    "av_og_paakledning",
    "spise",
    "lage_mat",
    "ivareta_egen_helse",
    "bevege_seg_innendoers",
    "bevege_seg_utendoers",
    "toalett",
    "hukommelse",
    "kommunikasjon",
    "syn",
    "hoersel",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "kartlegging": ("person_id", "kommunenummer", "dato", *IPLOS, "behovsniva"),
    "personer": ("person_id", "foedselsaar", "kjoenn", "bor_alene"),
}
KEYS: dict[str, tuple[str, ...]] = {
    "kartlegging": ("person_id", "dato"),
    "personer": ("person_id",),
}


def upgrade() -> None:
    for name, columns in COLUMNS.items():
        op.create_table(
            f"inn_{name}",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("versjon", sa.Integer, sa.ForeignKey("data_versjon.id"), nullable=False),
            sa.Column("rad", sa.Integer, nullable=True),
            *[sa.Column(c, sa.Text, nullable=True) for c in columns],
        )
        op.create_index(f"ix_inn_{name}_key", f"inn_{name}", [*KEYS[name], "versjon"])
        if op.get_bind().dialect.name == "postgresql":  # the past is never edited
            op.execute(
                f"CREATE TRIGGER inn_{name}_append_only BEFORE UPDATE OR DELETE ON inn_{name} "
                "FOR EACH ROW EXECUTE FUNCTION sio_append_only()"
            )


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_table(f"inn_{name}")
