"""`dialflow serve [--host --port --flow FILE --workers N]`: the phone server for Twilio.

Validates the flow, chooses providers, warms models and the knowledge base, then serves the
webhook, the media stream, /health and /metrics. SIGTERM stops taking calls and lets active
ones finish up to `--drain` seconds (a caller on hold for a human who has not picked up
shortly before the end is taken back by the flow: engine/app/server/drain.py); a second
SIGTERM stops at once. Serving beyond this
machine (`--host` not loopback) needs `DIALFLOW_PUBLIC_URL` or `DIALFLOW_TRUSTED_PROXIES`;
the call limits come from `DIALFLOW_MAX_CALLS`, `DIALFLOW_START_DEADLINE` and
`DIALFLOW_MAX_MESSAGE_BYTES` (see `/health`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from typing import Any

import uvicorn

from engine.providers import ProviderError
from flows import FlowInvalid

log = logging.getLogger("dialflow.serve")
NEEDS = """environment:
  TWILIO_AUTH_TOKEN   required: every webhook and media-stream handshake is checked against
                      its X-Twilio-Signature; serve refuses to start without it
  TWILIO_ACCOUNT_SID  with the token, lets serve transfer calls through Twilio's REST API
  provider keys       DEEPGRAM_API_KEY, ANTHROPIC_API_KEY, OPENAI_API_KEY, ELEVENLABS_API_KEY
                      choose cloud providers; without them serve runs the offline stack"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the phone server (needs TWILIO_AUTH_TOKEN)", description=__doc__,
        epilog=NEEDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--flow", default="flows.yaml")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds active calls may take to finish after SIGTERM")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="server processes sharing the port, each taking whole calls "
                             "(default: one per core)")
    parser.set_defaults(func=run)


class DrainingServer(uvicorn.Server):
    """First SIGTERM/SIGINT: refuse new calls, wait for active ones (up to a deadline)."""

    def __init__(self, config: uvicorn.Config, services: Any, drain: float):
        super().__init__(config)
        self.services = services
        self.drain = drain
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self._draining is not None or not self.services.streams:
            self.services.accepting = False
            super().handle_exit(sig, frame)
            return
        self.services.accepting = False
        log.warning("signal %s: no new calls; waiting for %d active call(s), up to %ss",
                    signal.Signals(sig).name, len(self.services.streams), self.drain)
        self._draining = asyncio.get_event_loop().create_task(self._drain())

    async def _drain(self) -> None:
        from engine.app.server.drain import drain

        await drain(self.services, self.drain)  # callers on hold too (drain.py)
        self.should_exit = True


async def serve(args: argparse.Namespace, slot: Any = None) -> int:
    """One server process; `slot` (a WorkerSlot) when it is one of `--workers N`."""
    from adapters.twilio.rest import TwilioConfigError
    from adapters.twilio.signature import SignatureConfigError
    from adapters.twilio.urls import PublicUrlError, check_exposure
    from engine.app.outbound.desk import desk_for
    from engine.app.server.app import create_app
    from engine.app.server.bootstrap import build_services, warm
    from engine.app.server.limits import LimitsError, ServerLimits
    from knowledge.errors import KnowledgeError

    try:
        check_exposure(args.host, os.environ)
        ServerLimits.from_env(os.environ)
        services = build_services(args.flow)
        services.outbound = desk_for(services, os.environ)  # POST /calls; None: off
    except (FlowInvalid, ProviderError, SignatureConfigError, TwilioConfigError,
            PublicUrlError, LimitsError, KnowledgeError) as exc:
        print(f"dialflow serve: {exc}", file=sys.stderr)
        return 1
    log.info("warming models and the knowledge base…")
    try:
        await warm(services)
    except Exception as exc:  # one clear line, not a traceback; details with --verbose
        if getattr(args, "verbose", False):
            log.error("warming failed", exc_info=exc)
        print(f"dialflow serve: {warm_failure(exc)}", file=sys.stderr)
        return 1
    freeze_startup_heap()
    from engine.app.server.request_deadline import with_request_deadline
    from engine.app.server.ws_protocol import media_ws_protocol

    app = create_app(services)
    config = uvicorn.Config(app, host=args.host, port=args.port,
                            log_level="warning", lifespan="on", ws_per_message_deflate=False,
                            ws_max_size=services.limits.transport_max_bytes,
                            ws=media_ws_protocol(),
                            http=with_request_deadline(services.limits.start_deadline))
    server = DrainingServer(config, services, args.drain)
    log.info("dialflow serving %s on http://%s:%d (providers: %s)", args.flow, args.host,
                args.port, services.describe())
    if slot is None:
        await server.serve()
    else:
        await serve_as_worker(server, services, slot, args, app.state.hooks)
    return 0


async def serve_as_worker(server: uvicorn.Server, services: Any, slot: Any,
                          args: argparse.Namespace, hooks: Any = None) -> None:
    """Bind this worker's own SO_REUSEPORT socket (only now, warmed up) and keep its row on
    the shared board current while it serves; answer the other workers on its Unix socket
    (callbacks for the calls it holds, engine/app/server/forwarding.py) until it stopped."""
    from engine.app.server.capacity import publish_forever
    from engine.app.server.workers import reuse_port_socket

    services.worker = slot
    if hooks is None:  # the app's own table (create_app)
        hooks = server.config.app.state.hooks
    internal = await start_routing(services, slot, hooks)
    publisher = asyncio.get_running_loop().create_task(
        publish_forever(services, lambda: server.started and not server.should_exit))
    try:
        await server.serve(sockets=[reuse_port_socket(args.host, args.port)])
    finally:
        publisher.cancel()
        if internal is not None:
            internal.should_exit = True
            await internal.task
            await services.routing.close()


async def start_routing(services: Any, slot: Any, hooks: Any) -> Any:
    """The call registry, the way to the other workers and this worker's own socket (which
    runs `hooks`, the app's callback decisions, for them); None without a runtime directory
    (a supervisor always gives one)."""
    from engine.app.server.call_owners import CallOwners
    from engine.app.server.forwarding import Routing
    from engine.app.server.internal_app import internal_server

    if slot.runtime is None:
        return None
    owners = CallOwners(slot.runtime, slot.index, slot.board.size, slot.holds_calls)
    owners.start()
    services.routing = Routing(owners)
    if services.outbound is not None:
        services.outbound.owners = owners
    internal, listener = internal_server(hooks, owners.socket_of(slot.index))
    internal.task = asyncio.get_running_loop().create_task(internal.serve(sockets=[listener]))
    while not internal.started and not internal.task.done():
        await asyncio.sleep(0.01)
    return internal


def run(args: argparse.Namespace) -> int:
    from engine.app.server.workers import Supervisor, default_workers

    logging.getLogger("dialflow").setLevel(logging.INFO)
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        print("dialflow serve: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers == 1:
        from engine.app.server.metrics import enable_multiprocess, multiprocess_dir

        directory = multiprocess_dir()  # e.g. set for a container: make and wipe it
        if directory:
            enable_multiprocess(directory)
        return run_fast(serve(args))
    return Supervisor(args, workers, lambda a, s: run_fast(serve(a, s))).run()


def freeze_startup_heap() -> None:
    """Collect once, then move every object start-up made (libraries, models, the flow) out
    of the collector's reach. Its full passes during calls then walk only what calls create:
    at 200 calls a full pass over the start-up heap stalled every stream for ~60 ms."""
    gc.collect()
    gc.freeze()


def run_fast(main: Any) -> Any:
    """Run on uvloop when it is installed (uvicorn[standard] brings it): the server's loop
    handles thousands of media frames a second. Falls back to asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def warm_failure(exc: BaseException) -> str:
    """The one line `serve` prints when warming failed (for example a cloud provider that
    cannot be reached): what failed and what to do. Serving without the knowledge base or
    a provider a flow asks for would fail every call, so start-up stops instead."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())
    return (f"could not warm the models and the knowledge base ({reason}). Check the network "
            "and the provider settings (API keys, *_BASE_URL), or run offline without "
            "provider keys; `dialflow --verbose serve` shows the traceback")
