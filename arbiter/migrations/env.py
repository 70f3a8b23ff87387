"""Alembic environment: migrations run on the connection Arbiter hands over, or on
``ARBITER_DATABASE_URL`` when ``alembic`` is run by hand from the repository root."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import arbiter.tables  # noqa: F401  (register every table on the metadata)
import experiments.crm_tables
import experiments.tables  # noqa: F401

target_metadata = SQLModel.metadata


def run() -> None:
    """Run the migrations in one transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        from arbiter.db import create_db_engine

        with create_db_engine().begin() as own:
            _migrate(own)
    else:
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
