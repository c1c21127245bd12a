"""The pooled models shrink back after a burst: idle VADs beyond the floor are released."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from adapters.local import models
from adapters.local.pool import IdlePool
from adapters.local.stt import LocalWhisperStt


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_after_a_burst_the_pool_returns_to_its_floor() -> None:
    clock = FakeClock()
    pool: IdlePool[object] = IdlePool(object, floor=2, idle_seconds=60, clock=clock,
                                      timer=False)
    burst = [pool.take() for _ in range(20)]
    assert len({id(item) for item in burst}) == 20 and pool.in_use == 20
    for item in burst:
        pool.give_back(item)
    assert pool.idle == 20 and pool.in_use == 0
    clock.now += 59
    assert pool.trim() == 0 and pool.idle == 20  # not idle long enough yet
    clock.now += 1
    assert pool.trim() == 18 and pool.idle == 2
    assert pool.trim(now=clock.now + 1e6) == 0 and pool.idle == 2  # the floor stays


def test_recently_used_objects_survive_a_trim_and_are_handed_out_first() -> None:
    clock = FakeClock()
    pool: IdlePool[int] = IdlePool(iter(range(100)).__next__, floor=0, idle_seconds=10,
                                   clock=clock, timer=False)
    old, new = pool.take(), pool.take()
    pool.give_back(old)
    clock.now += 8
    pool.give_back(new)
    clock.now += 3  # old idle 11 s, new idle 3 s
    assert pool.trim() == 1 and pool.idle == 1
    assert pool.take() == new


def test_reset_runs_on_reuse_and_a_failed_make_is_not_counted() -> None:
    resets: list[list[int]] = []

    def make() -> list[int]:
        if len(resets) > 5:
            raise RuntimeError("no more")
        return []

    pool: IdlePool[list[int]] = IdlePool(make, reset=resets.append, timer=False)
    item = pool.take()
    pool.give_back(item)
    assert pool.take() is item and resets == [item]
    resets.extend([[]] * 5)
    with pytest.raises(RuntimeError):
        pool.take()
    assert pool.in_use == 1


def test_the_timer_trims_without_any_further_use() -> None:
    released = threading.Event()

    class Tracked:
        def __del__(self) -> None:
            released.set()

    pool: IdlePool[Tracked] = IdlePool(Tracked, floor=1, idle_seconds=0.01)
    burst = [pool.take() for _ in range(4)]
    for item in burst:
        pool.give_back(item)
    del burst, item
    deadline = time.monotonic() + 30  # generous: the machine may be loaded
    while pool.idle > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool.idle == 1 and released.is_set()


def test_real_vads_of_a_burst_of_calls_are_released(warm_models: None) -> None:
    stt = LocalWhisperStt()
    pool = models.vad_pool

    async def burst() -> None:
        sessions = [stt.open(f"CA{i}", lambda *a, **k: None) for i in range(6)]
        for session in sessions:
            session.feed(b"\xff" * 1600)
        await asyncio.gather(*(session.close() for session in sessions))

    asyncio.run(burst())
    assert pool.idle >= 6
    assert pool.trim(now=time.monotonic() + models.VAD_IDLE_SECONDS) >= 4
    assert pool.idle == models.VAD_POOL_FLOOR
    vad = models.take_vad()  # what is left still works
    try:
        window = np.zeros(vad.window_size_samples, np.float32)
        assert 0.0 <= vad.process(memoryview(window.data)) <= 1.0
    finally:
        models.give_back_vad(vad)
