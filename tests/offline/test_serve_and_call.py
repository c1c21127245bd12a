"""`dialflow serve` and `dialflow call --url` work together as separate processes, with the
offline stack: a WAV question is answered, DTMF 0 asks for a human, the transfer cannot be
placed without Twilio credentials so a ticket is taken, and SIGTERM stops the server."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

import httpx
import numpy as np

from adapters.audio.mulaw import ulaw2lin
from adapters.local.tts import LocalPiperTts

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_question(path: Path) -> None:
    async def speak() -> bytes:
        voice = LocalPiperTts(steady=True)
        return b"".join([c async for c in voice.synthesize("Where are you located?")])

    pcm = ulaw2lin(asyncio.run(speak())).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.asarray(pcm).tobytes())


def test_serve_and_call_as_two_processes(tmp_path: Path) -> None:
    shutil.copy(ROOT / "flows.yaml", tmp_path / "flows.yaml")
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "knowledge.json", tmp_path / "data" / "knowledge.json")
    question = tmp_path / "question.wav"
    _write_question(question)
    db = tmp_path / "calls.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env.update({"TWILIO_AUTH_TOKEN": "serve-test-token", "PYTHONPATH": str(ROOT),
                "DIALFLOW_DATABASE_URL": f"sqlite:///{db}",
                "DIALFLOW_TTS_CACHE": str(tmp_path / "tts-cache")})
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "engine.app.cli", "serve", "--port", str(port),
                               "--flow", "flows.yaml"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.3)
        assert health["knowledge_ready"] and health["providers"]["stt"] == "local-whisper"
        call = subprocess.run(
            [sys.executable, "-m", "engine.app.cli", "call", "--url", f"http://127.0.0.1:{port}",
             "--auth-token", "serve-test-token", "--say", f"wav:{question}", "--say", "dtmf:0"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
        out = call.stdout
        assert call.returncode == 0, out + call.stderr
        assert "CALLER  [wav" in out and "CALLER  [dtmf 0]" in out
        assert "turn latency" in out
    finally:
        server.send_signal(signal.SIGTERM)
        logs = server.communicate(timeout=60)[0]
    assert server.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM), logs
    assert "providers" in logs and "local-whisper" in logs
    # The last transcript lines are synced before the process ends, SIGTERM or not.
    assert "shutdown: every transcript line is on disk" in logs, logs
    with sqlite3.connect(db) as con:
        tickets = con.execute("select reason from tickets").fetchall()
    assert len(tickets) == 1, (tickets, out, logs)
