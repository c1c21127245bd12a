"""CPU of the outbound pacing alone, per call-second, for many calls in one process.

    python -m bench.outbound_pacing_bench --calls 100 200 --seconds 5

Each call is an `OutboundAudio` (adapters/twilio/bridge/outbound.py) kept speaking (a
second of frames queued ahead, a mark after each), writing its WebSocket text frames to a
real Unix socket on uvloop, as the lean socket path does (through `send_now` when the
sender offers it, else through its async `send`); a thread drains the other ends. It prints
the event-loop thread's CPU (`time.thread_time`: the draining thread is not counted) per
call-second, frames sent, and the paced wake-ups' lateness. Run
it from a checkout to measure that checkout's sender (an older one without `send_now`
measures its timer-per-call path). The machine may be shared: CPU time is what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import os
import selectors
import socket
import struct
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvloop

from adapters.twilio.bridge.outbound import OutboundAudio
from engine.media import FRAME_BYTES

SPEECH = bytes(range(256)) * (FRAME_BYTES * 50 // 256) + bytes(FRAME_BYTES * 50 % 256)


def _frame(text: str) -> bytes:
    """A server's text frame (what the lean socket path writes)."""
    data = text.encode()
    n = len(data)
    return (bytes((0x81, n)) if n < 126 else bytes((0x81, 126)) + struct.pack("!H", n)) + data


def _drain(socks: list[socket.socket], stop: threading.Event) -> None:
    with selectors.DefaultSelector() as sel:
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        while not stop.is_set():
            for key, _ in sel.select(0.05):
                with contextlib.suppress(OSError):
                    key.fileobj.recv(1 << 16)  # type: ignore[union-attr]


async def _feed(outbound: OutboundAudio) -> None:
    n = 0
    while True:
        if outbound.pending < 50:
            outbound.frames(SPEECH)
            outbound.mark(f"s{n}")
            n += 1
            await outbound.send_due()
        await asyncio.sleep(0.25)


async def run(calls: int, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    ends, senders, feeders = [], [], []
    takes_send_now = "send_now" in inspect.signature(OutboundAudio).parameters
    for i in range(calls):
        ours, theirs = socket.socketpair()
        ends.append(theirs)
        transport, _ = await loop.create_unix_connection(asyncio.Protocol, sock=ours)

        async def send(text: str, transport: asyncio.Transport = transport) -> None:
            transport.write(_frame(text))

        def send_now(texts: list[str], transport: asyncio.Transport = transport) -> bool:
            transport.write(b"".join(_frame(text) for text in texts))
            return True

        extra = {"send_now": send_now} if takes_send_now else {}
        outbound = OutboundAudio(send, f"MZ{i:032d}", **extra)  # type: ignore[arg-type]
        outbound.start()
        senders.append((outbound, transport))
    stop = threading.Event()
    drainer = threading.Thread(target=_drain, args=(ends, stop), daemon=True)
    drainer.start()
    for outbound, _ in senders:
        feeders.append(loop.create_task(_feed(outbound)))
        await asyncio.sleep(0.02 / calls * 7)  # the calls start at scattered phases
    await asyncio.sleep(1.0)  # every call past its lead: paced
    frames0 = sum(o.frames_sent for o, _ in senders)
    for o, _ in senders:
        o.jitter.clear()
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    frames = sum(o.frames_sent for o, _ in senders) - frames0
    jitter = sorted(j for o, _ in senders for j in o.jitter)
    for task in feeders:
        task.cancel()
    for outbound, transport in senders:
        await outbound.close()
        transport.close()
    stop.set()
    drainer.join()
    for s in ends:
        s.close()
    call_seconds = frames * 0.02  # what the calls really played, not wall time x calls
    return {"calls": calls, "cpu_ms_per_call_s": cpu * 1000 / max(call_seconds, 1e-9),
            "frames_per_s": frames / wall, "kept": call_seconds / (calls * wall),
            "jitter_p50": _pct(jitter, .5) * 1000, "jitter_p99": _pct(jitter, .99) * 1000,
            "send_now": float(takes_send_now)}


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpu count "
          f"{os.cpu_count()}; the drain thread's CPU is not counted")
    for calls in args.calls:
        r = uvloop.run(run(calls, args.seconds))
        path = "shared tick, send_now" if r["send_now"] else "timer per call"
        print(f"{calls} calls ({path}): {r['cpu_ms_per_call_s']:.3f} ms of loop CPU per "
              f"call-second; {r['frames_per_s']:.0f} frames/s (the calls kept "
              f"{r['kept']:.0%} of real time); paced wake-up lateness p50 "
              f"{r['jitter_p50']:.2f} ms, p99 {r['jitter_p99']:.2f} ms")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
