"""The local STT session's early words drive the call's speculator: at a comma gap the
reply starts on the words so far and is dropped without a trace when the caller goes on
(nothing said, no tool run, nothing in the history); at the real end it starts before the
turn is decided and the committed turn takes it over — a tool it asks for runs only after
the commit. A real `Call` on the shipped flow with the scripts' fakes; the VAD is scripted
and whisper a stub (tests/turns/test_speculative_transcription.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_speculative_transcription import (  # type: ignore[import-not-found]
    QUIET,
    SPEECH,
    WORDS,
    Whisper,
    feed,
    install,  # noqa: F401  (fixture)
    windows,
)
from waiting import until

from adapters.local.deadline import DeadlineExecutor
from adapters.local.stt import LocalWhisperStt
from adapters.local.turn import speculation
from engine.call import Call
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from engine.turns.current import current_policy
from flows import load_flow

ROOT = Path(__file__).resolve().parents[2]
KEPT = ("said", "asked", "reply", "tool", "ticket", "tool_result")  # what a turn leaves
FIRST, WHOLE = "Let me talk to a person", "Let me talk to a person about my bill."


def test_a_comma_gap_speculation_leaves_no_trace_and_the_end_is_taken_over(
        install: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(speculation, "turn_model", lambda: None)  # the transcript decides
    whisper = Whisper(lambda n: FIRST if n < 40 else WHOLE)
    install(windows((QUIET, 5), (SPEECH, WORDS), (QUIET, 3), (SPEECH, WORDS)), whisper)

    async def main() -> tuple[Call, FakeWorld, float, list[str]]:
        loop = asyncio.get_running_loop()
        world = FakeWorld(clock=loop.time, playback_auto=True)
        world.llm.extend([{"tool_call": {"name": "escalate_to_human",
                                         "args": {"reason": "wants a person"}}},
                          {"reply": "Someone will call you back today."}])
        call = Call(FlowMachine(load_flow(ROOT / "flows.yaml")), world.ports(),
                    call_id="CA-early")
        world.post = call.post
        consumer = loop.create_task(call.run())
        call.post("call.started", caller="+15550001111", call_sid="CA-early")
        await settle(call)
        call.post("agent.playback_done")
        await settle(call)
        pool = DeadlineExecutor(1)
        session = LocalWhisperStt(executor=pool).open(
            call.call_id, lambda name, **fields: call.post(name, **fields))
        session.turn_policy = lambda: current_policy(call)
        session.speculation = call.speculation
        greeted = len(world.records)
        await feed(session, 5 + WORDS + 2)  # the comma gap: the early words come back
        await until(lambda: call.speculation.log, "the reply started on the early words")
        await settle(call)
        before = [r.kind for r in world.records[greeted:] if r.kind in KEPT]
        await feed(session, 1 + WORDS + 8)  # the caller goes on, then stops
        await until(lambda: call.state != "listening", "the committed turn")
        await until(lambda: world.tickets, "the tool, after the commit")
        await settle(call)
        committed = next(e.at for e in call.trace.entries if e.event == "caller.utterance")
        await session.close()
        pool.shutdown()
        call.post("call.hangup")
        await asyncio.wait_for(consumer, 30)
        return call, world, committed, before

    call, world, committed, before = asyncio.run(main())
    assert [w.split(" ")[0] for _, w in call.speculation.log] == [
        "started", "dropped", "started", "used"]
    assert before == []  # the speculation that went: nothing said, asked or run
    asked = [r.detail["text"] for r in world.records if r.kind == "asked"]
    assert asked[0] == WHOLE and FIRST not in asked  # the dropped turn left no history
    assert [e.data.get("text") for e in call.trace.entries
            if e.event == "caller.utterance"] == [WHOLE]
    assert all(r.at >= committed for r in world.records if r.kind in ("tool", "ticket"))
    assert world.tickets == 1  # the committed turn's tool ran, once
