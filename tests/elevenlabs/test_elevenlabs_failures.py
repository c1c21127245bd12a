"""ElevenLabsTts when ElevenLabs misbehaves: retries before the first byte, giving up,
timeouts, failures after audio started, and the API key never reaching a log line."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from adapters.elevenlabs.tts import ElevenLabsTimeout, ElevenLabsTts, ElevenLabsTtsError
from tests.fakes.elevenlabs_server import FakeElevenLabsServer

TEXT = "Please hold while I connect you with a member of our team."
MakeTts = Callable[..., ElevenLabsTts]


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried_then_succeed(fake: FakeElevenLabsServer,
                                                   make_tts: MakeTts, status: int,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dialflow.elevenlabs")
    fake.fail_next(status, times=2)

    audio = b"".join(asyncio.run(collect(make_tts().synthesize(TEXT, call_id="CA-retry"))))

    assert audio == fake.audio_for(TEXT)
    assert [r.status for r in fake.requests] == [status, status, 200]
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2
    assert all("CA-retry" in line and f"HTTP {status}" in line for line in retries)


def test_exhausted_retries_raise(fake: FakeElevenLabsServer, make_tts: MakeTts) -> None:
    fake.fail_next(500, times=4)

    with pytest.raises(ElevenLabsTtsError) as raised:
        asyncio.run(collect(make_tts(max_retries=3).synthesize(TEXT, call_id="CA-down")))

    assert [r.status for r in fake.requests] == [500] * 4
    assert raised.value.status == 500
    assert raised.value.attempts == 4
    assert not raised.value.audio_started
    assert "CA-down" in str(raised.value) and "HTTP 500" in str(raised.value)


def test_retries_can_be_turned_off(fake: FakeElevenLabsServer, make_tts: MakeTts) -> None:
    fake.fail_next(429, times=1)
    with pytest.raises(ElevenLabsTtsError):
        asyncio.run(collect(make_tts(max_retries=0).synthesize(TEXT)))
    assert len(fake.requests) == 1


def test_a_rejected_key_is_not_retried_and_names_the_variable(fake: FakeElevenLabsServer,
                                                              make_tts: MakeTts) -> None:
    tts = make_tts(env={"ELEVENLABS_API_KEY": "not-the-right-key"})

    with pytest.raises(ElevenLabsTtsError, match="ELEVENLABS_API_KEY") as raised:
        asyncio.run(collect(tts.synthesize(TEXT)))

    assert raised.value.status == 401
    assert [r.status for r in fake.requests] == [401]


def test_refused_connections_are_retried_then_raise(make_tts: MakeTts,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dialflow.elevenlabs")
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tts = make_tts(base_url=f"http://127.0.0.1:{port}", max_retries=3)

    with pytest.raises(ElevenLabsTtsError) as raised:
        asyncio.run(collect(tts.synthesize(TEXT, call_id="CA-refused")))

    assert raised.value.attempts == 4
    assert raised.value.status is None
    assert "ConnectError" in str(raised.value)
    assert sum("retry" in r.getMessage() for r in caplog.records) == 3


def test_a_stalled_answer_times_out_without_retrying(fake: FakeElevenLabsServer,
                                                     make_tts: MakeTts) -> None:
    fake.stall_next()

    with pytest.raises(ElevenLabsTimeout) as raised:
        asyncio.run(collect(make_tts(timeout=0.3).synthesize(TEXT, call_id="CA-stall")))

    assert not raised.value.audio_started
    (request,) = fake.requests
    assert request.finished.wait(10) and request.disconnected  # the client hung up


def test_a_stall_after_audio_started_times_out(fake: FakeElevenLabsServer,
                                               make_tts: MakeTts) -> None:
    hold = fake.hold_next(after_chunks=1)  # never released
    got: list[bytes] = []

    async def scenario() -> None:
        async for chunk in make_tts(timeout=0.3).synthesize(TEXT, call_id="CA-midstall"):
            got.append(chunk)

    with pytest.raises(ElevenLabsTimeout) as raised:
        asyncio.run(scenario())

    assert raised.value.audio_started
    assert b"".join(got) == fake.audio_for(TEXT)[:fake.chunk_bytes]
    assert len(fake.requests) == 1
    assert hold.client_gone.wait(10)


def test_a_failure_after_audio_started_is_not_retried(fake: FakeElevenLabsServer,
                                                      make_tts: MakeTts) -> None:
    fake.drop_next(after_chunks=1)
    got: list[bytes] = []

    async def scenario() -> None:
        async for chunk in make_tts().synthesize(TEXT, call_id="CA-drop"):
            got.append(chunk)

    with pytest.raises(ElevenLabsTtsError) as raised:
        asyncio.run(scenario())

    assert raised.value.audio_started
    assert b"".join(got) == fake.audio_for(TEXT)[:fake.chunk_bytes]
    assert len(fake.requests) == 1


def test_the_key_never_reaches_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk_test_0123456789abcdef-never-log-me"
    caplog.set_level(logging.DEBUG)  # everything: dialflow, httpx, httpcore, the SDK
    errors: list[BaseException] = []

    async def scenario(fake: FakeElevenLabsServer, other: FakeElevenLabsServer) -> None:
        tts = ElevenLabsTts(env={"ELEVENLABS_API_KEY": secret}, base_url=fake.base_url,
                            timeout=0.3, backoff=0.001, max_backoff=0.01)
        await collect(tts.synthesize(TEXT, call_id="CA-key"))
        fake.fail_next(429)
        await collect(tts.synthesize(TEXT, call_id="CA-key"))
        fake.stall_next()
        wrong_host = ElevenLabsTts(env={"ELEVENLABS_API_KEY": secret},
                                   base_url=other.base_url, backoff=0.001)
        for stream in (tts.synthesize(TEXT, call_id="CA-key"),
                       wrong_host.synthesize(TEXT, call_id="CA-key")):
            try:
                await collect(stream)
            except ElevenLabsTtsError as exc:
                errors.append(exc)
        errors.append(Exception(repr(tts)))

    with FakeElevenLabsServer(api_key=secret) as fake, FakeElevenLabsServer() as other:
        asyncio.run(scenario(fake, other))
        assert [r.api_key for r in fake.requests] == [secret] * 4  # it was sent, though

    assert [type(e) for e in errors] == [ElevenLabsTimeout, ElevenLabsTtsError, Exception]
    assert caplog.records
    assert secret not in caplog.text
    for error in errors:
        assert secret not in str(error) and secret not in repr(error)
        assert secret not in str(error.__cause__)
    ours = [r for r in caplog.records if r.name.startswith("dialflow.elevenlabs")]
    assert ours and all("CA-key" in r.getMessage() for r in ours)
