"""A fake OpenAI HTTP API on 127.0.0.1 for tests, driven by the real `openai` SDK.

`FakeOpenAIServer` runs `http.server` in a background thread (no asyncio, no uvicorn) and
answers `POST /v1/embeddings` like OpenAI does (float or base64 vectors, `usage`, error
bodies). Vectors are deterministic bag-of-words hashes, so texts sharing words are close
and retrieval through the fake behaves sensibly. Tests can script faults (`fail_next`:
the next N requests get a status such as 500 or 429, with a Retry-After of a millisecond),
add latency (`latency_s`), require an API key, and read every request (`requests`).
New endpoints plug in with `add_route`; a route handler gets the parsed `RecordedRequest`
and the `Responder` to write its answer with.

`POST /v1/chat/completions` streams scripted replies (`script_chat(ChatReply(...))`) as
chunked SSE (`data: {chunk}` ... `data: [DONE]`): text deltas, `tool_calls` deltas
(`FnCall`), an in-stream error (`StreamError`), and the stream controls shared with the
Anthropic fake: `Gate` (hold the rest until the test sets an event), `Pause`, `Cut` (drop
the connection mid-stream) and `Stall` (go silent until the server stops). It checks the
request like OpenAI does (tool messages must answer the assistant's `tool_calls`).
Binds only to 127.0.0.1; touches nothing else.
"""

from __future__ import annotations

import array
import base64
import contextlib
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_http import ThreadedFake, routing_handler

_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class RecordedRequest:
    """One request the fake received (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    """An error answer queued by `fail_next`."""

    status: int
    retry_after_ms: int | None = 1
    message: str = "scripted failure"


class Responder:
    """Writes one HTTP answer for a route handler."""

    def __init__(
        self, handler: BaseHTTPRequestHandler, stopping: threading.Event | None = None
    ) -> None:
        self._handler = handler
        self._stopping = stopping or threading.Event()

    def stream(self) -> SseStream:
        """Start a chunked SSE answer to write event by event."""
        return SseStream(self._handler, self._stopping)

    def json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        h = self._handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)

    def error(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        kind: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self.json(status, body, headers)

    def sse(self, events: Iterable[Any]) -> None:
        """Stream `events` as server-sent events (dicts as JSON), then `data: [DONE]`."""
        h = self._handler
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        for event in events:
            text = event if isinstance(event, str) else json.dumps(event)
            h.wfile.write(f"data: {text}\n\n".encode())
            h.wfile.flush()
        h.wfile.write(b"data: [DONE]\n\n")
        h.close_connection = True


# --- stream controls shared by the LLM fakes ---------------------------------------------


@dataclass(frozen=True)
class Gate:
    """Hold the rest of the stream until `event` is set (or the server stops)."""

    event: threading.Event


@dataclass(frozen=True)
class Pause:
    """Wait this long before the next piece (realistic pacing; never asserted on)."""

    seconds: float


@dataclass(frozen=True)
class Cut:
    """Drop the connection here, mid-stream, without ending the chunked body."""


@dataclass(frozen=True)
class Stall:
    """Send nothing more and keep the connection open until the server stops."""


Control = Gate | Pause | Cut | Stall


class SseStream:
    """A `text/event-stream` answer in HTTP/1.1 chunks, written event by event."""

    def __init__(self, handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        self._handler = handler
        self._stopping = stopping
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()

    def send(self, data: Any, event: str | None = None) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {event}\n" if event else "") + f"data: {text}\n\n"
        self._chunk(frame.encode())

    def end(self) -> None:
        self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()
        self._handler.close_connection = True

    def control(self, step: Control) -> bool:
        """Carry out a stream control; False when the stream is over (cut or stalled)."""
        if isinstance(step, Gate):
            while not step.event.wait(0.02):
                if self._stopping.is_set():
                    return False
            return True
        if isinstance(step, Pause):
            time.sleep(step.seconds)
            return True
        if isinstance(step, Stall):
            self._stopping.wait()
        self._drop()
        return False

    def _chunk(self, data: bytes) -> None:
        wfile = self._handler.wfile
        wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        wfile.flush()

    def _drop(self) -> None:
        self._handler.close_connection = True
        with contextlib.suppress(OSError):
            self._handler.connection.shutdown(socket.SHUT_RDWR)


# --- scripted chat completions -----------------------------------------------------------


@dataclass(frozen=True)
class FnCall:
    """A streamed tool call: id and name first, then `arguments` JSON in `pieces`.
    `id=None` leaves the id out, as some self-hosted servers do."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = ""
    pieces: int = 3


@dataclass(frozen=True)
class StreamError:
    """An `{"error": ...}` object in the middle of the stream, which then ends."""

    message: str = "The server had an error while processing your request."
    kind: str = "server_error"


class ChatReply:
    """One streamed answer: text pieces (str), `FnCall`s, `StreamError` and stream controls."""

    def __init__(self, *steps: str | FnCall | StreamError | Control,
                 finish_reason: str | None = None) -> None:
        self.steps = steps
        self.finish_reason = finish_reason


def split_pieces(text: str, pieces: int) -> list[str]:
    """`text` in `pieces` roughly equal consecutive parts (at least one)."""
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def chat_problems(body: Any) -> list[str]:
    """What OpenAI would reject in a chat request (the parts this fake knows)."""
    if not isinstance(body, dict) or not body.get("model"):
        return ["'model' is required"]
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return ["'messages' must be a non-empty array"]
    problems: list[str] = []
    waiting: list[str] = []
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in waiting:
                problems.append(f"messages[{i}]: tool message answers no pending tool call")
            else:
                waiting.remove(message["tool_call_id"])
            continue
        if waiting:
            problems.append(f"messages[{i}]: tool_calls {waiting} were not answered")
            waiting = []
        if role == "assistant":
            waiting = [c.get("id") for c in message.get("tool_calls") or []]
            if not message.get("content") and not waiting:
                problems.append(f"messages[{i}]: assistant message without content")
        elif role in ("user", "system"):
            if not isinstance(message.get("content"), str) or not message["content"].strip():
                problems.append(f"messages[{i}]: {role} message without content")
        else:
            problems.append(f"messages[{i}]: unknown role {role!r}")
    return problems


RouteHandler = Callable[[RecordedRequest, Responder], None]


def fake_embedding(text: str, dimension: int) -> list[float]:
    """Deterministic unit vector: each word adds +-1 at a hashed position."""
    vector = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimension
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


@dataclass
class FakeOpenAIServer(ThreadedFake):
    """Start with `with FakeOpenAIServer() as server:`; point the SDK at `server.base_url`."""

    api_key: str | None = None
    dimension: int = 64
    latency_s: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._routes: dict[tuple[str, str], RouteHandler] = {}
        self._chat_script: list[ChatReply] = []
        self.chat_finished = 0  # chat streams that got as far as their final chunk
        self.add_route("POST", "/v1/embeddings", self._embeddings)
        self.add_route("POST", "/v1/chat/completions", self._chat_completions)

    # --- lifecycle -------------------------------------------------------------------

    url_path = "/v1"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return routing_handler(self._handle, ("POST", "GET"))

    def _before_stop(self) -> None:
        self._stopping.set()

    # --- scripting -------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 500, *, retry_after_ms: int | None = 1) -> None:
        """The next `count` requests (any route) are answered with `status`."""
        with self._lock:
            self._faults += [Fault(status, retry_after_ms) for _ in range(count)]

    def script_chat(self, *replies: ChatReply) -> None:
        """Queue the answers to the next chat-completion requests, in order."""
        with self._lock:
            self._chat_script.extend(replies)

    def add_route(self, method: str, path: str, handler: RouteHandler) -> None:
        self._routes[(method.upper(), path)] = handler

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # --- serving ---------------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        path = http.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in http.headers.items()}
        request = RecordedRequest(http.command, path, headers, body)
        with self._lock:
            self.requests.append(request)
            fault = self._faults.pop(0) if self._faults else None
        if self.latency_s:
            self._stopping.wait(self.latency_s)
        respond = Responder(http, self._stopping)
        try:
            if fault is not None:
                headers = {}
                if fault.retry_after_ms is not None:
                    headers["retry-after-ms"] = str(fault.retry_after_ms)
                kind = "rate_limit_error" if fault.status == 429 else "server_error"
                respond.error(fault.status, fault.message, kind=kind, headers=headers)
                return
            expected = f"Bearer {self.api_key}"
            if self.api_key is not None and http.headers.get("Authorization") != expected:
                respond.error(401, "Incorrect API key provided.", code="invalid_api_key")
                return
            route = self._routes.get((http.command, path))
            if route is None:
                respond.error(404, f"no route {http.command} {path}", code="not_found")
                return
            route(request, respond)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired)

    def _embeddings(self, request: RecordedRequest, respond: Responder) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        model, inputs = body.get("model"), body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not model or not isinstance(inputs, list) or not inputs:
            respond.error(400, "'model' and a non-empty 'input' are required")
            return
        if not all(isinstance(t, str) and t for t in inputs):
            respond.error(400, "'input' must be non-empty strings", code="invalid_input")
            return
        dimension = int(body.get("dimensions") or self.dimension)
        data = []
        for index, text in enumerate(inputs):
            vector: Any = fake_embedding(text, dimension)
            if body.get("encoding_format") == "base64":
                vector = base64.b64encode(array.array("f", vector).tobytes()).decode()
            data.append({"object": "embedding", "index": index, "embedding": vector})
        tokens = sum(len(t.split()) for t in inputs)
        respond.json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


    def _chat_completions(self, request: RecordedRequest, respond: Responder) -> None:
        problems = chat_problems(request.body)
        if problems:
            respond.error(400, "; ".join(problems))
            return
        with self._lock:
            reply = self._chat_script.pop(0) if self._chat_script else None
        if reply is None:
            respond.error(400, "the fake has no scripted chat reply left", code="no_script")
            return
        model = request.body["model"]
        stream = respond.stream()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                    "created": 1700000000, "model": model, "choices": [choice]}

        stream.send(chunk({"role": "assistant", "content": ""}))
        calls = 0
        for step in reply.steps:
            if isinstance(step, str):
                stream.send(chunk({"content": step}))
            elif isinstance(step, FnCall):
                first: dict[str, Any] = {"index": calls, "type": "function",
                                         "function": {"name": step.name, "arguments": ""}}
                if step.id is not None:
                    first["id"] = step.id or f"call_fake_{calls}"
                stream.send(chunk({"tool_calls": [first]}))
                for piece in split_pieces(json.dumps(step.arguments), step.pieces):
                    stream.send(chunk({"tool_calls": [
                        {"index": calls, "function": {"arguments": piece}}]}))
                calls += 1
            elif isinstance(step, StreamError):
                stream.send({"error": {"message": step.message, "type": step.kind,
                                       "param": None, "code": None}})
                stream.end()
                return
            elif not stream.control(step):
                return
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        with self._lock:  # counted before the client can see the end
            self.chat_finished += 1
        stream.send(chunk({}, finish))
        stream.send("[DONE]")
        stream.end()
