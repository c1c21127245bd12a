"""The shared pacing tick (adapters/twilio/bridge/pacer.py) on virtual time: many calls'
senders share one timer, each call keeps its 20 ms pacing and order with its pair of frames
in one write, a clear still goes at once, and a call's teardown leaves the tick holding
nothing of it."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import weakref
from typing import Any

from adapters.twilio.bridge.outbound import DEFAULT_LEAD, OutboundAudio
from adapters.twilio.bridge.pacer import pacer_for
from engine.clock import VirtualClockLoop
from engine.media import FRAME_BYTES


class CountingLoop(VirtualClockLoop):
    """Counts the timers armed on it."""

    def __init__(self) -> None:
        super().__init__()
        self.timers = 0

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> Any:
        self.timers += 1
        return super().call_at(when, callback, *args, context=context)


def _run(coro: Any) -> tuple[Any, CountingLoop]:
    loop = CountingLoop()
    try:
        return loop.run_until_complete(coro), loop
    finally:
        loop.close()


class Line:
    """One call's wire: the synchronous writes (`send_now`) and the async sends."""

    def __init__(self, refuse: bool = False) -> None:
        self.writes: list[tuple[float, list[str]]] = []  # (time, what one write held)
        self.refuse = refuse

    def send_now(self, texts: list[str]) -> bool:
        if self.refuse:
            return False
        self.writes.append((asyncio.get_running_loop().time(), [_what(t) for t in texts]))
        return True

    async def send(self, text: str) -> None:
        self.writes.append((asyncio.get_running_loop().time(), [_what(text)]))

    def sent(self) -> list[str]:
        return [what for _, texts in self.writes for what in texts]


def _what(text: str) -> str:
    message = json.loads(text)
    if message["event"] == "media":
        return str(int.from_bytes(base64.b64decode(
            message["media"]["payload"])[:2], "big"))
    return message["event"] if message["event"] == "clear" else message["mark"]["name"]


def _speech(count: int) -> bytes:
    """`count` frames, each starting with its own number (two bytes)."""
    return b"".join(i.to_bytes(2, "big") + bytes(FRAME_BYTES - 2) for i in range(count))


def _sender(line: Line) -> OutboundAudio:
    outbound = OutboundAudio(line.send, "MZ1", send_now=line.send_now)
    outbound.start()
    return outbound


async def _speak(calls: int, seconds: float, stagger: float = 0.0) -> list[Line]:
    lines = [Line() for _ in range(calls)]
    senders = [_sender(line) for line in lines]
    await asyncio.sleep(0)
    for outbound in senders:
        outbound.frames(_speech(50))  # one second of speech each
        outbound.mark("end")
        await outbound.send_due()
        if stagger:
            await asyncio.sleep(stagger)
    await asyncio.sleep(seconds)
    for outbound in senders:
        await outbound.close()
    return lines


def test_many_calls_share_one_pacing_timer() -> None:
    # One timer per call per pair of frames would arm ten times as many for 50 calls as
    # for 5; the shared tick arms one per 20 ms whatever the number of calls.
    _, few = _run(_speak(5, 2.0))
    _, many = _run(_speak(50, 2.0))
    assert many.timers <= few.timers + 2
    assert few.timers < 60  # about 2 s / 20 ms: not one per frame


def test_each_call_keeps_its_order_and_pacing_with_a_pair_per_write() -> None:
    start_gap = 0.007  # calls start off the tick's grid, at different phases
    lines, _ = _run(_speak(7, 2.0, stagger=start_gap))
    for n, line in enumerate(lines):
        assert line.sent() == [str(i) for i in range(50)] + ["end"]
        start = n * start_gap
        paced = [(at, texts) for at, texts in line.writes if texts != ["end"]
                 and int(texts[0]) * 0.02 - DEFAULT_LEAD > 1e-9]
        for at, texts in paced:
            for frame in texts:  # each within a frame of its slot (lead ahead of playback)
                slot = start + int(frame) * 0.02 - DEFAULT_LEAD
                assert slot - 0.02 - 1e-6 <= at <= slot + 0.02 + 1e-6, (n, frame, at, slot)
        assert [len(texts) for _, texts in paced].count(2) >= 18  # pairs, one write each
        assert len({round(at, 6) for at, _ in paced}) == len(paced)  # one write per tick


def test_a_clear_goes_at_once_and_nothing_paced_from_before_it_follows() -> None:
    async def main() -> tuple[float, list[tuple[float, list[str]]], int]:
        line = Line()
        outbound = _sender(line)
        await asyncio.sleep(0)
        outbound.frames(_speech(50))
        await outbound.send_due()
        await asyncio.sleep(0.311)  # between two ticks, frames still queued
        cleared = asyncio.get_running_loop().time()
        outbound.clear()
        for _ in range(5):
            await asyncio.sleep(0)  # a few loop passes, no time
        writes = list(line.writes)
        await asyncio.sleep(0.5)
        waiting = len(pacer_for(asyncio.get_running_loop()))
        await outbound.close()
        return cleared, writes + line.writes[len(writes):], waiting

    (cleared, writes, waiting), _ = _run(main())
    assert writes[-1] == (cleared, ["clear"])  # at once, and the last thing sent
    assert waiting == 0  # an empty queue waits on its own task, not on the tick


def test_a_calls_teardown_leaves_the_tick_holding_nothing_of_it() -> None:
    async def main() -> tuple[int, int, bool, list[str]]:
        loop = asyncio.get_running_loop()
        stays, goes = Line(), Line()
        staying, going = _sender(stays), _sender(goes)
        await asyncio.sleep(0)
        for outbound in (staying, going):
            outbound.frames(_speech(100))
            await outbound.send_due()
        await asyncio.sleep(0.4)  # both past their lead: both wait on the tick
        both = len(pacer_for(loop))
        await going.close()  # mid-speech
        gone = weakref.ref(going)
        del going, outbound
        gc.collect()
        await asyncio.sleep(1.0)
        one = len(pacer_for(loop))
        await staying.close()
        return both, one, gone() is None, stays.sent()

    (both, one, collected, sent), _ = _run(main())
    assert (both, one) == (2, 1)
    assert collected  # nothing (the tick included) keeps the torn-down sender alive
    assert sent == [str(i) for i in range(len(sent))] and len(sent) > 60  # the other goes on


def test_a_stream_that_cannot_write_now_gets_its_frames_the_usual_way() -> None:
    async def main() -> list[tuple[float, list[str]]]:
        line = Line(refuse=True)  # no short path: every send goes through `send`
        outbound = _sender(line)
        await asyncio.sleep(0)
        outbound.frames(_speech(50))
        outbound.mark("end")
        await outbound.send_due()
        await asyncio.sleep(2.0)
        await outbound.close()
        return line.writes

    writes, _ = _run(main())
    assert [texts for _, texts in writes] == [[str(i)] for i in range(50)] + [["end"]]
    times = [at for at, _ in writes]
    assert times == sorted(times) and times[-2] >= 0.78 - 0.02 - 1e-6  # still paced


def test_a_replys_first_lead_of_audio_leaves_in_one_write() -> None:
    async def main() -> list[tuple[float, list[str]]]:
        line = Line()
        outbound = _sender(line)
        await asyncio.sleep(0)
        outbound.frames(_speech(50))
        await outbound.send_due()  # from the producer's task, before the sender wakes
        at_once = list(line.writes)
        await outbound.close()
        return at_once

    at_once, _ = _run(main())
    due_now = round(DEFAULT_LEAD / 0.02) + 1  # slots 0 .. lead: all due at once
    assert at_once == [(0.0, [str(i) for i in range(due_now)])]


def test_one_senders_failure_does_not_stop_the_others_ticks() -> None:
    class Broken:
        def on_tick(self, due: float, now: float) -> bool:
            raise RuntimeError("a callback's bug")

    async def main() -> tuple[list[str], int]:
        line = Line()
        outbound = _sender(line)
        await asyncio.sleep(0)
        pacer = pacer_for(asyncio.get_running_loop())
        pacer.join(Broken())  # first in line on the next tick
        outbound.frames(_speech(50))
        outbound.mark("end")
        await outbound.send_due()
        await asyncio.sleep(2.0)
        waiting = len(pacer)
        await outbound.close()
        return line.sent(), waiting

    (sent, waiting), _ = _run(main())
    assert sent == [str(i) for i in range(50)] + ["end"]
    assert waiting == 0  # the broken one was dropped, the sender left when done
