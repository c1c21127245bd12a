"""SQLite uses the same Alembic migrations as PostgreSQL: the schema they build is the models'
schema, opening twice is a no-op, a `create_all` database from before migrations is adopted,
and racing processes opening a fresh file all succeed."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from tools.migrations import current, head
from tools.storage import Base, Storage

START = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


def test_sqlite_schema_comes_from_the_migrations(tmp_path: Path) -> None:
    store = Storage(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert current(store.engine) == head()
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "a.db")
    try:
        sql = conn.execute("SELECT sql FROM sqlite_master "
                           "WHERE name = 'uq_appointments_active_start'").fetchone()[0]
    finally:
        conn.close()
    assert "UNIQUE INDEX" in sql and "WHERE status = 'booked'" in sql


def test_a_create_all_sqlite_file_is_adopted_with_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy = create_engine(url)
    Base.metadata.create_all(legacy)
    legacy.dispose()
    first = Storage(url)
    first.book(name="Pat", phone="+15551230001", start=START,
               end=START + dt.timedelta(minutes=30), timezone="UTC", reason="cleaning")
    first.close()
    again = Storage(url)
    try:
        assert current(again.engine) == head()
        assert [a.name for a in again.list_appointments()] == ["Pat"]
    finally:
        again.close()


def _open(url: str, barrier: object) -> None:
    barrier.wait(30)  # type: ignore[attr-defined]
    Storage(url).close()


def test_processes_racing_to_migrate_a_fresh_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(4)
    procs = [spawn.Process(target=_open, args=(url, barrier)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = Storage(url)
    try:
        assert current(store.engine) == head()
    finally:
        store.close()


def test_opening_while_another_process_writes_to_a_fresh_file_waits_for_it(tmp_path: Path) -> None:
    # A writer holding the lock of a not-yet-WAL file makes `PRAGMA journal_mode = WAL` fail
    # at once, busy timeout or not (SQLite skips the busy handler there): Storage must wait.
    path = tmp_path / "busy.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE other (x INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other VALUES (1)")
    release = threading.Timer(0.3, writer.execute, args=("COMMIT",))
    release.start()
    try:
        store = Storage(f"sqlite:///{path}")
        try:
            assert current(store.engine) == head()
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        finally:
            store.close()
    finally:
        release.join()
        writer.close()
