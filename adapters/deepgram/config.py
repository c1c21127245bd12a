"""Deepgram settings: the options of a live session, the API key and the server address.

The key comes only from the `DEEPGRAM_API_KEY` environment variable; a missing key is a
`DeepgramConfigError` that names it. The key is handed to the SDK and never logged or kept
anywhere else. `listen_params` is the query of the live request: Twilio's audio as is
(mu-law, 8 kHz, mono), interim results, end-pointing, utterance end and VAD events, and the
business vocabulary (`keyterms`, from `knowledge.vocabulary`): nova-3 takes them as repeated
`keyterm` parameters, older models as `keywords` with a boost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from engine.audio_format import BYTES_PER_SECOND, SAMPLE_RATE
from engine.environment import DEEPGRAM_API_KEY

KEY_ENV = DEEPGRAM_API_KEY
MAX_KEYTERMS = 100  # Deepgram's limit on key terms per request
KEYWORD_BOOST = 2  # intensifier for `keywords` (models before nova-3)


class DeepgramConfigError(RuntimeError):
    """Deepgram cannot be used as configured; the message names what to fix."""


@dataclass(frozen=True)
class DeepgramOptions:
    """How a call talks to Deepgram. Durations in seconds unless the name says `_ms`."""

    model: str = "nova-3"
    language: str | None = None  # None: Deepgram's default (English)
    endpointing_ms: int = 300  # silence that ends a segment with speech_final
    utterance_end_ms: int = 1000  # word gap that sends UtteranceEnd
    smart_format: bool = True
    punctuate: bool = True
    keepalive_s: float = 3.0  # send KeepAlive when no audio went out for this long
    connect_timeout_s: float = 5.0  # one WebSocket handshake
    max_attempts: int = 3  # connection attempts in a row before stt.error
    backoff_base_s: float = 0.25  # first reconnect delay (before jitter), doubled per attempt
    backoff_cap_s: float = 2.0
    stable_after_s: float = 5.0  # a connection this old counts as healthy even if silent
    buffer_s: float = 10.0  # audio kept while disconnected (oldest dropped beyond)
    finalize_wait_s: float = 1.5  # at hang-up, wait this long for the Finalize answer
    close_wait_s: float = 2.0  # then this long for Deepgram to close after CloseStream
    close_timeout_s: float = 6.0  # close() gives up after this (the call is over)
    report_until_ms: int = 2000  # stop re-reporting caller.speech_started past this
    keyterms: tuple[str, ...] = ()  # the business's own words, to be recognised as such

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise DeepgramConfigError("DeepgramOptions.max_attempts must be at least 1")
        if self.keepalive_s <= 0 or self.connect_timeout_s <= 0:
            raise DeepgramConfigError("DeepgramOptions timeouts must be positive")

    @property
    def buffer_bytes(self) -> int:
        return int(self.buffer_s * BYTES_PER_SECOND)


def api_key(env: Mapping[str, str]) -> str:
    """The Deepgram key from `env`, or a `DeepgramConfigError` naming the variable."""
    key = (env.get(KEY_ENV) or "").strip()
    if not key:
        raise DeepgramConfigError(
            f"{KEY_ENV} is not set: export your Deepgram API key as {KEY_ENV} "
            "or choose the local speech-to-text provider"
        )
    return key


def listen_params(options: DeepgramOptions) -> dict[str, Any]:
    """Query parameters of the live request (booleans spelled as Deepgram expects)."""
    params: dict[str, Any] = {
        "model": options.model,
        "encoding": "mulaw",
        "sample_rate": SAMPLE_RATE,
        "channels": 1,
        "interim_results": "true",
        "endpointing": options.endpointing_ms,
        "utterance_end_ms": options.utterance_end_ms,
        "vad_events": "true",
        "smart_format": _flag(options.smart_format),
        "punctuate": _flag(options.punctuate),
    }
    if options.language:
        params["language"] = options.language
    terms = [t for t in (" ".join(t.split()) for t in options.keyterms) if t][:MAX_KEYTERMS]
    if terms and options.model.startswith("nova-3"):
        params["keyterm"] = terms
    elif terms:
        params["keywords"] = [f"{t}:{KEYWORD_BOOST}" for t in terms]
    return params


def server_urls(base_url: str) -> tuple[str, str]:
    """(https URL, wss URL) of a Deepgram server given either form, e.g. a self-hosted
    one or a local fake: `ws://127.0.0.1:8080` gives `http://…` and `ws://…`."""
    parts = urlsplit(base_url.rstrip("/"))
    secure = parts.scheme in ("https", "wss")
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        raise DeepgramConfigError(f"Deepgram base_url {base_url!r} is not an http(s) or ws(s) URL")
    rest = (parts.netloc, parts.path, "", "")
    return (urlunsplit(("https" if secure else "http", *rest)),
            urlunsplit(("wss" if secure else "ws", *rest)))


def _flag(value: bool) -> str:
    return "true" if value else "false"
