"""One whole call with every cloud part real but local: the server (uvicorn, Media Streams),
the real deepgram, anthropic, elevenlabs and twilio SDKs pointed at fake Deepgram, Anthropic,
ElevenLabs and Twilio REST servers on 127.0.0.1, and the simulated Twilio caller.

It also shows the streaming order: the first sentence's audio reaches Twilio while the LLM
is still holding back the rest of its reply."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundMedia
from tests.cloud.harness import AUTH, Cloud, cloud_server
from tests.fakes.anthropic_server import Gate, Reply
from tests.fakes.deepgram_server import Cue, SpeechStarted, Words
from tests.fakes.twilio_webhooks import OUR_NUMBER, answer_whisper
from tests.waiting import until

FIRST = "We're open until three on Fridays."
SECOND = "Is there anything else I can help with?"
QUESTION = "What time do you close on Friday?"


def media_count(caller: SimulatedCaller) -> int:
    return sum(1 for m in caller.received if isinstance(m, OutboundMedia))


def test_whole_call_through_all_four_cloud_fakes(tmp_path: Path) -> None:
    release = threading.Event()
    # The caller's microphone streams from the start (8000 bytes a second): the question
    # "is spoken" from 2.5 s to 3.0 s of audio, after the greeting has played.
    script = [Cue(20_000, SpeechStarted()),
              Cue(22_400, Words("What time", is_final=False)),
              Cue(24_000, Words(QUESTION, confidence=0.97, is_final=True, speech_final=True))]

    async def scenario() -> None:
        async with cloud_server(tmp_path, script, calls=("CA900",)) as cloud:
            cloud.claude.script(Reply(FIRST + " ", Gate(release), SECOND))
            await converse(cloud, release)

    asyncio.run(scenario())


async def converse(cloud: Cloud, release: threading.Event) -> None:
    services, claude, eleven = cloud.services, cloud.claude, cloud.eleven
    deepgram, rest = cloud.deepgram, cloud.rest
    async with SimulatedCaller(cloud.ws_url, auth_token=AUTH, call_sid="CA900",
                               custom_parameters={"called": OUR_NUMBER}) as caller:
        await until(lambda: len(services.streams) == 1)
        call = next(iter(services.streams)).call
        assert call is not None
        await until(lambda: call.state == "listening")  # the greeting's mark came back
        await until(lambda: len(claude.requests) == 1)
        # The LLM is holding back its second sentence; the first is already audio at Twilio.
        before = media_count(caller)
        await until(lambda: media_count(caller) > before + 5)
        assert not release.is_set() and claude.finished == 0
        assert call.state == "speaking"
        release.set()
        await until(lambda: call.state == "listening")
        spoken = [r.text for r in eleven.requests]
        assert spoken[0].startswith("Thank you for calling")
        assert spoken[1:3] == [FIRST, SECOND]
        body = claude.bodies[0]
        assert QUESTION in str(body["messages"][-1])
        assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
        # Caller audio reached Deepgram as Twilio's mu-law, byte for byte.
        assert bytes(deepgram.connections[0].audio[:1600]) == bytes(caller.sent_audio[:1600])
        await caller.press("0")
        await until(lambda: bool(rest.placed))  # the human's phone rings
        await answer_whisper(f"http://127.0.0.1:{cloud.port}", "CA900", AUTH)  # warm transfer
        await until(lambda: call.ended)
        assert call.state == "transferred"
        assert call.timeline.turns == 1
        assert list(call.timeline.last) == ["caller_done", "final_transcript", "retrieval",
                                            "llm_first_token", "first_sentence",
                                            "tts_first_byte", "first_frame", "first_mark"]
        assert caller.errors == []
