"""Fuzzing the live media stream: generated Twilio messages — every kind, wrong types, sizes
up to the message limit and past it, binary frames, order violations, hostile ids, valid
bound starts among them — thrown at `/ws/media` of a real uvicorn server, each stream ended
by a clean close or a dropped TCP connection. Meanwhile a normal call runs alongside and
must complete. Afterwards the server is healthy, `active_calls` is 0, and its file
descriptors and asyncio tasks are back to the baseline.

The examples are bounded and derandomized (the same ones every run), so this takes seconds;
set `DIALFLOW_FUZZ_EXAMPLES` for a longer hunt.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import os
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from adapters.twilio.caller import SimulatedCaller
from engine.app.server.limits import ServerLimits
from engine.transcripts import TranscriptStore
from tests.server.harness import AUTH_TOKEN, Running, running_server
from tests.server.raw_stream import CONNECTED, handshake_headers, start_message
from tests.server.test_server_calls import until

LIMIT = 4096  # the server's message limit during the fuzz
EXAMPLES = int(os.environ.get("DIALFLOW_FUZZ_EXAMPLES", "80"))
KINDS = ["connected", "start", "media", "mark", "dtmf", "stop", "clear", "dance", ""]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30),
    st.floats(allow_nan=False), st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=300),  # hostile text: \n, NUL, RTL...
    st.just("9" * 5000))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12)
hostile_ids = st.one_of(st.just("MZ1"), st.text(max_size=80), st.just("CA" + "x" * 300),
                        st.sampled_from(["a/b", "a_b", "../../etc/passwd", "CA\nERROR forged",
                                         "\x00", ".", "CA1"]))


@st.composite
def twilio_like(draw: st.DrawFn) -> str:
    """A message shaped like Twilio's with any field possibly wrong."""
    kind = draw(st.sampled_from(KINDS))
    body: dict[str, Any] = {"event": kind, "streamSid": draw(hostile_ids)}
    if draw(st.booleans()):
        body["sequenceNumber"] = draw(st.one_of(st.integers(), st.text(max_size=8), json_values))
    section = {
        "media": {"track": "inbound", "chunk": draw(json_values), "timestamp": "0",
                  "payload": draw(st.one_of(st.just(base64.b64encode(b"\xff" * 160).decode()),
                                            st.text(max_size=40)))},
        "mark": {"name": draw(st.one_of(st.text(max_size=40), json_values))},
        "dtmf": {"digit": draw(st.one_of(st.sampled_from(list("0123456789*#")), json_values))},
        "start": {"streamSid": draw(hostile_ids), "callSid": draw(hostile_ids),
                  "accountSid": "AC1", "tracks": draw(json_values),
                  "mediaFormat": draw(st.one_of(json_values, st.just(
                      {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}))),
                  "customParameters": draw(json_values)},
    }.get(kind)
    if section is not None:
        body[kind] = section if draw(st.booleans()) else draw(json_values)
    return json.dumps(body)


@st.composite
def sized(draw: st.DrawFn) -> str:
    """A media message of a size around the limit."""
    size = draw(st.sampled_from([LIMIT - 200, LIMIT, LIMIT + 1, 2 * LIMIT, 20 * LIMIT]))
    body = {"event": "media", "streamSid": "MZ1", "media": {
        "track": "inbound", "chunk": "1", "timestamp": "0", "payload": ""}}
    padding = max(0, size - len(json.dumps(body)))
    body["media"]["payload"] = "A" * (padding - padding % 4)
    return json.dumps(body)


@st.composite
def bound_start(draw: st.DrawFn) -> str:
    """A valid start bound to its (possibly hostile) CallSid: a call really begins."""
    return start_message(draw(hostile_ids), stream_sid="MZ1", token=AUTH_TOKEN)


frames = st.one_of(twilio_like(), sized(), bound_start(), st.just(CONNECTED),
                   st.binary(max_size=64), st.text(max_size=60),
                   st.sampled_from(["{", "[]", "null", '{"event": 1}', "\ud800".encode(
                       "utf-8", "surrogatepass").decode("utf-8", "replace")]))
streams = st.tuples(st.lists(frames, max_size=10), st.booleans())


class ServerThread:
    """The server and its own event loop in a thread, so each example can run a client
    loop of its own while calls carry on."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.server: Running | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self.loop.run_until_complete,
                                        args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        async with running_server(self.tmp) as server:
            server.services.limits = ServerLimits(max_message_bytes=LIMIT, start_deadline=5)
            self.server, self._stop = server, asyncio.Event()
            self.ready.set()
            await self._stop.wait()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    @contextlib.contextmanager
    def running(self) -> Any:
        self._thread.start()
        assert self.ready.wait(30)
        try:
            yield self
        finally:
            assert self._stop is not None
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)


async def normal_call(server: Running, call_sid: str, go: threading.Event) -> dict[str, Any]:
    """A well-behaved call: greeting heard, then (once told to go) the caller asks for a
    person and the call runs to its end."""
    async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                               call_sid=call_sid) as caller:
        await until(lambda: any(s.call_id == call_sid for s in server.services.streams))
        (stream,) = [s for s in server.services.streams if s.call_id == call_sid]
        call = stream.call
        assert call is not None
        await until(lambda: call.state != "greeting", timeout=30)
        while not go.is_set():
            await asyncio.sleep(0.05)
        if not call.ended:
            with contextlib.suppress(ConnectionError, ConnectionClosed):
                await caller.press("0")
        await until(lambda: call.ended, timeout=60)
        return {"errors": list(caller.errors), "heard": len(caller.heard),
                "states": [entry.after for entry in call.trace.entries]}


async def counts() -> int:
    await asyncio.sleep(0)
    return len(asyncio.all_tasks())


async def task_names() -> list[str]:
    return sorted(task.get_name() for task in asyncio.all_tasks())


def open_fds() -> list[str]:
    """What this process's descriptors point at (sockets and pipes by kind)."""
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            targets.append(target.split(":")[0] if ":[" in target else target)
    return sorted(targets)


def steady_fds() -> list[str]:
    """The descriptors once transcripts are synced and closed (a background thread closes
    them) and the list has stayed the same for a moment."""
    TranscriptStore.sync()
    gc.collect()  # earlier tests' garbage (a Chroma client, a database) closes its files now
    seen: list[list[str]] = []
    while len(seen) < 3 or seen[-1] != seen[-2] or seen[-2] != seen[-3]:
        time.sleep(0.2)
        seen.append(open_fds())
    return seen[-1]


async def throw(url: str, sent: list[str | bytes], abrupt: bool) -> None:
    with contextlib.suppress(InvalidStatus):
        async with _socket(url) as ws:
            for frame in sent:
                try:
                    await ws.send(frame)
                except ConnectionClosed:
                    return
            await asyncio.sleep(0.01)
            if abrupt:
                ws.transport.abort()


@contextlib.asynccontextmanager
async def _socket(url: str) -> AsyncIterator[Any]:
    async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url), proxy=None,
                       max_size=None, compression=None) as ws:
        yield ws


# The server's thread uses `random` (WebSocket masks) while examples are drawn; harmless.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_generated_twilio_messages_never_hurt_the_server(tmp_path: Path) -> None:
    with ServerThread(tmp_path).running() as thread:
        server = thread.server
        assert server is not None
        warm = threading.Event()
        warm.set()
        first = thread.run(normal_call(server, "CAwarmup", warm))  # lazy parts open now
        assert first["errors"] == []
        thread.run(until(lambda: not server.services.streams and not server.services.sockets))
        base_tasks, base_fds = thread.run(counts()), steady_fds()

        go = threading.Event()
        alongside = thread.start(normal_call(server, "CAalongside", go))
        thread.run(until(lambda: len(server.services.streams) == 1))

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(streams)
        def one_stream(stream: tuple[list[str | bytes], bool]) -> None:
            asyncio.run(throw(server.ws_url, *stream))
            health = httpx.get(f"{server.http_url}/health", timeout=10)
            assert health.status_code == 200 and health.json()["status"] == "ok"

        one_stream()
        go.set()
        result = alongside.result(90)
        assert result["errors"] == [] and result["heard"] > 0
        assert result["states"][-1] == "ended"

        thread.run(until(lambda: not server.services.streams and not server.services.sockets,
                         timeout=30))
        health = httpx.get(f"{server.http_url}/health", timeout=10).json()
        assert health["active_calls"] == 0 and health["media_sockets"] == 0

        async def settled() -> int:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    while await counts() != base_tasks:
                        await asyncio.sleep(0.1)
            return await counts()

        assert thread.run(settled()) == base_tasks, thread.run(task_names())
        # nothing this test opened stays open (others' files closing meanwhile is no leak)
        leaked = Counter(steady_fds()) - Counter(base_fds)
        assert not leaked, leaked
