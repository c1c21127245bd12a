"""`dialflow console [DIR] [--host --port --flow FILE]`: the call console without a server.

Serves the same pages as `/console` on `dialflow serve`, over the event logs in DIR (a data
directory such as `data`, or its `calls` folder; default `$DIALFLOW_DATA` or `data`): past
calls with their diagram, transcript, latency and replay scrubber, and the calls a server
writing to DIR has in progress. It places no calls and loads no models. The token is
`DIALFLOW_CONSOLE_TOKEN`; without it a random one is made for this run and printed once.
Serving beyond loopback needs the token set (the console shows personal data).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from engine.records.privacy import DataDirs

from .access import TOKEN_ENV, ConsoleAccess

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("console", help="browse recorded calls in a web page",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", help="the data directory (default $DIALFLOW_DATA "
                        "or data) or its calls folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--flow", help="the flow the flow page shows (default: the newest "
                        "version the recorded calls ran on)")
    parser.set_defaults(func=run)


def calls_dir(given: str | None) -> Path:
    """The calls folder of the data directory `given` (or the environment's, as every
    records command finds it); `given` may also be that calls folder itself."""
    calls = DataDirs.from_env(os.environ, given).calls
    return calls if calls.is_dir() else calls.parent


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from fastapi import FastAPI

    from .routes import Console, mount

    directory = calls_dir(args.dir)
    if not directory.is_dir():
        print(f"dialflow console: {directory} is not a directory of event logs (give the "
              "data directory, e.g. `dialflow console data`)", file=sys.stderr)
        return 2
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        if args.host not in LOOPBACK:
            print(f"dialflow console: serving on {args.host} needs {TOKEN_ENV} set",
                  file=sys.stderr)
            return 2
        token = secrets.token_urlsafe(24)
        print(f"{TOKEN_ENV} is not set; the token for this run: {token}", file=sys.stderr)
    app = FastAPI(title="dialflow console", docs_url=None, redoc_url=None, openapi_url=None)
    mount(app, Console(ConsoleAccess(token), directory.resolve(), flow_path=args.flow))
    print(f"dialflow console: {directory} on http://{args.host}:{args.port}/console",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                timeout_graceful_shutdown=2)  # open event streams never end by themselves
    return 0
