"""End of caller speech -> first agent frame with every cloud part real but local: the real
deepgram, anthropic, elevenlabs and twilio SDKs against fake servers on 127.0.0.1 that wait
the seed's provider latencies (STT final 300 ms, LLM first token 200 ms, TTS first byte
250 ms), concurrent simulated Twilio callers on real WebSockets.

    python -m bench.cloud_bench [--calls 1] [--turns 5] [--stt 0.3 --llm 0.2 --tts 0.25]
    python -m bench.cloud_bench --speculate [--turns 5]

Prints p50/p99 of end of speech -> first frame, how far that is beyond the providers' sum
(what the engine, the SDKs and the local HTTP/WebSocket hops add), and each stage. The fakes,
the callers and the server share one event loop here, so with many calls the figure also
counts the callers' and fakes' own work (see bench/server_bench.py for a separate process).
`--speculate`: each turn is a final segment at a pause and Deepgram's `UtteranceEnd` a second
later (a turn that waits), run with speculation on and off (the brain refusing tentative
turns): the reply started on the final segment, and its first sentences' synthesis, are
what the commit saves.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.caller import SimulatedCaller  # noqa: E402
from tests.cloud.harness import AUTH, cloud_server  # noqa: E402
from tests.fakes.anthropic_server import Pause, Reply  # noqa: E402
from tests.fakes.deepgram_server import Cue, UtteranceEnd, Words  # noqa: E402

SEED = {"stt": 0.3, "llm": 0.2, "tts": 0.25}  # the seed's provider latencies, seconds
TURN_SECONDS = 4.0
REPLY = ("We're open until three on Fridays.", "Is there anything else I can help with?")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_call(url: str, index: int, turns: int) -> None:
    async with SimulatedCaller(url, auth_token=AUTH, call_sid=f"CA{index:05d}") as caller:
        await asyncio.sleep(3.0 + TURN_SECONDS * turns + 1.5)
        assert not caller.errors, caller.errors


UTTERANCE_END_S = 1.0  # Deepgram's utterance_end_ms: the word gap before UtteranceEnd


def waiting_turns(turns: int) -> list[Cue]:
    """Each turn: a final segment (no speech_final: the caller paused), UtteranceEnd later."""
    out: list[Cue] = []
    for k in range(turns):
        at = 3.0 + TURN_SECONDS * k
        out += [Cue(int(8000 * at), Words("What time do you close on Friday?", 0.95,
                                          is_final=True)),
                Cue(int(8000 * (at + UTTERANCE_END_S)), UtteranceEnd())]
    return out


async def main(calls: int, turns: int, stt: float, llm: float, tts: float,
               script: list[Cue] | None = None, speculate: bool = True) -> list[float]:
    script = script or [Cue(int(8000 * (3.0 + TURN_SECONDS * k)),
                            Words("What time do you close on Friday?", 0.95, is_final=True,
                                  speech_final=True)) for k in range(turns)]
    first_frames: list[float] = []
    stages: dict[str, list[float]] = {}
    sids = tuple(f"CA{i:05d}" for i in range(calls))
    async with cloud_server(Path(tempfile.mkdtemp()), script, calls=sids, stt_latency=stt,
                            tts_latency=tts) as cloud:
        cloud.claude.script(*[Reply(Pause(llm), REPLY[0] + " ", REPLY[1])
                              for _ in range(calls * turns)])
        record = cloud.services.metrics.stage

        def stage(name: str, seconds: float) -> None:
            stages.setdefault(name, []).append(seconds)
            if name == "first_frame":
                first_frames.append(seconds)
            record(name, seconds)

        cloud.services.metrics.stage = stage  # type: ignore[method-assign]
        if not speculate:
            cloud.services.brain.tentative_ok = False  # type: ignore[attr-defined]
        await asyncio.gather(*(one_call(cloud.ws_url, i, turns) for i in range(calls)))
    total = stt + llm + tts
    print(f"{calls} concurrent calls x {turns} turns, {len(first_frames)} turns measured; "
          f"providers' latencies sum to {total * 1000:.0f} ms")
    print(f"end of speech -> first frame: p50 {pct(first_frames, .5) * 1000:.0f} ms, "
          f"p99 {pct(first_frames, .99) * 1000:.0f} ms; beyond the providers: "
          f"p50 {(pct(first_frames, .5) - total) * 1000:.1f} ms, "
          f"p99 {(pct(first_frames, .99) - total) * 1000:.1f} ms")
    print("stages, p50 from the end of speech: " + ", ".join(
        f"{name} {pct(values, .5) * 1000:.0f} ms" for name, values in stages.items()))
    return first_frames


async def speculation(turns: int, stt: float, llm: float, tts: float) -> None:
    """Turns that wait for UtteranceEnd, speculation on, off, on, off (1 call at a time)."""
    import os

    frames: dict[bool, list[float]] = {True: [], False: []}
    load = [os.getloadavg()[0]]
    for on in (True, False, True, False):
        print(f"-- speculation {'on' if on else 'off'}:")
        frames[on] += await main(1, turns, stt, llm, tts, waiting_turns(turns), speculate=on)
        load.append(os.getloadavg()[0])
    print(f"turns that wait {UTTERANCE_END_S:g} s for UtteranceEnd after their final segment "
          f"(shared machine, load average {min(load):.1f}-{max(load):.1f}), end of speech -> "
          "first frame:")
    for on in (True, False):
        print(f"  speculation {'on ' if on else 'off'}: p50 {pct(frames[on], .5) * 1000:.0f} ms, "
              f"p95 {pct(frames[on], .95) * 1000:.0f} ms (n={len(frames[on])})")
    print(f"  saved at the median: "
          f"{(pct(frames[False], .5) - pct(frames[True], .5)) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--turns", type=int, default=5)
    for slot, seconds in SEED.items():
        parser.add_argument(f"--{slot}", type=float, default=seconds,
                            help=f"the fake {slot}'s latency in seconds")
    parser.add_argument("--speculate", action="store_true",
                        help="turns that wait for UtteranceEnd, speculation on vs off")
    args = parser.parse_args()
    if args.speculate:
        asyncio.run(speculation(args.turns, args.stt, args.llm, args.tts))
    else:
        asyncio.run(main(args.calls, args.turns, args.stt, args.llm, args.tts))
