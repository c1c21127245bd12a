"""`TwilioSpeaker`: the engine's `Speaker` port over a Twilio media stream.

Each `say` streams TTS audio into the paced outbound queue and ends with a mark named after
the speech id, so Twilio's echo of that mark tells the engine the caller heard it. Says are
spoken one after another in the order they were asked (a FIFO lock). A say cancelled
mid-sentence still closes its speech with a mark, because what was queued is played.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from adapters.twilio.bridge.outbound import OutboundAudio
from engine.audio_format import FRAME_BYTES, pad_frame
from engine.media import TtsProvider

log = logging.getLogger("dialflow.speaker")


class TwilioSpeaker:
    def __init__(self, tts: TtsProvider, outbound: OutboundAudio, call_id: str,
                 on_first_byte: Callable[[float], None] | None = None):
        self.tts = tts
        self.outbound = outbound
        self.call_id = call_id
        self._lock = asyncio.Lock()
        self._on_first_byte = on_first_byte
        self._generation = 0  # bumped by clear(): audio of an older say is dropped

    async def say(self, speech_id: str, text: str) -> None:
        async with self._lock:
            generation = self._generation
            started = time.perf_counter()
            rest = b""
            first = True
            try:
                async for chunk in self.tts.synthesize(text, call_id=self.call_id):
                    if first and self._on_first_byte:
                        self._on_first_byte(time.perf_counter() - started)
                    first = False
                    if generation != self._generation:
                        return
                    rest += chunk
                    whole = len(rest) - len(rest) % FRAME_BYTES
                    self.outbound.frames(rest[:whole])
                    rest = rest[whole:]
                    await self.outbound.send_due()
            finally:
                if generation == self._generation:
                    if rest:
                        self.outbound.frames(pad_frame(rest))
                    self.outbound.mark(speech_id)

    def clear(self) -> None:
        self._generation += 1
        self.outbound.clear()
