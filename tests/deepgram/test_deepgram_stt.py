"""`DeepgramStt` through the real deepgram SDK against the fake live server: the audio and
query Deepgram gets, the events a call gets (order and fields), and hang-up."""

from __future__ import annotations

import asyncio
import threading
import time

from deepgram_kit import Recorder, feed, feed_until, frames, make_stt

from tests.fakes.deepgram_server import Cue, FakeDeepgram, SpeechStarted, UtteranceEnd, Words

LIVE_QUERY = {
    "model": "nova-3",
    "encoding": "mulaw",
    "sample_rate": "8000",
    "channels": "1",
    "interim_results": "true",
    "endpointing": "300",
    "utterance_end_ms": "1000",
    "vad_events": "true",
    "smart_format": "true",
    "punctuate": "true",
}


def test_mulaw_reaches_deepgram_unchanged_with_the_live_query() -> None:
    sent = [*frames(40), b"\x00\xff\x7f\x80", b"", bytes(range(256)), *frames(3, 90)]

    async def main() -> FakeDeepgram:
        async with FakeDeepgram() as fake:
            session = make_stt(fake).open("call-pass", Recorder())
            await feed(session, sent)
            await session.close()
            return fake

    fake = asyncio.run(main())
    (conn,) = fake.connections
    assert bytes(conn.audio) == b"".join(sent)  # byte for byte, odd sizes included
    assert "<empty>" not in conn.controls  # the empty frame was not sent (it ends a stream)
    assert conn.headers["authorization"] == "Token test-key"
    assert conn.query == LIVE_QUERY
    assert conn.controls == ["Finalize", "CloseStream"]
    assert (conn.closed_by, conn.close_code) == ("server", 1000)


def test_a_turn_gives_growing_speech_starts_interims_then_one_utterance() -> None:
    script = [
        Cue(1600, SpeechStarted(lag_s=0.1)),
        Cue(3200, Words("I'd like")),
        Cue(4800, Words("I'd like to book")),
        Cue(6400, Words("I'd like to book a cleaning.", 0.8, is_final=True, speech_final=True)),
        Cue(8000, UtteranceEnd()),
    ]
    first_results: list[tuple[str, float]] = []

    window: list[float] = []

    async def main() -> tuple[Recorder, int, float | None]:
        async with FakeDeepgram(script=script) as fake:
            stt = make_stt(fake)
            stt.on_first_result = lambda call, seconds: first_results.append((call, seconds))
            emit = Recorder()
            session = stt.open("call-turn", emit)
            audio = frames(50)
            await feed_until(fake, session, audio[:10])
            await emit.wait_for("caller.speech_started")
            await feed_until(fake, session, audio[10:20])
            await emit.wait_for("caller.transcript")
            await feed_until(fake, session, audio[20:30])
            await emit.wait_for("caller.transcript", 2)
            window.append(time.perf_counter())
            await feed_until(fake, session, audio[30:40])
            await emit.wait_for("caller.utterance")
            window.append(time.perf_counter())
            await feed_until(fake, session, audio[40:50])  # UtteranceEnd: the turn is over
            await session.close()
            return emit, threading.get_ident(), session.first_result_s

    emit, loop_thread, first_result_s = asyncio.run(main())
    # SpeechStarted at 0.1 s of audio, reported when 0.2 s was in; each result re-reports
    # the audio fed since speech began (8 bytes a millisecond)
    assert [(name, fields) for name, fields, _ in emit.events] == [
        ("caller.speech_started", {"duration_ms": 100}),
        ("caller.speech_started", {"duration_ms": 300}),
        ("caller.transcript", {"text": "I'd like"}),
        ("caller.speech_started", {"duration_ms": 500}),
        ("caller.transcript", {"text": "I'd like to book"}),
        ("caller.speech_started", {"duration_ms": 700}),
        ("caller.utterance", {"text": "I'd like to book a cleaning.", "confidence": 0.8}),
    ]
    assert emit.threads() == {loop_thread}
    assert first_result_s is not None and first_result_s >= 0
    assert first_results == [("call-turn", first_result_s)]
    # The last word ended with the 6400th byte: the utterance says when that byte was fed.
    assert len(emit.ended_at) == 1 and window[0] <= emit.ended_at[0] <= window[1]


def test_utterance_end_closes_a_turn_of_several_finals_and_the_next_turn_starts_afresh() -> None:
    script = [
        Cue(1600, Words("Tuesday", 0.9, is_final=True)),
        Cue(3200, Words("at ten")),
        Cue(4800, Words("at ten please", 0.6, is_final=True)),
        Cue(6400, UtteranceEnd()),
        Cue(8000, Words("Yes.", 0.95, is_final=True, speech_final=True)),
    ]

    async def main() -> Recorder:
        async with FakeDeepgram(script=script) as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-finals", emit)
            audio = frames(50)
            for step in range(4):
                await feed_until(fake, session, audio[10 * step:10 * step + 10])
                await fake.wait_until(lambda f, n=step: len(f.connections[0].sent) == n + 1)
            await emit.wait_for("caller.utterance")
            await feed_until(fake, session, audio[40:50])
            await emit.wait_for("caller.utterance", 2)
            await session.close()
            return emit

    emit = asyncio.run(main())
    # word-weighted confidence: (0.9 * 1 word + 0.6 * 3 words) / 4 words; the first turn
    # grows from its first word (0 s), the second from its own (0.6 s)
    assert [(name, fields) for name, fields, _ in emit.events] == [
        ("caller.speech_started", {"duration_ms": 200}),
        ("caller.transcript", {"text": "Tuesday"}),
        ("caller.speech_started", {"duration_ms": 400}),
        ("caller.transcript", {"text": "Tuesday at ten"}),
        ("caller.speech_started", {"duration_ms": 600}),
        ("caller.transcript", {"text": "Tuesday at ten please"}),
        ("caller.utterance", {"text": "Tuesday at ten please", "confidence": 0.675}),
        ("caller.speech_started", {"duration_ms": 400}),
        # the fake's segments run on from the last final's end: no silence between the turns
        ("caller.utterance", {"text": "Yes.", "confidence": 0.95, "gap_ms": 0}),
    ]


def test_close_finalizes_and_emits_the_last_utterance() -> None:
    async def main() -> tuple[Recorder, FakeDeepgram, list[str]]:
        fake_server = FakeDeepgram(script=[Cue(1600, Words("see you"))], latency_s=0.05)
        async with fake_server as fake:  # replies come late: close() waits for Finalize's
            emit = Recorder()
            session = make_stt(fake).open("call-bye", emit)
            await feed_until(fake, session, frames(10))
            await emit.wait_for("caller.transcript")
            await feed(session, frames(5, 10))  # still queued when the caller hangs up
            await session.close()
            names_when_closed = emit.names()
            return emit, fake, names_when_closed

    emit, fake, names_when_closed = asyncio.run(main())
    (conn,) = fake.connections
    assert bytes(conn.audio) == b"".join(frames(15))  # the queued audio went out first
    assert conn.controls == ["Finalize", "CloseStream"]
    finalized = [reply for reply in conn.sent if reply.get("from_finalize")]
    assert [r["channel"]["alternatives"][0]["transcript"] for r in finalized] == ["see you"]
    # the finalized words re-report the speech, now 0.3 s long, then end the turn
    assert [(name, fields) for name, fields, _ in emit.events] == [
        ("caller.speech_started", {"duration_ms": 200}),
        ("caller.transcript", {"text": "see you"}),
        ("caller.speech_started", {"duration_ms": 300}),
        ("caller.utterance", {"text": "see you", "confidence": 0.9}),
    ]
    assert names_when_closed[-1] == "caller.utterance"  # emitted before close() returned


def test_close_emits_the_pending_guess_when_finalize_is_not_answered() -> None:
    async def main() -> tuple[Recorder, FakeDeepgram]:
        fake_server = FakeDeepgram(script=[Cue(1600, Words("call me back", 0.7))],
                                   answer_finalize=False)
        async with fake_server as fake:
            emit = Recorder()
            session = make_stt(fake, finalize_wait_s=0.2).open("call-unanswered", emit)
            await feed_until(fake, session, frames(10))
            await emit.wait_for("caller.transcript")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    assert fake.connections[0].controls == ["Finalize", "CloseStream"]
    assert emit.named("caller.utterance") == [{"text": "call me back", "confidence": 0.7}]


def test_close_with_nothing_heard_emits_nothing_and_is_idempotent() -> None:
    async def main() -> tuple[Recorder, FakeDeepgram]:
        async with FakeDeepgram() as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-silent", emit)
            await feed_until(fake, session, frames(5))
            await session.close()
            await session.close()
            session.feed(frames(1)[0])  # after hang-up: ignored, no error
            return emit, fake

    emit, fake = asyncio.run(main())
    assert emit.events == []
    assert len(fake.connections) == 1
    assert fake.connections[0].controls == ["Finalize", "CloseStream"]
    assert len(fake.connections[0].audio) == 5 * 160
