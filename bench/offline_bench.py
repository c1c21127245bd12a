"""Per-turn latency of the offline stack on this machine: whisper tiny.en, silero VAD, the
rules brain over the packaged MiniLM knowledge base, piper — end to end through the real
Twilio protocol, with the simulated caller speaking (piper) in real time.

    python -m bench.offline_bench [--calls 3]

Prints, per stage, p50/p95 from the end of the caller's speech: final transcript, retrieval,
first sentence, TTS first byte, first agent frame sent, first mark back (heard).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.local.tts import LocalPiperTts  # noqa: E402
from adapters.twilio.caller import SimulatedCaller  # noqa: E402
from bench.local_server import LocalServer, offline_env, record_stages  # noqa: E402
from engine.app.callsim.session import CallSimulation, Line, place_call  # noqa: E402
from engine.app.commands.call import DEFAULT_LINES  # noqa: E402
from engine.app.server.bootstrap import build_services  # noqa: E402
from engine.latency import STAGES  # noqa: E402
from tools.storage import Storage  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _calls(base: str, token: str, voice: LocalPiperTts, calls: int,
                 greetings: list[float]) -> None:
    for index in range(calls):
        call_sid = f"CA{index:04d}{secrets.token_hex(4)}"
        stream_url, params = await place_call(base, token, "+15550001111", call_sid)
        async with SimulatedCaller(stream_url, auth_token=token, call_sid=call_sid,
                                   custom_parameters=params) as caller:
            sim = CallSimulation(caller, voice)
            greeting = await sim.greeting()  # timed from the moment `start` was sent
            if greeting.latency is not None:
                greetings.append(greeting.latency)
            for text in DEFAULT_LINES:
                if caller.closed:
                    break
                await sim.play(Line("say", text))
        await asyncio.sleep(0.5)


async def main(calls: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    env, token = offline_env(os.environ, tmp)
    services = build_services(ROOT / "flows.yaml", env=env,
                              storage=Storage(f"sqlite:///{tmp / 'bench.db'}"))
    stages = record_stages(services)
    voice = LocalPiperTts(steady=True)  # the caller says each line the same way every run
    async with LocalServer(services) as server:
        greetings: list[float] = []
        await _calls(server.base, token, voice, calls, greetings)
    turns = len(stages.get("first_frame", []))
    print(f"offline stack, {calls} calls, {turns} turns (os.cpu_count()={os.cpu_count()}):")
    print(f"  greeting: Twilio start -> first frame at the caller, p50 "
          f"{pct(greetings, .5) * 1000:.0f} ms, max {max(greetings) * 1000:.0f} ms "
          "(the prompt is cached after the first call)")
    for name in STAGES[1:]:
        values = stages.get(name)
        if values:
            print(f"  {name:<17} p50 {pct(values, .5) * 1000:6.0f} ms   "
                  f"p95 {pct(values, .95) * 1000:6.0f} ms   (n={len(values)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3)
    asyncio.run(main(parser.parse_args().calls))
