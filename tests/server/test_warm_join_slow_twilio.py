"""The join webhook of a warm transfer under `--workers N` with a slow Twilio: the human's
join reaches worker 1, the caller's stream is on worker 0, and Twilio does not answer the
REST move of the caller (the fake holds it). A forwarded callback has 5 s
(engine/app/server/forwarding.py); the join must still be the conference, decided by
worker 0 at once, not the fallback `<Hangup/>` for a move that finishes anyway. Then the
move finishes (`transfer.completed`) or is refused and rolled back (`transfer.failed`, the
human's leg told and hung up, a ticket). Two in-process workers (tests/server/two_workers.py),
the real twilio SDK against the fake REST server; nothing is timed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.fakes.twilio_webhooks import signed_post
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.server.two_workers import two_workers

SID, OURS = "CA810", "+15550100100"


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def run_join(tmp_path: Path, twilio_status: int) -> None:
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with two_workers(tmp_path, twilio_url=rest.base_url) as (w0, w1):
                caller = SimulatedCaller(w0.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                                         custom_parameters={"called": OURS})
                await caller.connect()
                await until(lambda: len(w0.services.streams) == 1)
                (stream,) = w0.services.streams
                call = stream.call
                await until(lambda: call.state == "listening")
                await caller.press("0")
                await until(lambda: bool(rest.placed))
                (leg,) = rest.placed
                child = {"CallSid": leg.call_sid, "CallStatus": "in-progress",
                         "AccountSid": ACCOUNT_SID}
                hook = f"{w1.http_url}/webhook/transfer/%s?parent={SID}"
                await signed_post(hook % "whisper", child, AUTH_TOKEN)
                rest.stall_call(SID)  # Twilio takes its time over the caller's move
                joined = await signed_post(hook % "join", child, AUTH_TOKEN)
                assert joined.status_code == 200
                assert f">dialflow-{SID}</Conference>" in joined.text  # not the fallback
                assert w1.services.warm.get(SID) is None  # decided by worker 0
                await until(rest.stalling.is_set)
                assert call.state == "transferring" and not call.ended
                rest.release_call(SID, status=twilio_status)
                if twilio_status == 200:
                    await until(lambda: call.ended)
                    assert call.state == "transferred"
                    assert not w0.services.storage.list_tickets()
                else:
                    await until(lambda: any(
                        q.call_sid == leg.call_sid and "<Hangup" in q.form.get("Twiml", "")
                        for q in rest.requests))  # the human is told and hung up
                    await until(lambda: bool(w0.services.storage.list_tickets()))
                    (ticket,) = w0.services.storage.list_tickets()
                    assert "transfer failed" in ticket.reason and not call.ended
                await caller.stop()
                await until(lambda: not w0.services.streams)

    asyncio.run(scenario())


def test_a_forwarded_join_is_answered_while_twilio_is_slow_then_the_caller_is_moved(
        tmp_path: Path) -> None:
    run_join(tmp_path, 200)


def test_a_forwarded_join_whose_move_twilio_refuses_is_rolled_back_with_a_ticket(
        tmp_path: Path) -> None:
    run_join(tmp_path, 500)
