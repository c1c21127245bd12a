"""SIGTERM while a caller is on hold during a warm transfer (engine/app/server/drain.py):
the call counts as active and the drain waits for it; a human who picks up meanwhile is
connected and the server then exits; a human who never picks up is given up shortly before
the drain's end: the ringing stops, the flow takes a message (a ticket), nothing is lost.
A real uvicorn server drains (`DrainingServer`), the real twilio SDK talks to the fake
Twilio REST server, the simulated caller is on a real WebSocket. Waits are on conditions."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from adapters.twilio.caller import SimulatedCaller
from engine.app.commands.serve import DrainingServer
from engine.app.server.app import create_app
from engine.records.replay import is_external
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.fakes.twilio_webhooks import signed_post
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, free_port, running_server

SID, OURS = "CA720", "+15550100100"


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@dataclass
class Draining:
    services: Any
    rest: FakeTwilioRest
    caller: SimulatedCaller
    call: Any
    leg: Any
    task: asyncio.Task[None]
    base: str

    def hook(self, name: str) -> str:
        return f"{self.base}/webhook/transfer/{name}?parent={SID}"


@asynccontextmanager
async def on_hold_then_sigterm(tmp_path: Path, drain: float) -> AsyncIterator[Draining]:
    """A caller on hold (the human rung) on a draining server that just got SIGTERM."""
    with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
        async with running_server(tmp_path, twilio_url=rest.base_url) as harness:
            services, port = harness.services, free_port()
            config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port,
                                    log_level="warning", ws_per_message_deflate=False)
            server = DrainingServer(config, services, drain=drain)
            task = asyncio.get_running_loop().create_task(server.serve())
            await until(lambda: server.started)
            caller = SimulatedCaller(f"ws://127.0.0.1:{port}/ws/media", auth_token=AUTH_TOKEN,
                                     call_sid=SID, custom_parameters={"called": OURS})
            await caller.connect()
            await until(lambda: len(services.streams) == 1)
            call = next(iter(services.streams)).call
            await until(lambda: call.state == "listening")
            await caller.press("0")
            await until(lambda: bool(rest.placed) and call.state == "transferring")
            server.handle_exit(signal.SIGTERM, None)
            assert not services.accepting
            try:
                yield Draining(services, rest, caller, call, rest.placed[0], task,
                               f"http://127.0.0.1:{port}")
            finally:
                await caller.stop()
                await asyncio.wait_for(task, 30)


def test_a_human_who_picks_up_during_the_drain_gets_the_caller_then_the_server_exits(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with on_hold_then_sigterm(tmp_path, drain=60) as d:
            assert not d.task.done() and not d.call.ended  # the caller on hold is active
            child = {"CallSid": d.leg.call_sid, "CallStatus": "in-progress"}
            whisper = await signed_post(d.hook("whisper"), child, AUTH_TOKEN)
            assert "<Say>" in whisper.text  # webhooks are served while draining
            joined = await signed_post(d.hook("join"), child, AUTH_TOKEN)
            assert f">dialflow-{SID}</Conference>" in joined.text
            await until(lambda: d.call.ended)
            assert d.call.state == "transferred"
            assert not d.services.storage.list_tickets()
            await d.caller.stop()  # Twilio stops the stream as the caller joins the room
            await asyncio.wait_for(d.task, 30)  # the server exits: nothing left to wait for

    asyncio.run(scenario())


def test_a_human_who_never_picks_up_is_given_up_before_the_drain_ends_with_a_ticket(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with on_hold_then_sigterm(tmp_path, drain=4) as d:
            def canceled() -> bool:
                return any(q.call_sid == d.leg.call_sid and q.form.get("Status") == "canceled"
                           for q in d.rest.requests)
            await until(canceled)  # the human's phone stops ringing
            await until(lambda: bool(d.services.storage.list_tickets()))
            (ticket,) = d.services.storage.list_tickets()
            assert ticket.call_id == SID and "transfer failed" in ticket.reason
            states = d.call.trace.states()
            assert states[states.index("transferring") + 1] == "goodbye"
            failed = [e for e in d.call.trace.entries if e.event == "transfer.failed"]
            assert failed and "shutting down" in failed[0].data["error"]
            assert is_external(failed[0])  # a replay of the log posts it again
            late = await signed_post(d.hook("whisper"), {"CallSid": d.leg.call_sid,
                                                         "CallStatus": "in-progress"},
                                     AUTH_TOKEN)
            assert "Hangup" in late.text  # a human who answers now is not connected
            await asyncio.wait_for(d.task, 30)  # the server still stops at the deadline

    asyncio.run(scenario())
