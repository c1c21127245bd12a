"""ElevenLabs settings: the API key (only from `ELEVENLABS_API_KEY`), voice, model, host.

`ElevenLabsSettings.from_env` reads the environment once; a missing key is a
`ElevenLabsConfigError` naming the variable. The key is kept out of `repr` so it cannot end
up in a log line or a traceback by accident. `DIALFLOW_ELEVENLABS_API_URL` points the SDK
at another host (a local fake, a regional endpoint); `ELEVENLABS_VOICE_ID` picks the voice
when the caller does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from engine.environment import DIALFLOW_ELEVENLABS_API_URL, ELEVENLABS_API_KEY, ELEVENLABS_VOICE_ID

API_KEY_ENV = ELEVENLABS_API_KEY
VOICE_ENV = ELEVENLABS_VOICE_ID
API_URL_ENV = DIALFLOW_ELEVENLABS_API_URL

DEFAULT_VOICE_ID = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", a premade voice every account has
DEFAULT_MODEL_ID = "eleven_flash_v2_5"  # ElevenLabs' lowest-latency model
OUTPUT_FORMAT = "ulaw_8000"  # what Twilio plays: no transcoding on our side


class ElevenLabsConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable or argument."""


@dataclass(frozen=True)
class ElevenLabsSettings:
    api_key: str = field(repr=False)
    voice_id: str = DEFAULT_VOICE_ID
    model_id: str = DEFAULT_MODEL_ID
    base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, voice_id: str | None = None,
                 model_id: str = DEFAULT_MODEL_ID,
                 base_url: str | None = None) -> ElevenLabsSettings:
        key = (env.get(API_KEY_ENV) or "").strip()
        if not key:
            raise ElevenLabsConfigError(
                f"{API_KEY_ENV} is not set; it is needed for ElevenLabs text-to-speech "
                "(unset settings.tts.provider or use local to speak with piper)")
        voice = (voice_id or env.get(VOICE_ENV) or DEFAULT_VOICE_ID).strip()
        if not voice:
            raise ElevenLabsConfigError("voice_id must not be empty")
        if not model_id.strip():
            raise ElevenLabsConfigError("model_id must not be empty")
        url = base_url or (env.get(API_URL_ENV) or "").strip() or None
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ElevenLabsConfigError(
                    f"ElevenLabs base url must be http(s)://host[:port], got {url!r} "
                    f"(argument base_url or {API_URL_ENV})")
            url = url.rstrip("/")
        return cls(api_key=key, voice_id=voice, model_id=model_id.strip(), base_url=url)
