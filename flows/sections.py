"""The typed sections of flows.yaml's `settings:`, frozen, parsed once when the flow loads.

`flows/settings.py` validates the YAML (file:line errors) and then builds these; each owner
is handed its own section through `flows.model.Settings` (`settings.stt` to speech-to-text,
`settings.tts` to text-to-speech, `settings.llm` to the brains, `settings.privacy` to the
call records) instead of reading raw dictionaries. `business` and `knowledge` are validated
here too (`flows/settings_business.py`, `flows/settings_knowledge.py`); their owners build
their richer objects (`tools.calendar.BusinessCalendar`, `knowledge.config.KnowledgeConfig`)
from the validated mapping. Pure data; imports nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _names(value: Any) -> tuple[str, ...] | None:
    """A `fallback:` value (one name or a list) as a tuple; None when it is not given."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _text(value: Any) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class SttSettings:
    provider: str = "auto"
    min_confidence: float = 0.5
    language: str | None = None

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> SttSettings:
        section = section or {}
        return cls(provider=str(section.get("provider") or "auto"),
                   min_confidence=_number(section, "min_confidence", float, 0.5),
                   language=_text(section.get("language")))


@dataclass(frozen=True)
class TtsSettings:
    provider: str = "auto"
    voice: str | None = None
    fallback: tuple[str, ...] | None = None  # None: a cloud voice falls back to local

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> TtsSettings:
        section = section or {}
        return cls(provider=str(section.get("provider") or "auto"),
                   voice=_text(section.get("voice")),
                   fallback=_names(section.get("fallback")))


@dataclass(frozen=True)
class LlmSettings:
    provider: str = "auto"
    model: str | None = None  # None: the provider's default model
    max_tokens: int | None = None
    temperature: float | None = None
    base_url: str | None = None  # an OpenAI-compatible server of the flow's own
    fallback: tuple[str, ...] | None = None

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> LlmSettings:
        section = section or {}
        return cls(provider=str(section.get("provider") or "auto"),
                   model=_text(section.get("model")),
                   max_tokens=_number(section, "max_tokens", int, None),
                   temperature=_number(section, "temperature", float, None),
                   base_url=_text(section.get("base_url")),
                   fallback=_names(section.get("fallback")))


@dataclass(frozen=True)
class PrivacySettings:
    record_audio: bool = False
    retention_days: int = 30
    redact_transcripts: bool = False

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> PrivacySettings:
        section = section or {}
        return cls(record_audio=bool(section.get("record_audio", False)),
                   retention_days=_number(section, "retention_days", int, 30),
                   redact_transcripts=bool(section.get("redact_transcripts", False)))


def _number(section: Mapping[str, Any], key: str, cast: Any, default: Any) -> Any:
    """`section[key]` as a number; the default when absent or unusable (a flow with an
    unusable value is rejected by the checks; this only keeps building it from crashing)."""
    value = section.get(key)
    if value is None or isinstance(value, bool):
        return default
    try:
        return cast(value)
    except (TypeError, ValueError, OverflowError):  # already reported by the checks
        return default
