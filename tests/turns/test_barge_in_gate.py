"""Barge-in: the agent's audio pauses at the caller's first sound; confirmed interruptions
reach the flow, coughs and "mm-hm"s resume the sentence where the caller stopped hearing."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any

from adapters.twilio.bridge.outbound import OutboundAudio
from engine.turns.barge_in import BargeInGate, is_backchannel
from flows.model import Flow, Settings, StateSpec
from flows.turns import TurnPolicy
from tests.waiting import until


@dataclass
class _Playback:
    playing: bool = True


@dataclass
class _Call:
    flow: Flow
    state: str = "speaking"
    playback: _Playback = field(default_factory=_Playback)
    call_id: str = "call-gate"


class _Audio:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")

    def rewind(self) -> None:
        self.calls.append("clear")


def _call(**policy: Any) -> _Call:
    state = StateSpec(name="speaking", turn=tuple(policy.items()))
    flow = Flow(name="t", path="t.yaml", initial="speaking", states={"speaking": state},
                transitions=(), prompts={}, counters={},
                settings=Settings(turn=TurnPolicy(resume_after_ms=150)))
    return _Call(flow)


def _run(body):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        return await body()

    return asyncio.run(main())


def test_onset_pauses_and_long_speech_confirms() -> None:
    async def body() -> tuple[list[str], bool, bool]:
        audio = _Audio()
        gate = BargeInGate(_call(min_speech_ms=300), audio)
        gate.voice("onset")
        early = gate.admit("caller.speech_started", {"duration_ms": 100})
        late = gate.admit("caller.speech_started", {"duration_ms": 300})
        await asyncio.sleep(0.25)  # past resume_after_ms: confirmed, so no resume
        return audio.calls, early, late

    calls, early, late = _run(body)
    assert calls == ["pause"] and not early and late


def test_a_cough_resumes_at_once_and_silence_after_noise_resumes_later() -> None:
    async def body() -> tuple[list[str], list[str]]:
        cough, noise = _Audio(), _Audio()
        gate = BargeInGate(_call(), cough)
        gate.voice("onset")
        gate.voice("gone")
        other = BargeInGate(_call(), noise)
        other.voice("onset")
        other.admit("caller.speech_started", {"duration_ms": 100})  # short: not confirmed
        await asyncio.sleep(0.3)
        return cough.calls, noise.calls

    cough, noise = _run(body)
    assert cough == ["pause", "resume"] and noise == ["pause", "resume"]


def test_with_words_required_a_backchannel_is_dropped_and_words_interrupt() -> None:
    async def body() -> tuple[list[str], list[bool]]:
        audio = _Audio()
        gate = BargeInGate(_call(words_required=1, resume_after_ms=5000), audio)
        gate.voice("onset")
        got = [gate.admit("caller.speech_started", {"duration_ms": 600}),
               gate.admit("caller.utterance", {"text": "Mm-hm."})]
        gate.voice("onset")
        got.append(gate.admit("caller.utterance", {"text": "Wait, make it Thursday."}))
        gate.close()
        return audio.calls, got

    calls, got = _run(body)
    assert calls == ["pause", "clear", "resume", "pause"]  # speech-like: cleared, replayed
    assert got == [False, False, True]


def test_an_uninterruptible_state_never_pauses_and_holds_speech_back() -> None:
    async def body() -> tuple[list[str], bool, bool]:
        audio = _Audio()
        call = _call(interruptible=False)
        gate = BargeInGate(call, audio)
        gate.voice("onset")
        over_agent = gate.admit("caller.speech_started", {"duration_ms": 900})
        call.playback.playing = False
        after = gate.admit("caller.speech_started", {"duration_ms": 900})
        return audio.calls, over_agent, after

    calls, over_agent, after = _run(body)
    assert calls == [] and not over_agent and after


def test_nothing_pauses_while_the_agent_is_silent() -> None:
    async def body() -> list[str]:
        audio = _Audio()
        call = _call()
        call.playback.playing = False
        gate = BargeInGate(call, audio)
        gate.voice("onset")
        assert gate.admit("caller.speech_started", {"duration_ms": 40})
        return audio.calls

    assert _run(body) == []


def test_backchannels() -> None:
    assert all(is_backchannel(t) for t in ("Mm-hm.", "uh-huh", "Okay.", "", "I see.", "yeah",
                                           "MMMHM.", "Mhmm"))
    assert not any(is_backchannel(t) for t in ("Yes.", "No, Thursday", "wait"))


def test_paused_outbound_holds_frames_and_resumes_from_the_first_unsent_one() -> None:
    async def body() -> tuple[list[str], list[str]]:
        sent: list[str] = []

        async def send(text: str) -> None:
            sent.append(text)

        out = OutboundAudio(send, "MZ1", lead=0.0)
        out.start()
        out.frames(b"".join(bytes([i]) * 160 for i in range(10)))
        out.mark("s1")
        await asyncio.sleep(0.05)
        out.pause()
        at_pause = len(sent)
        await asyncio.sleep(0.1)
        held = sent[at_pause:]
        out.resume()
        await until(lambda: any(json.loads(m)["event"] == "mark" for m in sent), "the mark")
        await out.close()
        return held, sent[at_pause:]

    held, after = _run(body)
    assert held == []
    payloads = [json.loads(m) for m in after]
    media = [p["media"]["payload"] for p in payloads if p["event"] == "media"]
    assert media and payloads[-1]["event"] == "mark"  # the rest of the sentence, then its mark
    first = base64.b64decode(media[0])[0]
    assert len(media) == 10 - first  # nothing skipped, nothing repeated


def test_long_speech_confirms_without_words_and_a_late_mm_hm_is_still_no_turn() -> None:
    async def body() -> tuple[list[str], list[bool]]:
        audio = _Audio()
        gate = BargeInGate(_call(words_required=1, long_speech_ms=900), audio)
        gate.voice("onset")
        got = [gate.admit("caller.speech_started", {"duration_ms": 600}),
               gate.admit("caller.speech_started", {"duration_ms": 900})]
        other = BargeInGate(_call(words_required=1, resume_after_ms=100), _Audio())
        other.voice("onset")
        await asyncio.sleep(0.2)  # resumed by the timer before the transcript came
        got.append(other.admit("caller.utterance", {"text": "Uh-huh."}))
        got.append(other.admit("caller.utterance", {"text": "Actually, no."}))
        return audio.calls, got

    calls, got = _run(body)
    assert calls == ["pause", "clear"] and got == [False, True, False, True]


def test_a_transcript_below_min_confidence_over_the_agent_is_no_interruption() -> None:
    async def body() -> tuple[list[str], list[bool]]:
        audio = _Audio()
        gate = BargeInGate(_call(words_required=1, resume_after_ms=5000), audio)
        gate.voice("onset")
        got = [gate.admit("caller.utterance", {"text": "And then make some.",
                                               "confidence": 0.3})]
        gate.voice("onset")
        got.append(gate.admit("caller.utterance", {"text": "Thursday works.",
                                                   "confidence": 0.8}))
        gate.close()
        return audio.calls, got

    calls, got = _run(body)
    assert calls == ["pause", "resume", "pause"] and got == [False, True]


def test_rewind_clears_and_a_resume_replays_the_unheard_sentence_with_void_echoes() -> None:
    """s1 was heard (its mark echoed); s2 was on the line when the caller made a sound:
    `rewind` sends `clear`, Twilio's echo of s2's mark is void, and `resume` re-sends s2
    from its first frame, then its mark, which may be echoed for real."""
    from adapters.twilio.messages import Mark, MediaFormat, Start
    from adapters.twilio.session import StreamSession

    async def body() -> tuple[list[dict[str, Any]], list[bool], StreamSession]:
        sent: list[dict[str, Any]] = []
        wanted = (0, asyncio.Event())

        async def send(text: str) -> None:
            sent.append(json.loads(text))
            if len(sent) >= wanted[0]:
                wanted[1].set()

        async def until(count: int) -> None:
            nonlocal wanted
            wanted = (count, asyncio.Event())
            if len(sent) < count:
                await wanted[1].wait()

        session = StreamSession()
        session.observe(Start("MZ1", "CA1", "AC1", ("outbound",),
                              MediaFormat("audio/x-mulaw", 8000, 1), {}))
        out = OutboundAudio(send, "MZ1", lead=60.0, on_mark=session.mark_sent,
                            on_clear=session.clear_sent, on_rewind=session.rewind_sent)
        out.start()
        out.frames(bytes([1]) * 320)
        out.mark("s1")
        out.frames(bytes([2]) * 480)
        out.mark("s2")
        await until(7)
        assert not session.observe(Mark(stream_sid="MZ1", name="s1")).flagged
        out.heard("s1")
        out.pause()
        out.rewind()
        await until(8)  # the clear goes out although paused
        void = session.observe(Mark(stream_sid="MZ1", name="s2")).rewound
        out.resume()
        await until(12)
        real = session.observe(Mark(stream_sid="MZ1", name="s2"))
        await out.close()
        return sent, [void, real.rewound, real.flagged], session

    sent, echoes, session = _run(body)
    events = [m["event"] for m in sent]
    assert events == ["media", "media", "mark", "media", "media", "media", "mark", "clear",
                      "media", "media", "media", "mark"]
    replay = [base64.b64decode(m["media"]["payload"])[0] for m in sent[8:11]]
    assert replay == [2, 2, 2] and sent[11]["mark"]["name"] == "s2"
    assert echoes == [True, False, False] and session.pending_marks == ()
