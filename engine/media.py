"""The data plane's provider interfaces: speech-to-text sessions and text-to-speech streams.

Audio never reaches the state machine: an STT session turns the caller's 8 kHz mu-law frames
into coarse events (`caller.speech_started`, `caller.transcript`, `caller.utterance`,
`stt.error`) through `emit`; a TTS provider turns text into 8 kHz mu-law audio that the
telephony side sends in 20 ms frames (the format: `engine.audio_format`). Adapters
(Deepgram, ElevenLabs, the local whisper, piper and VAD stack, the test fakes) implement
these. Nothing here imports a provider.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from engine.audio_format import FRAME_BYTES, SAMPLE_RATE

__all__ = ["FRAME_BYTES", "SAMPLE_RATE", "Emit", "SttProvider", "SttSession", "TtsProvider"]

Emit = Callable[..., None]
"""`emit(event_name, **fields)`: queue an event on the call; safe to call from the loop only."""


class SttSession(Protocol):
    def feed(self, ulaw: bytes) -> None:
        """Caller audio, typically one 20 ms frame. Must not block the event loop: heavy
        work (a whisper transcription) goes to a thread and emits its result later."""

    async def close(self) -> None:
        """Hang-up: finish what was heard, release the connection or thread."""


class SttProvider(Protocol):
    name: str

    def open(self, call_id: str, emit: Emit) -> SttSession:
        """Start recognising one call's audio."""

    async def warm(self) -> None:
        """Load models or open pools before the first call (no-op for cloud providers)."""


class TtsProvider(Protocol):
    name: str

    def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        """Stream `text` as 8 kHz mu-law audio, in chunks of any size, first chunk as early
        as possible. Cancelling the iteration stops synthesis (barge-in). `call_id` is for
        the provider's logs."""

    async def warm(self) -> None:
        """Load models before the first call."""


def describe(provider: Any) -> str:
    return str(getattr(provider, "name", type(provider).__name__))
