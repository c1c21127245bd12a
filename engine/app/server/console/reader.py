"""The console's reader process: every reading, parsing and folding of event logs the console
does happens here, on another core than the calls, never on the server's event loop.

    python -m engine.app.server.console.reader CALLS_DIR     (started by `relay.py`)

It reads requests (JSON lines, `wire.py`) on stdin and writes frames on stdout. While viewers
watch (`watch` requests counted) it runs a `LogFeed` pass every `POLL` seconds and pushes
what changed, each made once whatever the number of viewers: the live list as a ready
server-sent event (when it changed, at least every `LIVE_EVERY` seconds), and for each call
a page follows, its new items as `items` events (at most `CHUNK` per event) and a `done`
event once it ended. It answers requests: `items` (a call's items from a cursor: how a new
or lagging viewer catches up, from the live tail or the recorded log), `view` (a call's
header for its page), `drawing` (the diagram of a recorded flow version, from the archive:
drawn here, not in the server's process), `list` (the whole calls page, past calls read here
too) and `live`.
It runs at a lower priority than the server (`NICE`), keeps stdout for frames only (stray
prints go to stderr), ignores Ctrl-C and exits when stdin closes (the server went away).
Touches: reads the data directory; its own stdin and stdout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

from . import archive, diagrams, pages
from .feed import POLL, LogFeed
from .view import CallView
from .wire import MAX_REQUEST, BrokenWire, event, frame, parse_request

CHUNK = 500  # items per pushed message
LIVE_EVERY = 2.0  # seconds: the live list is pushed at least this often (its durations)
NICE = 10

log = logging.getLogger("dialflow.console.reader")


def summary(view: CallView) -> dict[str, Any]:
    """A view's header without its items: what a call page is rendered from."""
    return {"key": view.key, "call_id": view.call_id, "caller": view.caller,
            "started": view.started, "flow": view.flow, "flow_name": view.flow_name,
            "pid": view.pid, "host": view.host, "state": view.state, "last_t": view.last_t,
            "ended": view.ended, "timer": view.timer, "truncated": view.truncated,
            "turns": view.turns}


def items_event(view: CallView, start: int) -> tuple[int, str]:
    """(the cursor after, the event) for `view`'s items from `start` (at most `CHUNK`)."""
    items = view.items[start:start + CHUNK]
    now = time.time()
    end = start + len(items)
    return end, event("items", {"items": items, "call": view.row(now), "now": now}, end)


def done_event(view: CallView, cursor: int) -> str:
    now = time.time()
    return event("done", {"call": view.row(now), "now": now}, cursor)


class Reader:
    """The feed and what was pushed of it; `handle` answers one request."""

    def __init__(self, directory: Path | None, write: Any):
        self.feed = LogFeed(directory)
        self.directory = directory
        self.write = write  # bytes -> None: a frame to the server
        self.watchers = 0
        self.sent: dict[str, int] = {}  # followed key -> items pushed so far (-1: not seen)
        self.done: set[str] = set()  # followed keys whose end was pushed
        self._live: tuple[int, float, bytes] = (-1, 0.0, b"")  # (version, when, event)
        self._pushed_live = b""
        self.next_pass = 0.0

    # -- passes -----------------------------------------------------------------------------
    def tick(self) -> None:
        """One pass of the feed and the pushes it calls for."""
        self.feed.refresh()
        self.next_pass = time.monotonic() + POLL
        live = self.live_message()
        if live is not self._pushed_live:
            self._pushed_live = live
            self.write(frame({"f": "live"}, live))
        for key in list(self.sent):
            self._push(key)

    def fresh(self) -> None:
        """A pass first unless one ran within `POLL` seconds (a page asked while nobody
        watched, or the first viewer)."""
        if time.monotonic() - self.feed.refreshed_at > POLL or not self.feed.passes:
            self.tick()

    def live_message(self) -> bytes:
        version, made, text = self._live
        if version != self.feed.version or time.monotonic() - made >= LIVE_EVERY:
            now = time.time()
            rows = [v.row(now) for v in self.feed.live()]
            text = event("calls", {"now": now, "calls": rows}).encode()
            self._live = (self.feed.version, time.monotonic(), text)
        return text

    def _push(self, key: str) -> None:
        tail = self.feed.get(key)
        if tail is None or key in self.done:
            return  # a recorded call: its viewers read it by `items` requests
        view, start = tail.view, self.sent[key]
        if start < 0:  # first seen after it was followed: its viewers read what it had
            self.sent[key] = len(view.items)
            return
        while start < len(view.items):
            end, text = items_event(view, start)
            self.write(frame({"f": "items", "key": key, "s": start, "e": end}, text.encode()))
            start = self.sent[key] = end
        if view.ended:
            self.done.add(key)
            self.write(frame({"f": "items", "key": key, "s": start, "e": start, "done": 1},
                             done_event(view, start).encode()))

    # -- requests ---------------------------------------------------------------------------
    def handle(self, message: dict[str, Any]) -> None:
        op, number = message.get("op"), message.get("r")
        try:
            head, body = getattr(self, f"_op_{op}")(message) if op in OPS else \
                ({"error": f"unknown request {op!r}"}, b"")
        except (KeyError, TypeError, ValueError, OSError) as exc:
            head, body = {"error": f"{type(exc).__name__}: {exc}"}, b""
        if number is not None:
            self.write(frame({"f": "reply", "r": number, **head}, body))

    def _op_watch(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        self.watchers = max(0, self.watchers + int(message["by"]))
        if self.watchers:
            self.fresh()
        return {}, b""

    def _op_follow(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        key, by = str(message["key"]), int(message["by"])
        self.feed.follow(key, by)
        if key not in self.feed.followed:
            self.sent.pop(key, None)
            self.done.discard(key)
        elif key not in self.sent:
            tail = self.feed.get(key)
            self.sent[key] = len(tail.view.items) if tail is not None else -1
        return {}, b""

    def _view(self, key: str) -> tuple[CallView | None, bool]:
        """(the call's view, whether it is live) from the feed or its recorded log."""
        tail = self.feed.get(key)
        if tail is not None:
            return tail.view, not tail.view.ended
        path = archive.log_path(self.directory, key)
        return (None if path is None else archive.read_call(path)), False

    def _op_view(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        self.fresh()
        view, _ = self._view(str(message["key"]))
        return {"view": summary(view) if view is not None else None}, b""

    def _op_items(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        view, live = self._view(str(message["key"]))
        if view is None:
            return {"found": 0}, b""
        start = min(max(0, int(message["from"])), len(view.items))
        end, text = items_event(view, start) if start < len(view.items) else (start, "")
        head = {"found": 1, "s": start, "e": end, "n": len(view.items)}
        if not live and end == len(view.items):  # a recorded call, all sent: its end too
            head["done"] = 1
            text += done_event(view, end)
        return head, text.encode()

    def _op_live(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        self.fresh()
        return {}, self.live_message()

    def _op_list(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        self.fresh()
        page = min(max(int(message.get("page", 0)), 0), 10_000)
        now = time.time()
        live = [v.row(now) for v in self.feed.live()]
        past, total = archive.newest(self.directory, {r["key"] for r in live}, archive.PAGE,
                                     page * archive.PAGE, self.feed.finished())
        count = (total + archive.PAGE - 1) // archive.PAGE
        html = pages.calls_page(live, past, total, page, count, str(message.get("source", "")))
        return {}, html.encode()


    def _op_drawing(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """The diagram of flow version `flow` from the archive (`found: 0` when it is not
        there): the error and the arrows' ids as a JSON line, then the SVG."""
        version = str(message["flow"])
        flow = diagrams.archived_flow(self.directory, version)
        if flow is None:
            return {"found": 0}, b""
        drawing = diagrams.draw(flow, version)
        meta = json.dumps({"error": drawing.error, "edges": drawing.edges},
                          separators=(",", ":")).encode()
        return {"found": 1}, meta + b"\n" + drawing.svg.encode()


OPS = {"watch", "follow", "view", "items", "live", "list", "drawing"}


def private_stdout() -> int:
    """A descriptor for the frames; fd 1 becomes stderr, so no stray print reaches the wire."""
    out = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def serve(directory: Path | None, stdin: int, out: int) -> int:
    reader = Reader(directory, lambda data: write_all(out, data))
    pending = b""
    while True:
        timeout = max(0.0, reader.next_pass - time.monotonic()) if reader.watchers else None
        readable, _, _ = select.select([stdin], [], [], timeout)
        if readable:
            data = os.read(stdin, 65536)
            if not data:
                return 0  # the server closed the pipe (or is gone)
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            if len(pending) > MAX_REQUEST:
                log.error("console reader: a request line over %d bytes", MAX_REQUEST)
                return 2
            for line in lines:
                try:
                    message = parse_request(line) if line else None
                except BrokenWire as exc:
                    log.error("console reader: %s", exc)  # skipped; the rest goes on
                    continue
                if message is not None:
                    reader.handle(message)
        if reader.watchers and time.monotonic() >= reader.next_pass:
            reader.tick()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server; it closes stdin
    with contextlib.suppress(OSError):
        os.nice(NICE)
    out = private_stdout()
    directory = Path(argv[0]) if argv and argv[0] else None
    try:
        return serve(directory, sys.stdin.fileno(), out)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
