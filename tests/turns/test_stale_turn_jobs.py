"""A pause's jobs that have not started are taken off the shared pools when the caller
speaks again: with ten calls on two cores, a stale Smart Turn run held up other calls'
decisions. `TurnDecider` with a held turn pool and counting stand-ins for the models."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.local import workers
from adapters.local.transcribe import Transcript
from adapters.local.turn import speculation
from adapters.local.vad import Paused
from flows.turns import TurnPolicy

DEADLINE_S = 10.0


class CountingModel:
    def __init__(self) -> None:
        self.runs = 0

    def predict(self, ulaw: bytes) -> float:
        self.runs += 1
        return 0.9


class Endpointer:
    end_silence_ms = 0


async def pause_then_resume(model: CountingModel, turn_pool: ThreadPoolExecutor) -> None:
    gate, busy = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        gate.wait(DEADLINE_S)

    held = turn_pool.submit(hold)  # the turn pool is busy with another call's decision
    await asyncio.to_thread(busy.wait, DEADLINE_S)
    stt_pool = ThreadPoolExecutor(1)
    decider = speculation.TurnDecider("call-stale", Endpointer(), stt_pool,  # type: ignore[arg-type]
                                      lambda: TurnPolicy(), lambda _: None)
    decider.paused(Paused(b"\xff" * 3200, 400, 1))
    decider.resumed()  # the caller went on speaking before the model's turn came
    gate.set()
    await asyncio.wrap_future(held)
    await asyncio.wrap_future(turn_pool.submit(lambda: None))  # everything queued has run
    stt_pool.shutdown()


def test_the_turn_models_run_is_dropped_when_the_caller_resumes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = CountingModel()
    turn_pool = ThreadPoolExecutor(1)
    monkeypatch.setattr(speculation, "turn_model", lambda: model)
    monkeypatch.setattr(speculation, "transcribe",
                        lambda ulaw, prompt=None: Transcript("I'd like to", 0.9))
    monkeypatch.setattr(workers, "turn_executor", lambda: turn_pool)
    asyncio.run(pause_then_resume(model, turn_pool))
    turn_pool.shutdown()
    assert model.runs == 0
