"""Alembic environment: runs migrations on the engine `tools.migrations.upgrade` passes in,
one transaction for the whole upgrade, serialised across processes (see the package doc)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from tools.migrations import ADVISORY_LOCK_KEY

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(connection=connection, render_as_batch=engine.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": ADVISORY_LOCK_KEY})
        context.run_migrations()
