"""A fake Deepgram live-transcription server on 127.0.0.1, for the real deepgram SDK.

`FakeDeepgram` is a `websockets` server on a free port of 127.0.0.1 that speaks the
`/v1/listen` live protocol: it checks the `Authorization: Token …` header (401) and the
query parameters (400), records every connection's headers, query, audio bytes and control
messages (`KeepAlive`, `Finalize`, `CloseStream`) in arrival order, and answers from a
script of `Cue`s: once a connection has received `at_bytes` of audio it sends the cue's
reply — `SpeechStarted`, interim or final `Results` (`Words`), `UtteranceEnd` — with times on
that connection's audio clock (8000 bytes a second), like the real service. `Finalize` is
answered with a `from_finalize` final of the pending interim text (unless `answer_finalize`
is off), `CloseStream` with `Metadata` and a normal close, an empty binary message ends the
stream. Faults: `latency_s` before each reply, `drop_after` (close a
connection after K bytes, with a 1011 close frame or by aborting the TCP connection),
`refuse` (the next N handshakes get `refuse_status`), `handshake_delay_s` (a slow handshake),
and the idle limit: no audio and no text message for `idle_timeout_s` (10 s by default, as
the real one) closes the socket with 1011 `NET-0001`. Run it inside the test's event loop
(`async with FakeDeepgram(...) as fake`). Binds only to 127.0.0.1; touches nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

BYTES_PER_SECOND = 8000  # 8 kHz mu-law mono
REQUIRED_QUERY = ("model", "encoding", "sample_rate")
ENCODINGS = {"linear16", "linear32", "flac", "alaw", "mulaw", "amr-nb", "amr-wb", "opus",
             "ogg-opus", "speex", "g729"}


@dataclass(frozen=True)
class SpeechStarted:
    """VAD: speech began `lag_s` before the audio received so far."""

    lag_s: float = 0.1


@dataclass(frozen=True)
class Words:
    """A `Results` message; its segment runs from the last final's end to now."""

    text: str
    confidence: float = 0.9
    is_final: bool = False
    speech_final: bool = False


@dataclass(frozen=True)
class UtteranceEnd:
    """A word gap of `utterance_end_ms` after the last final word."""


Reply = SpeechStarted | Words | UtteranceEnd


@dataclass(frozen=True)
class Cue:
    at_bytes: int
    reply: Reply


@dataclass
class Attempt:
    """One handshake: what the client sent (header names lower-cased) and the status it got
    (101: accepted)."""

    path: str
    headers: dict[str, str]
    query: dict[str, str]
    status: int = 101


@dataclass
class Connection:
    """What one accepted connection received (header names lower-cased) and how it ended."""

    index: int
    headers: dict[str, str]
    query: dict[str, str]
    audio: bytearray = field(default_factory=bytearray)
    controls: list[str] = field(default_factory=list)  # JSON message types, in order
    log: list[tuple[str, Any]] = field(default_factory=list)  # ("audio", n) / ("control", t)
    sent: list[dict[str, Any]] = field(default_factory=list)  # replies, in order
    close_code: int | None = None
    close_reason: str = ""
    closed_by: str = ""  # "server", "client", "idle", "drop"


class FakeDeepgram:
    def __init__(
        self,
        *,
        api_key: str = "test-key",
        script: list[Cue] | None = None,
        scripts: dict[int, list[Cue]] | None = None,
        latency_s: float = 0.0,
        idle_timeout_s: float = 10.0,
        drop_after: dict[int, int] | None = None,
        drop_code: int | None = 1011,
        refuse: int = 0,
        refuse_status: int = 503,
        handshake_delay_s: float = 0.0,
        answer_finalize: bool = True,
    ) -> None:
        self.api_key = api_key
        self.script = list(script or [])
        self.scripts = dict(scripts or {})  # per accepted-connection index, overrides script
        self.latency_s = latency_s
        self.idle_timeout_s = idle_timeout_s
        self.drop_after = dict(drop_after or {})
        self.drop_code = drop_code  # None: abort the TCP connection without a close frame
        self.refuse = refuse  # handshakes left to refuse (mutable while running)
        self.refuse_status = refuse_status
        self.handshake_delay_s = handshake_delay_s
        self.answer_finalize = answer_finalize
        self.attempts: list[Attempt] = []
        self.connections: list[Connection] = []
        self._server: Server | None = None
        self._changed = asyncio.Condition()

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDeepgram:
        self._server = await serve(self._handle, "127.0.0.1", 0,
                                   process_request=self._process_request)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    def audio(self) -> bytes:
        """All audio received, over every connection, in order."""
        return b"".join(bytes(conn.audio) for conn in self.connections)

    async def wait_until(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until `predicate(self)` holds (the timeout only guards against a hang)."""
        async def check() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))
        await asyncio.wait_for(check(), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- handshake ------------------------------------------------------------------------

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query))
        attempt = Attempt(parts.path, _headers(request), query)
        self.attempts.append(attempt)
        if self.handshake_delay_s:
            await asyncio.sleep(self.handshake_delay_s)
        status, text = self._verdict(parts.path, request.headers.get("Authorization"), query)
        attempt.status = status
        await self._notify()
        return None if status == 101 else ws.respond(status, text)

    def _verdict(self, path: str, auth: str | None, query: dict[str, str]) -> tuple[int, str]:
        if path != "/v1/listen":
            return HTTPStatus.NOT_FOUND, "not found"
        if auth != f"Token {self.api_key}":
            return HTTPStatus.UNAUTHORIZED, "invalid credentials"
        missing = [name for name in REQUIRED_QUERY if name not in query]
        if missing:
            return HTTPStatus.BAD_REQUEST, f"missing query parameters: {missing}"
        if query["encoding"] not in ENCODINGS or not query["sample_rate"].isdigit():
            return HTTPStatus.BAD_REQUEST, "bad encoding or sample_rate"
        if self.refuse > 0:
            self.refuse -= 1
            return self.refuse_status, "scripted refusal"
        return 101, ""

    # -- one connection -------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        conn = Connection(len(self.connections), _headers(request),
                          dict(parse_qsl(urlsplit(request.path).query)))
        self.connections.append(conn)
        await self._notify()
        replies: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        writer = asyncio.get_running_loop().create_task(self._write(ws, conn, replies))
        state = _Stream(self.scripts.get(conn.index, self.script))
        try:
            await self._read(ws, conn, state, replies)
        except ConnectionClosed as exc:
            conn.closed_by = conn.closed_by or "client"
            conn.close_code = exc.rcvd.code if exc.rcvd else None
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await writer
            await self._notify()

    async def _read(self, ws: ServerConnection, conn: Connection, state: _Stream,
                    replies: asyncio.Queue[dict[str, Any] | None]) -> None:
        while True:
            try:
                message = await asyncio.wait_for(ws.recv(), self.idle_timeout_s)
            except TimeoutError:
                await replies.join()
                await self._close(ws, conn, 1011, "NET-0001", "idle")
                return
            if isinstance(message, bytes):
                if not message:  # Deepgram treats an empty binary message as end of stream
                    conn.controls.append("<empty>")
                    await self._close_stream(ws, conn, state, replies)
                    return
                conn.audio += message
                conn.log.append(("audio", len(message)))
                for reply in state.due(len(conn.audio)):
                    replies.put_nowait(reply)
                await self._notify()
                limit = self.drop_after.get(conn.index)
                if limit is not None and len(conn.audio) >= limit:
                    await replies.join()
                    await self._drop(ws, conn)
                    return
                continue
            kind = _message_type(message)
            conn.controls.append(kind)
            conn.log.append(("control", kind))
            await self._notify()
            if kind == "Finalize" and self.answer_finalize:
                replies.put_nowait(state.finalize())
            elif kind == "CloseStream":
                await self._close_stream(ws, conn, state, replies)
                return

    async def _write(self, ws: ServerConnection, conn: Connection,
                     replies: asyncio.Queue[dict[str, Any] | None]) -> None:
        while True:
            reply = await replies.get()
            try:
                if reply is not None:
                    if self.latency_s:
                        await asyncio.sleep(self.latency_s)
                    await ws.send(json.dumps(reply))
                    conn.sent.append(reply)
            except ConnectionClosed:
                pass
            finally:
                replies.task_done()

    async def _close_stream(self, ws: ServerConnection, conn: Connection, state: _Stream,
                            replies: asyncio.Queue[dict[str, Any] | None]) -> None:
        replies.put_nowait(state.metadata())
        await replies.join()
        await self._close(ws, conn, 1000, "", "server")

    async def _close(self, ws: ServerConnection, conn: Connection, code: int, reason: str,
                     by: str) -> None:
        conn.close_code, conn.close_reason, conn.closed_by = code, reason, by
        # keep reading (and discarding) meanwhile: unread messages would pause the reading
        # of the socket, and the client's answering close frame would never be seen
        drain = asyncio.get_running_loop().create_task(_discard(ws))
        try:
            await ws.close(code, reason)
        finally:
            drain.cancel()

    async def _drop(self, ws: ServerConnection, conn: Connection) -> None:
        if self.drop_code is None:
            conn.closed_by = "drop"
            ws.transport.abort()
            return
        await self._close(ws, conn, self.drop_code, "NET-0000 scripted drop", "drop")


class _Stream:
    """One connection's audio clock and script position."""

    def __init__(self, script: list[Cue]) -> None:
        self.cues = sorted(script, key=lambda cue: cue.at_bytes)
        self.request_id = str(uuid.uuid4())
        self.now = 0.0  # seconds of audio received
        self.segment_start = 0.0  # end of the last final
        self.interim: Words | None = None

    def due(self, received: int) -> list[dict[str, Any]]:
        self.now = received / BYTES_PER_SECOND
        out = []
        while self.cues and self.cues[0].at_bytes <= received:
            out.append(self._render(self.cues.pop(0).reply))
        return out

    def finalize(self) -> dict[str, Any]:
        pending = self.interim or Words("")
        return self._results(Words(pending.text, pending.confidence, is_final=True),
                             from_finalize=True)

    def metadata(self) -> dict[str, Any]:
        return {"type": "Metadata", "transaction_key": "deprecated",
                "request_id": self.request_id, "sha256": "0" * 64,
                "created": "2025-01-01T00:00:00.000Z", "duration": self.now, "channels": 1}

    def _render(self, reply: Reply) -> dict[str, Any]:
        if isinstance(reply, SpeechStarted):
            return {"type": "SpeechStarted", "channel": [0, 1],
                    "timestamp": round(max(0.0, self.now - reply.lag_s), 3)}
        if isinstance(reply, UtteranceEnd):
            return {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": self.segment_start}
        return self._results(reply)

    def _results(self, words: Words, from_finalize: bool = False) -> dict[str, Any]:
        start, end = self.segment_start, self.now
        tokens = words.text.split()
        step = (end - start) / max(1, len(tokens))
        word_list = [{"word": token.lower().strip(".,?!"), "punctuated_word": token,
                      "start": round(start + i * step, 3), "end": round(start + (i + 1) * step, 3),
                      "confidence": words.confidence} for i, token in enumerate(tokens)]
        if words.is_final:
            self.segment_start = end
            self.interim = None
        else:
            self.interim = words
        return {
            "type": "Results", "channel_index": [0, 1],
            "duration": round(end - start, 3), "start": round(start, 3),
            "is_final": words.is_final, "speech_final": words.speech_final,
            "from_finalize": from_finalize,
            "channel": {"alternatives": [{"transcript": words.text,
                                          "confidence": words.confidence if tokens else 0.0,
                                          "words": word_list}]},
            "metadata": {"request_id": self.request_id, "model_uuid": str(uuid.uuid4()),
                         "model_info": {"name": "2-general-nova", "version": "fake",
                                        "arch": "nova-3"}},
        }


async def _discard(ws: ServerConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await ws.recv()


def _headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.raw_items()}


def _message_type(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return "<not json>"
    return str(data.get("type", "<no type>")) if isinstance(data, dict) else "<not an object>"
