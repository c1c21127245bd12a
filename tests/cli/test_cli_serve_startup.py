"""`dialflow serve` start-up: a cloud provider that cannot be reached while warming gives one
clear line and a non-zero exit, never a traceback; `--help` says what serve needs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def dialflow(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine.app.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_unreachable_cloud_embeddings_stop_start_up_with_one_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "flows.yaml", tmp_path / "flows.yaml")
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("_API_KEY") and not k.startswith(("TWILIO_", "DIALFLOW_"))}
    env.update(
        PYTHONPATH=str(ROOT), TWILIO_AUTH_TOKEN="test-token", OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=f"http://127.0.0.1:{closed_port()}/v1",
        DIALFLOW_TRANSCRIPTS=str(tmp_path / "transcripts"),
        DIALFLOW_TTS_CACHE=str(tmp_path / "tts-cache"),
    )
    done = dialflow("serve", "--port", str(closed_port()), "--flow", "flows.yaml", env=env,
                    cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("dialflow serve:")]
    assert len(errors) == 1, done.stderr
    assert "could not warm" in errors[0] and "EmbeddingError" in errors[0]
    assert "--verbose" in errors[0]
    assert "WARNING dialflow.serve" not in done.stderr  # start-up progress is INFO


def test_serve_help_says_it_needs_the_twilio_auth_token() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    top = dialflow("--help", env=env, cwd=ROOT)
    serve = dialflow("serve", "--help", env=env, cwd=ROOT)
    assert top.returncode == 0 and serve.returncode == 0
    line = next(line for line in top.stdout.splitlines() if line.strip().startswith("serve"))
    assert "TWILIO_AUTH_TOKEN" in line
    assert "TWILIO_AUTH_TOKEN" in serve.stdout and "required" in serve.stdout
