"""The threaded HTTP server every fake provider runs on 127.0.0.1, and its lifecycle.

The standard library's listen backlog is 5: with more simultaneous connections (ten calls
asking a fake LLM at once) the kernel drops SYNs and the client retries a second later,
which benchmarks would blame on the engine. `LocalHTTPServer` listens with room to spare.
`ThreadedFake` is the lifecycle every fake shares: serve from a daemon thread, stop, use as
a context manager, say where it listens. `routing_handler` routes the requests of the given
methods to one function, for fakes that need no handler class of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LocalHTTPServer(ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True
    block_on_close = False


def routing_handler(handle: Callable[[BaseHTTPRequestHandler], None],
                    methods: Iterable[str] = ("POST",)) -> type[BaseHTTPRequestHandler]:
    """A quiet HTTP/1.1 handler class sending each request of `methods` to
    `handle(request_handler)`."""
    attributes: dict[str, Any] = {
        "protocol_version": "HTTP/1.1",
        "log_message": lambda self, format, *args: None,
    }
    for method in methods:
        attributes[f"do_{method}"] = lambda self: handle(self)
    return type("FakeHandler", (BaseHTTPRequestHandler,), attributes)


class ThreadedFake:
    """A fake provider on a free port of 127.0.0.1, served from a daemon thread. Subclasses
    give `_handler_class`, may add `url_path` to `base_url`, and release requests they hold
    open in `_before_stop`."""

    url_path = ""
    _httpd: LocalHTTPServer | None = None
    _thread: threading.Thread | None = None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def _before_stop(self) -> None:
        """Let held requests and open streams finish, so shutdown does not wait on them."""

    def start(self) -> Self:
        self._httpd = LocalHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._before_stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{self.url_path}"
