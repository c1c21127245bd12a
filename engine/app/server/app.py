"""The FastAPI app: `POST /webhook/voice`, `WebSocket /ws/media`, `GET /health`, `GET /metrics`,
the warm transfer's `POST /webhook/transfer/{whisper,status}` (transfer_hooks.py),
and the call console under `/console` (engine/app/server/console, off without its token).

Both Twilio entry points verify `X-Twilio-Signature` before anything starts: a forged or
missing signature gets 403 (webhook) or a closed handshake (WebSocket). The webhook's answer
binds the media stream to its call (a `<Parameter>` the stream's `start` must carry back).
While the server drains for shutdown, new calls are refused; at the deployment's call limit
the webhook answers with a polite busy message and a handshake is refused (1013).
`/ws/media` is a plain ASGI endpoint (`MediaRoute`): each call's 50 messages a second are
read from the server's own channel, not through starlette's per-message wrapper; under
`dialflow serve` that server is lean_ws.py's protocol, whose short path hands each valid
media frame to the stream as it arrives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

from adapters.twilio.bridge.socket import MediaSocket
from adapters.twilio.bridge.stream import MediaStream
from adapters.twilio.signature import SignatureRejected
from adapters.twilio.twiml import busy
from engine.app.server import capacity
from engine.app.server.memory_release import MemoryRelease
from engine.app.server.services import Services
from engine.app.server.transfer_hooks import add_transfer_hooks
from engine.app.server.webhook_form import read_form, stream_answer
from engine.app.server.worker_threads import start_worker_threads
from engine.environment import (
    ANTHROPIC_API_KEY,
    DEEPGRAM_API_KEY,
    DIALFLOW_DIAL_TOKEN,
    ELEVENLABS_API_KEY,
    OPENAI_API_KEY,
    TWILIO_AUTH_TOKEN,
)
from engine.redaction import escape_id

log = logging.getLogger("dialflow.server")
PROVIDER_KEYS = (ANTHROPIC_API_KEY, OPENAI_API_KEY, DEEPGRAM_API_KEY,
                 ELEVENLABS_API_KEY, TWILIO_AUTH_TOKEN)


class MediaRoute:
    """`/ws/media` as a plain ASGI endpoint: the stream reads and writes the server's own
    channel (adapters/twilio/bridge/socket.py), not through a starlette wrapper per frame."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services, socket = self.services, MediaSocket(scope, receive, send)
        ws = socket.handshake
        try:
            checked = services.signatures.check_websocket(
                scheme=ws.url.scheme, path=ws.url.path, query=ws.url.query, headers=ws.headers,
                peer=ws.client.host if ws.client else None)
        except SignatureRejected:
            services.metrics.error("signature")
            await ws.close(code=1008)
            return
        if not services.accepting or services.at_capacity:
            if services.accepting:
                services.metrics.error("busy")
                log.warning("media socket refused: %d open (the limit)", services.sockets)
            await ws.close(code=1013)
            return
        services.sockets += 1
        try:
            await socket.accept()
            await MediaStream(socket, services, public_url=checked).run()
        finally:
            services.sockets -= 1


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await start_worker_threads()  # all of them now: a burst starts none
        services.flows.start()
        if services.records is not None:
            services.records.start(services.flows.current)
        memory = services.memory = MemoryRelease(  # after bursts
            lambda: services.sockets, tidy=getattr(services.storage, "drop_dead_cursors", None))
        memory.start()
        try:
            yield
        finally:
            console = getattr(app.state, "console", None)
            if console is not None:
                await console.close()  # its reader process
            await memory.stop()
            await services.flows.stop()
            if services.records is not None:
                await services.records.stop()
            # Here, not after `serve()` returns: uvicorn re-raises a captured SIGTERM as it
            # leaves serve(), which ends the process before any later line runs.
            if services.transcripts is not None:
                if services.transcripts.sync():
                    log.info("shutdown: every transcript line is on disk")
                else:
                    log.error("shutdown: some transcript lines were not synced to disk")

    app = FastAPI(title="dialflow", lifespan=lifespan)
    app.state.services = services
    app.state.hooks = {}  # Twilio callbacks' decisions by name (forwarding.py)

    @app.post("/webhook/voice")
    async def voice(request: Request) -> Response:
        form = await read_form(request)
        if isinstance(form, Response):
            return form
        call_sid = str(form.get("CallSid", ""))
        peer = request.client.host if request.client else None
        try:
            services.signatures.check_webhook(
                scheme=request.url.scheme, path=request.url.path, query=request.url.query,
                headers=request.headers, form=form, call_id=call_sid, peer=peer)
        except SignatureRejected:
            services.metrics.error("signature")
            return Response("forbidden", status_code=403)
        if not services.accepting:
            return Response("shutting down", status_code=503)
        if services.at_capacity:
            services.metrics.error("busy")
            log.warning("call %s: answered busy, %d media sockets open (the limit)",
                        escape_id(call_sid), services.sockets)
            return Response(busy(), media_type="application/xml")
        caller = str(form.get("From", ""))
        return stream_answer(request, services.signatures, call_sid, caller,
                             called=str(form.get("To", "")))

    app.router.routes.append(WebSocketRoute("/ws/media", MediaRoute(services)))

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({
            **capacity.report(services),  # status, ready, active calls (all workers), capacity
            "knowledge_ready": services.knowledge_ready,
            "limits": services.limits.describe(),
            "flow": {"path": str(services.flows.path), "version": services.flows.version,
                     **services.flows.describe()},  # digest, last_error, last_refusal
            "providers": services.describe(),
            "keys_configured": {key: bool(os.environ.get(key)) for key in PROVIDER_KEYS},
            "records": services.records.describe(services.flows.current().flow)
            if services.records is not None else "off",
            "memory": services.memory.describe() if services.memory is not None else "off",
            "routing": services.routing.owners.describe()  # calls this worker holds
            if services.routing is not None else "off",
        })

    capacity.add_probes(app, services)  # /health/ready and /health/live
    add_transfer_hooks(app, services)  # the warm transfer's whisper and dial report
    from engine.app.server.console import mount_console

    mount_console(app, services)  # /console, when DIALFLOW_CONSOLE_TOKEN is set
    from engine.app.outbound.routes import add_outbound_routes

    add_outbound_routes(app, services, os.environ.get(DIALFLOW_DIAL_TOKEN, "").strip() or None)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    from engine.app.server.worker_header import WorkerHeader

    app.add_middleware(WorkerHeader, services=services)  # which worker answered
    return app
