"""A fake OpenAI HTTP API on 127.0.0.1 for tests, driven by the real `openai` SDK.

`FakeOpenAIServer` runs `http.server` in a background thread (no asyncio, no uvicorn) and
answers `POST /v1/embeddings` like OpenAI does (float or base64 vectors, `usage`, error
bodies). Vectors are deterministic bag-of-words hashes, so texts sharing words are close
and retrieval through the fake behaves sensibly. Tests can script faults (`fail_next`:
the next N requests get a status such as 500 or 429, with a Retry-After of a millisecond),
add latency (`latency_s`), require an API key, and read every request (`requests`).
New endpoints (e.g. chat completions with SSE) plug in with `add_route`; a route handler
gets the parsed `RecordedRequest` and the `Responder` to write its answer with.
Binds only to 127.0.0.1; touches nothing else.
"""

from __future__ import annotations

import array
import base64
import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler

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
class FakeOpenAIServer:
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
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_route("POST", "/v1/embeddings", self._embeddings)

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                server._handle(self)

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # --- scripting -------------------------------------------------------------------

    def fail_next(self, count: int, status: int = 500, *, retry_after_ms: int | None = 1) -> None:
        """The next `count` requests (any route) are answered with `status`."""
        with self._lock:
            self._faults += [Fault(status, retry_after_ms) for _ in range(count)]

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
        respond = Responder(http)
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
