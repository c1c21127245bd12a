"""A local HTTP server on 127.0.0.1 that records every request, for the HTTP tool tests.

Paths: /ok echoes the request as JSON; /fail answers 503 (echoing the Authorization header,
as a careless service might); /slow waits until the test releases it; /text answers plain
text; /big answers a long JSON document. Touches only its own loopback socket.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.local_http import ThreadedFake


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeService:
    base_url: str
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(service: FakeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            record = Recorded(self.command, parts.path, parse_qs(parts.query),
                              dict(self.headers.items()), body)
            service.requests.append(record)
            if parts.path == "/slow":
                service.release.wait(10)
            if parts.path == "/fail":
                self._send(503, {"error": "down", "auth_seen": self.headers.get("Authorization")})
            elif parts.path == "/text":
                self._send(200, "plain words", content_type="text/plain")
            elif parts.path == "/big":
                self._send(200, {"items": ["x" * 100] * 100})
            else:
                self._send(200, {"method": record.method, "query": record.query,
                                 "json": record.body, "auth": self.headers.get("Authorization")})

        def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            # The client may have given up already (timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


class FakeServer(ThreadedFake):
    """Context manager running the fake service in a background thread; gives the service."""

    def __init__(self) -> None:
        self.service = FakeService("")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self.service)

    def _before_stop(self) -> None:
        self.service.release.set()

    def __enter__(self) -> FakeService:  # type: ignore[override]
        self.start()
        self.service.base_url = self.base_url
        return self.service
