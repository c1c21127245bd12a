"""What it costs when Twilio reaches the worker that does not hold the call
(engine/app/server/forwarding.py, stream_relay.py), with two in-process workers
(tests/server/two_workers.py) and fake providers. Prints figures; asserts nothing.

    .venv/bin/python -m bench.forward_bench [--callbacks 300] [--seconds 10]

1. A signed dial report for a call held by worker 0, sent N times to worker 0 (decided
   there) and N times to worker 1 (forwarded over worker 0's Unix socket): wall p50/p99 and
   the process's CPU per callback (client, both servers: the difference is the forward).
2. The caller back from a warm transfer streaming for S seconds (50 frames a second in,
   the agent's audio out) on worker 0 itself, then on worker 1 (relayed to worker 0): the
   process's CPU per call-second each way; the difference is the relay's cost.
Everything shares this machine's cores with whatever else runs: the load is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.binding import BINDING_PARAM  # noqa: E402
from adapters.twilio.caller import SimulatedCaller  # noqa: E402
from adapters.twilio.signature import SIGNATURE_HEADER, sign  # noqa: E402
from tests.fakes.twilio_rest import FakeTwilioRest  # noqa: E402
from tests.fakes.twilio_webhooks import signed_post  # noqa: E402
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running  # noqa: E402
from tests.server.two_workers import two_workers  # noqa: E402

HELD = "CA" + "7" * 32


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def callbacks(w0: Running, w1: Running, count: int) -> None:
    w0.services.routing.owners.claim(f"call:{HELD}")  # held by worker 0 (not parked: "lost")
    report = {"CallSid": HELD, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    for name, server in (("decided here", w0), ("forwarded", w1)):
        url = f"{server.http_url}/webhook/transfer/status"
        headers = {SIGNATURE_HEADER: sign(AUTH_TOKEN, url, report)}
        walls: list[float] = []
        client = httpx.AsyncClient()  # one keep-alive client: time the server, not TLS setup
        await client.get(f"{server.http_url}/health/live")
        cpu = time.process_time()
        for _ in range(count):
            started = time.perf_counter()
            answer = await client.post(url, data=report, headers=headers)
            walls.append(time.perf_counter() - started)
            assert answer.status_code == 200 and "lost track" in answer.text
        cpu = time.process_time() - cpu
        await client.aclose()
        walls.sort()
        print(f"dial report, {name:12}: wall p50 {statistics.median(walls) * 1000:.2f} ms, "
              f"p99 {walls[int(len(walls) * 0.99) - 1] * 1000:.2f} ms, "
              f"CPU {cpu / count * 1000:.2f} ms per callback ({count} callbacks)")
    w0.services.routing.owners.release(f"call:{HELD}")


async def returning(w0: Running, w1: Running, rest: FakeTwilioRest, back_on: Running,
                    sid: str, seconds: float) -> float:
    """Park a call on worker 0; its caller comes back on `back_on`; CPU per call-second."""
    first = SimulatedCaller(w0.ws_url, auth_token=AUTH_TOKEN, call_sid=sid)
    await first.connect()
    while not w0.services.streams or next(iter(w0.services.streams)).call.state != "listening":
        await asyncio.sleep(0.01)
    (stream,) = [s for s in w0.services.streams if s.session.call_sid == sid]
    await first.press("0")
    while not any(r.call_sid == sid and "Dial" in r.form.get("Twiml", "")
                  for r in rest.requests):
        await asyncio.sleep(0.01)
    await first.stop()
    report = {"CallSid": sid, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    answer = await signed_post(f"{back_on.http_url}/webhook/transfer/status", report,
                               AUTH_TOKEN)
    binding = re.search(rf'name="{BINDING_PARAM}" value="([^"]+)"', answer.text)
    assert binding is not None, answer.text
    back = SimulatedCaller(back_on.ws_url, auth_token=AUTH_TOKEN, call_sid=sid,
                           custom_parameters={BINDING_PARAM: binding[1]})
    await back.connect()
    while stream.call.state != "message_name":
        await asyncio.sleep(0.01)
    cpu, frames = time.process_time(), back.frames_sent
    await asyncio.sleep(seconds)  # the bench measures a stretch of real time on purpose
    cpu, frames = time.process_time() - cpu, back.frames_sent - frames
    await back.stop()
    print(f"returning stream on worker {0 if back_on is w0 else 1} "
          f"({'direct' if back_on is w0 else 'relayed'}): CPU {cpu / seconds * 1000:.2f} ms per "
          f"call-second ({frames} caller frames, marks heard {len(back.echoed_marks)})")
    return cpu / seconds


async def main(args: argparse.Namespace) -> None:
    sids = ("CA" + "5" * 32, "CA" + "6" * 32)
    with TemporaryDirectory() as tmp, FakeTwilioRest(account_sid=ACCOUNT_SID,
                                                    auth_token=AUTH_TOKEN, calls=sids) as rest:
        async with two_workers(Path(tmp), twilio_url=rest.base_url) as (w0, w1):
            print(f"load before: {load()} (shared machine)")
            await callbacks(w0, w1, args.callbacks)
            direct = await returning(w0, w1, rest, w0, sids[0], args.seconds)
            relayed = await returning(w0, w1, rest, w1, sids[1], args.seconds)
            print(f"relay cost: {(relayed - direct) * 1000:.2f} ms CPU per call-second "
                  f"(both directions); load after: {load()} (shared machine)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callbacks", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
