"""The console's reader process: it, not the server's loop, reads the logs; a slow viewer
catches up from its cursor with nothing lost or repeated while the loop keeps a bounded
ring; a stuck viewer is closed; a dead reader is replaced; the reader gets no secret."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from engine.app.server.console import feed, relay, sse
from engine.app.server.console.relay import Relay
from engine.app.server.console.streams import call_events, live_events
from engine.app.server.console.wire import BrokenWire, Frames, frame
from engine.records.log import EventLogWriter
from tests.console.kit import TOKEN, LiveServer, console_token

ROOT = Path(__file__).resolve().parents[2]
HEADER = {"v": 1, "k": "call", "flow": "0" * 16, "caller": "+15550001234", "pid": 0,
          "host": ""}


def live_log(directory: Path, call_id: str) -> EventLogWriter:
    directory.mkdir(parents=True, exist_ok=True)
    writer = EventLogWriter(directory / f"{call_id}-0123456789abcdef.jsonl.gz")
    writer.write({**HEADER, "id": call_id, "start": time.time()})
    writer.write({"k": "ev", "t": 0.0, "e": "call.started", "b": "", "a": "listening"})
    return writer


def burst(writer: EventLogWriter, n: int, t: float) -> None:
    for k in range(n):  # each a trace row, a (re-entered) state and a caller line
        writer.write({"k": "ev", "t": t, "e": "caller.utterance", "d": {"text": f"line {k}"},
                      "b": "listening", "a": "listening", "n": "re-entered"})


class Viewers:
    """What `streams` needs of a console: its relay, a stream count, whether to stop."""

    def __init__(self, directory: Path):
        self.relay = Relay(directory)
        self.streams = 0
        self.stop = False

    def stopping(self) -> bool:
        return self.stop


def items_of(texts: list[bytes]) -> list[int]:
    indices = []
    for text in texts:
        for line in text.decode().splitlines():
            if line.startswith("data: "):
                indices += [item["i"] for item in json.loads(line[6:]).get("items", [])]
    return indices


def test_the_wire_reassembles_split_frames_and_refuses_oversized_ones() -> None:
    data = frame({"f": "live"}, b"event: calls\n") + frame({"f": "reply", "r": 3}, b"x" * 70)
    frames, got = Frames(), []
    for k in range(0, len(data), 7):  # a pipe may hand over any slice
        got += frames.feed(data[k:k + 7])
    assert got == [({"f": "live"}, b"event: calls\n"), ({"f": "reply", "r": 3}, b"x" * 70)]
    with pytest.raises(BrokenWire):
        Frames().feed(b"\xff\xff\xff\xff\x00\x00\x00\x00")


def test_a_slow_viewer_catches_up_from_its_cursor_with_a_bounded_ring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay, "RING", 2)  # pushed events kept per call: the viewer falls out
    writer = live_log(tmp_path, "CAslow")
    console = Viewers(tmp_path)

    async def watch() -> list[int]:
        generation = await console.relay.start()
        console.relay.watch(generation, 1)
        events = call_events(console, "CAslow-0123456789abcdef", 0)(generation)
        got = [await anext(events)]  # what the call had: then the viewer stops reading
        followed = console.relay.followed["CAslow-0123456789abcdef"]
        for n in range(6):  # the call goes on: six passes' worth of pushes
            burst(writer, 300, 1.0 + n)
            expected = 2 + 3 * 300 * (n + 1)  # the start's two, three per line
            while followed.known < expected:
                await followed.changed.wait()
        assert len(followed.frames) <= 2 and followed.frames[0][0] > 0  # the ring dropped
        writer.write({"k": "end", "t": 9.0, "state": "goodbye"})
        writer.close()
        async with asyncio.timeout(30):
            got += [text async for text in events]  # reads again: catches up, then the end
        await console.relay.close()
        assert b"event: done" in got[-1]
        return items_of(got)

    indices = asyncio.run(watch())
    assert indices == list(range(2 + 3 * 1800 + 1))  # every item once, in order; the end


def test_a_viewer_that_takes_nothing_is_closed() -> None:
    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"data: x\n\n"

    async def answer() -> tuple[bool, list[str]]:
        stuck = asyncio.Event()
        sent: list[str] = []

        async def send(message: dict) -> None:
            sent.append(message["type"])
            if len(sent) > 3:
                await stuck.wait()  # the client's socket is full: never drains

        async def receive() -> dict:
            await stuck.wait()
            return {"type": "http.disconnect"}

        response = sse.EventStream(forever(), {}, stuck=0.2)
        async with asyncio.timeout(20):
            await response({"type": "http"}, receive, send)
        return response.closed_stuck, sent

    closed, sent = asyncio.run(answer())
    assert closed and sent[0] == "http.response.start" and len(sent) == 4


def test_a_dead_reader_ends_its_streams_and_is_replaced(tmp_path: Path) -> None:
    live_log(tmp_path, "CAalive")
    console = Viewers(tmp_path)

    async def watch() -> tuple[list[bytes], dict]:
        generation = await console.relay.start()
        first = console.relay._proc
        assert first is not None
        console.relay.watch(generation, 1)
        events = live_events(console)(generation)
        got = [await anext(events)]
        first.kill()
        async with asyncio.timeout(30):
            got += [text async for text in events]  # ends once the reader is seen gone
            head, _ = await console.relay.ask({"op": "view",
                                               "key": "CAalive-0123456789abcdef"})
        assert console.relay._proc is not None and console.relay._proc.pid != first.pid
        await console.relay.close()
        return got, head

    got, head = asyncio.run(watch())
    assert b"CAalive" in got[0] and head["view"]["call_id"] == "CAalive"


def test_the_reader_process_gets_no_secret_and_a_lower_priority(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-reader-must-not-see-this")
    monkeypatch.setenv("DIALFLOW_CONSOLE_TOKEN", TOKEN)
    console = Viewers(tmp_path)

    async def started() -> tuple[bytes, int]:
        await console.relay.ask({"op": "live"})
        proc = console.relay._proc
        assert proc is not None
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
        nice = os.getpriority(os.PRIO_PROCESS, proc.pid) - os.getpriority(os.PRIO_PROCESS, 0)
        await console.relay.close()
        return environ, nice

    environ, nice = asyncio.run(started())
    assert b"sk-ant-reader" not in environ and TOKEN.encode() not in environ
    assert nice > 0


def test_the_servers_own_process_reads_no_log_for_the_console(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of a log happens in the reader process: in the server's, a read fails.
    (And a reconnecting page resumes from its last event id.)"""
    def no_read(self: feed.LogTail, limit: int = 0) -> bool:
        raise AssertionError("the console read a log in the server's process")

    monkeypatch.setattr(feed.LogTail, "read", no_read)
    with console_token(), LiveServer(tmp_path) as live:
        writer = live_log(live.calls_dir, "CAwatched")
        burst(writer, 3, 1.0)
        key = "CAwatched-0123456789abcdef"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=live.url, headers=auth, timeout=30) as client:
            assert "CAwatched" in client.get("/console").text
            assert client.get(f"/console/calls/{key}").status_code == 200
            with client.stream("GET", f"/console/calls/{key}/events") as answer:
                lines = answer.iter_lines()
                data = next(line for line in lines if line.startswith("data: "))
            assert "line 2" in data
            with client.stream("GET", f"/console/calls/{key}/events",
                               headers={"Last-Event-ID": "4"}) as answer:  # a reconnect
                lines = answer.iter_lines()
                resumed = next(line for line in lines if line.startswith("data: "))
            assert [item["i"] for item in json.loads(resumed[6:])["items"]][:1] == [4]


def test_a_reader_that_cannot_start_gives_a_clear_503(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import FastAPI

    from engine.app.server.console.access import ConsoleAccess
    from engine.app.server.console.routes import Console, mount

    monkeypatch.setattr(relay.sys, "executable", str(tmp_path / "no-such-python"))
    app = FastAPI()
    mount(app, Console(ConsoleAccess(TOKEN), tmp_path))

    async def ask() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://console",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            return [await client.get(path) for path in ("/console", "/console/calls/CAx")]

    answers = asyncio.run(ask())
    assert [a.status_code for a in answers] == [503, 503]
    assert "could not start" in answers[0].text and answers[0].headers["retry-after"]


def test_a_reader_that_keeps_failing_at_start_up_is_retried_after_a_back_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A reader that dies before it sends anything is not started again on every request:
    503 with a Retry-After that doubles, one log line per failure; once the back-off is
    over the next request starts one again."""
    from fastapi import FastAPI

    from engine.app.server.console.access import ConsoleAccess
    from engine.app.server.console.routes import Console, mount

    monkeypatch.setattr(relay, "READER", ["-c", "import sys; sys.exit(3)"])
    console = Console(ConsoleAccess(TOKEN), tmp_path)
    now = [1000.0]
    console.relay.clock = lambda: now[0]
    app = FastAPI()
    mount(app, console)

    async def ask(times: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://console",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            return [await client.get("/console") for _ in range(times)]

    with caplog.at_level("ERROR", logger="dialflow.console"):
        first = asyncio.run(ask(5))
        assert console.relay.starts == 1  # the four after the failure started nothing
        now[0] += 1.5  # past the first back-off (1 s)
        second = asyncio.run(ask(3))
    assert [a.status_code for a in first + second] == [503] * 8
    assert console.relay.starts == 2 and console.relay.failures == 2
    assert "failed to start 1 time(s) in a row" in first[1].text
    assert first[1].headers["retry-after"] == "1"
    assert second[1].headers["retry-after"] == "2"  # doubled after the second failure
    failures = [r.getMessage() for r in caplog.records if "failed to start" in r.getMessage()]
    assert len(failures) == 2 and "2 time(s)" in failures[1]


def test_a_call_pages_diagram_is_drawn_in_the_reader_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The archived flow a recorded call ran on is parsed and laid out by the reader: in
    the server's process, drawing fails, and the page still shows the diagram with the
    states' ids."""
    from fastapi import FastAPI

    from engine.app.server.console import diagrams, flowinfo
    from engine.app.server.console.access import ConsoleAccess
    from engine.app.server.console.routes import Console, mount
    from engine.records.names import FlowArchive
    from flows import load_flow

    version = FlowArchive(tmp_path).version_of(load_flow(ROOT / "flows.yaml"))
    writer = EventLogWriter(tmp_path / "CAdrawn-0123456789abcdef.jsonl.gz")
    for rec in [{**HEADER, "id": "CAdrawn", "start": time.time(), "flow": version},
                {"k": "ev", "t": 0.0, "e": "call.started", "b": "", "a": "greeting"},
                {"k": "end", "t": 1.0, "state": "greeting"}]:
        writer.write(rec)
    writer.close()

    def no_drawing(*args: object) -> None:
        raise AssertionError("the console drew a diagram in the server's process")

    monkeypatch.setattr(diagrams, "draw", no_drawing)
    monkeypatch.setattr(flowinfo, "draw", no_drawing)
    console = Console(ConsoleAccess(TOKEN), tmp_path)
    app = FastAPI()
    mount(app, console)

    async def page() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://console",
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            answer = await client.get("/console/calls/CAdrawn-0123456789abcdef")
        await console.close()
        return answer

    answer = asyncio.run(page())
    assert answer.status_code == 200
    assert '<svg class="flow"' in answer.text and 'id="state&#45;greeting"' in answer.text
