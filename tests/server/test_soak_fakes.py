"""The soak bench's fakes keep nothing of a call after it (the test fakes keep every text
and session for tests to read, which over a soak is growth that is not the server's)."""

from __future__ import annotations

import asyncio
import gc
import weakref

from bench.soak_bench import soak_stt, soak_tts


def test_the_soak_tts_keeps_no_call_s_texts() -> None:
    tts = soak_tts()

    async def speak(n: int) -> None:
        for i in range(n):
            async for _ in tts.synthesize(f"Thank you for calling, caller {i}."):
                pass

    asyncio.run(speak(50))
    assert len(tts.spoken) <= 8


def test_the_soak_stt_keeps_no_session() -> None:
    stt = soak_stt()
    session = stt.open("call-1", lambda *a: None)
    gone = weakref.ref(session)
    del session
    gc.collect()
    assert gone() is None


def test_the_soak_stt_hears_the_same_words_for_ever_without_storing_them() -> None:
    stt = soak_stt()
    assert [stt.transcripts.popleft() for _ in range(3)] == ["Do you have anything for me?"] * 3
    assert stt.transcripts
