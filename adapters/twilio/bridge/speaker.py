"""`TwilioSpeaker`: the engine's `Speaker` port over a Twilio media stream.

Each `say` streams TTS audio into the paced outbound queue and ends with a mark named after
the speech id, so Twilio's echo of that mark tells the engine the caller heard it. Says are
spoken one after another in the order they were asked (a FIFO lock). A say cancelled
mid-sentence still closes its speech with a mark, because what was queued is played. A
text `prepare`d ahead (a speculative reply's first sentences) is said from that audio.

`hold(music)` loops hold audio (a warm transfer's music) as the sender's background, about
one second ahead, with no marks (nothing in it was "said"): it plays only while no speech is
queued. `stop_hold()` ends it at once: the music not sent is dropped and Twilio is told to
`clear` the music it buffered, never the speech queued. A `say` or `clear` stops it too, so
the flow's next words are never mixed with the music.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from adapters.audio.hold import HoldMusicError, default_chime, hold_audio
from adapters.twilio.bridge.outbound import FRAME_SECONDS, OutboundAudio
from adapters.twilio.bridge.prepared import PreparedSpeech
from engine.audio_format import FRAME_BYTES, pad_frame
from engine.media import TtsProvider

log = logging.getLogger("dialflow.speaker")
HOLD_AHEAD_FRAMES = 50  # one second of hold audio queued ahead of playback


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
        self._hold: asyncio.Task[None] | None = None

    def prepare(self, text: str) -> None:
        """Synthesise `text` ahead into memory (a speculative reply); nothing is queued."""
        self.prepared.prepare(text)

    def forget_prepared(self) -> None:
        """The speculative reply was dropped: its audio goes unheard, unsent."""
        self.prepared.forget()

    @property
    def holding(self) -> bool:
        return self._hold is not None

    def hold(self, music: str) -> None:
        """Loop the hold audio (`music`: a checked WAV path, '' for the default chime) until
        `stop_hold`, a `say` or a `clear`. The file is decoded in a worker thread the first
        time (a long track must not stall other calls); one that no longer decodes: the
        chime."""
        self.stop_hold()
        self._hold = asyncio.get_running_loop().create_task(self._loop(music),
                                                            name="hold_music")

    def stop_hold(self) -> bool:
        """End the hold audio now; True if it was playing."""
        task, self._hold = self._hold, None
        if task is None:
            return False
        task.cancel()
        self.outbound.stop_background()
        return True

    async def _loop(self, music: str) -> None:
        try:
            audio = await asyncio.to_thread(hold_audio, music)
        except HoldMusicError as exc:
            log.warning("call %s: %s; playing the default chime", self.call_id, exc)
            audio = default_chime()
        ahead = HOLD_AHEAD_FRAMES * FRAME_BYTES
        offset = 0
        while not self.outbound.gone:  # a closed socket: nothing more to play into
            while self.outbound.background_pending < HOLD_AHEAD_FRAMES:
                piece = audio[offset:offset + ahead]
                offset = (offset + len(piece)) % len(audio)
                self.outbound.background(piece)
                if self.outbound.gone:
                    return
            await asyncio.sleep(HOLD_AHEAD_FRAMES * FRAME_SECONDS / 2)

    async def say(self, speech_id: str, text: str) -> None:
        self.stop_hold()
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
        self.stop_hold()
        self._generation += 1
        self.outbound.clear()
