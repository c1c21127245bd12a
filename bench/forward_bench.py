"""What it costs when Twilio reaches the worker that does not hold the call
(engine/app/server/forwarding.py), with two in-process workers
(tests/server/two_workers.py) and fake providers. Prints figures; asserts nothing.

    .venv/bin/python -m bench.forward_bench [--callbacks 300]

A signed warm-transfer leg status (the human's phone's final status) for a call held by
worker 0, sent N times to worker 0 (decided there) and N times to worker 1 (forwarded over
worker 0's Unix socket): wall p50/p99 and the process's CPU per callback (client, both
servers: the difference is the forward). The caller's media stream never moves between
workers, so no stream is relayed.
Everything shares this machine's cores with whatever else runs: the load is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.signature import SIGNATURE_HEADER, sign  # noqa: E402
from tests.fakes.twilio_rest import FakeTwilioRest  # noqa: E402
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running  # noqa: E402
from tests.server.two_workers import two_workers  # noqa: E402

HELD = "CA" + "7" * 32


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def callbacks(w0: Running, w1: Running, count: int) -> None:
    w0.services.routing.owners.claim(f"call:{HELD}")  # held by worker 0 (no transfer: 204)
    report = {"CallSid": "CA" + "8" * 32, "CallStatus": "no-answer"}
    for name, server in (("decided here", w0), ("forwarded", w1)):
        url = f"{server.http_url}/webhook/transfer/status?parent={HELD}"
        headers = {SIGNATURE_HEADER: sign(AUTH_TOKEN, url, report)}
        walls: list[float] = []
        client = httpx.AsyncClient()  # one keep-alive client: time the server, not TLS setup
        await client.get(f"{server.http_url}/health/live")
        cpu = time.process_time()
        for _ in range(count):
            started = time.perf_counter()
            answer = await client.post(url, data=report, headers=headers)
            walls.append(time.perf_counter() - started)
            assert answer.status_code == 204, answer.status_code
        cpu = time.process_time() - cpu
        await client.aclose()
        walls.sort()
        print(f"leg status, {name:12}: wall p50 {statistics.median(walls) * 1000:.2f} ms, "
              f"p99 {walls[int(len(walls) * 0.99) - 1] * 1000:.2f} ms, "
              f"CPU {cpu / count * 1000:.2f} ms per callback ({count} callbacks)")
    w0.services.routing.owners.release(f"call:{HELD}")


async def main(args: argparse.Namespace) -> None:
    with TemporaryDirectory() as tmp, FakeTwilioRest(account_sid=ACCOUNT_SID,
                                                    auth_token=AUTH_TOKEN) as rest:
        async with two_workers(Path(tmp), twilio_url=rest.base_url) as (w0, w1):
            print(f"load before: {load()} (shared machine)")
            await callbacks(w0, w1, args.callbacks)
            print(f"load after: {load()} (shared machine)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callbacks", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
