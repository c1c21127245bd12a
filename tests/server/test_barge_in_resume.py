"""Resume after clear through the real server and socket: a sound over the reply that lasts
like speech clears Twilio's buffer, no words follow, and the cut sentence is sent again
from its start; the reply is heard to its end and the history is whole. The barge-in gate
is driven with the VAD's reports (the fake STT has no VAD); waits are on conditions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundClear, OutboundMark, OutboundMedia
from tests.fakes.providers import silence, tone
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.test_server_calls import INSURANCE, the_call, until


@contextlib.asynccontextmanager
async def cleared_mid_reply(tmp_path: Path, call_sid: str,
                            replies: list[dict[str, Any]]) -> AsyncIterator[Any]:
    """A call whose reply is on the line when the caller makes 300 ms of sound: yields
    (stream, call, caller, index of the first message after the clear)."""
    async with running_server(tmp_path, transcripts=["Do you take my insurance?"]) as server:
        server.world.llm.extend(replies)
        async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                   call_sid=call_sid) as caller:
            await until(lambda: len(server.services.streams) == 1)
            (stream,) = server.services.streams
            call = the_call(server)
            await until(lambda: call.state == "listening")
            await caller.say(tone(0.6) + silence(0.4))
            await until(lambda: call.state == "speaking" and len(call.playback.heard) == 2)
            assert stream.barge_in is not None
            stream.barge_in.voice("onset")
            stream._stt_event("caller.speech_started", duration_ms=300)
            await until(lambda: any(isinstance(m, OutboundClear) for m in caller.received))
            yield stream, call, caller, len(caller.received)


def steps(stream: Any) -> list[str]:
    return [what.split(" ")[0] for _, what in stream.barge_in.log]


def test_a_mm_hm_after_the_clear_replays_the_cut_sentence_and_keeps_the_history(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with cleared_mid_reply(tmp_path, "CA300", [{"reply": INSURANCE}]) as (
                stream, call, caller, cut_at):
            stream._stt_event("caller.utterance", text="Mm-hm.", confidence=0.9)
            await until(lambda: call.state == "listening")
            heard = [s.text for s in call.playback.heard]
            assert " ".join(heard[1:]) == INSURANCE  # the whole reply, each sentence once
            replayed = [m.name for m in caller.received[cut_at:]
                        if isinstance(m, OutboundMark)]
            assert replayed and replayed[0] not in {s.speech_id for s in
                                                   call.playback.heard[:2]}
            assert steps(stream) == ["pause", "clear", "resume"]
            # The fake voice starts every sentence on the same frame: the replay starts
            # at the cut sentence's first frame, not at the first frame still unsent.
            media = [m.payload for m in caller.received if isinstance(m, OutboundMedia)]
            after = [m.payload for m in caller.received[cut_at:]
                     if isinstance(m, OutboundMedia)]
            assert after and after[0] == media[0]
            assert caller.errors == []

    asyncio.run(scenario())


def test_words_after_the_clear_confirm_it_and_the_history_keeps_only_what_was_heard(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        replies = [{"reply": INSURANCE}, {"reply": "Yes, Humana too."}]
        async with cleared_mid_reply(tmp_path, "CA301", replies) as (stream, call, caller, _):
            stream._stt_event("caller.utterance", text="Wait, do you take Humana?",
                              confidence=0.9)
            await until(lambda: "stop_speaking" in " ".join(
                e for entry in call.trace.entries for e in entry.effects))
            heard = " ".join(s.text for s in call.playback.heard[1:])
            assert heard and INSURANCE.startswith(heard) and heard != INSURANCE
            assert steps(stream) == ["pause", "clear", "confirm"]
            assert caller.errors == []

    asyncio.run(scenario())
