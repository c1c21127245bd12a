"""Appointment and ticket storage against a real PostgreSQL server (psycopg 3 driver), with the
schema built by the Alembic migrations, and no double booking across processes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from tests.postgres import pg_worker
from tests.tools import tools_testkit
from tests.tools.tools_testkit import NY, process_worker
from tools.migrations import current, head
from tools.storage import Base, SlotTaken, Storage

SLOT_DATE, SLOT_TIME = "2026-12-02", "10:00"
SLOT = dt.datetime(2026, 12, 2, 10, 0, tzinfo=NY)


@pytest.fixture
def storage(pg_url: str):
    store = Storage(pg_url)
    yield store
    store.close()


def test_plain_postgresql_url_uses_psycopg_3(storage: Storage) -> None:
    assert storage.engine.dialect.driver == "psycopg"
    with storage.engine.connect() as conn:
        assert conn.execute(text("SHOW server_version")).scalar()


def test_migrations_build_exactly_the_models_schema(storage: Storage) -> None:
    assert current(storage.engine) == head() == "0002"
    with storage.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        index = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_appointments_active_start'"
        )).scalar_one()
    assert diff == []
    assert "UNIQUE INDEX" in index and "WHERE" in index and "'booked'" in index


def test_opening_again_is_a_no_op_and_keeps_rows(pg_url: str, storage: Storage) -> None:
    storage.book(name="Pat", phone="+15551230001", start=SLOT, end=SLOT + dt.timedelta(minutes=30),
                 timezone="America/New_York", reason="cleaning")
    again = Storage(pg_url)
    try:
        assert [a.name for a in again.list_appointments()] == ["Pat"]
        assert current(again.engine) == head()
    finally:
        again.close()


def test_a_create_all_database_is_adopted_not_recreated(pg_url: str) -> None:
    legacy = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    Base.metadata.create_all(legacy)
    with legacy.begin() as conn:
        conn.execute(text("INSERT INTO tickets (reason, summary, status, created_at) "
                          "VALUES ('other', 'from before migrations', 'open', now())"))
    legacy.dispose()
    store = Storage(pg_url)
    try:
        assert current(store.engine) == head()
        assert [t.summary for t in store.list_tickets()] == ["from before migrations"]
    finally:
        store.close()


def test_the_partial_index_refuses_a_second_active_booking(storage: Storage) -> None:
    end = SLOT + dt.timedelta(minutes=30)
    first = storage.book(name="A", phone="+15551230001", start=SLOT, end=end,
                         timezone="America/New_York", reason="cleaning")
    with pytest.raises(SlotTaken) as taken:
        storage.book(name="B", phone="+15551230002", start=SLOT, end=end,
                     timezone="America/New_York", reason="cleaning")
    assert taken.value.holder is not None and taken.value.holder.id == first.id
    assert storage.cancel(first.id, phone="+15551230001") is not None
    rebooked = storage.book(name="B", phone="+15551230002", start=SLOT, end=end,
                            timezone="America/New_York", reason="cleaning")
    assert rebooked.start == SLOT and rebooked.id != first.id


def test_tickets_round_trip(storage: Storage) -> None:
    made = storage.create_ticket(reason="callback", summary="call me", caller_phone="+1555",
                                 call_id="CA1")
    assert storage.list_tickets() == [made]
    assert made.created_at.tzinfo is not None


def _start_race(pg_url: str, processes: int, per_process: int) -> tuple[list, Any, Any]:
    """`processes` worker processes, each booking the slot from `per_process` threads."""
    spawn = multiprocessing.get_context("spawn")
    barrier, queue = spawn.Barrier(processes), spawn.Queue()
    procs = [spawn.Process(target=process_worker, args=(
        pg_url, [f"+1555{p}00{i:04d}" for i in range(per_process)], SLOT_DATE, SLOT_TIME,
        barrier, queue)) for p in range(processes)]
    for proc in procs:
        proc.start()
    return procs, queue, barrier  # the barrier must stay alive until the children have it


def _finish_race(procs: list, queue: Any, _barrier: Any) -> list[dict]:
    try:
        results = [r for _ in procs for r in queue.get(timeout=180)]
    finally:
        for proc in procs:
            proc.join(30)
        queue.close()
        queue.join_thread()
    assert [proc.exitcode for proc in procs] == [0] * len(procs)
    return results


def _one_winner(results: list[dict], storage: Storage, attempts: int) -> dict:
    winners = [r for r in results if r["ok"]]
    assert len(results) == attempts
    assert len(winners) == 1, winners
    assert {(r["error"]["code"], r["error"]["reason"]) for r in results if not r["ok"]} == {
        ("slot_unavailable", "taken")}
    booked = storage.list_appointments(status="booked")
    assert [a.id for a in booked] == [winners[0]["data"]["appointment_id"]]
    return winners[0]


def test_sixty_bookings_of_one_slot_from_six_processes_make_one_appointment(
    pg_url: str, storage: Storage
) -> None:
    results = _finish_race(*_start_race(pg_url, processes=6, per_process=10))
    _one_winner(results, storage, attempts=60)


def test_a_worker_killed_mid_transaction_leaves_nothing_and_the_slot_goes_to_one_other(
    pg_url: str, storage: Storage
) -> None:
    holder = subprocess.Popen(
        [sys.executable, pg_worker.__file__, "hold", pg_url, SLOT.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()
        assert line.strip() == "HOLDING", holder.stderr.read() if holder.stderr else line
        # The 50 racers block on the killed worker's uncommitted row in the unique index;
        # the kill comes while they wait.
        race = _start_race(pg_url, processes=5, per_process=10)
        _wait_for_lock_waiters(storage, at_least=1)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
        results = _finish_race(*race)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=30)  # also closes the pipes
    assert holder.returncode == -signal.SIGKILL
    winner = _one_winner(results, storage, attempts=50)
    kept = storage.appointment_at(SLOT)
    assert kept is not None and kept.id == winner["data"]["appointment_id"]
    assert kept.phone != pg_worker.HOLDER_PHONE and kept.reason != pg_worker.HALF_WRITTEN
    assert all(t.summary != pg_worker.HALF_WRITTEN for t in storage.list_tickets())


def _wait_for_lock_waiters(storage: Storage, at_least: int, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    while time.monotonic() < deadline:
        with storage.engine.connect() as conn:
            if conn.execute(query).scalar_one() >= at_least:
                return
        time.sleep(0.05)
    raise AssertionError("no booking ever waited on the killed worker's row")


def test_committed_bookings_survive_kill_9_of_the_worker(pg_url: str, storage: Storage) -> None:
    env = {**os.environ, "PYTHONPATH": str(tools_testkit.ROOT)}
    proc = subprocess.Popen([sys.executable, tools_testkit.__file__, "book-forever", pg_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen: list[int] = []
    try:
        assert proc.stdout is not None
        while len(seen) < 30:
            line = proc.stdout.readline()
            assert line and not line.startswith("ERROR"), line or proc.stderr.read()  # type: ignore[union-attr]
            seen.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen += [int(x) for x in rest.split() if x.isdigit()]
    stored = {a.id for a in storage.list_appointments()}
    assert set(seen) <= stored, sorted(set(seen) - stored)



def test_without_postgresql_installed_the_fixture_says_what_to_install(monkeypatch) -> None:
    from tests.postgres import pg_server

    monkeypatch.setattr(pg_server, "find_bindir", lambda: None)
    with pytest.raises(FileNotFoundError, match=r"apt-get install -y postgresql"):
        pg_server.start_server()
