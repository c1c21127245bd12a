"""`ElevenLabsTts`: the cloud `TtsProvider`, ElevenLabs' HTTP streaming endpoint in ulaw_8000.

Each sentence is one `POST /v1/text-to-speech/{voice_id}/stream?output_format=ulaw_8000`
through the official SDK (`AsyncElevenLabs`). That is the lowest-latency path for text that
is complete when it arrives: ElevenLabs' WebSocket input streaming buffers partial text and
is meant for token streams (and the SDK only offers it synchronously). The model defaults
to `eleven_flash_v2_5` with `optimize_streaming_latency=3` (level 4 would turn off the text
normaliser, which mispronounces dates and times). The audio is 8 kHz mu-law, exactly what
Twilio plays, so chunks are yielded as they arrive, unchanged (the SDK's re-chunking into
1 KiB pieces is turned off: it would hold back the first 128 ms of audio).

Failures before the first audio byte that are transient (see `retry`) are retried up to
`max_retries` times with backoff and jitter; anything after audio started, and anything
else, raises `ElevenLabsTtsError` (the engine turns it into `tts.error`). `timeout` bounds
connecting and every wait for data, so a stalled stream raises `ElevenLabsTimeout`.
Cancelling or closing the iteration (barge-in) leaves the SDK's `async with`, which closes
the HTTP response and its connection at once.

Time to first byte (from `synthesize` being iterated to the first audio chunk, retries
included) is logged at debug with the call id, kept in `last_ttfb` (seconds, last
synthesis of any call) and passed to `on_first_byte(call_id, seconds)` when given.
The API key is read from `ELEVENLABS_API_KEY` only and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.request_options import RequestOptions

from adapters.elevenlabs.retry import RetryPolicy, status_of
from adapters.elevenlabs.settings import (
    API_KEY_ENV,
    DEFAULT_MODEL_ID,
    OUTPUT_FORMAT,
    ElevenLabsSettings,
)
from flows.model import Settings

log = logging.getLogger("dialflow.elevenlabs.tts")

DEFAULT_TIMEOUT = 5.0  # seconds to connect, and between any two pieces of the answer
KEEPALIVE_SECONDS = 30.0  # keep the TLS connection for the next sentence
DEFAULT_LATENCY_OPTIMIZATION = 3
# chunk_size None: hand over bytes as they arrive instead of re-chunking them to 1 KiB.
_REQUEST_OPTIONS: RequestOptions = {"max_retries": 0, "chunk_size": None}  # type: ignore[typeddict-item]


class ElevenLabsTtsError(RuntimeError):
    """ElevenLabs did not deliver the audio. The message is safe to log: it names the
    cause and the HTTP status, never the key. `audio_started` tells whether the failure
    came after some audio was already yielded."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1,
                 audio_started: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts
        self.audio_started = audio_started


class ElevenLabsTimeout(ElevenLabsTtsError):
    """ElevenLabs accepted no connection or sent nothing for `timeout` seconds."""


class ElevenLabsTts:
    """Text-to-speech through ElevenLabs, streamed as 8 kHz mu-law."""

    name = "elevenlabs"

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], **_: Any) -> ElevenLabsTts:
        """The provider convention (engine.providers): `settings.tts.voice`, the key from `env`."""
        return cls(env=env, voice_id=settings.tts.voice)

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        voice_id: str | None = None,
        model_id: str = DEFAULT_MODEL_ID,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        *,
        optimize_streaming_latency: int | None = DEFAULT_LATENCY_OPTIMIZATION,
        backoff: float = 0.2,
        max_backoff: float = 2.0,
        on_first_byte: Callable[[str, float], None] | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.settings = ElevenLabsSettings.from_env(
            os.environ if env is None else env, voice_id=voice_id, model_id=model_id,
            base_url=base_url)
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries, base=backoff, cap=max_backoff)
        self.optimize_streaming_latency = optimize_streaming_latency
        self.on_first_byte = on_first_byte
        self.last_ttfb: float | None = None
        self._sdk_client: AsyncElevenLabs | None = None
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return (f"ElevenLabsTts(voice_id={self.voice_id!r}, model_id={self.model_id!r}, "
                f"base_url={self.settings.base_url!r})")

    @property
    def voice_id(self) -> str:
        return self.settings.voice_id

    @property
    def model_id(self) -> str:
        return self.settings.model_id

    @property
    def voice(self) -> str:
        """What decides how the audio sounds (voice and model): part of prompt-cache keys."""
        return f"{self.voice_id}/{self.model_id}"

    def _sdk(self) -> AsyncElevenLabs:
        """The SDK client of the running loop (httpx connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        if self._sdk_client is None or self._loop is not loop:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout), follow_redirects=True,
                limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS))
            self._sdk_client = AsyncElevenLabs(
                api_key=self.settings.api_key, base_url=self.settings.base_url,
                timeout=self.timeout, httpx_client=self._http)
            self._loop = loop
        return self._sdk_client

    async def warm(self) -> None:
        """Create the SDK client in the serving loop; ElevenLabs has no model to load."""
        self._sdk()

    async def aclose(self) -> None:
        """Close the pooled connections (the next `synthesize` opens new ones)."""
        http, self._http, self._sdk_client, self._loop = self._http, None, None, None
        if http is not None:
            await http.aclose()

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        """Stream `text` as 8 kHz mu-law chunks, as ElevenLabs sends them."""
        text = text.strip()
        if not text:
            return
        sdk = self._sdk()
        started = time.perf_counter()
        retries = 0
        audio_started = False
        done = False  # ended, failed or gave up (as opposed to closed by the consumer)
        try:
            while True:
                try:
                    async with sdk.text_to_speech.with_raw_response.stream(
                        self.voice_id, text=text, model_id=self.model_id,
                        output_format=OUTPUT_FORMAT,
                        optimize_streaming_latency=self.optimize_streaming_latency,
                        request_options=_REQUEST_OPTIONS,
                    ) as response:
                        async for chunk in response.data:
                            if not chunk:
                                continue
                            if not audio_started:
                                audio_started = True
                                self._first_byte(call_id, time.perf_counter() - started,
                                                 retries)
                            yield chunk
                    done = True
                    if not audio_started:
                        log.warning("call %s: elevenlabs sent no audio for %d characters",
                                    call_id, len(text))
                    return
                except (ApiError, httpx.HTTPError) as exc:
                    if audio_started or not self.retry.should_retry(exc, retries):
                        done = True
                        raise _failure(exc, call_id, retries + 1, audio_started) from exc
                    delay = self.retry.delay(retries, exc)
                    retries += 1
                    log.warning("call %s: elevenlabs %s; retry %d of %d in %.2f s", call_id,
                                _describe(exc), retries, self.retry.max_retries, delay)
                    await asyncio.sleep(delay)
        finally:
            if not done:
                log.debug("call %s: elevenlabs synthesis stopped by the consumer", call_id)

    def _first_byte(self, call_id: str, seconds: float, retries: int) -> None:
        self.last_ttfb = seconds
        log.debug("call %s: elevenlabs first audio after %.0f ms (%d retries)", call_id,
                  seconds * 1000, retries)
        if self.on_first_byte is not None:
            try:
                self.on_first_byte(call_id, seconds)
            except Exception:
                log.exception("call %s: on_first_byte callback failed", call_id)


def _failure(exc: BaseException, call_id: str, attempts: int,
             audio_started: bool) -> ElevenLabsTtsError:
    where = "after audio started" if audio_started else f"after {attempts} attempt(s)"
    status = status_of(exc)
    kind = ElevenLabsTimeout if isinstance(exc, httpx.TimeoutException) else ElevenLabsTtsError
    hint = f"; check {API_KEY_ENV}" if status in (401, 403) else ""
    message = f"call {call_id}: elevenlabs tts failed {where}: {_describe(exc)}{hint}"
    log.warning("%s", message)
    return kind(message, status=status, attempts=attempts, audio_started=audio_started)


def _describe(exc: BaseException) -> str:
    """A short, key-free description: `HTTP 429 (too_many_concurrent_requests: ...)`."""
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}{_detail(exc.body)}"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within the timeout ({type(exc).__name__})"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _detail(body: Any) -> str:
    detail = body.get("detail") if isinstance(body, dict) else body
    if isinstance(detail, dict):
        parts = [str(detail[k]) for k in ("status", "message") if detail.get(k)]
        detail = ": ".join(parts)
    text = str(detail or "").strip()
    return f" ({text[:200]})" if text else ""
