"""`LocalPiperTts`: the offline `TtsProvider` (piper in a worker, 8 kHz mu-law out).

`synthesize(text)` splits the text into sentences and clauses (`clauses`) and renders them
one at a time in the shared tts worker pool: piper's 22050 Hz int16 audio goes through one
`Resampler` per synthesis (so pieces join without clicks) and `lin2ulaw`. The next piece is
rendered while the current one is being consumed. The pool is shared by every call, so each
piece says when it is needed (a pool with `submit_by`, `adapters.local.deadline`): the first
piece now, a later one when the audio before it would have played out from the first byte;
other calls' first pieces go ahead of a piece that nobody will hear for seconds. A piece
rendered before (by any call of the process, same voice and settings) comes from the
bounded `ClauseCache` at once, without piper or a place in the queue; only complete renders
are kept. Cancelling or closing the iterator (a barge-in) sets a stop flag that the worker
checks between piper chunks and drops the piece not yet started; only the piece being
consumed and the next one are ever asked for.
Touches the event loop, the tts worker pool, the shared piper voice and the clause cache.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from adapters.audio.mulaw import Resampler, lin2ulaw
from adapters.local import models, workers
from adapters.local.clause_cache import ClauseCache, ClauseKey
from adapters.local.clauses import split_clauses
from engine.audio_format import SAMPLE_RATE
from flows.model import Settings

if TYPE_CHECKING:
    from piper import SynthesisConfig

log = logging.getLogger("dialflow.local.tts")

VOLUME = 0.9  # piper normalises each piece to full scale; leave headroom for the resampler
CLAUSES = ClauseCache()  # the process's rendered clauses, shared by every call


class LocalPiperTts:
    """Offline text-to-speech: piper's en_US joe voice, resampled to 8 kHz mu-law.

    Piper samples noise for its prosody, so the same text sounds a little different each
    time; `steady=True` turns that off, for a simulated caller whose words must reach the
    recogniser the same way on every run."""

    name = "local-piper"

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], **_: Any) -> LocalPiperTts:
        """The provider convention (engine.providers): offline, nothing to read."""
        return cls()

    def __init__(self, executor: Executor | None = None, volume: float = VOLUME,
                 steady: bool = False, cache: ClauseCache = CLAUSES) -> None:
        self._executor = executor
        self.volume = volume
        self.steady = steady
        self.cache = cache

    @property
    def executor(self) -> Executor:
        return self._executor or workers.tts_executor()

    async def warm(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, models.warm_piper)

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        """Stream `text` as 8 kHz mu-law, one chunk per sentence or clause."""
        pieces = split_clauses(text)
        if not pieces:
            return
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        render = _Renderer(self.volume, stop, self.steady, self.cache)
        pending = self._render(loop, time.monotonic(), render, pieces[0])
        played_out = 0.0  # when the audio yielded so far ends, played from its first byte
        try:
            for index in range(len(pieces)):
                audio = await pending
                now = time.monotonic()
                played_out = max(played_out, now) + len(audio) / SAMPLE_RATE
                if index + 1 < len(pieces):
                    pending = self._render(loop, played_out, render, pieces[index + 1])
                if audio:
                    yield audio
        finally:
            stop.set()
            if not pending.done():
                pending.cancel()
                log.debug("call %s: synthesis stopped early", call_id)
            elif not pending.cancelled():
                pending.exception()  # an unconsumed piece's failure is not worth a warning

    def _render(self, loop: asyncio.AbstractEventLoop, deadline: float, render: _Renderer,
                piece: str) -> asyncio.Future[bytes]:
        """Render `piece` in the pool, needed by `deadline` (monotonic) if the pool orders;
        a cached piece is there at once."""
        audio = self.cache.get(render.key(piece))
        if audio is not None:
            done: asyncio.Future[bytes] = loop.create_future()
            done.set_result(audio)
            return done
        submit_by = getattr(self.executor, "submit_by", None)
        if submit_by is None:
            return loop.run_in_executor(self.executor, render, piece)
        return asyncio.wrap_future(submit_by(deadline, render, piece), loop=loop)


class _Renderer:
    """Renders the pieces of one synthesis, in order, in a worker thread."""

    def __init__(self, volume: float, stop: threading.Event, steady: bool = False,
                 cache: ClauseCache | None = None) -> None:
        self._stop = stop
        self._volume = volume
        self._steady = steady
        self._cache = cache
        self._resampler: Resampler | None = None
        self._config: SynthesisConfig | None = None

    def key(self, piece: str) -> ClauseKey:
        """What the piece's audio depends on (`ClauseCache`)."""
        return ClauseKey(models.PIPER_VOICE, piece, self._volume, self._steady, SAMPLE_RATE)

    def __call__(self, piece: str) -> bytes:
        if self._stop.is_set():
            return b""
        voice = models.piper_voice()
        if self._resampler is None or self._config is None:
            from piper import SynthesisConfig

            self._resampler = Resampler(voice.config.sample_rate, SAMPLE_RATE)
            noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if self._steady else {}
            self._config = SynthesisConfig(volume=self._volume, **noise)
        out: list[bytes] = []
        for chunk in voice.synthesize(piece, syn_config=self._config):
            if self._stop.is_set():
                return b"".join(out)  # cut short: not worth keeping
            out.append(lin2ulaw(self._resampler.process(chunk.audio_int16_array)))
        audio = b"".join(out)
        if self._cache is not None:
            self._cache.put(self.key(piece), audio)
        return audio
