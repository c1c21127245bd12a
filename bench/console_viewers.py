"""Console viewers for `bench/server_bench.py --console-viewers N`: what N operators with
the call console open do to the server while it carries its calls.

Half the viewers keep the live calls list open (its event stream), the others follow one
live call each (its page's event stream, switching to another call when that one ends);
every viewer also reloads its page every `RELOAD` seconds (the HTML: the list reads the
newest past calls, a call page its diagram). Counts what they received, so the bench can
show they were really attached.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass

import httpx

RELOAD = 10.0


@dataclass
class Seen:
    messages: int = 0
    items: int = 0
    pages: int = 0
    refused: int = 0


async def _stream(client: httpx.AsyncClient, path: str, seen: Seen) -> None:
    async with client.stream("GET", path) as answer:
        if answer.status_code != 200:
            seen.refused += 1
            await asyncio.sleep(1.0)
            return
        async for line in answer.aiter_lines():
            if line.startswith("data: "):
                seen.messages += 1
                seen.items += len(json.loads(line[6:]).get("items", ()))


async def _live_key(client: httpx.AsyncClient, index: int) -> str | None:
    async with client.stream("GET", "/console/live.sse") as answer:
        async for line in answer.aiter_lines():
            if line.startswith("data: "):
                calls = json.loads(line[6:])["calls"]
                return calls[index % len(calls)]["key"] if calls else None
    return None


async def _reload(client: httpx.AsyncClient, paths: list[str], seen: Seen) -> None:
    while True:
        await asyncio.sleep(RELOAD)
        answer = await client.get(paths[-1] if len(paths) > 1 else paths[0])
        seen.pages += answer.status_code == 200


async def viewer(base: str, token: str, index: int, seen: Seen) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=None) as client:
        paths = ["/console"]
        reloader = asyncio.create_task(_reload(client, paths, seen))
        try:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if index % 2 == 0:
                        await _stream(client, "/console/live.sse", seen)
                        continue
                    key = await _live_key(client, index)
                    if key is None:
                        await asyncio.sleep(0.5)
                        continue
                    paths[1:] = [f"/console/calls/{key}"]
                    await _stream(client, f"/console/calls/{key}/events", seen)
        finally:
            reloader.cancel()


def start(base: str, token: str, count: int) -> tuple[list[asyncio.Task[None]], Seen]:
    seen = Seen()
    return [asyncio.create_task(viewer(base, token, i, seen)) for i in range(count)], seen


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _main(base: str, token: str, count: int) -> None:
    tasks, _seen = start(base, token, count)
    try:
        await asyncio.Event().wait()  # until the bench terminates this process
    finally:
        await stop(tasks)


if __name__ == "__main__":  # `python -m bench.console_viewers BASE TOKEN COUNT`
    import sys

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
