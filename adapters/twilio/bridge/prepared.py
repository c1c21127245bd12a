"""`PreparedSpeech`: sentences synthesised ahead, before anyone asked to say them.

A speculative reply (engine/turns/speculation.py) may have its first sentences synthesised
while the caller's turn is not yet committed. `prepare(text)` starts the TTS stream into
memory (at most `MAX_PREPARED` texts; the oldest goes beyond that); `take(text)` hands a
prepared text's audio to the speaker's `say` as an async iterator that yields what is there
and waits for the rest; `forget()` cancels and drops everything (the speculation was
dropped). Nothing here queues audio for the caller: only `say` does. Touches the TTS
provider and the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from engine.media import TtsProvider

log = logging.getLogger("dialflow.speaker")
MAX_PREPARED = 2


class Prepared:
    """One text's synthesis into memory, started at once."""

    def __init__(self, tts: TtsProvider, text: str, call_id: str) -> None:
        self.chunks: list[bytes] = []
        self.first_byte_s: float | None = None  # the provider's own time to first byte
        self.error: BaseException | None = None
        self.done = False
        self._changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(
            self._run(tts, text, call_id), name=f"{call_id}:prepare")

    async def _run(self, tts: TtsProvider, text: str, call_id: str) -> None:
        started = time.perf_counter()
        try:
            async for chunk in tts.synthesize(text, call_id=call_id):
                if self.first_byte_s is None:
                    self.first_byte_s = time.perf_counter() - started
                self.chunks.append(chunk)
                self._changed.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # say() raises it, as a live synthesis would
            self.error = exc
        finally:
            self.done = True
            self._changed.set()

    async def stream(self) -> AsyncIterator[bytes]:
        sent = 0
        while True:
            while sent < len(self.chunks):
                sent += 1
                yield self.chunks[sent - 1]
            if self.done:
                if self.error is not None:
                    raise self.error
                return
            self._changed.clear()
            await self._changed.wait()


class PreparedSpeech:
    """A speaker's texts synthesised ahead, by text."""

    def __init__(self, tts: TtsProvider, call_id: str) -> None:
        self.tts = tts
        self.call_id = call_id
        self._texts: OrderedDict[str, Prepared] = OrderedDict()

    def prepare(self, text: str) -> None:
        if text in self._texts:
            return
        self._texts[text] = Prepared(self.tts, text, self.call_id)
        while len(self._texts) > MAX_PREPARED:
            _, oldest = self._texts.popitem(last=False)
            oldest.task.cancel()

    def take(self, text: str) -> Prepared | None:
        """The prepared audio of `text`, now owned by the caller (None if not prepared)."""
        return self._texts.pop(text, None)

    def forget(self) -> None:
        for prepared in self._texts.values():
            prepared.task.cancel()
        self._texts.clear()

    def __len__(self) -> int:
        return len(self._texts)
