"""A live reload tells the truth: it checks what a fresh `dialflow serve` would and applies
all of it to new calls or refuses it and keeps the old flow; parsing runs in a thread so
calls keep their events and timers meanwhile; the watcher survives its own errors; and
/health shows the version in use and the last refusal."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import engine.app.server.flow_source as flow_source_module
from engine.app.server.bootstrap import build_services
from engine.app.server.flow_source import FlowSource
from engine.call import Call
from engine.machine import FlowMachine
from engine.providers import ProviderError
from engine.scripts.fakes import FakeWorld
from flows import load_flow
from tests.fakes.providers import EnergyStt, ToneTts
from tests.flows_yaml.test_hostile_yaml import laughs
from tests.server.harness import ROOT, running_server
from tests.server.test_flow_reload_and_drain import _write
from tests.server.test_server_calls import until
from tools.storage import Storage

ORIGINAL = (ROOT / "tests" / "scripts_format" / "flows.yaml").read_text(encoding="utf-8")
TICKING = """
name: a call that only waits for timers
initial: waiting
states:
  waiting:
    timeout: {after: 20ms, event: timer.silence}
    on: {timer.silence: waiting_more, call.hangup: done}
  waiting_more:
    timeout: {after: 20ms, event: timer.silence}
    on: {timer.silence: done, call.hangup: done}
  done: {final: true}
"""


def test_parsing_runs_off_the_loop_while_calls_keep_going(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow_file = tmp_path / "flows.yaml"
    flow_file.write_text(ORIGINAL)
    source = FlowSource(flow_file)
    parsing, release = threading.Event(), threading.Event()
    real_load = flow_source_module.load_flow

    def slow_load(path: Path) -> Any:  # a parse that takes as long as the test wants
        parsing.set()
        release.wait(timeout=60)  # a safety net: the test releases it
        return real_load(path)

    monkeypatch.setattr(flow_source_module, "load_flow", slow_load)
    monkeypatch.setattr(flow_source_module, "POLL_SECONDS", 0.02)

    async def scenario() -> None:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call = Call(FlowMachine(load_flow_text_file(tmp_path, TICKING)), world.ports())
        source.start()
        _write(flow_file, ORIGINAL.replace("reprompts: {max: 2}", "reprompts: {max: 3}"))
        await until(parsing.is_set)
        consumer = asyncio.get_running_loop().create_task(call.run())
        call.post("call.started")
        await until(lambda: call.ended)  # two timers fired while the file was being parsed
        assert call.state == "done" and not release.is_set() and source.version == 1
        release.set()
        await until(lambda: source.version == 2)
        assert source.current().flow.counters["reprompts"] == 3
        await consumer
        await source.stop()

    asyncio.run(scenario())


def load_flow_text_file(folder: Path, text: str) -> Any:
    path = folder / "ticking.yaml"
    path.write_text(text)
    return load_flow(path)


def test_a_hostile_edit_is_refused_and_health_shows_it(tmp_path: Path) -> None:
    flow_file = tmp_path / "flows.yaml"
    flow_file.write_text(ORIGINAL)

    async def scenario() -> None:
        async with running_server(tmp_path, flow=flow_file) as server:
            flows = server.services.flows
            first = flows.current()
            _write(flow_file, laughs(8))
            await until(lambda: flows.last_refusal is not None)
            assert flows.current() is first and flows.version == 1
            async with httpx.AsyncClient() as client:
                health = (await client.get(f"{server.http_url}/health")).json()["flow"]
            assert health["version"] == 1
            assert "expands to more than 100,000 values" in health["last_refusal"]["error"]
            assert health["last_refusal"]["serving_version"] == 1
            assert health["last_error"] == health["last_refusal"]["error"]
            served = health["sha256"]

            _write(flow_file, ORIGINAL.replace("reprompts: {max: 2}", "reprompts: {max: 3}"))
            await until(lambda: flows.version == 2)
            async with httpx.AsyncClient() as client:
                health = (await client.get(f"{server.http_url}/health")).json()["flow"]
            assert health["version"] == 2 and health["last_error"] == ""
            assert health["sha256"] != served and len(health["sha256"]) == 16
            assert "expands to more than" in health["last_refusal"]["error"]  # kept

    asyncio.run(scenario())


def test_the_watcher_logs_its_errors_and_keeps_watching(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    flow_file = tmp_path / "flows.yaml"
    flow_file.write_text(ORIGINAL)
    source = FlowSource(flow_file)
    monkeypatch.setattr(flow_source_module, "POLL_SECONDS", 0.02)
    failures = iter([RuntimeError("disk on fire"), RuntimeError("still on fire")])
    real_reload = source.reload_async

    async def flaky_reload() -> bool:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return await real_reload()

    monkeypatch.setattr(source, "reload_async", flaky_reload)
    caplog.set_level(logging.ERROR, logger="dialflow.flows")

    async def scenario() -> None:
        source.start()
        _write(flow_file, ORIGINAL.replace("reprompts: {max: 2}", "reprompts: {max: 3}"))
        await until(lambda: source.version == 2)
        assert source._task is not None and not source._task.done()
        await source.stop()

    asyncio.run(scenario())
    logged = [r for r in caplog.records if "flow watcher" in r.getMessage()]
    assert len(logged) == 2 and logged[0].exc_info is not None
    assert "still serving version 1 and watching" in logged[0].getMessage()


class StubRetriever:
    def search(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


@pytest.fixture
def served(tmp_path: Path) -> Callable[[str], tuple[Any, Path]]:
    """`build_services` as serve runs it (a Claude brain, since its key is set), with fake
    speech; returns the services and the flow file to edit."""
    def build(text: str = ORIGINAL) -> tuple[Any, Path]:
        flow_file = tmp_path / "flows.yaml"
        flow_file.write_text(text)
        env = {"ANTHROPIC_API_KEY": "test-key", "TWILIO_AUTH_TOKEN": "test-token",
               "DIALFLOW_TRANSCRIPTS": str(tmp_path / "t")}
        services = build_services(flow_file, env=env, stt=EnergyStt(), tts=ToneTts(),
                                  retriever=StubRetriever(),
                                  storage=Storage(f"sqlite:///{tmp_path / 'd.db'}"))
        return services, flow_file
    return build


def test_a_new_system_prompt_reaches_new_calls(served: Callable[..., Any]) -> None:
    services, flow_file = served()
    old_brain = services.brain
    assert "friendly virtual receptionist" in old_brain.system
    _write(flow_file, ORIGINAL.replace("You are the friendly virtual receptionist",
                                       "You are the terse night-shift receptionist"))
    assert services.flows.reload()
    assert services.brain is not old_brain
    assert "terse night-shift receptionist" in services.brain.system
    assert "friendly virtual receptionist" in old_brain.system  # calls in progress keep it


HTTP_CLASH = ORIGINAL.replace("\nstates:\n", """
http_tools:
  - name: book_appointment
    description: Books through the clinic's other system.
    url: http://127.0.0.1:9/book
    method: POST
    parameters: {type: object, properties: {}}

states:
""", 1)
REFUSED = [
    ("provider_key_missing", ORIGINAL.replace("provider: auto              # anthropic",
                                              "provider: openai            # anthropic"),
     "OPENAI_API_KEY is not set"),
    ("http_tool_clash", HTTP_CLASH, "book_appointment"),
    ("voice_change", ORIGINAL.replace("provider: auto              # elevenlabs",
                                      "voice: en_GB-alan\n    provider: auto  # elevenlabs"),
     "settings.tts changed"),
]


@pytest.mark.parametrize(("edited", "words"), [(e, w) for _, e, w in REFUSED],
                         ids=[n for n, _, _ in REFUSED])
def test_an_edit_a_fresh_serve_would_not_run_as_is_is_refused(
        served: Callable[..., Any], edited: str, words: str) -> None:
    assert edited != ORIGINAL
    services, flow_file = served()
    first, brain, registry = services.flows.current(), services.brain, services.registry
    _write(flow_file, edited)
    assert not services.flows.reload()
    assert words in services.flows.last_error
    assert services.flows.current() is first and services.flows.version == 1
    assert services.brain is brain and services.registry is registry
    assert services.flows.last_refusal["serving_version"] == 1


def test_serve_itself_refuses_the_same_edits(served: Callable[..., Any]) -> None:
    with pytest.raises(ProviderError, match="OPENAI_API_KEY is not set"):
        served(REFUSED[0][1])
    with pytest.raises(ValueError, match="book_appointment"):
        served(HTTP_CLASH)


def test_sighup_wakes_the_watcher_which_reloads_off_the_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow_file = tmp_path / "flows.yaml"
    flow_file.write_text(ORIGINAL)
    source = FlowSource(flow_file)
    monkeypatch.setattr(flow_source_module, "POLL_SECONDS", 3600.0)  # only SIGHUP wakes it
    threads: list[str] = []
    real_prepare = source._prepare

    def recording_prepare() -> Any:
        threads.append(threading.current_thread().name)
        return real_prepare()

    monkeypatch.setattr(source, "_prepare", recording_prepare)

    async def scenario() -> None:
        source.start()
        await asyncio.sleep(0.05)
        handler = signal.getsignal(signal.SIGHUP)
        assert handler not in (signal.SIG_DFL, signal.SIG_IGN, None)  # else SIGHUP would kill
        flow_file.write_text(ORIGINAL.replace("reprompts: {max: 2}", "reprompts: {max: 3}"))
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: source.version == 2)
        await source.stop()

    asyncio.run(scenario())
    assert threads and threads[0] != threading.main_thread().name
