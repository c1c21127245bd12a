"""`dialflow serve --workers 2` for real (offline providers, two processes on one port):
killing one worker during calls loses only its calls, the others go on, /health and
/metrics stay right and a replacement starts; a flow edit and SIGHUP reach every worker;
SIGTERM drains every worker (not ready, new calls refused, active ones finish).

The tests share one server and run in file order: the drain test ends it."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from adapters.twilio.caller import SimulatedCaller
from tests.deploy.call_watch import until
from tests.deploy.serve_process import (
    AUTH_TOKEN,
    ROOT,
    STARTUP_TIMEOUT,
    ServeProcess,
    two_workers,
)

MIN_PER_WORKER = 2
MAX_CALLS = 20
SILENCE_TIMER = "timeout: {after: 8s, event: timer.silence}"  # the default flow's listening


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """The default flow, except that a quiet caller is never reprompted, escalated and hung
    up on: the survivors must outlive a replacement worker's warm-up (over a minute under
    load), and the default flow ends a silent call in about 30 s."""
    folder = tmp_path_factory.mktemp("workers")
    patient = folder / "patient.yaml"
    text = (ROOT / "flows.yaml").read_text()
    assert text.count(SILENCE_TIMER) == 1
    patient.write_text(text.replace(SILENCE_TIMER, "timeout: {after: 30m, event: timer.silence}"))
    with two_workers(folder / "serve", flow_source=patient) as serve:
        yield serve


def per_worker(health: dict) -> dict[int, int]:
    return {w["index"]: w["active_calls"] for w in health["workers"]}


async def health_until(server: ServeProcess, predicate: Callable[[dict], bool], what: str,
                       timeout: float = STARTUP_TIMEOUT) -> dict:
    """`server.wait_for` in a thread: a wait of minutes on the loop would stall the simulated
    callers too, and a socket that answers no ping for 40 s is closed by the server."""
    return await asyncio.to_thread(server.wait_for, predicate, what, timeout)


async def open_calls_on_both(server: ServeProcess) -> list[SimulatedCaller]:
    """Open calls until each worker holds at least MIN_PER_WORKER (the kernel spreads
    connections over the workers' SO_REUSEPORT sockets by hash)."""
    callers: list[SimulatedCaller] = []
    while len(callers) < MAX_CALLS:
        caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                 call_sid=f"CAworkers{len(callers):04d}")
        await caller.connect()
        callers.append(caller)
        health = await health_until(server, lambda h: h["active_calls"] == len(callers),
                                    "the call to start")
        counts = per_worker(health)
        if len(counts) == 2 and min(counts.values()) >= MIN_PER_WORKER:
            return callers
    raise AssertionError(f"{MAX_CALLS} calls never reached both workers: {counts}")


async def hears_more(caller: SimulatedCaller, timeout: float = 120.0) -> bool:
    """The caller presses 1 once the greeting was heard (the flow listens then) and hears it
    again; the call goes on (a 0 would end it: no human to transfer to in a local call)."""
    await caller.wait_until(lambda c: bool(c.segments) and c.segments[0].ended
                            and c.playback.idle, timeout=timeout)
    before = len(caller.heard)
    await caller.press("1")
    try:
        await caller.wait_until(lambda c: len(c.heard) > before, timeout=timeout)
    except TimeoutError:
        return False
    return True


def test_killing_one_worker_loses_only_its_calls(server: ServeProcess) -> None:
    async def scenario() -> None:
        callers = await open_calls_on_both(server)
        await asyncio.gather(*(c.wait_until(lambda c: len(c.heard) > 0, timeout=120)
                               for c in callers))  # every caller heard the greeting
        health = server.health()
        victim = next(w for w in health["workers"] if w["index"] == 1)
        lost = victim["active_calls"]
        survivors_expected = len(callers) - lost

        os.kill(victim["pid"], signal.SIGKILL)
        await until(lambda: sum(c.closed for c in callers) == lost, "the victim's calls to drop")
        survivors = [c for c in callers if not c.closed]  # each must go on (checked below)
        assert len(survivors) == survivors_expected >= MIN_PER_WORKER

        after = await health_until(server, lambda h: h["active_calls"] == survivors_expected,
                                   "/health to count the survivors only")
        assert after["ready"] and after["status"] == "ok"
        assert server.metric("dialflow_active_calls") == survivors_expected
        assert server.metric("dialflow_calls_total") == len(callers)  # the dead one's count
        assert all(await asyncio.gather(*(hears_more(c) for c in survivors)))
        assert all(not c.closed for c in survivors)

        back = await health_until(
            server, lambda h: h["capacity"]["workers_serving"] == 2
            and any(w["index"] == 1 and w["pid"] != victim["pid"] for w in h["workers"]),
            "a replacement worker")
        assert back["active_calls"] == survivors_expected
        for caller in callers:
            await caller.stop()
        await health_until(server, lambda h: h["active_calls"] == 0, "the calls to end")
        assert server.metric("dialflow_active_calls") == 0

    asyncio.run(scenario())
    assert "its calls are lost, the other workers go on" in server.log()


def test_a_flow_edit_and_sighup_reach_every_worker(server: ServeProcess) -> None:
    def versions(h: dict) -> set[int]:
        return {w["flow_version"] for w in h["workers"]}

    start = server.wait_for(lambda h: len(versions(h)) == 1 and len(h["workers"]) == 2,
                            "both workers on one flow version")
    (first,) = versions(start)
    text = server.flow.read_text()
    server.flow.write_text(text.replace("Thank you for calling Bright Smile Dental, this",
                                        "Hello from the edited flow, this"))
    stat = server.flow.stat()
    os.utime(server.flow, (stat.st_atime + 5, stat.st_mtime + 5))
    server.wait_for(lambda h: versions(h) == {first + 1}, "every worker to reload")
    assert server.process is not None
    server.process.send_signal(signal.SIGHUP)
    server.wait_for(lambda h: versions(h) == {first + 2}, "SIGHUP to reach every worker")


def test_sigterm_drains_every_worker(server: ServeProcess) -> None:
    async def scenario() -> None:
        async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                   call_sid="CAdraining") as caller:
            await health_until(server, lambda h: h["active_calls"] == 1, "the call to start")
            assert server.process is not None
            server.process.send_signal(signal.SIGTERM)
            await health_until(server, lambda h: h["status"] == "draining" and not h["ready"],
                               "draining")
            for _ in range(6):  # whichever worker answers: not ready, no new calls
                ready = httpx.get(f"{server.url}/health/ready", timeout=5)
                assert ready.status_code == 503 and ready.json()["status"] == "draining"
                assert httpx.get(f"{server.url}/health/live", timeout=5).status_code == 200
            with pytest.raises(InvalidStatus):
                async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                           call_sid="CAtoolate") as late:
                    await late.wait_until(lambda c: c.closed, timeout=60)
            assert not caller.closed and await hears_more(caller)

    asyncio.run(scenario())
    assert server.process is not None
    assert server.process.wait(60) == 0, server.log()[-3000:]
