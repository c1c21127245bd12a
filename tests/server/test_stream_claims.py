"""One stream per CallSid, held in the database every worker shares (SQLite file here; the
PostgreSQL twin is tests/postgres/test_pg_stream_claims.py): a claim made through one
Storage is seen by another, expires with the binding, and racing processes win each CallSid
exactly once; a database that cannot record the claim refuses the stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.app.server.services import Services
from tests.server.stream_claims_kit import (
    check_claims_between_two_stores,
    racing_processes_claim_each_call_once,
)


def test_claims_are_shared_through_the_sqlite_file(tmp_path: Path) -> None:
    check_claims_between_two_stores(f"sqlite:///{tmp_path / 'calls.db'}")


def test_racing_processes_win_each_call_sid_once(tmp_path: Path) -> None:
    won = racing_processes_claim_each_call_once(f"sqlite:///{tmp_path / 'calls.db'}")
    assert sum(won) == 20


class BrokenStorage:
    def claim_stream(self, *args: object, **kwargs: object) -> bool:
        raise OSError("disk I/O error")


def test_a_claim_the_database_cannot_record_refuses_the_stream() -> None:
    from engine.app.server.metrics import Metrics

    services = Services.__new__(Services)  # only what claim_call_sid reads
    services.streams, services.storage, services.metrics = set(), BrokenStorage(), Metrics()
    reason = asyncio.run(services.claim_call_sid("CA1"))
    assert "could not be recorded (OSError)" in reason


def test_an_in_memory_database_serves_threads_one_at_a_time() -> None:
    """One shared connection (StaticPool): claims and tickets from many threads at once used
    to interleave their transactions ("cannot start a transaction within a transaction"),
    and the connection they invalidated came back as a new, empty database."""
    import datetime as dt
    from concurrent.futures import ThreadPoolExecutor

    from tools.storage import Storage

    storage = Storage("sqlite://")
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)

    def work(i: int) -> bool:
        storage.create_ticket(reason="other", summary=f"ticket {i}", caller_phone=None,
                              call_id=f"CA{i}")
        return storage.claim_stream(f"CA{i}", now=now, ttl=dt.timedelta(minutes=5))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(400)))
    assert len(storage.list_tickets()) == 400
