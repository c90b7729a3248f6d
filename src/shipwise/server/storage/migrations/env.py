"""Alembic environment: migrations run on the connection Shipwise hands over
(``config.attributes['connection']``), so start-up, ``shipwise db upgrade`` and tests
all migrate the same way."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from shipwise.server.storage import (
    announcement_tables,  # noqa: F401  (its tables on Base)
    calendar_tables,  # noqa: F401  (its tables on Base)
    communication_tables,  # noqa: F401  (its tables on Base)
    learning_tables,  # noqa: F401  (its tables on Base)
    mailout_tables,  # noqa: F401  (its tables on Base)
    vercel_tables,  # noqa: F401  (its tables on Base)
)
from shipwise.server.storage.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` run by hand: use the configured URL
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
