"""Which uvicorn WebSocket protocol dialflow's own servers run (`serve`, `call`, `dial`).

lean_ws.py's short path subclasses uvicorn's websockets-sansio protocol and reads its
internals, so it runs only on the uvicorn releases its equivalence tests
(tests/server/test_lean_ws.py) were run against. On any other release the server runs
uvicorn's own protocol, slower per media frame but correct, and says so once in the log
(reinstall a tested uvicorn, or run the tests against the new one and widen `TESTED`).
Touches nothing; reads uvicorn's version.
"""

from __future__ import annotations

import importlib.util
import logging

import uvicorn

log = logging.getLogger("dialflow.ws")

TESTED = ((0, 55), (0, 56))  # uvicorn releases from the first, below the second (its
# websockets-sansio protocol changed in 0.44, 0.46 and 0.52: only what was run counts)
FALLBACK = "websockets-sansio"


def uvicorn_release(version: str) -> tuple[int, int]:
    """"0.55.0" -> (0, 55); anything unreadable -> (0, 0)."""
    try:
        major, minor = version.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return 0, 0


def media_ws_protocol(version: str | None = None) -> type | str:
    """The `ws=` for `uvicorn.Config`: the lean protocol on a tested uvicorn, else uvicorn's
    own (`websockets-sansio`, or `auto` on a uvicorn that predates it)."""
    version = uvicorn.__version__ if version is None else version
    if TESTED[0] <= uvicorn_release(version) < TESTED[1]:
        from engine.app.server.lean_ws import LeanWebSocketProtocol

        return LeanWebSocketProtocol
    low, high = (".".join(map(str, v)) for v in TESTED)
    log.warning("uvicorn %s is not one the lean media path was tested with (%s to below "
                "%s): running uvicorn's own WebSocket protocol, correct but with more CPU "
                "per media frame", version, low, high)
    if importlib.util.find_spec("uvicorn.protocols.websockets.websockets_sansio_impl") is None:
        return "auto"
    return FALLBACK
