"""CachedPrompts over the real ElevenLabs adapter and the fake server: the flow's prompts
are synthesized once, kept on disk by provider + voice + text, and served without a request."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import yaml
from speech_fakes import ScriptedTts

from adapters.elevenlabs.tts import ElevenLabsTts
from adapters.speech.audio_store import AudioStore
from adapters.speech.prompt_cache import CachedPrompts
from engine.media import FRAME_BYTES
from tests.fakes.elevenlabs_server import FakeElevenLabsServer
from tests.fakes.providers import ToneTts

ROOT = Path(__file__).resolve().parents[2]
PROMPTS: dict[str, str] = yaml.safe_load((ROOT / "flows.yaml").read_text())["prompts"]
GREETING = PROMPTS["greeting"]
MakeTts = Callable[..., ElevenLabsTts]


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


def speak(cache: CachedPrompts, text: str, call_id: str = "CA1") -> bytes:
    return b"".join(asyncio.run(collect(cache.synthesize(text, call_id=call_id))))


def test_warm_synthesizes_every_prompt_once_then_serves_them_in_frames(
        fake: FakeElevenLabsServer, make_tts: MakeTts, tmp_path: Path) -> None:
    cache = CachedPrompts(make_tts(), tmp_path, PROMPTS.values())

    asyncio.run(cache.warm())
    assert sorted(fake.texts()) == sorted(PROMPTS.values())
    assert len(list(tmp_path.glob("*.ulaw"))) == len(PROMPTS)

    chunks = asyncio.run(collect(cache.synthesize(GREETING, call_id="CA1")))
    assert len(fake.requests) == len(PROMPTS)  # no new request
    assert b"".join(chunks) == fake.audio_for(GREETING)
    assert all(len(c) == FRAME_BYTES for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= FRAME_BYTES


def test_a_prompt_is_synthesized_on_first_use_and_not_again(
        fake: FakeElevenLabsServer, make_tts: MakeTts, tmp_path: Path) -> None:
    cache = CachedPrompts(make_tts(), tmp_path, [GREETING])

    first = speak(cache, GREETING)
    second = speak(cache, "  " + GREETING.replace(" ", "\n  ", 3))  # same words, other spacing

    assert first == second == fake.audio_for(GREETING)
    assert fake.texts() == [GREETING]


def test_other_text_always_goes_to_the_provider_and_is_not_stored(
        fake: FakeElevenLabsServer, make_tts: MakeTts, tmp_path: Path) -> None:
    cache = CachedPrompts(make_tts(), tmp_path, PROMPTS.values())
    reply = "Your appointment is booked for Tuesday at ten."

    assert speak(cache, reply) == speak(cache, reply) == fake.audio_for(reply)
    assert fake.texts() == [reply, reply]
    assert list(tmp_path.iterdir()) == []


def test_warm_skips_prompts_already_on_disk(fake: FakeElevenLabsServer, make_tts: MakeTts,
                                            tmp_path: Path) -> None:
    asyncio.run(CachedPrompts(make_tts(), tmp_path, PROMPTS.values()).warm())
    fresh = CachedPrompts(make_tts(), tmp_path, PROMPTS.values())  # a new instance, cold memory

    asyncio.run(fresh.warm())

    assert speak(fresh, GREETING) == fake.audio_for(GREETING)
    assert len(fake.requests) == len(PROMPTS)


def test_the_cache_survives_a_new_process(fake: FakeElevenLabsServer, make_tts: MakeTts,
                                          tmp_path: Path) -> None:
    asyncio.run(CachedPrompts(make_tts(), tmp_path, [GREETING]).warm())
    script = textwrap.dedent(f"""
        import asyncio, hashlib, sys
        sys.path.insert(0, {str(ROOT)!r})
        from adapters.elevenlabs.tts import ElevenLabsTts
        from adapters.speech.prompt_cache import CachedPrompts
        tts = ElevenLabsTts(env={{"ELEVENLABS_API_KEY": {fake.api_key!r}}},
                            base_url={fake.base_url!r})
        cache = CachedPrompts(tts, {str(tmp_path)!r}, [{GREETING!r}])
        async def main():
            await cache.warm()
            return b"".join([c async for c in cache.synthesize({GREETING!r})])
        print(hashlib.sha256(asyncio.run(main())).hexdigest())
    """)

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True)

    assert out.stdout.strip() == hashlib.sha256(fake.audio_for(GREETING)).hexdigest()
    assert fake.texts() == [GREETING]  # only the first process asked ElevenLabs


def test_entries_are_keyed_by_provider_voice_and_text(fake: FakeElevenLabsServer,
                                                      make_tts: MakeTts, tmp_path: Path) -> None:
    def warm(inner: object, texts: list[str]) -> None:
        asyncio.run(CachedPrompts(inner, tmp_path, texts).warm())  # type: ignore[arg-type]

    warm(make_tts(voice_id="voice-a"), [GREETING])
    warm(make_tts(voice_id="voice-a"), [GREETING])  # hit
    warm(make_tts(voice_id="voice-b"), [GREETING])  # other voice
    warm(make_tts(voice_id="voice-a", model_id="eleven_turbo_v2_5"), [GREETING])  # other model
    warm(make_tts(voice_id="voice-a"), [PROMPTS["goodbye"]])  # other text
    other_provider = ScriptedTts("other", voice="voice-a/eleven_flash_v2_5")
    warm(other_provider, [GREETING])  # same voice string, other provider
    warm(other_provider, [GREETING])  # hit

    assert [(r.voice_id, r.model_id, r.text) for r in fake.requests] == [
        ("voice-a", "eleven_flash_v2_5", GREETING),
        ("voice-b", "eleven_flash_v2_5", GREETING),
        ("voice-a", "eleven_turbo_v2_5", GREETING),
        ("voice-a", "eleven_flash_v2_5", PROMPTS["goodbye"]),
    ]
    assert other_provider.texts == [GREETING]
    assert len(list(tmp_path.glob("*.ulaw"))) == 5


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [
    _truncate,
    _flip_last_byte,
    lambda path: path.write_bytes(b""),
    lambda path: path.write_bytes(b"not audio at all" * 40),
], ids=["truncated", "flipped-byte", "empty", "garbage"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(
        fake: FakeElevenLabsServer, make_tts: MakeTts, tmp_path: Path,
        damage: Callable[[Path], None]) -> None:
    cache = CachedPrompts(make_tts(), tmp_path, [GREETING])
    asyncio.run(cache.warm())
    key = cache.key_for(GREETING)
    damage(cache.store.path_for(key))

    fresh = CachedPrompts(make_tts(), tmp_path, [GREETING])
    assert speak(fresh, GREETING) == fake.audio_for(GREETING)

    assert fake.texts() == [GREETING, GREETING]  # synthesized again
    assert AudioStore(tmp_path).load(key) == fake.audio_for(GREETING)  # and stored intact


def test_warm_rebuilds_a_damaged_file(fake: FakeElevenLabsServer, make_tts: MakeTts,
                                      tmp_path: Path) -> None:
    cache = CachedPrompts(make_tts(), tmp_path, [GREETING])
    asyncio.run(cache.warm())
    _truncate(cache.store.path_for(cache.key_for(GREETING)))

    asyncio.run(CachedPrompts(make_tts(), tmp_path, [GREETING]).warm())

    assert fake.texts() == [GREETING, GREETING]
    assert AudioStore(tmp_path).load(cache.key_for(GREETING)) == fake.audio_for(GREETING)


def test_a_cancelled_first_synthesis_stores_nothing(fake: FakeElevenLabsServer,
                                                    make_tts: MakeTts, tmp_path: Path) -> None:
    hold = fake.hold_next(after_chunks=1)
    cache = CachedPrompts(make_tts(), tmp_path, [GREETING])

    async def barge_in() -> None:
        stream = cache.synthesize(GREETING, call_id="CA-barge")
        await anext(stream)
        await stream.aclose()

    asyncio.run(barge_in())
    assert hold.client_gone.wait(10)  # closing the cache's stream closed the HTTP stream
    assert list(tmp_path.iterdir()) == []  # no entry, no temp file

    assert speak(cache, GREETING) == fake.audio_for(GREETING)
    assert fake.texts() == [GREETING, GREETING]


def test_warm_survives_a_failing_prompt(fake: FakeElevenLabsServer, make_tts: MakeTts,
                                        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    texts = [PROMPTS["greeting"], PROMPTS["goodbye"], PROMPTS["transfer"]]
    fake.fail_next(500)
    cache = CachedPrompts(make_tts(max_retries=0), tmp_path, texts)

    asyncio.run(cache.warm())  # does not raise

    assert len(fake.requests) == 3
    assert len(list(tmp_path.glob("*.ulaw"))) == 2
    assert "not cached" in caplog.text
    for text in texts:
        assert speak(cache, text) == fake.audio_for(text)
    assert len(fake.requests) == 4  # only the failed prompt was asked for again


def test_a_disk_write_failure_does_not_break_the_prompt(
        fake: FakeElevenLabsServer, make_tts: MakeTts, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cache = CachedPrompts(make_tts(), tmp_path, [GREETING])

    def disk_full(key: str, audio: bytes) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.store, "save", disk_full)

    assert speak(cache, GREETING) == speak(cache, GREETING) == fake.audio_for(GREETING)
    assert fake.texts() == [GREETING]  # still cached in memory


def test_works_with_providers_that_take_no_call_id(tmp_path: Path) -> None:
    tone = ToneTts()
    cache = CachedPrompts(tone, tmp_path, [GREETING])

    asyncio.run(cache.warm())
    audio = speak(cache, GREETING)

    assert tone.spoken == [GREETING]
    assert len(audio) > 0
    assert cache.name == "fake-tone+prompt-cache"


def test_the_call_id_reaches_the_provider(tmp_path: Path) -> None:
    inner = ScriptedTts("scripted")
    cache = CachedPrompts(inner, tmp_path, [GREETING])

    speak(cache, GREETING, call_id="CA-prompt")
    speak(cache, "Something else.", call_id="CA-reply")

    assert [(c.text, c.call_id) for c in inner.calls] == [
        (GREETING, "CA-prompt"), ("Something else.", "CA-reply")]
