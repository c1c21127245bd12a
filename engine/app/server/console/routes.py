"""The console's HTTP routes, mounted on the server's app (or on `dialflow console`'s own):

    GET  /console                    live calls and past calls
    GET  /console/live.sse           the live calls, pushed as they change (server-sent events)
    GET  /console/calls/{key}        one call: diagram, transcript, latency, trace, scrubber
    GET  /console/calls/{key}/events that call's items, pushed as the call goes on
    GET  /console/flow               the flow: diagram, last reload, `dialflow check` findings
    GET  /console/login, POST /console/login, POST /console/logout
    GET  /console/static/{file}      the script and the style sheet (no data in them)

Everything but login and the two static files answers 401 without the token (see
`access.py`). Every answer carries a strict Content-Security-Policy (scripts and styles
from this origin only, no inline script, no framing) and `Cache-Control: no-store`. Request
sizes are bounded; at most `MAX_VIEWERS` event streams are open at once per process (the
next gets 503), and streams read shared state with a cursor, so a slow viewer costs its
own socket buffer and nothing else. Streams end once the server is going down (`stopping`:
under `serve`, draining with no call left), or they would hold its shutdown open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.responses import StreamingResponse as Streaming

from . import archive, flowinfo, pages
from .access import ConsoleAccess, cookie_header
from .feed import LogFeed
from .view import CallView

MAX_VIEWERS = 16
MAX_LOGIN_BODY = 2048
LOGIN_FAILURES = (20, 60.0)  # this many failed logins within this many seconds: 429
CHUNK = 500  # items per pushed message
HEARTBEAT = 10.0
LIST_EVERY = 1.0  # seconds between two pushes of the live list to one viewer
STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
}


class Console:
    """The console of one process: who may see it, where the logs are, the live feed."""

    def __init__(self, access: ConsoleAccess, calls_dir: Path | None, flows: Any = None,
                 flow_path: str | None = None,
                 stopping: Callable[[], bool] = lambda: False):
        self.access = access
        self.stopping = stopping  # True once the server is going down: streams end
        self.calls_dir = calls_dir
        self.feed = LogFeed(calls_dir)
        self.flows = flows  # the server's FlowSource, or None (`dialflow console DIR`)
        self.flow_path = flow_path
        self.streams = 0
        self.past_lock = asyncio.Lock()  # page loads read past logs one after another
        self._failures: deque[float] = deque()
        self._live: tuple[int, float, str] = (-1, 0.0, "")  # (feed version, when, message)

    def live_message(self) -> str:
        if self._live[0] != self.feed.version or time.time() - self._live[1] > 2.0:
            now = time.time()
            rows = [v.row(now) for v in self.feed.live()]
            self._live = (self.feed.version, now, event("calls", {"now": now, "calls": rows}))
        return self._live[2]

    def allowed(self, request: Request) -> bool:
        return self.access.allows(request.headers, request.cookies)

    async def fresh(self) -> None:
        """Read the logs once unless the feed is running for viewers already."""
        if not self.feed.watched:
            await self.feed.refresh()
        else:
            await self.feed.ready()

    async def view_of(self, key: str) -> CallView | None:
        await self.fresh()
        tail = self.feed.get(key)
        if tail is not None:
            return tail.view
        path = archive.log_path(self.calls_dir, key)
        return None if path is None else await asyncio.to_thread(archive.read_call, path)

    def source(self) -> str:
        where = self.calls_dir if self.calls_dir is not None else "nowhere (event logs off)"
        return (f"Calls are read from the event logs in {where}: every server process "
                "writing there (each worker of serve --workers N) shows up here.")


def html(text: str, status: int = 200, **headers: str) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={**HEADERS, **headers})


def refused() -> HTMLResponse:
    return html(pages.login(), 401, **{"WWW-Authenticate": 'Bearer realm="dialflow console"'})


def event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def mount(app: FastAPI, console: Console) -> None:
    @app.get("/console", response_class=HTMLResponse)
    async def calls(request: Request, page: int = 0) -> Response:
        if not console.allowed(request):
            return refused()
        page = min(max(page, 0), 10_000)
        await console.fresh()
        now = time.time()
        live = [v.row(now) for v in console.feed.live()]
        async with console.past_lock:  # one read at a time: the next finds the rows cached
            past, total = await asyncio.to_thread(
                archive.newest, console.calls_dir, {r["key"] for r in live}, archive.PAGE,
                page * archive.PAGE, console.feed.finished())
        pages_count = (total + archive.PAGE - 1) // archive.PAGE
        return html(pages.calls_page(live, past, total, page, pages_count, console.source()))

    @app.get("/console/", include_in_schema=False)
    async def slash() -> Response:
        return RedirectResponse("/console", status_code=303, headers=HEADERS)

    @app.get("/console/live.sse")
    async def live_stream(request: Request) -> Response:
        if not console.allowed(request):
            return refused()
        return stream(console, live_events(console))

    @app.get("/console/calls/{key}", response_class=HTMLResponse)
    async def one_call(request: Request, key: str) -> Response:
        if not console.allowed(request):
            return refused()
        view = await console.view_of(key) if archive.valid_key(key) else None
        if view is None:
            return html("<p>no such call</p>", 404)
        drawing = await asyncio.to_thread(flowinfo.drawing_for, console, view.flow)
        return html(pages.call_page(view, drawing.svg, drawing.error, drawing.edges))

    @app.get("/console/calls/{key}/events")
    async def call_stream(request: Request, key: str) -> Response:
        if not console.allowed(request):
            return refused()
        view = await console.view_of(key) if archive.valid_key(key) else None
        if view is None:
            return PlainTextResponse("no such call", 404, headers=HEADERS)
        last = request.headers.get("last-event-id", "0")
        cursor = int(last) if last.isdigit() and len(last) < 7 else 0
        return stream(console, call_events(console, view, cursor))

    @app.get("/console/flow", response_class=HTMLResponse)
    async def flow(request: Request) -> Response:
        if not console.allowed(request):
            return refused()
        info, drawing, findings = await asyncio.to_thread(flowinfo.describe, console)
        return html(pages.flow_page(info, drawing.svg, drawing.error, findings))

    @app.get("/console/login", response_class=HTMLResponse)
    async def login_form() -> Response:
        return html(pages.login())

    @app.post("/console/login")
    async def login(request: Request) -> Response:
        now = time.monotonic()
        failures = console._failures
        while failures and now - failures[0] > LOGIN_FAILURES[1]:
            failures.popleft()
        if len(failures) >= LOGIN_FAILURES[0]:
            return html(pages.login("too many failed sign-ins: wait a minute"), 429)
        body = await bounded_body(request, MAX_LOGIN_BODY)
        if body is None:
            return html(pages.login("that request is too large"), 413)
        from urllib.parse import parse_qs

        token = (parse_qs(body.decode("utf-8", "replace"), max_num_fields=4).get("token")
                 or [""])[0]
        if not console.access.token_matches(token):
            failures.append(now)
            return html(pages.login("that token is not right"), 401)
        secure = request.url.scheme == "https"
        return RedirectResponse("/console", status_code=303, headers={
            **HEADERS, "Set-Cookie": cookie_header(console.access.new_session(), secure)})

    @app.post("/console/logout")
    async def logout(request: Request) -> Response:
        return RedirectResponse("/console/login", status_code=303, headers={
            **HEADERS, "Set-Cookie": cookie_header("", request.url.scheme == "https", 0)})

    @app.get("/console/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            return PlainTextResponse("not found", 404, headers=HEADERS)
        text = resources.files(__package__).joinpath("static", name).read_text("utf-8")
        return Response(text, media_type=STATIC[name],
                        headers={**HEADERS, "Cache-Control": "max-age=300"})


async def bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is (or says it is) longer than `limit`."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        return None
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            return None
    return data


def stream(console: Console, events: AsyncIterator[str]) -> Response:
    if console.streams >= MAX_VIEWERS:
        return PlainTextResponse(f"the console has {MAX_VIEWERS} viewers already: try again "
                                 "later", 503, headers={**HEADERS, "Retry-After": "10"})

    async def counted() -> AsyncIterator[str]:
        console.streams += 1
        console.feed.attach()
        try:
            yield "retry: 2000\n\n"
            async for text in events:
                yield text
        finally:
            console.streams -= 1
            console.feed.detach()

    return Streaming(counted(), media_type="text/event-stream",
                     headers={**HEADERS, "X-Accel-Buffering": "no"})


async def live_events(console: Console) -> AsyncIterator[str]:
    """The live list at most once a second (and every few seconds without changes): the
    message is made once per change and shared by every viewer of the list."""
    await console.feed.ready()
    while not console.stopping():
        yield console.live_message()
        await asyncio.sleep(LIST_EVERY)
        await console.feed.changed(1.0)


async def call_events(console: Console, view: CallView, cursor: int) -> AsyncIterator[str]:
    """The call's items from `cursor` on, then whatever it adds, until it has ended."""
    console.feed.follow(view.key)
    try:
        async for text in _call_items(console, view, cursor):
            yield text
    finally:
        console.feed.follow(view.key, -1)


async def _call_items(console: Console, view: CallView, cursor: int) -> AsyncIterator[str]:
    cursor = min(cursor, len(view.items))
    quiet = 0.0
    while True:
        items = view.items[cursor:cursor + CHUNK]
        if items:
            cursor += len(items)
            yield event("items", {"items": items, "call": view.row(time.time()),
                                  "now": time.time()}, cursor)
            quiet = 0.0
            continue
        tail = console.feed.get(view.key)
        if tail is not None and tail.view is not view:  # read whole first, tailed since
            view = tail.view
            continue
        if tail is None or view.ended:
            yield event("done", {"call": view.row(time.time()), "now": time.time()}, cursor)
            return
        if console.stopping():
            return
        started = time.monotonic()
        await console.feed.changed(1.0)
        quiet += time.monotonic() - started
        if quiet >= HEARTBEAT:
            quiet = 0.0
            yield ": keep-alive\n\n"
