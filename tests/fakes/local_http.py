"""The threaded HTTP server every fake provider runs on 127.0.0.1, and its lifecycle.

The standard library's listen backlog is 5: with more simultaneous connections (ten calls
asking a fake LLM at once) the kernel drops SYNs and the client retries a second later,
which benchmarks would blame on the engine. `LocalHTTPServer` listens with room to spare.
`serve_in_thread` / `stop_serving` start and stop one in a daemon thread, routing requests
of the given methods to one handler function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalHTTPServer(ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True
    block_on_close = False


def serve_in_thread(handle: Callable[[BaseHTTPRequestHandler], None],
                    methods: Iterable[str] = ("POST",)) -> tuple[LocalHTTPServer, threading.Thread]:
    """Serve HTTP/1.1 on a free port of 127.0.0.1; each request of `methods` goes to
    `handle(request_handler)`. Quiet: nothing is written to stderr."""
    attributes: dict[str, Any] = {
        "protocol_version": "HTTP/1.1",
        "log_message": lambda self, format, *args: None,
    }
    for method in methods:
        attributes[f"do_{method}"] = lambda self: handle(self)
    handler = type("FakeHandler", (BaseHTTPRequestHandler,), attributes)
    httpd = LocalHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return httpd, thread


def stop_serving(httpd: LocalHTTPServer | None, thread: threading.Thread | None) -> None:
    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()
    if thread is not None:
        thread.join(timeout=5)
