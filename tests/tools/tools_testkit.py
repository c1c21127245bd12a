"""Shared test data and workers for tests/tools (imported by tests and run by subprocesses).

Run as a script (`python tools_testkit.py book-forever DB_URL`) it books one appointment after
another through the real tool runner and prints each committed id, for the kill -9 test.
Touches only the database URL it is given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.builtin import build_registry  # noqa: E402
from tools.calendar import BusinessCalendar  # noqa: E402
from tools.context import ToolContext  # noqa: E402
from tools.runner import run_tool  # noqa: E402
from tools.storage import Storage  # noqa: E402

BUSINESS: dict[str, Any] = {
    "name": "Bright Smile Dental",
    "timezone": "America/New_York",
    "hours": {
        "mon": "08:00-17:00", "tue": "08:00-17:00", "wed": "08:00-17:00", "thu": "08:00-19:00",
        "fri": "08:00-15:00", "sat": "09:00-13:00", "sun": "closed",
    },
    "holidays": [
        "2026-12-24", "2026-12-25", "2027-01-01", "2027-05-31", "2027-07-05", "2027-09-06",
        "2027-11-25", "2027-12-24",
    ],
    "slot_minutes": 30,
}
NY = ZoneInfo("America/New_York")
# Tuesday 1 December 2026, 09:00 in New York.
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=NY)
CALLER = "+15551230001"


def make_context(
    storage: Storage,
    caller: str | None = CALLER,
    *,
    call_id: str = "CA-test",
    now: dt.datetime = NOW,
) -> ToolContext:
    return ToolContext(
        call_id=call_id,
        caller_phone=caller,
        calendar=BusinessCalendar.from_settings(BUSINESS),
        storage=storage,
        clock=lambda: now,
    )


def booking_args(phone: str, date: str = "2026-12-02", time: str = "10:00", **extra: Any) -> dict:
    return {"name": "Pat Doe", "phone": phone, "date": date, "time": time, "reason": "cleaning",
            **extra}


def book_from_threads(
    storage: Storage, phones: list[str], date: str, time: str, timeout: float = 60.0
) -> list[dict]:
    """Every phone tries to book the same slot at once, one thread each; returns to_llm()s."""
    registry = build_registry()
    ctx = make_context(storage)
    barrier = threading.Barrier(len(phones))
    results: list[dict] = [{} for _ in phones]

    def attempt(i: int, phone: str) -> None:
        barrier.wait(timeout)
        result = asyncio.run(run_tool(
            "book_appointment", booking_args(phone, date, time), timeout=timeout,
            registry=registry, context=ctx,
        ))
        results[i] = result.to_llm()

    threads = [threading.Thread(target=attempt, args=(i, p)) for i, p in enumerate(phones)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def process_worker(db_url: str, phones: list[str], date: str, time: str, barrier: Any,
                   queue: Any) -> None:
    """One OS process: open its own storage, wait for the others, book from threads."""
    storage = Storage(db_url)
    try:
        barrier.wait(60)
        queue.put(book_from_threads(storage, phones, date, time))
    finally:
        storage.close()


async def book_forever(db_url: str) -> None:
    storage = Storage(db_url)
    ctx = make_context(storage)
    registry = build_registry()
    day = NOW.date()
    n = 0
    while True:
        day += dt.timedelta(days=1)
        for slot in ctx.calendar.slots_on(day, now=NOW):
            local = slot.astimezone(NY)
            n += 1
            result = await run_tool(
                "book_appointment",
                booking_args(f"+1555{n:07d}", local.date().isoformat(), f"{local:%H:%M}"),
                registry=registry, context=ctx,
            )
            if not result.ok:
                print(f"ERROR {result.to_json()}", flush=True)
                return
            print(result.data["appointment_id"], flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["book-forever"]:
    asyncio.run(book_forever(sys.argv[2]))
