"""`DeepgramStt` when the line to Deepgram misbehaves: silence and the idle limit, dropped
sockets, refused and slow handshakes, bad or missing keys — against the fake server."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from deepgram_kit import Recorder, feed, feed_until, frames, make_stt

from adapters.deepgram.config import DeepgramConfigError
from adapters.deepgram.stt import DeepgramStt
from tests.fakes.deepgram_server import Cue, FakeDeepgram, Words

IDLE_S = 0.5  # the fake's idle limit in these tests (10 s on the real service)


def test_keepalive_during_silence_keeps_the_socket_past_the_idle_limit() -> None:
    script = [Cue(3200, Words("still there", is_final=True, speech_final=True))]

    async def main() -> tuple[Recorder, FakeDeepgram]:
        async with FakeDeepgram(script=script, idle_timeout_s=IDLE_S) as fake:
            emit = Recorder()
            session = make_stt(fake, keepalive_s=IDLE_S / 5).open("call-quiet", emit)
            await feed_until(fake, session, frames(10))
            await asyncio.sleep(IDLE_S * 3)  # no audio at all, three idle limits long
            await feed_until(fake, session, frames(10, 10))
            await emit.wait_for("caller.utterance")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    (conn,) = fake.connections  # never closed for idleness, never reconnected
    assert conn.closed_by == "server"  # after our CloseStream
    assert "stt.error" not in emit.names()
    assert emit.named("caller.utterance") == [{"text": "still there", "confidence": 0.9}]
    kinds = [entry[1] if entry[0] == "control" else "audio" for entry in conn.log]
    silence = kinds[kinds.index("KeepAlive"):kinds.index("audio", kinds.index("KeepAlive"))]
    assert len(silence) >= 2 and set(silence) == {"KeepAlive"}  # only KeepAlive while quiet
    assert kinds[:10] == ["audio"] * 10


def test_without_keepalive_the_idle_limit_closes_the_socket() -> None:
    """The control case: the fake's idle limit is real, so the test above means something."""

    async def main() -> FakeDeepgram:
        async with FakeDeepgram(idle_timeout_s=IDLE_S) as fake:
            session = make_stt(fake, keepalive_s=60.0).open("call-idle", Recorder())
            await feed_until(fake, session, frames(5))
            await fake.wait_until(lambda f: f.connections[0].closed_by == "idle")
            await session.close()
            return fake

    fake = asyncio.run(main())
    first = fake.connections[0]
    assert (first.close_code, first.close_reason) == (1011, "NET-0001")
    assert "KeepAlive" not in first.controls


def test_a_dropped_socket_reconnects_and_resends_what_was_not_confirmed() -> None:
    before = [Cue(3200, Words("hello", is_final=True))]  # confirms the first 0.4 s
    after = [Cue(6400, Words("there", is_final=True, speech_final=True))]
    audio = frames(60)

    async def main() -> tuple[Recorder, FakeDeepgram]:
        fake_server = FakeDeepgram(scripts={0: before, 1: after}, drop_after={0: 4800})
        async with fake_server as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-drop", emit)
            await feed(session, audio[:40])
            await fake.wait_until(lambda f: len(f.connections) == 2)
            await feed(session, audio[40:])  # spoken after the drop
            await emit.wait_for("caller.utterance")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    first, second = fake.connections
    assert (first.closed_by, first.close_code) == ("drop", 1011)
    assert bytes(first.audio) == b"".join(audio[:30])
    assert bytes(second.audio) == b"".join(audio[20:])  # from the end of the last final on
    assert "stt.error" not in emit.names()
    assert emit.named("caller.utterance") == [{"text": "hello there", "confidence": 0.9}]
    durations = [fields["duration_ms"] for fields in emit.named("caller.speech_started")]
    assert durations == sorted(set(durations)) and len(durations) == 2


def test_an_aborted_tcp_connection_loses_no_audio() -> None:
    audio = frames(40)
    after = [Cue(len(audio) * 160, Words("after the drop", is_final=True, speech_final=True))]

    async def main() -> tuple[Recorder, FakeDeepgram]:
        fake_server = FakeDeepgram(scripts={1: after}, drop_after={0: 3200}, drop_code=None)
        async with fake_server as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-abort", emit)
            await feed(session, audio[:20])
            await fake.wait_until(lambda f: len(f.connections) == 2)
            await feed(session, audio[20:])
            await emit.wait_for("caller.utterance")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    first, second = fake.connections
    assert first.closed_by == "drop"
    assert bytes(second.audio) == b"".join(audio)  # nothing was confirmed: all of it again
    assert "stt.error" not in emit.names()
    assert emit.named("caller.utterance") == [{"text": "after the drop", "confidence": 0.9}]


def test_refused_connections_give_exactly_one_stt_error_after_three_attempts() -> None:
    async def main() -> tuple[Recorder, FakeDeepgram, int]:
        async with FakeDeepgram(refuse=100, refuse_status=503) as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-refused", emit)
            await feed(session, frames(10))
            await emit.wait_for("stt.error")
            await feed(session, frames(10, 10))  # after the failure: ignored quietly
            await session.close()
            return emit, fake, threading.get_ident()

    emit, fake, loop_thread = asyncio.run(main())
    assert [attempt.status for attempt in fake.attempts] == [503, 503, 503]
    assert fake.connections == []
    assert emit.names() == ["stt.error"]
    (error,) = emit.named("stt.error")
    assert "3 connection attempts" in error["error"] and "503" in error["error"]
    assert emit.threads() == {loop_thread}


def test_a_healthy_socket_that_drops_gets_three_more_attempts_then_one_error() -> None:
    async def main() -> tuple[Recorder, FakeDeepgram]:
        fake_server = FakeDeepgram(script=[Cue(1600, Words("one moment"))],
                                   drop_after={0: 3200})
        async with fake_server as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-outage", emit)
            await feed_until(fake, session, frames(10))
            await emit.wait_for("caller.transcript")  # Deepgram answered: a healthy socket
            fake.refuse = 100  # from now on every handshake is refused
            await feed(session, frames(10, 10))
            await emit.wait_for("stt.error")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    assert [attempt.status for attempt in fake.attempts] == [101, 503, 503, 503]
    assert emit.names().count("stt.error") == 1
    assert emit.names()[-1] == "stt.error"  # no utterance made up after the failure


def test_sockets_closed_before_deepgram_ever_answers_count_as_failed_attempts() -> None:
    """Accepted, then closed at the first frame with no answer (as for audio Deepgram cannot
    decode): reconnecting helps nothing, so these count towards the limit."""

    async def main() -> tuple[Recorder, FakeDeepgram]:
        async with FakeDeepgram(drop_after={0: 160, 1: 160, 2: 160, 3: 160}) as fake:
            emit = Recorder()
            session = make_stt(fake).open("call-undecodable", emit)
            await feed(session, frames(10))
            await emit.wait_for("stt.error")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    assert len(fake.connections) == 3
    assert all(conn.closed_by == "drop" for conn in fake.connections)
    assert emit.names() == ["stt.error"]
    assert "1011" in emit.named("stt.error")[0]["error"]


def test_a_handshake_slower_than_the_connect_timeout_counts_as_a_failed_attempt() -> None:
    async def main() -> tuple[Recorder, FakeDeepgram]:
        async with FakeDeepgram(handshake_delay_s=0.5) as fake:
            emit = Recorder()
            session = make_stt(fake, connect_timeout_s=0.05).open("call-slow", emit)
            await emit.wait_for("stt.error")
            await session.close()
            return emit, fake

    emit, fake = asyncio.run(main())
    assert len(fake.attempts) == 3
    assert emit.names() == ["stt.error"]
    assert "no answer in time" in emit.named("stt.error")[0]["error"]


def test_a_wrong_key_is_reported_and_no_key_ever_reaches_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "dg-secret-3f9a1c"

    async def main() -> tuple[Recorder, FakeDeepgram]:
        async with FakeDeepgram(api_key="the-right-one") as fake:
            emit = Recorder()
            stt = DeepgramStt(env={"DEEPGRAM_API_KEY": secret}, base_url=fake.url,
                              options=make_stt(fake).options)
            session = stt.open("call-badkey", emit)
            await feed(session, frames(5))
            await emit.wait_for("stt.error")
            await session.close()
            return emit, fake

    with caplog.at_level(logging.DEBUG):
        emit, fake = asyncio.run(main())
    assert [attempt.status for attempt in fake.attempts] == [401, 401, 401]
    assert fake.attempts[0].headers["authorization"] == f"Token {secret}"  # it was sent...
    assert "401" in emit.named("stt.error")[0]["error"]
    ours = [r for r in caplog.records if r.name.startswith("dialflow.deepgram")]
    assert ours and all("call-badkey" in r.getMessage() for r in ours)  # logs carry the call
    assert caplog.records and not [r for r in caplog.records if secret in r.getMessage()]
    assert secret not in emit.named("stt.error")[0]["error"]  # ...and never shown


@pytest.mark.parametrize("env", [{}, {"DEEPGRAM_API_KEY": "  "}, {"OTHER_KEY": "x"}])
def test_a_missing_key_is_an_error_naming_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(DeepgramConfigError, match="DEEPGRAM_API_KEY"):
        DeepgramStt(env=env)


def test_the_provider_reads_the_key_from_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEEPGRAM_API_KEY", raising=False)
    with pytest.raises(DeepgramConfigError, match="DEEPGRAM_API_KEY"):
        DeepgramStt()
    monkeypatch.setenv("DEEPGRAM_API_KEY", "from-the-environment")
    stt = DeepgramStt()
    assert stt.name == "deepgram"
