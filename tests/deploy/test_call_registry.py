"""The call registry of `serve --workers N` (call_owners.py), the decisions workers send each
other (hook_answer.py) and the bounds of what one worker accepts from another
(internal_app.py, forwarding.py): files never named after a key, a dead worker's entries
forgotten, malformed or oversized input refused with a clear status."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.app.server.call_owners import CallOwners, owners_dir, socket_path, wipe
from engine.app.server.forwarding import MAX_FIELDS, ForwardRefused, Routing, bounded
from engine.app.server.hook_answer import HookAnswer
from engine.app.server.internal_app import internal_server
from engine.app.server.workers import Supervisor
from engine.environment import DIALFLOW_RUNTIME_DIR
from tests.server.harness import free_port


@pytest.fixture
def runtime() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="df-run-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_key_is_held_by_one_worker_and_never_names_a_file(runtime: Path) -> None:
    alive = {0: True, 1: True}
    w0, w1 = (CallOwners(runtime, i, 2, alive.__getitem__) for i in (0, 1))
    w0.start()
    w1.start()
    key = "call:../../etc/passwd"
    assert w1.claim(key)
    assert w0.owner(key) == 1 and w1.owner(key) == 1
    assert w0.elsewhere(key) == 1 and w1.elsewhere(key) is None  # held here: no forward
    (entry,) = owners_dir(runtime, 1).iterdir()
    assert len(entry.name) == 40 and "passwd" not in entry.name
    assert w0.owner("call:nobody") is None and w0.elsewhere("call:nobody", key) == 1
    assert not w0.claim("x" * 201) and w0.owner("") is None  # bounded keys
    assert w1.describe() == {"worker": 1, "held_here": 1}
    w1.release(key)
    assert w0.owner(key) is None and w1.describe()["held_here"] == 0


def test_a_dead_workers_entries_are_forgotten(runtime: Path) -> None:
    alive = {0: True, 1: True}
    w0, w1 = (CallOwners(runtime, i, 2, alive.__getitem__) for i in (0, 1))
    w0.start()
    w1.start()
    w1.claim("call:CA1")
    w1.claim("call:CA2")
    alive[1] = False  # its board row went stale: hung or killed, not yet reaped
    assert w0.owner("call:CA1") is None
    assert len(list(owners_dir(runtime, 1).iterdir())) == 1  # that entry is gone
    wipe(runtime, 1)  # the supervisor reaped it
    assert not owners_dir(runtime, 1).exists() and w0.owner("call:CA2") is None
    restarted = CallOwners(runtime, 1, 2, alive.__getitem__)
    restarted.start()
    assert stat.S_IMODE(owners_dir(runtime, 1).stat().st_mode) == 0o700


def test_a_decision_from_another_worker_is_checked() -> None:
    stream = HookAnswer.stream("CA1", "+15550001234")
    assert HookAnswer.from_json(stream.to_json()) == stream
    for bad in ([], {"kind": "redirect"}, {"kind": "twiml", "body": 3},
                {"kind": "empty", "status": 99}, {"kind": "twiml", "body": "x" * 70_000},
                {"kind": "stream", "call_sid": "C" * 65}):
        with pytest.raises(ValueError):
            HookAnswer.from_json(bad)
    with pytest.raises(ForwardRefused):
        bounded({f"f{i}": "v" for i in range(MAX_FIELDS + 1)})
    with pytest.raises(ForwardRefused):
        bounded({"CallSid": ["not", "text"]})
    assert bounded({"CallSid": "x" * 900}) == {"CallSid": "x" * 500}


def test_a_worker_refuses_what_it_cannot_run_and_a_silent_one_gets_the_fallback(
        runtime: Path) -> None:
    async def hook(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        return HookAnswer.twiml(f"<Response><Say>{form['CallSid']}</Say></Response>")

    async def scenario() -> None:
        owners = CallOwners(runtime, 0, 2, lambda _: True)
        owners.start()
        internal, listener = internal_server({"echo": hook}, socket_path(runtime, 0))
        task = asyncio.get_running_loop().create_task(internal.serve(sockets=[listener]))
        while not internal.started:
            await asyncio.sleep(0.01)
        assert stat.S_IMODE(socket_path(runtime, 0).stat().st_mode) == 0o600
        transport = httpx.AsyncHTTPTransport(uds=str(socket_path(runtime, 0)))
        routing = Routing(owners)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
                assert (await client.post("/internal/hook/nope", json={})).status_code == 404
                big = await client.post("/internal/hook/echo", content=b"x" * 40_000)
                assert big.status_code == 413
                bad = await client.post("/internal/hook/echo", json={"form": [1], "query": {}})
                assert bad.status_code == 400
            fallback = HookAnswer.empty()
            done = await routing.forward(0, "echo", {"CallSid": "CA7"}, {}, fallback)
            assert done.kind == "twiml" and "CA7" in done.body
            assert await routing.forward(1, "echo", {"CallSid": "CA7"}, {}, fallback) \
                is fallback  # worker 1 has no socket: the fallback, logged
            assert await routing.forward(0, "nope", {}, {}, fallback) is fallback
        finally:
            await routing.close()
            internal.should_exit = True
            await task

    asyncio.run(scenario())


def test_a_runtime_dir_others_can_read_is_refused_in_one_line(
        runtime: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    runtime.chmod(0o755)
    monkeypatch.setenv(DIALFLOW_RUNTIME_DIR, str(runtime))
    args = argparse.Namespace(host="127.0.0.1", port=free_port())
    spawned: list[int] = []
    code = Supervisor(args, 2, lambda a, slot: spawned.append(slot.index) or 0).run()
    assert code == 1 and spawned == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chmod 700" in err and DIALFLOW_RUNTIME_DIR in err
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o755  # left as it was


def test_a_worker_late_with_its_heartbeat_still_holds_its_calls() -> None:
    """Routing asks whether the worker's process is there, not whether its heartbeat is
    fresh: under load a heartbeat can be seconds late, and its calls' callbacks must still
    reach it. A cleared row (the supervisor reaped it) or a pid that is gone holds none."""
    import os
    import subprocess
    import sys

    from engine.app.server.board import WorkerBoard, WorkerSlot

    board = WorkerBoard(3)
    slot = WorkerSlot(board, 0)
    board.write(1, pid=os.getpid(), serving=1, heartbeat_ms=1)  # beat long ago: stale
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    board.write(2, pid=int(gone.stdout), serving=1, heartbeat_ms=1)
    assert not slot.alive(1)  # not fresh: no new calls for it
    assert slot.holds_calls(1)  # but its calls are still its own
    assert not slot.holds_calls(2)  # its process exited
    board.clear(1)
    assert not slot.holds_calls(1)
