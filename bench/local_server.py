"""What the offline benches share to run `dialflow serve` in their own process: an
environment with no cloud keys, the per-stage latency recorder, and a uvicorn server on an
ephemeral 127.0.0.1 port. Used by offline_bench, turn_bench and conversation_bench."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CLOUD_PREFIXES = ("TWILIO_", "ANTHROPIC", "OPENAI", "DEEPGRAM", "ELEVENLABS")


def offline_env(environ: Mapping[str, str], tmp: Path) -> tuple[dict[str, str], str]:
    """`environ` without any cloud key, with a fresh Twilio token and a TTS cache in `tmp`;
    returns the environment and the token the simulated callers sign with."""
    token = secrets.token_hex(8)
    env = {k: v for k, v in environ.items() if not k.startswith(CLOUD_PREFIXES)}
    env["TWILIO_AUTH_TOKEN"] = token
    env["DIALFLOW_TTS_CACHE"] = str(tmp / "tts-cache")
    return env, token


def record_stages(services: Any) -> dict[str, list[float]]:
    """Every latency stage the server records, also kept in the returned lists."""
    stages: dict[str, list[float]] = defaultdict(list)
    record = services.metrics.stage

    def stage(name: str, seconds: float) -> None:
        stages[name].append(seconds)
        record(name, seconds)

    services.metrics.stage = stage
    return stages


class LocalServer:
    """`create_app(services)` served by uvicorn on 127.0.0.1 for the length of a bench."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.base = ""
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LocalServer:
        import uvicorn

        from engine.app.server.app import create_app
        from engine.app.server.bootstrap import warm

        await warm(self.services)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(
            create_app(self.services), host="127.0.0.1", port=port, log_level="error",
            ws_per_message_deflate=False))
        self._task = asyncio.get_running_loop().create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
