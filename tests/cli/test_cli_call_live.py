"""`dialflow call` shows the call as it happens: each agent sentence when it starts playing
(marked when a barge-in cut it off), what the server did in between (a local call's transfer
has no human to go to: an informational note, not an error), and an agent that hangs up
while the caller is at the `you>` prompt ends the command cleanly.

Real server (uvicorn, WebSocket) with fake speech providers; waits are on conditions."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

import pytest

from adapters.twilio.caller import HeardSegment, SimulatedCaller
from engine.app.callsim.narrator import HeardWords, Narrator, Screen, SpokenLines
from engine.app.callsim.typed import TypedLines
from engine.app.commands.call import converse
from tests.fakes.providers import ToneTts, silence, tone
from tests.server.harness import AUTH_TOKEN, running_server
from tests.waiting import until


def test_the_caller_keeps_what_it_heard_as_segments_and_a_clear_cuts_one_off(
    tmp_path: Path,
) -> None:
    long_reply = "One two three four five six seven eight nine ten. " * 6

    async def scenario() -> None:
        async with running_server(tmp_path, transcripts=["Tell me everything."]) as server:
            server.world.llm.append({"reply": long_reply})
            async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN) as caller:
                await until(lambda: bool(caller.segments) and caller.segments[0].ended)
                greeting = caller.segments[0]
                assert greeting.mark == "s1" and not greeting.cut_off and greeting.audio
                await until(lambda: caller.playback.idle)
                await caller.say(tone(0.6) + silence(0.4))
                await until(lambda: len(caller.segments) > 1 and bool(caller.segments[-1].audio))
                await caller.say(tone(0.6), wait=False)  # talk over the reply
                await until(lambda: any(s.cut_off for s in caller.segments))
                cut = next(s for s in caller.segments if s.cut_off)
                assert cut.mark is None and cut.audio and cut.started_at > greeting.started_at

    asyncio.run(scenario())


class FakeCaller:
    def __init__(self) -> None:
        self.segments: list[HeardSegment] = []


def test_a_line_is_shown_when_it_starts_playing_and_marked_when_cut_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def scenario() -> None:
        caller = FakeCaller()
        screen = Screen(asyncio.get_running_loop().time())
        narrator = Narrator(caller, screen, SpokenLines(lambda: ["Hello there.", "Second."]))
        caller.segments.append(HeardSegment(screen.start + 1.0, bytearray(b"\xff" * 160)))
        await narrator.catch_up()
        assert "AGENT   Hello there." in capsys.readouterr().out  # still playing
        caller.segments[0].mark = "s1"
        caller.segments.append(HeardSegment(screen.start + 3.5, bytearray(b"\xff" * 160)))
        await narrator.catch_up()
        assert capsys.readouterr().out.startswith("00:03.5  AGENT   Second.")
        caller.segments[1].cut_off = True
        await narrator.catch_up()
        assert "[cut off" in capsys.readouterr().out

    asyncio.run(scenario())


def test_heard_words_wait_for_the_end_of_the_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    class Words(HeardWords):
        async def words(self, index: int, segment: HeardSegment) -> str:
            return f"heard {len(segment.audio)} bytes"

    async def scenario() -> None:
        caller = FakeCaller()
        screen = Screen(asyncio.get_running_loop().time())
        narrator = Narrator(caller, screen, Words())
        caller.segments.append(HeardSegment(screen.start + 2.0, bytearray(b"\xff" * 800)))
        await narrator.catch_up()
        assert capsys.readouterr().out == ""
        caller.segments[0].mark = "s1"
        await asyncio.gather(narrator.settle(), narrator.settle())  # printed once, in time
        assert capsys.readouterr().out == "00:02.0  AGENT   heard 800 bytes\n"

    asyncio.run(scenario())


def call_args(**overrides: object) -> argparse.Namespace:
    values = dict(url=None, say=None, script=None, interactive=False, caller="+15550001111",
                  record=None)
    values.update(overrides)
    return argparse.Namespace(**values)


def test_typing_after_the_agent_hung_up_ends_the_call_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    read_fd, write_fd = os.pipe()
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_fd, "r"))

    shown: list[str] = []

    def prompted() -> bool:
        shown.append(capsys.readouterr().out)
        return "you> " in "".join(shown)

    async def scenario() -> int:
        async with running_server(tmp_path) as server:
            task = asyncio.create_task(converse(call_args(interactive=True), server.http_url,
                                                AUTH_TOKEN, ToneTts(), lambda: []))
            await until(prompted)
            (stream,) = server.services.streams
            await stream.close()  # the agent hangs up while the caller is at the prompt
            await until(lambda: not server.services.streams)
            os.write(write_fd, b"Hello? Are you still there?\n")  # ... and the caller types
            return await asyncio.wait_for(task, 60)

    try:
        assert asyncio.run(scenario()) == 0
    finally:
        os.close(write_fd)
    out = "".join(shown) + capsys.readouterr().out
    assert "the agent hung up" in out and "you> " in out
    assert "CALLER" not in out  # nothing was sent on the closed call


def test_a_pipe_of_typed_lines_is_read_line_by_line() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"first\nsecond\r\nthi")

    async def scenario() -> list[str | None]:
        typed = TypedLines(read_fd)
        never = asyncio.get_running_loop().create_future()
        got = [await typed.next(never), await typed.next(never)]
        os.write(write_fd, b"rd")
        os.close(write_fd)
        got += [await typed.next(never), await typed.next(never)]
        never.cancel()
        return got

    try:
        assert asyncio.run(scenario()) == ["first", "second", "third", None]
    finally:
        os.close(read_fd)


def test_a_local_transfer_is_an_informational_note_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dialflow")

    async def scenario() -> None:
        async with (running_server(tmp_path) as server,  # no Twilio credentials: a local call
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN) as caller):
            await until(lambda: len(server.services.streams) == 1)
            (stream,) = server.services.streams
            await until(lambda: stream.call is not None and stream.call.state == "listening")
            await caller.press("0")  # ask for a human
            await until(lambda: stream.call.ended)
            assert stream.call.trace.states()[-4:] == [
                "escalating", "transferring", "goodbye", "ended"]

    asyncio.run(scenario())
    runner = [r for r in caplog.records if r.name == "dialflow.runner"]
    assert not [r for r in runner if r.levelno >= logging.WARNING], [r.message for r in runner]
    notes = [r.getMessage() for r in runner if "no human to transfer to" in r.getMessage()]
    assert len(notes) == 1 and "local call" in notes[0]
