"""`OutboundAudio` on virtual time: pacing, marks in order, and the first frame after
silence sent from the producer's own task (no wait for the sender task to wake)."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.twilio.bridge.outbound import DEFAULT_LEAD, OutboundAudio
from engine.clock import run_virtual
from engine.media import FRAME_BYTES


def _frames(*codes: int) -> bytes:
    return b"".join(bytes([code]) * FRAME_BYTES for code in codes)


class Wire:
    """Records what was sent; `delay` makes each send suspend, like a socket under load."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.sent: list[tuple[float, str, str]] = []  # (time, event, payload start or mark)
        self.in_flight = self.most_in_flight = 0

    async def send(self, text: str) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.in_flight -= 1
        message = json.loads(text)
        detail = message.get("media", {}).get("payload", "")[:2] or \
            message.get("mark", {}).get("name", "")
        self.sent.append((asyncio.get_running_loop().time(), message["event"], detail))


async def _parked(wire: Wire) -> OutboundAudio:
    outbound = OutboundAudio(wire.send, "MZ1")
    outbound.start()
    await asyncio.sleep(0)  # the sender task runs once and parks on its empty queue
    return outbound


def test_the_first_frame_after_silence_leaves_from_the_producers_task() -> None:
    async def main() -> tuple[int, int, list[tuple[float, str, str]]]:
        wire = Wire()
        outbound = await _parked(wire)
        outbound.frames(_frames(1, 2, 3))
        outbound.mark("s1")
        await outbound.send_due()
        at_once = len(wire.sent)  # before the sender task has had a turn
        pending = outbound.pending
        await asyncio.sleep(1)
        await outbound.close()
        return at_once, pending, wire.sent

    at_once, pending, sent = run_virtual(main())
    assert at_once == 1 and pending == 3
    assert [(event, detail) for _, event, detail in sent] == [
        ("media", "AQ"), ("media", "Ag"), ("media", "Aw"), ("mark", "s1")]


def test_send_due_leaves_marks_and_paced_frames_to_the_sender() -> None:
    async def main() -> tuple[int, int]:
        wire = Wire()
        outbound = await _parked(wire)
        outbound.mark("s0")
        await outbound.send_due()  # a mark at the head: not a frame, not ours to send
        marks_at_once = len(wire.sent)
        await asyncio.sleep(0.1)
        outbound.frames(_frames(*range(1, 40)))  # 780 ms of audio: most of it must wait
        await asyncio.sleep(0.05)
        sent_before = len(wire.sent)
        await outbound.send_due()  # the sender is busy pacing: nothing is sent out of turn
        extra = len(wire.sent) - sent_before
        await outbound.close()
        return marks_at_once, extra

    marks_at_once, extra = run_virtual(main())
    assert marks_at_once == 0
    assert extra == 0


def test_frames_keep_their_order_when_sends_suspend() -> None:
    async def main() -> tuple[list[tuple[float, str, str]], int]:
        wire = Wire(delay=0.005)
        outbound = await _parked(wire)
        outbound.frames(_frames(1, 2, 3, 4))
        await outbound.send_due()  # the sender task wakes while this send is in flight
        outbound.mark("s1")
        await asyncio.sleep(1)
        await outbound.close()
        return wire.sent, wire.most_in_flight

    sent, most_in_flight = run_virtual(main())
    assert [detail for _, _, detail in sent] == ["AQ", "Ag", "Aw", "BA", "s1"]
    assert most_in_flight == 1  # one send at a time, so the socket sees them in this order


def test_frames_beyond_the_lead_are_paced_in_real_time() -> None:
    async def main() -> list[float]:
        wire = Wire()
        outbound = await _parked(wire)
        start = asyncio.get_running_loop().time()
        outbound.frames(_frames(*range(1, 51)))  # one second of audio
        await outbound.send_due()
        await asyncio.sleep(2)
        await outbound.close()
        return [at - start for at, _, _ in wire.sent]

    times = run_virtual(main())
    assert len(times) == 50
    assert times[-1] == pytest.approx(1.0 - 0.02 - DEFAULT_LEAD, abs=0.002)


def test_paced_frames_leave_two_per_wake_up_each_within_a_frame_of_its_slot() -> None:
    # The shared tick (pacer.py) sends a pair when its first is due: the first leaves at
    # most a frame late, the second at most a frame early (never more: the lead holds).
    async def main() -> list[float]:
        wire = Wire()
        outbound = await _parked(wire)
        start = asyncio.get_running_loop().time()
        outbound.frames(_frames(*range(1, 51)))
        await outbound.send_due()
        await asyncio.sleep(2)
        await outbound.close()
        return [at - start for at, _, _ in wire.sent]

    times = run_virtual(main())
    slots = [max(0.0, i * 0.02 - DEFAULT_LEAD) for i in range(50)]  # each frame's on-time send
    assert all(slot - 0.02 - 1e-6 <= t <= slot + 0.02 + 1e-3
               for t, slot in zip(times, slots, strict=True))
    paced = [round(t, 4) for t, slot in zip(times, slots, strict=True) if slot > 0]
    assert len(paced) == 39 and len(set(paced)) == 20  # 19 pairs and the last frame alone
