"""`dialflow serve` as a real subprocess for the deployment tests: a copy of the default flow
and knowledge base in a temp dir, its own database, prompt cache and transcripts, a free
port on 127.0.0.1, and helpers to read /health and /metrics."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.server.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "deploy-test-token"
# each worker warms whisper, piper, the VAD and the knowledge base: over 3 min at load 20 here
STARTUP_TIMEOUT = 600.0



@dataclass
class ServeProcess:
    workdir: Path
    workers: int
    drain: float = 30.0
    extra_env: dict[str, str] = field(default_factory=dict)
    flow_source: Path = ROOT / "flows.yaml"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/media"

    @property
    def flow(self) -> Path:
        return self.workdir / "flows.yaml"

    def start(self) -> ServeProcess:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        shutil.copy(self.flow_source, self.flow)
        shutil.copy(ROOT / "data" / "knowledge.json", self.workdir / "data" / "knowledge.json")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TWILIO_", "OPENAI_", "ANTHROPIC_", "DEEPGRAM_",
                                    "ELEVENLABS_", "PROMETHEUS_", "DIALFLOW_"))}
        env.update({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PYTHONPATH": str(ROOT),
                    "DIALFLOW_DATABASE_URL": f"sqlite:///{self.workdir / 'calls.db'}",
                    "DIALFLOW_TTS_CACHE": str(self.workdir / "tts-cache"),
                    "DIALFLOW_TRANSCRIPTS": str(self.workdir / "transcripts"),
                    **self.extra_env})
        log = (self.workdir / "serve.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.app.cli", "serve", "--port", str(self.port),
             "--workers", str(self.workers), "--drain", str(self.drain)],
            cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        log.close()
        return self

    def log(self) -> str:
        return (self.workdir / "serve.log").read_text(errors="replace")

    def health(self) -> dict:
        return httpx.get(f"{self.url}/health", timeout=5).json()

    def metric(self, name: str) -> float:
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{name} not in /metrics")

    def wait_for(self, predicate, what: str, timeout: float = STARTUP_TIMEOUT) -> dict:
        """Poll /health until `predicate(health)` holds; the body that satisfied it."""
        deadline = time.monotonic() + timeout
        last: dict | str = "no answer"
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()[-3000:]
            try:
                last = self.health()
                if predicate(last):
                    return last
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; last /health: {last}\n"
                             f"{self.log()[-3000:]}")

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.send_signal(signal.SIGTERM)  # the second one: stop at once
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextmanager
def two_workers(workdir: Path, flow_source: Path = ROOT / "flows.yaml") -> Iterator[ServeProcess]:
    """`dialflow serve --workers 2` in `workdir` (a copy of `flow_source`), once both workers
    serve; stopped after."""
    serve = ServeProcess(workdir, workers=2, flow_source=flow_source).start()
    try:
        serve.wait_for(lambda h: h["capacity"]["workers_serving"] == 2, "two workers serving")
        yield serve
    finally:
        serve.stop()
