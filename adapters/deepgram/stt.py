"""`DeepgramStt`: the cloud `SttProvider`, Deepgram's live transcription through its SDK.

One `AsyncDeepgramClient` serves every call; each call gets a `DeepgramSession` with its
own WebSocket (`client.listen.v1.connect`, query from `config.listen_params`). The key is
read once, from `DEEPGRAM_API_KEY` only; `base_url` points the SDK at another server (a
self-hosted Deepgram, or the tests' local fake) through the SDK's `environment`.
`on_first_result(call_id, seconds)` reports each call's time to first result for metrics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from deepgram import AsyncDeepgramClient
from deepgram.environment import DeepgramClientEnvironment

from adapters.deepgram.config import DeepgramOptions, api_key, listen_params, server_urls
from adapters.deepgram.session import DeepgramSession, FirstResult, LiveSocket
from engine.media import Emit
from flows.model import Settings


class DeepgramStt:
    """Speech-to-text by Deepgram (nova-3 by default), for 8 kHz mu-law phone audio."""

    name = "deepgram"

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], **_: Any) -> DeepgramStt:
        """The provider convention (engine.providers): the key from `env`."""
        return cls(env=env)

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        base_url: str | None = None,
        options: DeepgramOptions | None = None,
        on_first_result: FirstResult | None = None,
    ) -> None:
        self.options = options or DeepgramOptions()
        self.on_first_result = on_first_result
        key = api_key(os.environ if env is None else env)
        self._client = AsyncDeepgramClient(api_key=key, environment=environment(base_url))
        self._params = listen_params(self.options)

    def open(self, call_id: str, emit: Emit) -> DeepgramSession:
        """Start a call's session; call it on the event loop that will feed and close it."""
        return DeepgramSession(call_id, emit, self._connect, self.options, self.on_first_result)

    def prime(self, terms: list[str] | tuple[str, ...]) -> None:
        """Recognise the business's own words (`knowledge.vocabulary`) from the next call on."""
        self.options = replace(self.options, keyterms=tuple(terms))
        self._params = listen_params(self.options)

    async def warm(self) -> None:
        """Nothing to load: each call opens its own socket when it starts."""

    def _connect(self) -> AbstractAsyncContextManager[LiveSocket]:
        return self._client.listen.v1.connect(**self._params)


def environment(base_url: str | None) -> DeepgramClientEnvironment:
    """Deepgram's production servers, or every endpoint at `base_url`."""
    if base_url is None:
        return DeepgramClientEnvironment.PRODUCTION
    http, ws = server_urls(base_url)
    return DeepgramClientEnvironment(base=http, production=ws, agent=ws, agent_rest=http)
