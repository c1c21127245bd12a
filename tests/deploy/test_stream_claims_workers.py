"""One media stream per CallSid across `dialflow serve --workers 2`: a replayed `start`
(same CallSid, caller and a valid binding) is refused by the worker that holds the call
AND by the other one, whichever the kernel hands the connection to. The claims live in the
shared database (`Storage.claim_stream`), so machines sharing PostgreSQL refuse it too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect

from adapters.twilio.binding import make_binding
from adapters.twilio.caller import SimulatedCaller
from engine.app.server.capacity import PUBLISH_SECONDS
from tests.deploy.serve_process import AUTH_TOKEN, ServeProcess, two_workers
from tests.server.raw_stream import CONNECTED, handshake_headers, start_message
from tests.server.test_hostile_streams import closed_with

CALL_SID, CALLER = "CAreplayed0001", "+15550001234"
MAX_TRIES = 24


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with two_workers(tmp_path_factory.mktemp("claims")) as serve:
        yield serve


def sockets_per_worker(server: ServeProcess) -> dict[int, int]:
    return {w["index"]: w["media_sockets"] for w in server.health()["workers"]}


async def settled_sockets(server: ServeProcess, total: int) -> dict[int, int]:
    """Per-worker open media sockets once the board shows `total` of them in two readings in
    a row: each worker publishes its row every PUBLISH_SECONDS, so one reading can be stale
    (a replay's socket already closed but still counted), and a stale `before` would hide
    the next socket."""
    deadline, last = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        now = sockets_per_worker(server)
        if sum(now.values()) == total and now == last:
            return now
        last = now
        await asyncio.sleep(PUBLISH_SECONDS + 0.05)
    raise AssertionError(f"the board never settled at {total} media socket(s): {last}")


async def worker_holding_new_socket(server: ServeProcess, before: dict[int, int]) -> int:
    """The index of the worker whose open media sockets rose above `before`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = sockets_per_worker(server)
        risen = [index for index, n in now.items() if n > before.get(index, 0)]
        if risen:
            return risen[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no worker reported the new media socket")


def test_a_replayed_start_is_refused_by_every_worker(server: ServeProcess) -> None:
    binding = make_binding(AUTH_TOKEN, CALL_SID, CALLER, time.time())
    replay = start_message(CALL_SID, stream_sid="MZreplay", caller=CALLER, binding=binding)

    async def scenario() -> dict[int, int]:
        refused: dict[int, int] = {}
        caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=CALL_SID,
                                 custom_parameters={"caller": CALLER, "dialflowBinding": binding})
        async with caller:
            deadline = time.monotonic() + 60
            while server.health()["active_calls"] != 1:
                assert time.monotonic() < deadline, "the genuine call never started"
                await asyncio.sleep(0.1)
            url = server.ws_url
            for _ in range(MAX_TRIES):  # new connections until each worker got a replay
                before = await settled_sockets(server, 1)  # the genuine call's only
                async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                                   proxy=None) as ws:
                    await ws.send(CONNECTED)
                    index = await worker_holding_new_socket(server, before)
                    await ws.send(replay)
                    try:
                        code = await closed_with(ws, timeout=60)
                    except TimeoutError:  # admitted: the server kept the replay open
                        code = None
                assert code == 1008, f"worker {index} admitted a replayed start ({code})"
                refused[index] = refused.get(index, 0) + 1
                if len(refused) == 2:
                    break
            assert not caller.closed, "the genuine call was disturbed"
            assert server.health()["active_calls"] == 1
        return refused

    refused = asyncio.run(scenario())
    assert set(refused) == {0, 1}, f"the replays reached only worker(s) {sorted(refused)}"
    assert server.log().count("another stream already started for this CallSid") >= 2
