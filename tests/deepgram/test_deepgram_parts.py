"""The Deepgram adapter's pure parts: turn assembly, the audio ledger, backoff, settings."""

from __future__ import annotations

import pytest

from adapters.deepgram.config import (
    DeepgramConfigError,
    DeepgramOptions,
    api_key,
    listen_params,
    server_urls,
)
from adapters.deepgram.ledger import AudioLedger
from adapters.deepgram.stt import environment
from adapters.deepgram.turns import TurnTracker
from adapters.retry import backoff_delay

MS = 8  # bytes of 8 kHz mu-law per millisecond


# -- TurnTracker ---------------------------------------------------------------------------


def test_speech_final_ends_the_turn_and_a_later_utterance_end_adds_nothing() -> None:
    turn = TurnTracker()
    assert turn.speech_started(start=100 * MS, fed=150 * MS) == [
        ("caller.speech_started", {"duration_ms": 50})]
    assert turn.result("book a", 0.9, is_final=False, speech_final=False,
                       start=120 * MS, fed=400 * MS) == [
        ("caller.speech_started", {"duration_ms": 300}),
        ("caller.transcript", {"text": "book a"})]
    assert turn.result("book a cleaning", 0.8, is_final=True, speech_final=True,
                       start=120 * MS, fed=700 * MS) == [
        ("caller.speech_started", {"duration_ms": 600}),
        ("caller.utterance", {"text": "book a cleaning", "confidence": 0.8})]
    assert turn.utterance_end() == []
    assert not turn.pending


def test_utterance_end_joins_the_finals_with_a_word_weighted_confidence() -> None:
    turn = TurnTracker()
    turn.result("next", 1.0, is_final=True, speech_final=False, start=0, fed=MS * 200)
    turn.result("Tuesday morning works", 0.5, is_final=True, speech_final=False,
                start=0, fed=MS * 900)
    turn.result("", 0.0, is_final=True, speech_final=False, start=0, fed=MS * 1200)  # silence
    assert turn.utterance_end() == [
        ("caller.utterance", {"text": "next Tuesday morning works", "confidence": 0.625})]


def test_interims_report_the_whole_turn_so_far_and_only_when_it_changes() -> None:
    turn = TurnTracker()
    turn.result("I need", 0.9, is_final=True, speech_final=False, start=0, fed=MS * 100)
    out = turn.result("to cancel", 0.9, is_final=False, speech_final=False, start=0,
                      fed=MS * 300)
    assert ("caller.transcript", {"text": "I need to cancel"}) in out
    again = turn.result("to  cancel", 0.9, is_final=False, speech_final=False, start=0,
                        fed=MS * 300)
    assert again == []  # same text (spacing aside), same amount of audio: nothing new


def test_a_vad_start_with_no_words_never_grows_and_resets_with_the_turn() -> None:
    turn = TurnTracker()
    assert turn.speech_started(start=0, fed=80 * MS) == [
        ("caller.speech_started", {"duration_ms": 80})]
    assert turn.result("", 0.0, is_final=False, speech_final=False, start=0, fed=900 * MS) == []
    assert turn.result("", 0.0, is_final=True, speech_final=True, start=0, fed=1000 * MS) == []
    # the next speech is measured from its own start, not from the cough
    assert turn.speech_started(start=2000 * MS, fed=2100 * MS) == [
        ("caller.speech_started", {"duration_ms": 100})]


def test_durations_only_grow_and_stop_after_report_until() -> None:
    turn = TurnTracker(report_until_ms=500)
    reported = []
    for fed_ms in (100, 100, 300, 200, 600, 900):
        for name, fields in turn.speech_started(start=0, fed=fed_ms * MS):
            assert name == "caller.speech_started"
            reported.append(fields["duration_ms"])
    assert reported == [100, 300, 600]


def test_flush_includes_the_unfinalized_guess() -> None:
    turn = TurnTracker()
    turn.result("yes", 0.9, is_final=True, speech_final=False, start=0, fed=MS * 300)
    turn.result("please do", 0.6, is_final=False, speech_final=False, start=0, fed=MS * 600)
    assert turn.utterance_end() == [("caller.utterance", {"text": "yes", "confidence": 0.9})]
    assert turn.pending  # the guess stays for the next turn
    assert turn.flush() == [("caller.utterance", {"text": "please do", "confidence": 0.6})]
    assert turn.flush() == []


# -- AudioLedger ---------------------------------------------------------------------------


def _send_all(ledger: AudioLedger) -> list[bytes]:
    out = []
    while (frame := ledger.peek()) is not None:
        out.append(frame)
        ledger.mark_sent()
    return out


def test_unconfirmed_audio_is_replayed_before_what_arrived_during_the_outage() -> None:
    ledger = AudioLedger(max_bytes=10_000, bytes_per_second=8000)
    for index in range(6):
        ledger.push(bytes([index]) * 160)
    assert len(_send_all(ledger)) == 6
    ledger.confirm(0.04)  # a final covered the first 320 bytes: frames 0 and 1
    assert ledger.unconfirmed_bytes == 4 * 160
    ledger.push(b"\x09" * 160)  # arrives while disconnected
    assert ledger.connection_lost() == 4 * 160
    assert [frame[0] for frame in _send_all(ledger)] == [2, 3, 4, 5, 9]


def test_a_full_ledger_forgets_sent_audio_first_then_drops_the_oldest_unsent() -> None:
    ledger = AudioLedger(max_bytes=400, bytes_per_second=8000)
    ledger.push(b"a" * 100)
    ledger.push(b"b" * 100)
    _send_all(ledger)
    assert ledger.push(b"c" * 300) == 0  # forgetting sent "a" made room: nothing lost
    assert ledger.unconfirmed_bytes == 100
    assert ledger.push(b"d" * 200) == 300  # "b" forgotten, then unsent "c" dropped
    assert ledger.dropped == 300
    assert ledger.connection_lost() == 0
    assert _send_all(ledger) == [b"d" * 200]


def test_times_on_a_connection_map_back_to_offsets_of_the_call() -> None:
    ledger = AudioLedger(max_bytes=10_000, bytes_per_second=8000)
    for _ in range(10):
        ledger.push(b"x" * 160)
    _send_all(ledger)
    ledger.confirm(0.08)  # 640 bytes confirmed; frames 4..9 unconfirmed
    ledger.connection_lost()
    ledger.start_connection()
    assert ledger.to_global(0.0) == ledger.fed  # nothing sent yet on the new connection
    _send_all(ledger)
    assert ledger.to_global(0.0) == 640  # the new connection's clock starts at the replay
    assert ledger.to_global(0.05) == 1040
    assert ledger.to_global(9.0) == ledger.fed  # never beyond what was fed


# -- backoff and settings ------------------------------------------------------------------


def test_backoff_doubles_within_jitter_and_is_capped() -> None:
    assert [backoff_delay(n, 0.25, 2.0, lambda: 0.0) for n in (1, 2, 3, 4, 5)] == [
        0.125, 0.25, 0.5, 1.0, 1.0]
    assert [backoff_delay(n, 0.25, 2.0, lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [
        0.25, 0.5, 1.0, 2.0, 2.0]
    with pytest.raises(ValueError):
        backoff_delay(0, 0.25, 2.0)


def test_listen_params_keep_twilio_audio_as_is() -> None:
    params = listen_params(DeepgramOptions(endpointing_ms=500, smart_format=False,
                                           language="en-US"))
    assert params["encoding"] == "mulaw" and params["sample_rate"] == 8000
    assert params["channels"] == 1 and params["model"] == "nova-3"
    assert params["interim_results"] == params["vad_events"] == "true"
    assert params["endpointing"] == 500 and params["utterance_end_ms"] == 1000
    assert params["smart_format"] == "false" and params["punctuate"] == "true"
    assert params["language"] == "en-US"
    assert "language" not in listen_params(DeepgramOptions())


def test_server_urls_and_environment_point_every_endpoint_at_the_base_url() -> None:
    assert server_urls("ws://127.0.0.1:9000") == ("http://127.0.0.1:9000", "ws://127.0.0.1:9000")
    assert server_urls("https://dg.example/") == ("https://dg.example", "wss://dg.example")
    env = environment("http://localhost:8080")
    assert (env.production, env.base) == ("ws://localhost:8080", "http://localhost:8080")
    assert environment(None).production == "wss://api.deepgram.com"
    with pytest.raises(DeepgramConfigError):
        server_urls("ftp://nowhere")


def test_api_key_and_options_validation() -> None:
    assert api_key({"DEEPGRAM_API_KEY": " abc "}) == "abc"
    with pytest.raises(DeepgramConfigError, match="DEEPGRAM_API_KEY"):
        api_key({})
    with pytest.raises(DeepgramConfigError):
        DeepgramOptions(max_attempts=0)
