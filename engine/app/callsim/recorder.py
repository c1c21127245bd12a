"""`Recorder`: both sides of a simulated call as a stereo 8 kHz WAV (left caller, right
agent), sampled every 20 ms from what the caller sent and what its playback played."""

from __future__ import annotations

import asyncio
import contextlib
import wave
from pathlib import Path

import numpy as np

from adapters.audio.mulaw import ulaw2lin
from adapters.twilio.caller import SimulatedCaller

SILENCE = b"\xff"
TICK = 0.02


class Recorder:
    def __init__(self, caller: SimulatedCaller):
        self.caller = caller
        self.left = bytearray()
        self.right = bytearray()
        self._sent = 0
        self._heard = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.take()

    def take(self) -> None:
        sent = bytes(self.caller.sent_audio[self._sent:])
        heard = bytes(self.caller.heard[self._heard:])
        self._sent += len(sent)
        self._heard += len(heard)
        length = max(len(sent), len(heard))
        self.left += sent + SILENCE * (length - len(sent))
        self.right += heard + SILENCE * (length - len(heard))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.take()

    def save(self, path: str | Path) -> float:
        """Write the WAV; return its length in seconds."""
        left, right = ulaw2lin(bytes(self.left)), ulaw2lin(bytes(self.right))
        stereo = np.stack([left, right], axis=1).astype("<i2")
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(stereo.tobytes())
        return len(left) / 8000
