"""`dialflow call`'s simulated caller on a busy machine: a pause in the agent's audio (a clause
synthesised slower than real time) is not the end of its turn while the in-process server
still has something to say; what the caller heard is told apart at every mark, however long
a playback tick was; and each heard segment is named by the agent line whose audio it is,
not by counting lines (a line synthesised and never heard used to shift every later one)."""

from __future__ import annotations

import asyncio

from adapters.twilio.caller import HeardSegment, SimulatedCaller
from adapters.twilio.messages import OutboundMedia
from engine.app.callsim import session
from engine.app.callsim.narrator import SpokenLines
from engine.app.callsim.session import CallSimulation

A, B, C = b"\x01" * 480, b"\x02" * 320, b"\x03" * 160


def test_one_long_tick_over_two_marks_still_gives_one_segment_per_sentence() -> None:
    caller = SimulatedCaller("ws://127.0.0.1:9/ws/media", auth_token=None)
    for item in (A, "s1", B, "s2", C):
        if isinstance(item, str):
            caller.playback.push_mark(item)
        else:
            caller.playback.push_audio(item)
    played = caller.playback.advance_bytes(len(A + B + C))  # the loop stalled: all at once
    caller._heard(0.0, played.audio, played.marks, played.at)
    assert [(bytes(s.audio), s.mark) for s in caller.segments] == [(A, "s1"), (B, "s2"),
                                                                  (C, None)]


def test_a_heard_segment_is_the_line_whose_audio_it_is() -> None:
    quiet = b"\xff" * 160  # every line starts with the same silence
    lines = ["Just to confirm: Thursday at 5.", "Shall I book it?", "Sorry, to be sure."]
    sounds = [bytearray(quiet + A), bytearray(quiet + B), bytearray(quiet + C)]
    words = SpokenLines(lambda: lines, lambda: sounds)
    segment = HeardSegment(0.0, bytearray(quiet))
    assert not words.ready(segment)  # three lines start that way: not known yet
    segment.audio += C[:40]
    assert words.ready(segment)
    # the second line was synthesised and cleared before it played: the second segment
    # heard is the third line
    assert asyncio.run(words.words(1, segment)) == "Sorry, to be sure."
    assert asyncio.run(SpokenLines(lambda: lines).words(1, segment)) == "Shall I book it?"


class _Idle:
    idle = True


class _Caller:
    def __init__(self) -> None:
        self.closed = False
        self.playback = _Idle()
        self.received = [OutboundMedia("MZ1", b"\xff" * 160)]  # the agent has spoken
        self.media_received = len(self.received)


def test_the_caller_waits_while_the_server_has_more_to_say(monkeypatch) -> None:
    monkeypatch.setattr(session, "QUIET_SECONDS", 0.0)
    answers = iter([True] * 5)
    asked: list[bool] = []

    def busy() -> bool:
        asked.append(answer := next(answers, False))
        return answer

    sim = CallSimulation(_Caller(), voice=None, agent_busy=busy)  # type: ignore[arg-type]
    assert asyncio.run(sim.wait_for_agent(0)) is not None
    assert asked == [True] * 5 + [False]  # the turn ended only once the server was done


class _Playback:
    def __init__(self, idle: bool) -> None:
        self.idle = idle


class _LiveCall:
    def __init__(self, tasks: list[str], idle: bool, ended: bool = False) -> None:
        self.tasks, self.playback, self.ended = tasks, _Playback(idle), ended

    def busy(self) -> list[str]:
        return self.tasks


class _Stream:
    def __init__(self, call: _LiveCall | None) -> None:
        self.call = call


class _Services:
    def __init__(self, *calls: _LiveCall | None) -> None:
        self.streams = [_Stream(c) for c in calls]


def test_server_busy_is_unheard_speech_or_a_task_of_a_live_call() -> None:
    """The one helper `dialflow call` and the conversation bench's caller both wait on."""
    assert not session.server_busy(_Services())
    assert not session.server_busy(_Services(None, _LiveCall([], idle=True)))
    assert session.server_busy(_Services(_LiveCall(["reply"], idle=True)))
    assert session.server_busy(_Services(_LiveCall([], idle=False)))  # speech not yet heard
    assert not session.server_busy(_Services(_LiveCall(["reply"], idle=False, ended=True)))

