"""Events are checked where they are posted: a name, field or missing field the event does
not declare is a clear error that names it, not a dict the flow silently never reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.scripts import ScriptInvalid, load_script
from engine.scripts.fakes import FakeWorld
from flows import load_flow
from flows.events import EVENTS, EventError, check_event

ROOT = Path(__file__).resolve().parents[2]
MACHINE = FlowMachine(load_flow(ROOT / "flows.yaml"))


def _call() -> Call:
    world = FakeWorld(clock=lambda: 0.0)
    return Call(MACHINE, world.ports(), call_id="CA-typed")


def test_a_misspelt_field_names_itself_and_the_fields_of_the_event() -> None:
    call = _call()
    with pytest.raises(EventError) as raised:
        call.post("caller.utterance", txt="hello")
    message = str(raised.value)
    assert "'caller.utterance' has no field 'txt' and needs 'text'" in message
    assert "its fields: text, confidence (optional), ended_at (optional)" in message
    assert call.queue.empty()  # nothing half-posted


def test_a_missing_field_and_an_unknown_event_are_errors() -> None:
    call = _call()
    with pytest.raises(EventError, match=r"'tool\.done' needs 'result'"):
        call.post("tool.done", name="book_appointment")
    with pytest.raises(EventError, match=r"unknown event 'caller\.utterence'"):
        call.post("caller.utterence", text="hi")


def test_declared_fields_pass_and_optional_ones_may_be_left_out() -> None:
    async def main() -> list[str]:
        call = _call()
        consumer = asyncio.get_running_loop().create_task(call.run())
        call.post("call.started", caller="+15550001111", call_sid="CA1")
        call.post("agent.playback_done")  # `speech` is optional
        call.post("agent.playback_done", reply_done=True)
        call.post("call.hangup")
        await consumer
        return [e.event for e in call.trace.entries]

    assert run_virtual(main())[:2] == ["call.started", "agent.playback_done"]


def test_every_event_the_engine_posts_itself_is_declared() -> None:
    # What the engine and its behaviours post, with the fields they post (see states/).
    posted = {
        "agent.reply_started": {"text": "Hi."},
        "llm.tool_call": {"name": "end_call", "args": {}, "id": "toolu_1"},
        "llm.error": {"error": "x"}, "tts.error": {"error": "x"},
        "tool.done": {"name": "t", "result": {}}, "tool.failed": {"name": "t", "error": "x"},
        "transfer.failed": {"error": "x"}, "transfer.done": {},
        "agent.playback_cleared": {}, "agent.playback_done": {"reply_done": True},
        "dtmf.retry": {"digits": "1", "attempt": 1, "collection": 1},
    }
    for name, data in posted.items():
        check_event(name, data)
    assert set(posted) <= set(EVENTS)


def test_a_script_step_without_a_required_field_is_an_error_with_its_line(
        tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(f"flow: {ROOT / 'flows.yaml'}\nsteps:\n  - event: call.started\n"
                      "  - event: tool.done\n    data: {name: check_appointment}\n")
    with pytest.raises(ScriptInvalid, match=r"s.yaml:4: tool.done needs result"):
        load_script(script)
