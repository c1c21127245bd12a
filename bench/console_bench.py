"""What the call console costs, at N live calls.

    python -m bench.console_bench --calls 200 --seconds 10 [--viewers 10]

Without `--viewers`: the console's reader alone. Writes N event logs the way the server
does (gzip, one flushed block per loop pass) and appends to each a burst of events every
second — about what a caller taking a turn every few seconds produces — while a feed tails
them (`LogFeed.refresh` every `POLL`, as the reader process does with viewers attached) and
builds the live-list message. Prints the CPU per pass, the longest single log's read and the
cost of the live-list message: what the reader process spends (on its own core: none of it
runs on the calls' loop any more). With `--viewers N` (bench/console_served.py): the
console served beside churning logs, N viewers attached, and what they cost the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.app.server.console import feed as feed_module  # noqa: E402
from engine.app.server.console.feed import LogFeed  # noqa: E402
from engine.app.server.console.wire import event  # noqa: E402
from engine.records.log import EventLogWriter  # noqa: E402

TURN = [  # one turn of a call, as the server logs it
    {"k": "ev", "e": "caller.speech_started", "d": {"duration_ms": 300}, "b": "listening",
     "x": ["stop_speaking", "arm_timer"], "tm": ["timer.silence", 8.0]},
    {"k": "ev", "e": "caller.utterance", "d": {"text": "What time do you close today?"},
     "b": "listening", "a": "thinking", "x": ["respond"], "tm": ["timer.reply", 8.0]},
    {"k": "ev", "e": "agent.reply_started", "d": {"text": "We close at five."},
     "b": "thinking", "a": "speaking", "tm": 0},
    {"k": "say", "id": "s2", "text": "We close at five today."},
    {"k": "turn", "n": 1, "ms": {"final_transcript": 300.0, "first_sentence": 301.0,
                                 "first_frame": 302.0, "first_mark": 410.0}},
    {"k": "ev", "e": "agent.playback_done", "d": {"speech": "s2"}, "b": "speaking",
     "a": "listening", "tm": ["timer.silence", 8.0]},
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def main(calls: int, seconds: float) -> None:
    directory = Path(tempfile.mkdtemp(prefix="console-bench-"))
    writers = []
    for n in range(calls):
        writer = EventLogWriter(directory / f"CA{n:06d}-bench.jsonl.gz")
        writer.write({"v": 1, "k": "call", "id": f"CA{n:06d}", "start": time.time(),
                      "flow": "0" * 16, "caller": "+15550001234", "pid": 0, "host": ""})
        writers.append(writer)
    gc.collect()
    gc.freeze()  # as `dialflow serve` does before its first call (see freeze_startup_heap)
    feed = LogFeed(directory)
    slices: list[float] = []
    original = feed._read

    def timed(tail: object, now: float) -> bool:  # one log's read: the loop is held for it
        start = time.thread_time()
        try:
            return original(tail, now)  # type: ignore[arg-type]
        finally:
            slices.append(time.thread_time() - start)

    feed._read = timed  # type: ignore[method-assign]
    passes: list[float] = []  # the passes that read every live log (once a second)
    followed: list[float] = []  # the others: only the logs a call page follows (none here)
    lists: list[float] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        t = round(time.monotonic() - t0, 3)
        for n, writer in enumerate(writers):
            if int(t) % 3 == n % 3:  # each call takes a turn every three seconds
                for rec in TURN:
                    writer.write({**rec, "t": t})
        await asyncio.sleep(0)  # the writers' batches go out after this pass
        start, everyone = time.thread_time(), feed._last_all
        feed.refresh()
        (passes if feed._last_all != everyone else followed).append(time.thread_time() - start)
        start = time.thread_time()
        now = time.time()
        event("calls", {"now": now, "calls": [v.row(now) for v in feed.live()]})
        lists.append(time.thread_time() - start)
        await asyncio.sleep(feed_module.POLL)
    live = len(feed.live())
    print(f"{calls} live logs, {live} tailed; {len(passes) + len(followed)} feed passes over "
          f"{seconds:.0f} s")
    print(f"reader pass over every live log (once a second while viewers watch): CPU p50 "
          f"{pct(passes, .5) * 1000:.1f} ms, max {max(passes) * 1000:.1f} ms; in all "
          f"{(sum(passes) + sum(followed)) / seconds * 100:.1f} % of a core, in the reader "
          "process (none of it on the calls' loop)")
    print(f"one log's read: p99 {pct(slices, .99) * 1000:.2f} ms, "
          f"max {max(slices) * 1000:.2f} ms")
    print(f"live-list message ({live} rows), made once per change for all viewers (in the "
          f"reader): p50 "
          f"{pct(lists, .5) * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--viewers", type=int, default=0,
                        help="serve the console and attach this many viewers (see "
                        "bench/console_served.py) instead of timing the feed alone")
    args = parser.parse_args()
    if args.viewers:
        from bench.console_served import served

        asyncio.run(served(args.calls, args.seconds, args.viewers, TURN))
    else:
        asyncio.run(main(args.calls, args.seconds))
