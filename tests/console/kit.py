"""The console's test kit: a real server (uvicorn, the real app with the console mounted,
call records on) running on its own event loop in a thread while a test drives a browser
in the main thread; simulated Twilio calls that the test moves on step by step; and a
headless Chromium driven by Selenium through Debian's chromium-driver.

A missing browser fails the test with what to install (never a skip)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.twilio.caller import SimulatedCaller
from engine.call import Call
from engine.records.log import EventLogWriter
from tests.fakes.providers import silence, tone
from tests.records.kit import records_for, until
from tests.server.harness import AUTH_TOKEN, Running, running_server

TOKEN = "console-test-token-0123456789abcdef"
WINDOW = (1400, 1700)
CHROMIUM = ("chromium", "chromium-browser")
DRIVER = "chromedriver"
INSTALL = ("the console's browser tests need headless Chromium and its driver: install "
           "them with `sudo apt-get install chromium chromium-driver` (Debian/Ubuntu; .ci/run "
           "does this) and Selenium with `.venv/bin/pip install -e '.[dev]'`")
HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
LONG_REPLY = ("We accept most PPO plans. That includes Delta Dental, Cigna and Aetna, and "
              "several regional plans that many of our patients use every day. We also offer a "
              "membership plan for patients without any insurance at all, which covers two "
              "cleanings a year, x-rays and a discount on every other treatment we provide. "
              "If you tell me your plan I can check it for you right now.")


def chrome() -> Any:
    """A headless Chromium (Selenium WebDriver), or a test failure naming what to install."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"selenium is not installed: {INSTALL}")
    browser = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    driver = shutil.which(DRIVER) or ("/usr/bin/chromedriver"
                                      if Path("/usr/bin/chromedriver").exists() else None)
    if browser is None or driver is None:
        missing = "chromium" if browser is None else "chromium-driver"
        pytest.fail(f"{missing} is not installed: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WINDOW[0]},{WINDOW[1]}", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(driver))


class LiveServer:
    """The server on a loop of its own; `run(coro)` runs a coroutine there and waits."""

    def __init__(self, tmp: Path, flow: Path | None = None):
        self.tmp = tmp
        self.flow = flow
        self.loop = asyncio.new_event_loop()
        self.server: Running | None = None
        self.calls: dict[str, tuple[SimulatedCaller, Call]] = {}
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="console-server", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with running_server(self.tmp, flow=self.flow,
                                  records=records_for(self.tmp)) as server:
            server.tts.seconds_per_char = 0.02  # the long reply plays ~8 s: time to watch it
            self.server = server
            self._ready.set()
            await self._stop.wait()
            for caller, _ in self.calls.values():
                with contextlib.suppress(Exception):
                    await caller.stop()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the test server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.http_url

    @property
    def calls_dir(self) -> Path:
        return self.tmp / "data" / "calls"

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(coro,
                                                                                   self.loop)
        return future.result(timeout)

    # -- a call the test moves on ----------------------------------------------------------
    async def dial(self, sid: str, caller_number: str = "+15550001234") -> str:
        """Connect a simulated caller; return once its call listens."""
        server = self.server
        assert server is not None
        caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=sid,
                                 caller=caller_number)
        await caller.__aenter__()
        await until(lambda: any(s.call_id == sid and s.call for s in server.services.streams))
        call = next(s.call for s in server.services.streams if s.call_id == sid)
        assert call is not None
        await until(lambda: call.state == "listening")
        self.calls[sid] = (caller, call)
        return call.state

    async def ask(self, sid: str, question: str, reply: str) -> str:
        """The caller asks; returns once the agent is speaking its reply."""
        server = self.server
        assert server is not None
        caller, call = self.calls[sid]
        server.stt.transcripts.append(question)
        server.world.llm.append({"reply": reply})
        await caller.say(tone(0.6) + silence(0.4))
        await until(lambda: call.state == "speaking")
        return call.state

    async def heard(self, sid: str) -> str:
        """Returns once the caller has heard everything and the call listens again."""
        _, call = self.calls[sid]
        await until(lambda: call.state == "listening" and call.playback.idle)
        return call.state

    async def talk_over(self, sid: str) -> str:
        """The caller talks over the agent (a barge-in); returns once the call listens."""
        caller, call = self.calls[sid]
        await caller.say(tone(0.6), wait=False)
        await until(lambda: call.state == "listening")
        await caller.say(silence(0.3))
        return call.state

    async def hang_up(self, sid: str) -> str:
        caller, call = self.calls.pop(sid)
        await caller.stop()
        await until(lambda: call.ended)
        return call.state


@contextlib.contextmanager
def console_token(token: str = TOKEN) -> Iterator[None]:
    """`DIALFLOW_CONSOLE_TOKEN` set while the server's app is made."""
    before = os.environ.get("DIALFLOW_CONSOLE_TOKEN")
    os.environ["DIALFLOW_CONSOLE_TOKEN"] = token
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DIALFLOW_CONSOLE_TOKEN", None)
        else:
            os.environ["DIALFLOW_CONSOLE_TOKEN"] = before


def write_hostile_log(calls_dir: Path) -> str:
    """A recorded call whose id, caller, words and states are markup."""
    calls_dir.mkdir(parents=True, exist_ok=True)
    writer = EventLogWriter(calls_dir / "hostile-0123456789abcdef.jsonl.gz")
    for rec in [
        {"v": 1, "k": "call", "id": HOSTILE, "start": 1796176041.6, "flow": HOSTILE,
         "caller": HOSTILE, "flow_name": HOSTILE},
        {"k": "ev", "t": 0.0, "e": "call.started", "b": "", "a": HOSTILE},
        {"k": "ev", "t": 1.0, "e": "caller.utterance", "d": {"text": HOSTILE}, "b": HOSTILE,
         "a": "listening"},
        {"k": "say", "t": 1.1, "id": HOSTILE, "text": HOSTILE, "end": 1.2},
        {"k": "tool", "t": 1.3, "name": HOSTILE, "args": {HOSTILE: HOSTILE}, "ok": 0,
         "err": HOSTILE, "end": 1.4},
        {"k": "end", "t": 2.0, "state": HOSTILE}]:
        writer.write(rec)
    writer.close()
    return "hostile-0123456789abcdef"
