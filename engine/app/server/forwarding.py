"""Twilio callbacks that land on the wrong worker, sent to the worker that holds the call.

Under `dialflow serve --workers N` the kernel hands each connection to any worker, but a
call's live state (its `Call`, a caller on hold in a warm transfer, an outbound dial) is in
the memory of one. Each callback route checks the signature and reads its bounded form
once, at the edge, then calls `decide`: with the keys of what the callback is about
(`call:<CallSid>`, `dial:<id>`, see call_owners.py), it runs the named hook here when this
worker holds the call (or nobody does: the hook then gives its own "not here" answer), and
otherwise POSTs the checked form over the owner's Unix socket (internal_app.py) and answers
Twilio with the owner's decision (`HookAnswer`). A hook's fields are bounded (`MAX_FIELDS`,
`MAX_VALUE`); so is the owner's answer (`MAX_ANSWER`) and the time it may take
(`FORWARD_TIMEOUT`). An owner that died or does not answer in time gets the hook's
`fallback` (a hang-up of the human's leg, an empty 204), logged — never an error page,
never a crash. Media streams are never forwarded: a call's stream stays where it started.
One server process: no `Routing`, every hook runs here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from engine.app.server.call_owners import CallOwners
from engine.app.server.hook_answer import HookAnswer
from engine.redaction import escape_id

log = logging.getLogger("dialflow.workers")
HOOK_PATH = "/internal/hook/"
FORWARD_TIMEOUT = 5.0  # Twilio waits 15 s for a webhook; the owner answers in milliseconds
MAX_FIELDS = 100
MAX_VALUE = 500
MAX_ANSWER = 131_072

#: A callback's decision, made where the call lives: (form, query) -> the answer.
Hook = Callable[[dict[str, str], dict[str, str]], Awaitable[HookAnswer]]


class ForwardRefused(ValueError):
    """A forwarded hook that cannot be run: unknown, malformed or too large."""


def bounded(fields: Any) -> dict[str, str]:
    """`fields` as at most MAX_FIELDS text pairs of at most MAX_VALUE characters each;
    `ForwardRefused` when it is not a mapping of text or is too big."""
    if not isinstance(fields, Mapping) or len(fields) > MAX_FIELDS:
        raise ForwardRefused(f"fields must be a mapping of at most {MAX_FIELDS}")
    out: dict[str, str] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or not isinstance(value, str) or len(name) > 100:
            raise ForwardRefused("field names and values are text")
        out[name] = value[:MAX_VALUE]
    return out


class Routing:
    """This worker's way to the others: who holds what (`owners`), and a client per
    worker's socket."""

    def __init__(self, owners: CallOwners, timeout: float = FORWARD_TIMEOUT) -> None:
        self.owners = owners
        self.timeout = timeout
        self._clients: dict[int, httpx.AsyncClient] = {}

    def _client(self, index: int) -> httpx.AsyncClient:
        client = self._clients.get(index)
        if client is None:
            transport = httpx.AsyncHTTPTransport(uds=str(self.owners.socket_of(index)))
            client = httpx.AsyncClient(transport=transport, base_url="http://dialflow-worker",
                                       timeout=self.timeout)
            self._clients[index] = client
        return client

    async def forward(self, index: int, hook: str, form: Mapping[str, str],
                      query: Mapping[str, str], fallback: HookAnswer) -> HookAnswer:
        """Worker `index`'s decision on `hook`, or `fallback` when it cannot give one."""
        body = {"form": bounded(form), "query": bounded(query)}
        call = escape_id(str(form.get("CallSid", "")) or "-")
        try:
            async with self._client(index).stream("POST", HOOK_PATH + hook,
                                                   json=body) as answer:
                data = bytearray()
                async for chunk in answer.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_ANSWER:
                        raise ForwardRefused(f"an answer over {MAX_ANSWER} bytes")
                if answer.status_code != 200:
                    raise ForwardRefused(f"status {answer.status_code}")
            decided = HookAnswer.from_json(json.loads(bytes(data)))
        except (httpx.HTTPError, OSError, ValueError) as exc:
            log.error("call %s: worker %d holds the call but did not decide %s (%s); "
                      "answering without it", call, index, escape_id(hook, 40),
                      escape_id(type(exc).__name__, 60))
            return fallback
        log.info("call %s: %s decided by worker %d", call, escape_id(hook, 40), index)
        return decided

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


async def decide(services: Any, hooks: Mapping[str, Hook], keys: tuple[str, ...], hook: str,
                 form: Mapping[str, str], query: Mapping[str, str],
                 fallback: HookAnswer) -> HookAnswer:
    """Run `hook` (from `hooks`, the app's table) where the call lives: here, or on the
    worker holding the first of `keys` that a live worker holds."""
    routing: Routing | None = services.routing
    index = routing.owners.elsewhere(*keys) if routing is not None else None
    if routing is None or index is None:
        return await hooks[hook](dict(form), dict(query))
    return await routing.forward(index, hook, form, query, fallback)
