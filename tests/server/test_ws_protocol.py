"""The servers run lean_ws.py's protocol only on a uvicorn release it was tested with; on
any other they run uvicorn's own protocol and say so once in the log."""

from __future__ import annotations

import logging

import pytest
import uvicorn

from engine.app.server.lean_ws import LeanWebSocketProtocol
from engine.app.server.ws_protocol import FALLBACK, TESTED, media_ws_protocol, uvicorn_release


def test_the_installed_uvicorn_is_a_tested_one_and_runs_the_lean_protocol(
        caplog: pytest.LogCaptureFixture) -> None:
    # If this fails after an upgrade, run tests/server/test_lean_ws.py on the new uvicorn
    # and widen TESTED (or fix lean_ws.py): until then calls cost more CPU per frame.
    assert TESTED[0] <= uvicorn_release(uvicorn.__version__) < TESTED[1]
    with caplog.at_level(logging.WARNING, "dialflow.ws"):
        assert media_ws_protocol() is LeanWebSocketProtocol
    assert caplog.records == []


@pytest.mark.parametrize("version", ["0.99.0", "1.0.0", "0.34.3", "not-a-version"])
def test_an_untested_uvicorn_runs_its_own_protocol_and_says_so(
        version: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "dialflow.ws"):
        chosen = media_ws_protocol(version)
    assert chosen == FALLBACK  # the installed uvicorn has websockets-sansio
    (record,) = caplog.records
    assert version in record.getMessage() and "uvicorn's own WebSocket protocol" in \
        record.getMessage()
    uvicorn.Config(lambda *a: None, ws=chosen).load()  # a protocol uvicorn knows


def test_release_numbers_are_read_from_the_version_string() -> None:
    assert uvicorn_release("0.55.0") == (0, 55)
    assert uvicorn_release("0.55.0.post1") == (0, 55)
    assert uvicorn_release("1.2") == (1, 2)
    assert uvicorn_release("x") == (0, 0)
