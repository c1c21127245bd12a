"""Shared checks of `Storage.claim_stream` for SQLite and PostgreSQL: claims from separate
Storage objects (as separate workers or machines hold) and from racing OS processes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from typing import Any

from tools.storage import Storage

TTL = dt.timedelta(minutes=5)
T0 = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def check_claims_between_two_stores(url: str) -> None:
    first, second = Storage(url), Storage(url)
    try:
        assert first.claim_stream("CA1", now=T0, ttl=TTL)
        assert not second.claim_stream("CA1", now=T0 + dt.timedelta(seconds=1), ttl=TTL)
        assert not first.claim_stream("CA1", now=T0 + TTL - dt.timedelta(seconds=1), ttl=TTL)
        assert second.claim_stream("CA2", now=T0, ttl=TTL)  # another call is its own
        later = T0 + TTL + dt.timedelta(seconds=1)  # the binding expired: the claim too
        assert second.claim_stream("CA1", now=later, ttl=TTL)
        assert not first.claim_stream("CA1", now=later, ttl=TTL)
    finally:
        first.close()
        second.close()


def _claim_in_process(url: str, barrier: Any, queue: Any) -> None:
    storage = Storage(url)
    try:
        barrier.wait(60)
        queue.put(sum(storage.claim_stream(f"CArace{i}", now=T0, ttl=TTL) for i in range(20)))
    finally:
        storage.close()


def racing_processes_claim_each_call_once(url: str, processes: int = 4) -> list[int]:
    """Each process claims the same 20 CallSids at once; how many each won."""
    Storage(url).close()  # the schema first, so the race is about the claims
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    workers = [ctx.Process(target=_claim_in_process, args=(url, barrier, queue))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    won = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    return won
