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
sizes are bounded. Nothing here reads a log: the calls page comes from the console's reader
process ready-made, a call page is drawn from the call's header and the diagram it sends
(a flow version not archived yet is drawn here, in a thread), and the event
streams (`streams.py`) send what it pushed; a reader that cannot answer gives 503. Streams
end once the server is going down (`stopping`: under `serve`, draining with no call left),
or they would hold its shutdown open.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from . import archive, flowinfo, pages
from .access import ConsoleAccess, cookie_header
from .diagrams import Drawing
from .relay import ReaderGone, Relay
from .streams import MAX_VIEWERS, call_events, live_events, stream
from .view import CallView
from .wire import event

__all__ = ["MAX_VIEWERS", "Console", "event", "mount"]
MAX_LOGIN_BODY = 2048
LOGIN_FAILURES = (20, 60.0)  # this many failed logins within this many seconds: 429
STATIC = {"console.js": "text/javascript", "console.css": "text/css"}
_static: dict[str, str] = {}  # read once: they ship in the package
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
}


class Console:
    """The console of one process: who may see it, where the logs are, its reader."""

    def __init__(self, access: ConsoleAccess, calls_dir: Path | None, flows: Any = None,
                 flow_path: str | None = None,
                 stopping: Callable[[], bool] = lambda: False):
        self.access = access
        self.stopping = stopping  # True once the server is going down: streams end
        self.calls_dir = calls_dir
        self.relay = Relay(calls_dir)
        self.flows = flows  # the server's FlowSource, or None (`dialflow console DIR`)
        self.flow_path = flow_path
        self.streams = 0
        self._failures: deque[float] = deque()

    def allowed(self, request: Request) -> bool:
        return self.access.allows(request.headers, request.cookies)

    async def view_of(self, key: str) -> CallView | None:
        """The call's header (no items: those come by its event stream), or None."""
        head, _ = await self.relay.ask({"op": "view", "key": key})
        found = head.get("view")
        if not isinstance(found, dict):
            return None
        timer = found.pop("timer", None)
        return CallView(**found, timer=(str(timer[0]), float(timer[1])) if timer else None)

    async def drawing_of(self, version: str) -> Drawing:
        """A recorded call's diagram: drawn by the reader process from the flow archive (its
        YAML parsed, its layout run, off the calls' process); a version not archived (yet:
        the server archives each new one within a second) is the serving flow, drawn here
        in a thread."""
        head, body = await self.relay.ask({"op": "drawing", "flow": version})
        if head.get("found"):
            meta, _, svg = body.partition(b"\n")
            facts = json.loads(meta)
            return Drawing(svg.decode("utf-8"), str(facts.get("error", "")),
                           dict(facts.get("edges") or {}))
        return await asyncio.to_thread(flowinfo.drawing_for, self, version)

    def source(self) -> str:
        where = self.calls_dir if self.calls_dir is not None else "nowhere (event logs off)"
        return (f"Calls are read from the event logs in {where}: every server process "
                "writing there (each worker of serve --workers N) shows up here.")

    async def close(self) -> None:
        """Stop the reader process (the server is going down)."""
        await self.relay.close()


def html(text: str, status: int = 200, **headers: str) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={**HEADERS, **headers})


def refused() -> HTMLResponse:
    return html(pages.login(), 401, **{"WWW-Authenticate": 'Bearer realm="dialflow console"'})


def mount(app: FastAPI, console: Console) -> None:
    async def reader_gone(request: Request, exc: Exception) -> Response:
        wait = max(1, math.ceil(getattr(exc, "retry_after", 2.0)))
        return PlainTextResponse(f"{exc}: try again in {wait} s", 503,
                                 headers={**HEADERS, "Retry-After": str(wait)})

    app.add_exception_handler(ReaderGone, reader_gone)

    @app.get("/console", response_class=HTMLResponse)
    async def calls(request: Request, page: int = 0) -> Response:
        if not console.allowed(request):
            return refused()
        page = min(max(page, 0), 10_000)
        _, body = await console.relay.ask({"op": "list", "page": page,
                                           "source": console.source()})
        return HTMLResponse(body, headers=HEADERS)

    @app.get("/console/", include_in_schema=False)
    async def slash() -> Response:
        return RedirectResponse("/console", status_code=303, headers=HEADERS)

    @app.get("/console/live.sse")
    async def live_stream(request: Request) -> Response:
        if not console.allowed(request):
            return refused()
        return stream(console, live_events(console), HEADERS)

    @app.get("/console/calls/{key}", response_class=HTMLResponse)
    async def one_call(request: Request, key: str) -> Response:
        if not console.allowed(request):
            return refused()
        view = await console.view_of(key) if archive.valid_key(key) else None
        if view is None:
            return html("<p>no such call</p>", 404)
        drawing = await console.drawing_of(view.flow)
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
        return stream(console, call_events(console, key, cursor), HEADERS)

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
        text = _static.get(name)
        if text is None:
            text = _static[name] = resources.files(__package__).joinpath(
                "static", name).read_text("utf-8")
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
