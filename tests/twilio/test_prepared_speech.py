"""A speculative reply's first sentences are synthesised ahead by the Twilio speaker: nothing
is queued for the caller until `say`, which then uses that audio (one synthesis, not two);
forgotten, the synthesis is cancelled and nothing was ever sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from adapters.twilio.bridge.prepared import MAX_PREPARED
from adapters.twilio.bridge.speaker import TwilioSpeaker


class Tts:
    name = "counting"

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.gate = asyncio.Event()  # the second half of each text waits for it

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        self.asked.append(text)
        yield b"\x01" * 160
        await self.gate.wait()
        yield b"\x02" * 160

    async def warm(self) -> None:
        return None


class Outbound:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def frames(self, ulaw: bytes) -> None:
        self.sent.extend(ulaw[i:i + 160] for i in range(0, len(ulaw), 160))

    def mark(self, name: str) -> None:
        self.sent.append(("mark", name))

    async def send_due(self) -> None:
        return None

    def clear(self) -> None:
        self.sent.clear()


def test_prepared_audio_is_sent_only_by_say_and_synthesised_once() -> None:
    async def main() -> tuple[list[str], list[Any], list[Any], list[float]]:
        tts, out, first = Tts(), Outbound(), []
        speaker = TwilioSpeaker(tts, out, "CA1", on_first_byte=first.append)  # type: ignore[arg-type]
        speaker.prepare("Sure.")
        for _ in range(5):
            await asyncio.sleep(0)
        before = list(out.sent)  # synthesised (half of it), not queued
        tts.gate.set()
        await speaker.say("s1", "Sure.")
        return tts.asked, before, out.sent, first

    asked, before, sent, first = asyncio.run(main())
    assert asked == ["Sure."] and before == []
    assert sent == [b"\x01" * 160, b"\x02" * 160, ("mark", "s1")]
    assert len(first) == 1  # the provider's time to first byte, reported once, at say


def test_forgotten_speech_is_cancelled_unsent_and_bounded() -> None:
    async def main() -> tuple[int, list[Any], list[bool]]:
        tts, out = Tts(), Outbound()
        speaker = TwilioSpeaker(tts, out, "CA1")  # type: ignore[arg-type]
        texts = [f"Sentence {i}." for i in range(MAX_PREPARED + 2)]
        for text in texts:
            speaker.prepare(text)
        await asyncio.sleep(0)
        kept = len(speaker.prepared)
        tasks = [p.task for p in speaker.prepared._texts.values()]
        speaker.forget_prepared()
        await asyncio.gather(*tasks, return_exceptions=True)
        tts.gate.set()
        await speaker.say("s1", texts[-1])  # synthesised afresh
        return kept, out.sent, [t.cancelled() for t in tasks]

    kept, sent, cancelled = asyncio.run(main())
    assert kept == MAX_PREPARED and all(cancelled)
    assert sent == [b"\x01" * 160, b"\x02" * 160, ("mark", "s1")]
