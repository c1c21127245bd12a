"""Live flow edits and graceful shutdown: a valid edit serves new calls, an invalid one is
refused while the old flow keeps serving, calls in progress keep their version, and SIGTERM
lets active calls finish while refusing new ones."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import httpx
import pytest
import uvicorn

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.signature import sign
from engine.app.commands.serve import DrainingServer
from engine.app.server.app import create_app
from engine.app.server.flow_source import FlowSource
from tests.server.harness import AUTH_TOKEN, ROOT, free_port, running_server
from tests.server.test_server_calls import the_call, until


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, (stat.st_atime + 5, stat.st_mtime + 5))  # a visibly newer mtime


def test_valid_edit_serves_new_calls_invalid_edit_is_refused(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    flow_file = tmp_path / "flows.yaml"
    original = (ROOT / "flows.yaml").read_text()
    flow_file.write_text(original)
    source = FlowSource(flow_file)
    first = source.current()
    assert first.flow.counters["reprompts"] == 2

    _write(flow_file, original.replace("reprompts: {max: 2}", "reprompts: {max: 3}"))
    assert source.reload()
    second = source.current()
    assert second is not first and second.flow.counters["reprompts"] == 3
    assert first.flow.counters["reprompts"] == 2  # a call on the first version keeps it

    caplog.set_level(logging.ERROR, logger="dialflow.flows")
    _write(flow_file, original.replace("agent.playback_done: listening",
                                       "agent.playback_done: nowhere"))
    assert not source.reload()
    assert source.current() is second and source.version == 2
    assert "transition to unknown state 'nowhere'" in source.last_error
    assert any("flow edit refused" in r.getMessage() for r in caplog.records)


def test_running_server_picks_up_an_edit_for_new_calls_only(tmp_path: Path) -> None:
    flow_file = tmp_path / "flows.yaml"
    original = (ROOT / "flows.yaml").read_text()
    flow_file.write_text(original)

    async def scenario() -> None:
        async with (running_server(tmp_path, flow=flow_file) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA-old") as old):
            await until(lambda: len(server.services.streams) == 1)
            old_call = the_call(server)
            _write(flow_file, original.replace("Thank you for calling {business.name}, this",
                                               "Hello from the edited flow, this"))
            await until(lambda: server.services.flows.version == 2)
            async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                       call_sid="CA-new") as new:
                await until(lambda: len(server.services.streams) == 2)
                calls = {s.call_id: s.call for s in server.services.streams}
                await until(lambda: any(t.startswith("Hello from the edited flow")
                                        for t in server.tts.spoken))
                assert calls["CA-new"].flow.prompts["greeting"].startswith("Hello from")
                assert old_call.flow.prompts["greeting"].startswith("Thank you for calling")
                assert not new.errors and not old.errors

    asyncio.run(scenario())


def test_sigterm_drains_active_calls_and_refuses_new_ones(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as harness:
            services = harness.services
            port = free_port()
            config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port,
                                    log_level="warning", ws_per_message_deflate=False)
            server = DrainingServer(config, services, drain=30)
            task = asyncio.get_running_loop().create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.01)
            url = f"ws://127.0.0.1:{port}/ws/media"
            caller = SimulatedCaller(url, auth_token=AUTH_TOKEN, call_sid="CA-active")
            await caller.connect()
            await until(lambda: len(services.streams) == 1)
            active = next(iter(services.streams)).call
            server.handle_exit(signal.SIGTERM, None)
            assert not services.accepting
            webhook = f"http://127.0.0.1:{port}/webhook/voice"
            form = {"CallSid": "CA-late", "From": "+15550002222"}
            async with httpx.AsyncClient() as client:
                late = await client.post(webhook, data=form, headers={
                    "X-Twilio-Signature": sign(AUTH_TOKEN, webhook, form)})
            assert late.status_code == 503
            await asyncio.sleep(0.3)
            assert not task.done() and not active.ended  # still serving the active call
            await caller.press("0")
            await until(lambda: active.ended)
            await caller.stop()
            await asyncio.wait_for(task, 60)  # the server exits once the call is over

    asyncio.run(scenario())
