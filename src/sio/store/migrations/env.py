"""Alembic environment: runs migrations on the connection `sio.store.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import sio.application_round.schema
import sio.casework.schema
import sio.store.ledger  # noqa: F401  (their tables join the metadata)
from sio.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
