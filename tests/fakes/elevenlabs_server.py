"""A fake ElevenLabs text-to-speech API on 127.0.0.1, driven by the real `elevenlabs` SDK.

`FakeElevenLabsServer` runs `http.server` in a background thread and answers
`POST /v1/text-to-speech/{voice_id}/stream` the way ElevenLabs does: it checks the
`xi-api-key` header (401 otherwise) and `output_format=ulaw_8000` (400 otherwise), then
streams deterministic mu-law bytes (`audio_for(text)`: `bytes_per_char` bytes a character,
derived from a hash of the text) with chunked transfer encoding, `chunk_bytes` at a time,
`chunk_delay` seconds apart. Every request is recorded (`requests`: voice, model, text,
query, what was sent, whether the client hung up).

Scripted behaviour for the next accepted requests, in order:
- `fail_next(status, times)`   answer 429/500/401… with an ElevenLabs-style JSON error
- `stall_next(times)`          accept and send nothing (the client's timeout fires)
- `hold_next(after_chunks)`    send some chunks, then wait until the test calls
                               `Hold.release()`; `Hold.reached` / `Hold.client_gone` are
                               set when the fake is waiting / saw the client disconnect
- `drop_next(after_chunks)`    send some chunks, then close the connection mid-body
Binds only to 127.0.0.1; touches nothing else.
"""

from __future__ import annotations

import hashlib
import json
import re
import select
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.local_http import ThreadedFake

DEFAULT_KEY = "fake-elevenlabs-key"
_STREAM_PATH = re.compile(r"^/v1/text-to-speech/([^/]+)/stream$")
_POLL = 0.005  # seconds between checks for a release or a client that hung up


@dataclass
class Hold:
    """Keeps one response waiting after `after_chunks` chunks until `release()`."""

    after_chunks: int = 1
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    client_gone: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class _Plan:
    kind: str  # "fail", "stall", "hold", "drop"
    status: int = 200
    retry_after: str | None = None
    hold: Hold | None = None
    after_chunks: int = 1


@dataclass
class TtsRequest:
    """One request the fake received."""

    method: str
    path: str
    voice_id: str | None
    query: dict[str, str]
    body: dict[str, Any]
    api_key: str | None = field(repr=False)
    status: int = 0
    behaviour: str = "normal"
    chunks_sent: int = 0
    bytes_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def model_id(self) -> str | None:
        return self.body.get("model_id")


class FakeElevenLabsServer(ThreadedFake):
    def __init__(self, api_key: str = DEFAULT_KEY, *, chunk_bytes: int = 400,
                 chunk_delay: float = 0.0, bytes_per_char: int = 80,
                 first_byte_delay: float = 0.0) -> None:
        self.api_key = api_key
        self.chunk_bytes = chunk_bytes
        self.chunk_delay = chunk_delay
        self.first_byte_delay = first_byte_delay  # a provider's time to first byte
        self.bytes_per_char = bytes_per_char
        self.requests: list[TtsRequest] = []
        self.closing = threading.Event()
        self._plans: deque[_Plan] = deque()
        self._holds: list[Hold] = []
        self._lock = threading.Lock()

    # lifecycle
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"fake": self})

    def _before_stop(self) -> None:
        self.closing.set()
        for hold in self._holds:
            hold.release()

    # scripting
    def fail_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self._queue(*(_Plan("fail", status, retry_after) for _ in range(times)))

    def stall_next(self, times: int = 1) -> None:
        self._queue(*(_Plan("stall") for _ in range(times)))

    def hold_next(self, after_chunks: int = 1) -> Hold:
        hold = Hold(after_chunks)
        self._holds.append(hold)
        self._queue(_Plan("hold", hold=hold, after_chunks=after_chunks))
        return hold

    def drop_next(self, after_chunks: int = 1) -> None:
        self._queue(_Plan("drop", after_chunks=after_chunks))

    def _queue(self, *plans: _Plan) -> None:
        with self._lock:
            self._plans.extend(plans)

    def _next_plan(self) -> _Plan | None:
        with self._lock:
            return self._plans.popleft() if self._plans else None

    # audio
    def audio_for(self, text: str) -> bytes:
        """The mu-law bytes this fake speaks for `text`: deterministic, length ∝ text."""
        size = max(1, len(text)) * self.bytes_per_char
        out = bytearray()
        counter = 0
        while len(out) < size:
            out += hashlib.sha256(f"{counter}:{text}".encode()).digest()
            counter += 1
        return bytes(out[:size])

    def texts(self) -> list[str | None]:
        return [request.text for request in self.requests]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeElevenLabsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._json(404, {"detail": {"status": "not_found", "message": "unknown path"}})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        match = _STREAM_PATH.match(parts.path)
        record = TtsRequest(
            method="POST", path=parts.path, voice_id=match.group(1) if match else None,
            query={k: v[-1] for k, v in parse_qs(parts.query).items()},
            body=body if isinstance(body, dict) else {},
            api_key=self.headers.get("xi-api-key"))
        fake = self.fake
        with fake._lock:
            fake.requests.append(record)
        try:
            self._answer(record)
        finally:
            record.finished.set()

    def _answer(self, record: TtsRequest) -> None:
        fake = self.fake
        if record.voice_id is None:
            return self._error(record, 404, "not_found", "unknown path")
        if record.api_key != fake.api_key:
            return self._error(record, 401, "invalid_api_key", "Invalid API key")
        if record.query.get("output_format") != "ulaw_8000":
            return self._error(record, 400, "invalid_output_format",
                               "this fake only speaks ulaw_8000")
        if not isinstance(record.text, str):
            return self._json(422, {"detail": [{"loc": ["body", "text"],
                                                "msg": "field required"}]}, record)
        plan = fake._next_plan()
        record.behaviour = plan.kind if plan else "normal"
        if plan is not None and plan.kind == "fail":
            kinds = {401: "invalid_api_key", 429: "too_many_concurrent_requests"}
            headers = {"Retry-After": plan.retry_after} if plan.retry_after else {}
            return self._error(record, plan.status, kinds.get(plan.status, "server_error"),
                               "scripted failure", headers)
        if plan is not None and plan.kind == "stall":
            self.close_connection = True
            while not fake.closing.is_set():
                if self._peer_closed():
                    record.disconnected = True
                    return None
                fake.closing.wait(_POLL)
            return None
        self._stream(record, plan)
        return None

    def _stream(self, record: TtsRequest, plan: _Plan | None) -> None:
        fake = self.fake
        audio = fake.audio_for(record.text or "")
        chunks = [audio[i:i + fake.chunk_bytes] for i in range(0, len(audio), fake.chunk_bytes)]
        record.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "audio/basic")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", f"fake-{len(fake.requests)}")
        self.end_headers()
        try:
            for index, chunk in enumerate(chunks):
                if plan is not None and index == plan.after_chunks:
                    if plan.kind == "drop":
                        self.close_connection = True
                        return
                    if plan.hold is not None and not self._wait_for_release(record, plan.hold):
                        return
                if index and fake.chunk_delay:
                    fake.closing.wait(fake.chunk_delay)
                if not index and fake.first_byte_delay:
                    fake.closing.wait(fake.first_byte_delay)
                if self._peer_closed():
                    record.disconnected = True
                    self.close_connection = True
                    return
                record.chunks_sent += 1  # counted first: the client may read it at once
                record.bytes_sent += len(chunk)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            record.completed = True
        except (BrokenPipeError, ConnectionResetError):
            record.disconnected = True
            self.close_connection = True

    def _wait_for_release(self, record: TtsRequest, hold: Hold) -> bool:
        hold.reached.set()
        while not hold.released.is_set():
            if self._peer_closed():
                record.disconnected = True
                hold.client_gone.set()
                self.close_connection = True
                return False
            hold.released.wait(_POLL)
        return True

    def _peer_closed(self) -> bool:
        """True once the client closed its end (EOF or reset on the socket)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _error(self, record: TtsRequest, status: int, kind: str, message: str,
               headers: dict[str, str] | None = None) -> None:
        self._json(status, {"detail": {"status": kind, "message": message}}, record, headers)

    def _json(self, status: int, payload: Any, record: TtsRequest | None = None,
              headers: dict[str, str] | None = None) -> None:
        if record is not None:
            record.status = status
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
