"""`LocalHTTPServer`: the threaded HTTP server every fake provider runs on 127.0.0.1.

The standard library's listen backlog is 5: with more simultaneous connections (ten calls
asking a fake LLM at once) the kernel drops SYNs and the client retries a second later,
which benchmarks would blame on the engine. This server listens with room to spare.
"""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class LocalHTTPServer(ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True
