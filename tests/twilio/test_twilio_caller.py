"""The simulated Twilio caller (adapters/twilio/caller.py) against a tiny local WebSocket
server that plays the dialflow side: it checks the signed handshake, parses every message
with our strict parser and `StreamSession`, and sends audio, marks and clears.

Timeouts below only guard against hangs; no test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import (
    Connected,
    Dtmf,
    InboundMessage,
    Mark,
    Media,
    Start,
    Stop,
    clear_message,
    mark_message,
    media_message,
    parse_inbound,
)
from adapters.twilio.session import StreamSession
from adapters.twilio.signature import SignatureChecker, SignatureRejected, SignatureSettings

TOKEN = "test-auth-token-for-the-caller"
Scenario = Callable[["AgentSide"], Awaitable[None]]


class AgentSide:
    """The server end of one stream: what it received and how to answer."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.session = StreamSession()
        self.messages: list[InboundMessage] = []
        self.flags: list[str] = []
        self.arrived = asyncio.Condition()

    async def receive_all(self) -> None:
        async for text in self.ws:
            message = parse_inbound(text)  # raises on anything malformed: the test fails
            observation = self.session.observe(message)  # raises on out-of-order messages
            if observation.flagged:
                self.flags.append(observation.note)
            async with self.arrived:
                self.messages.append(message)
                self.arrived.notify_all()

    async def wait_for(self, predicate: Callable[[list[InboundMessage]], bool]) -> None:
        async with asyncio.timeout(10), self.arrived:
            await self.arrived.wait_for(lambda: predicate(self.messages))

    def of(self, kind: type) -> list:
        return [m for m in self.messages if isinstance(m, kind)]

    async def send_audio(self, audio: bytes, chunk: int = 8000) -> None:
        for i in range(0, len(audio), chunk):
            await self.ws.send(media_message(self.session.stream_sid, audio[i : i + chunk]))

    async def send_mark(self, name: str) -> None:
        self.session.mark_sent(name)
        await self.ws.send(mark_message(self.session.stream_sid, name))

    async def send_clear(self) -> None:
        self.session.clear_sent()
        await self.ws.send(clear_message(self.session.stream_sid))


@asynccontextmanager
async def agent_server(scenario: Scenario) -> AsyncIterator[tuple[str, list[AgentSide]]]:
    checker = SignatureChecker(SignatureSettings(TOKEN))
    sides: list[AgentSide] = []

    def check_signature(connection: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        try:
            checker.check_websocket(
                scheme="ws", path=path, query=query, headers=dict(request.headers.raw_items())
            )
        except SignatureRejected as exc:
            return connection.respond(403, exc.reason)
        return None

    async def handler(ws: ServerConnection) -> None:
        side = AgentSide(ws)
        sides.append(side)
        receiving = asyncio.create_task(side.receive_all())
        await side.wait_for(lambda ms: any(isinstance(m, Start) for m in ms))
        await scenario(side)
        await receiving

    server: Server
    async with serve(handler, "127.0.0.1", 0, process_request=check_signature) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/media", sides


async def idle(side: AgentSide) -> None:
    """A scenario that only listens."""


def frames_of(side: AgentSide) -> list[Media]:
    return side.of(Media)


# -- the caller's side of the protocol -----------------------------------------------------------
def test_handshake_start_paced_media_dtmf_and_stop() -> None:
    speech = bytes(range(256)) * 3 + bytes(32)  # 800 bytes = 5 frames of 20 ms

    async def main() -> AgentSide:
        async with agent_server(idle) as (url, sides):
            async with SimulatedCaller(
                url,
                auth_token=TOKEN,
                caller="+15551234567",
                custom_parameters={"flow": "main"},
                continuous=False,
            ) as caller:
                await caller.say(speech)
                await caller.press("5")
                side = sides[0]
                await side.wait_for(lambda ms: any(isinstance(m, Dtmf) for m in ms))
            await side.wait_for(lambda ms: isinstance(ms[-1], Stop))
            return side

    side = asyncio.run(main())
    start = side.of(Start)[0]
    assert start.custom_parameters["caller"] == "+15551234567"
    assert start.custom_parameters["flow"] == "main"
    assert start.custom_parameters["callSid"] == start.call_sid
    media = frames_of(side)
    assert [m.chunk for m in media] == [1, 2, 3, 4, 5]
    assert [m.timestamp for m in media] == [0, 20, 40, 60, 80]
    assert all(len(m.payload) == 160 for m in media)
    assert b"".join(m.payload for m in media) == speech
    assert side.of(Dtmf)[0].digit == "5"
    assert side.session.stopped and side.flags == []
    numbers = [m.sequence_number for m in side.messages if not isinstance(m, Connected)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_continuous_microphone_sends_silence_between_words() -> None:
    async def main() -> AgentSide:
        async with agent_server(idle) as (url, sides):
            async with SimulatedCaller(url, auth_token=TOKEN) as caller:
                await sides[0].wait_for(
                    lambda ms: len([m for m in ms if isinstance(m, Media)]) >= 3
                )
                await caller.say(b"\x10" * 160)
                await sides[0].wait_for(
                    lambda ms: any(isinstance(m, Media) and m.payload == b"\x10" * 160 for m in ms)
                )
            return sides[0]

    media = frames_of(asyncio.run(main()))
    assert [m.chunk for m in media] == list(range(1, len(media) + 1))
    assert {m.payload for m in media} == {b"\xff" * 160, b"\x10" * 160}


# -- playback: marks and clear -------------------------------------------------------------------
def test_marks_are_echoed_in_order_after_their_audio_is_played() -> None:
    first, second = b"\x01" * 480, b"\x02" * 320

    async def scenario(side: AgentSide) -> None:
        await side.send_audio(first)
        await side.send_mark("a")
        await side.send_audio(second)
        await side.send_mark("b")
        await side.send_mark("c")
        await side.wait_for(lambda ms: [m.name for m in ms if isinstance(m, Mark)] == list("abc"))

    async def main() -> tuple[AgentSide, SimulatedCaller]:
        async with (
            agent_server(scenario) as (url, sides),
            SimulatedCaller(url, auth_token=TOKEN, continuous=False) as caller,
        ):
            await caller.wait_until(lambda c: c.echoed_marks == list("abc"))
            return sides[0], caller

    side, caller = asyncio.run(main())
    assert [m.name for m in side.of(Mark)] == ["a", "b", "c"]
    assert side.flags == [] and side.session.pending_marks == ()
    assert caller.heard == first + second
    assert caller.errors == []


def test_a_mark_with_nothing_queued_is_echoed_at_once() -> None:
    async def scenario(side: AgentSide) -> None:
        await side.send_mark("now")
        await side.wait_for(lambda ms: any(isinstance(m, Mark) for m in ms))

    async def main() -> SimulatedCaller:
        async with (
            agent_server(scenario) as (url, _),
            SimulatedCaller(url, auth_token=TOKEN, continuous=False) as caller,
        ):
            await caller.wait_until(lambda c: c.echoed_marks == ["now"])
            return caller

    caller = asyncio.run(main())
    assert caller.heard == b""


def test_clear_drops_the_buffer_and_echoes_pending_marks() -> None:
    long_speech = bytes([0x20]) * 8000 * 60  # a minute: far more than plays before the clear

    async def scenario(side: AgentSide) -> None:
        await side.send_audio(b"\x05" * 160)
        await side.send_mark("first")
        await side.send_audio(long_speech)
        await side.send_mark("end")
        await side.wait_for(lambda ms: any(isinstance(m, Mark) for m in ms))  # playing now
        await side.send_clear()
        await side.wait_for(
            lambda ms: [m.name for m in ms if isinstance(m, Mark)] == ["first", "end"]
        )

    async def main() -> tuple[AgentSide, SimulatedCaller]:
        async with (
            agent_server(scenario) as (url, sides),
            SimulatedCaller(url, auth_token=TOKEN, continuous=False) as caller,
        ):
            await caller.wait_until(lambda c: c.echoed_marks == ["first", "end"])
            return sides[0], caller

    side, caller = asyncio.run(main())
    heard = caller.heard
    assert heard.startswith(b"\x05" * 160)
    assert len(heard) < 160 + len(long_speech)  # the rest of the minute was dropped
    assert heard[160:] == long_speech[: len(heard) - 160]
    assert caller.playback.idle
    assert side.flags == [] and side.session.pending_marks == ()


def test_the_server_hanging_up_ends_the_simulated_call_cleanly() -> None:
    async def scenario(side: AgentSide) -> None:
        await side.ws.close()

    async def main() -> SimulatedCaller:
        async with agent_server(scenario) as (url, _):
            caller = SimulatedCaller(url, auth_token=TOKEN)
            await caller.connect()
            await caller.wait_until(lambda c: c.closed)
            with pytest.raises(ConnectionError):
                await caller.say(b"\x00" * 160)
            await caller.stop()  # safe after the other side closed
            return caller

    caller = asyncio.run(main())
    assert caller.closed and caller.errors == []


# -- handshake and protocol checks ---------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "some-other-token"])
def test_unsigned_or_wrongly_signed_handshake_is_refused(token: str | None) -> None:
    async def main() -> None:
        async with agent_server(idle) as (url, sides):
            with pytest.raises(InvalidStatus) as caught:
                await SimulatedCaller(url, auth_token=token).connect()
            assert caught.value.response.status_code == 403
            assert sides == []

    asyncio.run(main())


def test_signing_a_public_url_other_than_the_one_connected_to() -> None:
    async def main() -> None:
        async with agent_server(idle) as (url, _):
            caller = SimulatedCaller(
                url, auth_token=TOKEN, signed_url="wss://calls.example.com/ws/media"
            )
            with pytest.raises(InvalidStatus):  # our server checks its own URL
                await caller.connect()

    asyncio.run(main())


def test_the_caller_reports_what_the_server_got_wrong() -> None:
    async def scenario(side: AgentSide) -> None:
        await side.ws.send("hello")
        await side.ws.send(media_message("MZsomeoneelse", b"\xff" * 160))
        await side.ws.send('{"event": "media", "streamSid": "x", "media": {"payload": "!!"}}')

    async def main() -> SimulatedCaller:
        async with (
            agent_server(scenario) as (url, _),
            SimulatedCaller(url, auth_token=TOKEN, continuous=False) as caller,
        ):
            await caller.wait_until(lambda c: len(c.errors) == 3)
            return caller

    errors = asyncio.run(main()).errors
    assert "malformed JSON" in errors[0]
    assert "for stream 'MZsomeoneelse'" in errors[1]
    assert "not valid base64" in errors[2]
