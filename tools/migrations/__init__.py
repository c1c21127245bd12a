"""Alembic migrations of the appointment/ticket database, and `upgrade(engine)` to apply them.

`Storage` calls `upgrade` when it opens a database (the one way dialflow migrates: at start,
every process, idempotently), so a deployed PostgreSQL or SQLite file is brought to the
newest schema by simply starting the new version. Concurrent starts are safe: on PostgreSQL
the upgrade runs under a transaction-scoped advisory lock, on SQLite under `BEGIN IMMEDIATE`,
and the current revision is read only after the lock is held. A database that an older
dialflow created with `create_all` (tables, no `alembic_version`) is stamped as the initial
revision, whose schema is exactly that one. Touches only the given database.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

HERE = Path(__file__).resolve().parent
INITIAL = "0001"
ADVISORY_LOCK_KEY = 7_365_426_100  # any constant shared by every dialflow process


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for `engine`, with no alembic.ini (the script folder is this one)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def head() -> str:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The database's revision (None before the first migration)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest), adopting create_all schemas."""
    config = alembic_config(engine)
    tables = set(inspect(engine).get_table_names())
    if "alembic_version" not in tables and {"appointments", "tickets"} <= tables:
        command.stamp(config, INITIAL)
    command.upgrade(config, revision)
