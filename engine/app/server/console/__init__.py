"""The live call console: `/console` on `dialflow serve`, and `dialflow console DIR`.

Operators see each call move through its flow as it happens and look back at any recorded
call: the live calls list, one call's diagram with its path highlighted, transcript (agent
lines heard or cut off by a barge-in), per-turn latency stages, event trace, and a scrubber
that replays a call's timeline; a flow page with the last reload and `dialflow check`.

Layout: `access` (the token, sessions), `view` (event-log records -> what a page shows,
redacted and bounded), `feed` (live calls, tailed from the event logs every worker writes),
`archive` (past calls), `reader` (the process that does all of that reading, off the calls'
loop), `wire` (its frames and the events they carry), `relay` (the loop's side of it),
`streams` and `sse` (the event streams viewers get), `diagrams` and `flowinfo` (the flow's
SVG and facts), `pages` (the HTML), `routes` (HTTP), `command` (`dialflow console DIR`),
`static/` (one script, one style sheet: nothing is loaded from elsewhere). Composition-root
code: it may read the server's services; calls never call into it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .access import MIN_TOKEN, TOKEN_ENV, ConsoleAccess

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("dialflow.console")


def mount_console(app: FastAPI, services: Any, env: Mapping[str, str] | None = None) -> Any:
    """Add the console's routes to the server's `app` when `DIALFLOW_CONSOLE_TOKEN` is set;
    otherwise `/console` only says how to turn it on. Returns the `Console` or None."""
    from fastapi.responses import PlainTextResponse  # (the reader process needs no FastAPI)

    from . import pages
    from .routes import Console, mount

    access = ConsoleAccess.from_env(os.environ if env is None else env)
    if access is None:
        @app.get("/console", include_in_schema=False)
        async def console_off() -> PlainTextResponse:
            return PlainTextResponse(pages.off(), status_code=404)

        return None
    token = (os.environ if env is None else env)[TOKEN_ENV].strip()
    if len(token) < MIN_TOKEN:
        log.warning("%s is shorter than %d characters: anyone who guesses it sees every "
                    "call; use a long random one (python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))')", TOKEN_ENV, MIN_TOKEN)
    records = getattr(services, "records", None)
    console = Console(access, records.dirs.calls if records is not None else None,
                      flows=services.flows,
                      stopping=lambda: not services.accepting and not services.streams)
    mount(app, console)
    app.state.console = console
    return console
