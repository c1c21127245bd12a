"""`TwilioSpeaker`: the engine's `Speaker` port over a Twilio media stream.

Each `say` streams TTS audio into the paced outbound queue and ends with a mark named after
the speech id, so Twilio's echo of that mark tells the engine the caller heard it. Says are
spoken one after another in the order they were asked (a FIFO lock). A say cancelled
mid-sentence still closes its speech with a mark, because what was queued is played. A
text `prepare`d ahead (a speculative reply's first sentences) is said from that audio.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from adapters.twilio.bridge.outbound import OutboundAudio
from adapters.twilio.bridge.prepared import PreparedSpeech
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
        self.prepared = PreparedSpeech(tts, call_id)  # a speculative reply's first sentences

    def prepare(self, text: str) -> None:
        """Synthesise `text` ahead into memory (a speculative reply); nothing is queued."""
        self.prepared.prepare(text)

    def forget_prepared(self) -> None:
        """The speculative reply was dropped: its audio goes unheard, unsent."""
        self.prepared.forget()

    async def say(self, speech_id: str, text: str) -> None:
        async with self._lock:
            generation = self._generation
            started = time.perf_counter()
            rest = b""
            first = True
            ahead = self.prepared.take(text)
            audio = (ahead.stream() if ahead is not None
                     else self.tts.synthesize(text, call_id=self.call_id))
            try:
                async for chunk in audio:
                    if first and self._on_first_byte:  # the provider's own time if ahead
                        self._on_first_byte((ahead.first_byte_s or 0.0) if ahead is not None
                                            else time.perf_counter() - started)
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
