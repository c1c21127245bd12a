"""The piper pool runs the piece needed soonest: another call's first clause goes ahead of a
later clause that nobody hears for seconds (`DeadlineExecutor`, `LocalPiperTts`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from adapters.local.deadline import DeadlineExecutor
from adapters.local.tts import LocalPiperTts

DEADLINE_S = 10.0


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def blocked(pool: DeadlineExecutor) -> tuple[threading.Event, Future[Any]]:
    """Keep the pool's only worker busy until the returned event is set."""
    running, gate = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        gate.wait(DEADLINE_S)

    job = pool.submit(hold)
    assert running.wait(DEADLINE_S)
    return gate, job


def test_the_soonest_deadline_runs_first_and_plain_submits_keep_their_order() -> None:
    pool = DeadlineExecutor(1)
    gate, first = blocked(pool)
    ran: list[str] = []
    now = time.monotonic()
    jobs = [pool.submit_by(now + 5, ran.append, "later"), pool.submit(ran.append, "a"),
            pool.submit(ran.append, "b"), pool.submit_by(now - 1, ran.append, "overdue")]
    gate.set()
    for job in [first, *jobs]:
        job.result(DEADLINE_S)
    assert ran == ["overdue", "a", "b", "later"]
    pool.shutdown()


def test_a_cancelled_job_is_skipped_and_a_failure_reaches_its_waiter() -> None:
    pool = DeadlineExecutor(1)
    gate, _ = blocked(pool)
    ran: list[str] = []
    dropped = pool.submit(ran.append, "dropped")
    kept = pool.submit(ran.append, "kept")
    failing = pool.submit(int, "not a number")
    assert dropped.cancel()
    gate.set()
    kept.result(DEADLINE_S)
    with pytest.raises(ValueError):
        failing.result(DEADLINE_S)
    assert ran == ["kept"]
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(ran.append, "too late")


class OrderedPool(DeadlineExecutor):
    """A deadline pool noting which piece each render job was for, in the order run."""

    def __init__(self) -> None:
        super().__init__(1)
        self.rendered: list[str] = []

    def submit_by(self, deadline: float, fn: Callable[..., Any], /, *args: Any,
                  **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            if args:
                self.rendered.append(args[0])
            return fn(*args, **kwargs)

        return super().submit_by(deadline, run)


def holding(pool: DeadlineExecutor) -> tuple[threading.Event, threading.Event]:
    """Queue a job that, once it runs, keeps the worker until the first event is set."""
    gate, running = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        gate.wait(DEADLINE_S)

    pool.submit(hold)
    return gate, running


def test_another_calls_first_clause_is_rendered_before_a_later_clause(
        warm_models: None) -> None:
    asyncio.run(first_clause_first())


async def first_clause_first() -> None:
    pool = OrderedPool()
    tts = LocalPiperTts(executor=pool, steady=True)
    first_gate, _ = await asyncio.to_thread(blocked, pool)
    speaking = tts.synthesize("I can help with that. We are open until five.")
    first = asyncio.ensure_future(speaking.__anext__())
    await asyncio.to_thread(wait_until, lambda: pool.queued == 1)  # its first clause
    second_gate, held = holding(pool)  # runs after that clause, before anything due later
    first_gate.set()
    assert await first  # its second clause is queued now, due when the first has played
    await asyncio.to_thread(held.wait, DEADLINE_S)
    other = tts.synthesize("Hello there.")
    other_first = asyncio.ensure_future(other.__anext__())
    await asyncio.to_thread(wait_until, lambda: pool.queued == 2)
    second_gate.set()
    assert await other_first
    assert await speaking.__anext__()
    assert pool.rendered == ["I can help with that.", "Hello there.",
                             "We are open until five."]
    await speaking.aclose()
    await other.aclose()
    pool.shutdown()


def test_a_job_with_slack_waits_while_urgent_work_is_going_on() -> None:
    urgent = threading.Event()
    urgent.set()
    pool = DeadlineExecutor(1, defer_while=urgent.is_set)
    ran: list[str] = []
    spare = pool.submit_by(time.monotonic() + 600, ran.append, "ten minutes to spare")
    pool.submit(ran.append, "due now").result(DEADLINE_S)  # not deferred, runs first
    assert ran == ["due now"] and not spare.done()  # still waiting: whisper is busy
    urgent.clear()
    spare.result(DEADLINE_S)
    assert ran == ["due now", "ten minutes to spare"]
    pool.shutdown()


def test_the_whisper_and_turn_pools_make_pipers_spare_pieces_wait() -> None:
    from adapters.local import workers

    gate, _ = blocked(workers.stt_executor())  # type: ignore[arg-type]
    ran: list[str] = []
    spare = workers.tts_executor().submit_by(  # type: ignore[attr-defined]
        time.monotonic() + 600, ran.append, "spare")
    workers.tts_executor().submit(ran.append, "first clause").result(DEADLINE_S)
    assert ran == ["first clause"] and not spare.done()
    gate.set()
    spare.result(DEADLINE_S)
    assert ran == ["first clause", "spare"]
