"""Resume after clear through the real server and socket: a sound over the reply that lasts
like speech clears Twilio's buffer, no words follow, and the cut sentence is sent again
from its start; the reply is heard to its end and the history is whole. The barge-in gate
is driven with the VAD's reports (the fake STT has no VAD); waits are on conditions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundClear, OutboundMark, OutboundMedia
from tests.fakes.providers import silence, tone
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.test_server_calls import INSURANCE, the_call, until


def test_a_mm_hm_after_the_clear_replays_the_cut_sentence_and_keeps_the_history(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, transcripts=["Do you take my insurance?"]) as server:
            server.world.llm.append({"reply": INSURANCE})
            async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                       call_sid="CA300") as caller:
                await until(lambda: len(server.services.streams) == 1)
                (stream,) = server.services.streams
                call = the_call(server)
                await until(lambda: call.state == "listening")
                await caller.say(tone(0.6) + silence(0.4))
                await until(lambda: call.state == "speaking" and len(call.playback.heard) == 2)
                gate = stream.barge_in
                assert gate is not None
                gate.voice("onset")
                stream._stt_event("caller.speech_started", duration_ms=300)
                await until(lambda: any(isinstance(m, OutboundClear) for m in caller.received))
                cut_at = len(caller.received)
                stream._stt_event("caller.utterance", text="Mm-hm.", confidence=0.9)
                await until(lambda: call.state == "listening")
                heard = [s.text for s in call.playback.heard]
                assert " ".join(heard[1:]) == INSURANCE  # the whole reply, each sentence once
                replayed = [m.name for m in caller.received[cut_at:]
                            if isinstance(m, OutboundMark)]
                assert replayed and replayed[0] not in {s.speech_id for s in
                                                       call.playback.heard[:2]}
                assert [what.split(" ")[0] for _, what in gate.log] == ["pause", "clear",
                                                                        "resume"]
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
        async with running_server(tmp_path, transcripts=["Do you take my insurance?"]) as server:
            server.world.llm.extend([{"reply": INSURANCE}, {"reply": "Yes, Humana too."}])
            async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                       call_sid="CA301") as caller:
                await until(lambda: len(server.services.streams) == 1)
                (stream,) = server.services.streams
                call = the_call(server)
                await until(lambda: call.state == "listening")
                await caller.say(tone(0.6) + silence(0.4))
                await until(lambda: call.state == "speaking" and len(call.playback.heard) == 2)
                gate = stream.barge_in
                assert gate is not None
                gate.voice("onset")
                stream._stt_event("caller.speech_started", duration_ms=300)
                await until(lambda: any(isinstance(m, OutboundClear) for m in caller.received))
                stream._stt_event("caller.utterance", text="Wait, do you take Humana?",
                                  confidence=0.9)
                await until(lambda: call.state in ("thinking", "speaking", "listening")
                            and "stop_speaking" in " ".join(
                                e for entry in call.trace.entries for e in entry.effects))
                heard = " ".join(s.text for s in call.playback.heard[1:])
                assert heard and INSURANCE.startswith(heard) and heard != INSURANCE
                assert [what.split(" ")[0] for _, what in gate.log] == ["pause", "clear",
                                                                        "confirm"]
                assert caller.errors == []

    asyncio.run(scenario())
