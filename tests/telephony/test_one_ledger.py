"""One record of what the caller heard: the Media Streams session and the call share a single
`PlaybackLedger` (engine/playback.py). The marks the bridge sends, their echoes and the
speech the call queued and heard all live in it; the Twilio side keeps no list of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import Mark, MediaFormat, Start
from adapters.twilio.session import StreamSession
from engine.playback import PlaybackLedger
from tests.server.harness import AUTH_TOKEN, running_server
from tests.waiting import until

SID = "MZ" + "1" * 32


def test_a_live_call_and_its_stream_share_one_ledger(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (running_server(tmp_path) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid="CA700",
                                    caller="+15550001234") as caller):
            await until(lambda: len(server.services.streams) == 1)
            (stream,) = server.services.streams
            assert stream.call is not None
            await until(lambda: stream.call.state == "listening")
            assert stream.call.playback is stream.session.ledger
            heard = [s.speech_id for s in stream.call.playback.heard]
            assert heard and heard[0] == "s1"  # the greeting's mark came back and counted
            assert stream.session.pending_marks == ()  # every mark sent was echoed
            assert caller.echoed_marks[0] == "s1"

    asyncio.run(scenario())


def test_the_session_records_marks_in_the_ledger_it_was_given() -> None:
    ledger = PlaybackLedger()
    session = StreamSession(ledger)
    session.observe(Start(SID, "CA1", "AC1", ("inbound",), MediaFormat("audio/x-mulaw", 8000, 1),
                          {}))
    first = ledger.begin("Hello there.")
    second = ledger.begin("How can I help?")
    session.mark_sent(first)
    session.mark_sent(second)
    assert ledger.pending_marks == (first, second)
    seen = session.observe(Mark(SID, second))  # out of order: flagged, the first still out
    assert seen.mark_pending_before == (first,)
    assert ledger.pending_marks == (first,)
    assert ledger.done(second) == "playing"
    assert session.clear_sent() == (first,)
    assert [s.text for s in ledger.clear()] == ["Hello there."]
    assert not session.observe(Mark(SID, first)).flagged  # the echo a clear brings back
    assert ledger.pending_marks == () and ledger.done(first) == "stale"
