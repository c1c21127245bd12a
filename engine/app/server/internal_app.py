"""What a worker answers the other workers of `dialflow serve --workers N`, on its own Unix
socket in the private runtime directory (never on the public port).

- `POST /internal/hook/{name}`: a Twilio callback another worker received and checked
  (signature, bounded form), for a call this worker holds: `{"form": {...}, "query": {...}}`
  in, the hook's `HookAnswer` out (forwarding.py). The body is read up to `MAX_BODY`.

Only processes of the same user reach the socket (the directory is 0700, the socket 0600),
and Twilio's signatures were checked by the worker that forwards. `InternalServer` is a
uvicorn server that leaves the process's signals to the public one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from engine.app.server.forwarding import ForwardRefused, Hook, bounded
from engine.redaction import escape_id

log = logging.getLogger("dialflow.workers")
MAX_BODY = 32_768


def internal_app(hooks: Mapping[str, Hook]) -> FastAPI:
    """`hooks`: the public app's table of callback decisions (`app.state.hooks`)."""
    app = FastAPI(title="dialflow worker", openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/internal/hook/{name}")
    async def hook(name: str, request: Request) -> JSONResponse:
        run = hooks.get(name)
        if run is None:
            return JSONResponse({"error": "no such hook"}, status_code=404)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse({"error": "too large"}, status_code=413)
        try:
            data = json.loads(bytes(body))
            form, query = bounded(data.get("form")), bounded(data.get("query"))
        except (ValueError, AttributeError, ForwardRefused) as exc:
            log.warning("worker hook %s refused: %s", escape_id(name, 40),
                        escape_id(str(exc), 120))
            return JSONResponse({"error": "malformed"}, status_code=400)
        answer = await run(form, query)
        return JSONResponse(answer.to_json())

    return app


class InternalServer(uvicorn.Server):
    """Serves `internal_app` beside the public server: signals stay with the public one,
    which stops this one once it has drained (`should_exit`; `task` runs it)."""

    task: asyncio.Task[None]

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def unix_listener(path: Path) -> socket.socket:
    """A listening Unix socket at `path` (any stale one replaced), readable by us only."""
    if len(os.fsencode(path)) >= 100:
        raise OSError(f"the runtime directory's path is too long for a socket: {path}")
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o600)
    sock.listen(256)
    return sock


def internal_server(hooks: Mapping[str, Hook], path: Path) -> tuple[InternalServer,
                                                                 socket.socket]:
    config = uvicorn.Config(internal_app(hooks), log_level="warning", lifespan="off")
    return InternalServer(config), unix_listener(path)
