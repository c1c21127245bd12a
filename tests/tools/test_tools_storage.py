"""Storage: database location, SQLite durability settings, the double-booking constraint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.schema import CreateIndex
from tools_testkit import NY

from tools.storage import (
    DATABASE_URL_ENV,
    AppointmentRow,
    SlotTaken,
    Storage,
    database_url,
)

START = dt.datetime(2026, 12, 2, 10, 0, tzinfo=NY)


def book(storage: Storage, phone: str = "+15550000001", start: dt.datetime = START):
    return storage.book(
        name="Pat", phone=phone, start=start, end=start + dt.timedelta(minutes=30),
        timezone="America/New_York", reason="cleaning", call_id="CA1",
    )


def test_default_url_is_relative_to_cwd_and_creates_the_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert database_url() == "sqlite:///data/dialflow.db"
    Storage().close()
    assert (tmp_path / "data" / "dialflow.db").is_file()


def test_env_overrides_the_url(tmp_path, monkeypatch) -> None:
    target = tmp_path / "nested" / "calls.db"
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{target}")
    store = Storage()
    try:
        book(store)
        assert store.display_url.endswith("calls.db")
    finally:
        store.close()
    assert Storage(f"sqlite:///{target}").list_appointments()[0].name == "Pat"


def test_sqlite_durability_pragmas(storage: Storage) -> None:
    with storage.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000


def test_unique_index_is_partial_on_sqlite_and_postgresql(storage: Storage) -> None:
    with storage.engine.connect() as conn:
        ddl = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'uq_appointments_active_start'"
        ).scalar()
    assert "UNIQUE INDEX" in ddl and "WHERE status = 'booked'" in ddl
    index = next(i for i in AppointmentRow.__table__.indexes if i.name.startswith("uq_"))
    pg = str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    assert "CREATE UNIQUE INDEX uq_appointments_active_start" in pg
    assert "WHERE status = 'booked'" in pg


def test_double_booking_raises_slot_taken_with_holder(storage: Storage) -> None:
    first = book(storage)
    with pytest.raises(SlotTaken) as info:
        book(storage, phone="+15550000002", start=START.astimezone(dt.UTC))
    assert info.value.holder == first
    assert len(storage.list_appointments()) == 1


def test_the_database_itself_refuses_a_second_active_booking(storage: Storage) -> None:
    """Even code that bypasses `Storage.book` cannot double book."""
    book(storage)
    with pytest.raises(IntegrityError), storage.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO appointments (name, phone, start_at, end_at, timezone, reason,"
                " status, created_at) SELECT name, '+1999', start_at, end_at, timezone, reason,"
                " 'booked', created_at FROM appointments"
            )
        )
    assert len(storage.list_appointments()) == 1


def test_cancel_frees_the_slot_and_checks_the_phone(storage: Storage) -> None:
    appt = book(storage)
    assert storage.cancel(appt.id, phone="+15550009999") is None
    cancelled = storage.cancel(appt.id, phone=appt.phone)
    assert cancelled is not None and cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    assert storage.cancel(appt.id, phone=appt.phone) is None
    again = book(storage, phone="+15550000002")
    assert storage.appointment_at(START) == again
    assert storage.booked_starts(START, START + dt.timedelta(minutes=1)) == {START}


def test_naive_datetimes_are_refused(storage: Storage) -> None:
    with pytest.raises(StatementError, match="timezone-aware"):
        book(storage, start=dt.datetime(2026, 12, 2, 10))
    assert storage.list_appointments() == []


def test_tickets_newest_first(storage: Storage) -> None:
    for reason in ("first", "second"):
        storage.create_ticket(reason=reason, summary="s", caller_phone=None, call_id=None)
    assert [t.reason for t in storage.list_tickets()] == ["second", "first"]
    assert [t.reason for t in storage.list_tickets(limit=1)] == ["second"]
    assert storage.list_tickets(status="closed") == []


def test_has_schema(tmp_path: Path) -> None:
    bare = Storage(f"sqlite:///{tmp_path / 'bare.db'}", create_schema=False)
    assert not bare.has_schema()
    bare.create_schema()
    bare.create_schema()  # idempotent
    assert bare.has_schema()
    bare.close()


def test_a_burst_of_threads_on_a_sqlite_file_opens_no_connection(tmp_path: Path) -> None:
    """One connection per process, made at start-up: a burst of concurrent transactions
    (stream claims, tool queries from many worker threads) opens none, so no connection, its
    statement cache or its cursor weakrefs are born in the burst and outlive it."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event

    storage = Storage(f"sqlite:///{tmp_path / 'burst.db'}")
    opened: list[object] = []
    event.listen(storage.engine, "connect", lambda *args: opened.append(args))
    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)

    def claim_and_read(i: int) -> bool:
        claimed = storage.claim_stream(f"CA{i}", now=now, ttl=dt.timedelta(minutes=5))
        storage.booked_starts(START, START + dt.timedelta(days=1))
        return claimed

    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(claim_and_read, range(64)))
    assert all(claims) and opened == []
    assert storage.claim_stream("CA1", now=now, ttl=dt.timedelta(minutes=5)) is False


def _dead_cursor_refs(storage: Storage) -> int:
    import gc
    import weakref

    with storage.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        return sum(1 for each in gc.get_referents(raw) if type(each) is list
                   for ref in each if isinstance(ref, weakref.ref) and ref() is None)


def test_dead_cursor_references_are_dropped_on_request(tmp_path) -> None:
    """sqlite3 keeps a weakref per cursor and purges them only every 200 cursors: after a
    burst up to 200 dead ones stay (each pins the memory it was born in, see
    engine/app/server/memory_release.py). `drop_dead_cursors` has sqlite3 purge them now."""
    storage = Storage(f"sqlite:///{tmp_path / 'c.db'}")
    for _ in range(60):
        storage.appointment_at(START)
    assert _dead_cursor_refs(storage) > 50
    assert 1 <= storage.drop_dead_cursors() <= 201
    assert _dead_cursor_refs(storage) <= 2
    assert storage.appointment_at(START) is None  # and the storage works as before
    storage.close()
