"""Two "workers" in one test process: two real servers (uvicorn, FastAPI, fake providers) on
their own ports, sharing a runtime directory, each with its call registry, its routing and
its internal server on its own Unix socket, as `dialflow serve --workers 2` wires them
(engine/app/commands/serve.py). A test reaches either one by its port, so which worker
Twilio's callback lands on is the test's choice, and it can look into both."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from engine.app.server.call_owners import CallOwners
from engine.app.server.forwarding import Routing
from engine.app.server.internal_app import internal_server
from tests.server.harness import Running, running_server


@contextlib.asynccontextmanager
async def routed(server: Running, runtime: Path, index: int, workers: int = 2,
                 alive: Callable[[int], bool] = lambda _: True) -> AsyncIterator[CallOwners]:
    """Give `server` worker `index`'s registry, routing and internal server."""
    owners = CallOwners(runtime, index, workers, alive)
    owners.start()
    server.services.routing = Routing(owners)
    if server.services.outbound is not None:
        server.services.outbound.owners = owners
    internal, listener = internal_server(server.app.state.hooks, owners.socket_of(index))
    task = asyncio.get_running_loop().create_task(internal.serve(sockets=[listener]))
    while not internal.started:
        await asyncio.sleep(0.01)
    try:
        yield owners
    finally:
        internal.should_exit = True
        await task
        await server.services.routing.close()


@contextlib.asynccontextmanager
async def two_workers(tmp: Path, **kwargs: object) -> AsyncIterator[tuple[Running, Running]]:
    """Workers 0 and 1 (`running_server(**kwargs)` each), routed to each other."""
    runtime = Path(tempfile.mkdtemp(prefix="df-run-"))  # short: a socket path is < 108 bytes
    for name in ("w0", "w1"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
    try:
        async with (running_server(tmp / "w0", **kwargs) as w0,  # type: ignore[arg-type]
                    running_server(tmp / "w1", **kwargs) as w1,  # type: ignore[arg-type]
                    routed(w0, runtime, 0), routed(w1, runtime, 1)):
            yield w0, w1
    finally:
        shutil.rmtree(runtime, ignore_errors=True)
