"""The FastAPI app: `POST /webhook/voice`, `WebSocket /ws/media`, `GET /health`, `GET /metrics`.

Both Twilio entry points verify `X-Twilio-Signature` before anything starts: a forged or
missing signature gets 403 (webhook) or a closed handshake (WebSocket). While the server
drains for shutdown, new calls are refused.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response

from adapters.twilio.signature import SignatureRejected
from adapters.twilio.twiml import connect_stream
from adapters.twilio.urls import stream_url
from engine.server.services import Services
from engine.server.stream import MediaStream

log = logging.getLogger("dialflow.server")
PROVIDER_KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DEEPGRAM_API_KEY",
                 "ELEVENLABS_API_KEY", "TWILIO_AUTH_TOKEN")


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.flows.start()
        try:
            yield
        finally:
            await services.flows.stop()

    app = FastAPI(title="dialflow", lifespan=lifespan)
    app.state.services = services

    @app.post("/webhook/voice")
    async def voice(request: Request) -> Response:
        form = await request.form()
        call_sid = str(form.get("CallSid", ""))
        try:
            services.signatures.check_webhook(
                scheme=request.url.scheme, path=request.url.path, query=request.url.query,
                headers=request.headers, form=form, call_id=call_sid)
        except SignatureRejected:
            services.metrics.error("signature")
            return Response("forbidden", status_code=403)
        if not services.accepting:
            return Response("shutting down", status_code=503)
        url = stream_url(scheme=request.url.scheme, headers=request.headers,
                         public_url=services.signatures.settings.public_url)
        twiml = connect_stream(url, caller=str(form.get("From", "")), call_sid=call_sid)
        return Response(twiml, media_type="application/xml")

    @app.websocket("/ws/media")
    async def media(ws: WebSocket) -> None:
        try:
            services.signatures.check_websocket(
                scheme=ws.url.scheme, path=ws.url.path, query=ws.url.query, headers=ws.headers)
        except SignatureRejected:
            services.metrics.error("signature")
            await ws.close(code=1008)
            return
        if not services.accepting:
            await ws.close(code=1013)
            return
        await ws.accept()
        await MediaStream(ws, services).run()

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({
            "status": "draining" if not services.accepting else "ok",
            "knowledge_ready": services.knowledge_ready,
            "active_calls": len(services.streams),
            "flow": {"path": str(services.flows.path), "version": services.flows.version,
                     **services.flows.describe()},  # digest, last_error, last_refusal
            "providers": services.describe(),
            "keys_configured": {key: bool(os.environ.get(key)) for key in PROVIDER_KEYS},
        })

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    return app
