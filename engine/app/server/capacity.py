"""What `/health` tells a load balancer or an orchestrator: readiness, active calls and the
per-process call limit, for this process or — under `dialflow serve --workers N` — for every
worker on this port (read from the shared `WorkerBoard`).

- `GET /health` (always 200): the full report, with `ready`, `status` (`ok`, `draining`,
  `full`), `active_calls` (all workers) and `capacity`; under workers also `worker` (the one
  that answered) and `workers` (each live one).
- `GET /health/ready`: 200 when new calls are welcome, 503 while draining for shutdown or
  when every serving worker is at `DIALFLOW_MAX_CALLS` (a readiness probe). (Before its
  models are warm `dialflow serve` does not listen at all, so a probe fails then too.)
- `GET /health/live`: 200 while this process's event loop answers (a liveness probe: a full
  or draining server is alive and must not be restarted).

Reads only `Services` and the board; no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from engine.app.server.board import WorkerSlot, WorkerState, monotonic_ms

if TYPE_CHECKING:
    from engine.app.server.services import Services

PUBLISH_SECONDS = 0.25


def own_state(services: Services, index: int = 0) -> WorkerState:
    return WorkerState(
        index=index, pid=os.getpid(), serving=True, accepting=services.accepting,
        active_calls=len(services.streams), media_sockets=services.sockets,
        max_calls=services.limits.max_calls, flow_version=services.flows.version,
        heartbeat_ms=monotonic_ms())


def report(services: Services) -> dict[str, Any]:
    """The readiness and capacity part of `/health`."""
    slot: WorkerSlot | None = services.worker
    me = own_state(services, slot.index if slot else 0)
    serving = sorted([me, *(slot.others() if slot else [])], key=lambda w: w.index)
    open_to_calls = [w for w in serving if w.accepting]
    full = bool(open_to_calls) and all(w.full for w in open_to_calls)
    # Not "starting": `dialflow serve` binds its port only once models and knowledge are warm.
    status = "draining" if not services.accepting else "full" if full else "ok"
    body: dict[str, Any] = {
        "status": status,
        "ready": status == "ok",
        "active_calls": sum(w.active_calls for w in serving),
        "media_sockets": sum(w.media_sockets for w in serving),
        "capacity": {
            "max_calls_per_process": services.limits.max_calls,
            "workers": slot.board.size if slot else 1,
            "workers_serving": len(serving),
            "max_calls": sum(w.max_calls for w in open_to_calls),
        },
    }
    if slot is not None:
        body["worker"] = me.describe()
        body["workers"] = [w.describe() for w in serving]
    return body


def callers_may_return(services: Services) -> bool:
    """A warm transfer waits for its caller in this worker or, by the board, in another:
    a draining server must still take the stream that brings the caller back."""
    slot: WorkerSlot | None = services.worker
    return len(services.warm) > 0 or (slot is not None and any(w.parked for w in slot.others()))


def add_probes(app: FastAPI, services: Services) -> None:
    """`/health/ready` and `/health/live` (see the module doc)."""

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        body = report(services)
        summary = {k: body[k] for k in ("ready", "status", "active_calls", "capacity")}
        return JSONResponse(summary, status_code=200 if body["ready"] else 503)

    @app.get("/health/live")
    async def live() -> JSONResponse:
        return JSONResponse({"live": True, "pid": os.getpid()})


async def publish_forever(services: Services, serving: Any) -> None:
    """Keep this worker's row on the board current; `serving()` says uvicorn is listening."""
    slot: WorkerSlot = services.worker
    try:
        while True:
            me = own_state(services, slot.index)
            slot.publish(serving=bool(serving()), accepting=me.accepting,
                         active_calls=me.active_calls, media_sockets=me.media_sockets,
                         max_calls=me.max_calls, flow_version=me.flow_version,
                         parked=len(services.warm))
            await asyncio.sleep(PUBLISH_SECONDS)
    finally:
        with contextlib.suppress(Exception):
            slot.board.clear(slot.index)
