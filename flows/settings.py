"""The `settings:` section of flows.yaml: its schema, defaults and validation, and the typed
`Settings` built from it once at load (sections in flows/sections.py).

`business` and `knowledge` have their own schema modules (flows/settings_business.py,
flows/settings_knowledge.py), whose validators their owners (tools/, knowledge/) reuse.
A bad value is a `FlowError` with file, line and fix. Imports only flows/ modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flows.errors import FlowError, did_you_mean
from flows.hold_music import KEY as HOLD_MUSIC
from flows.hold_music import check_hold_music
from flows.model import Settings
from flows.sections import LlmSettings, PrivacySettings, SttSettings, TtsSettings
from flows.settings_business import validate_business_settings
from flows.settings_checks import check_ranges, parse_limits
from flows.settings_knowledge import validate_knowledge_settings
from flows.turns import flow_policy
from flows.yaml_lines import YMap

# section -> key -> (accepted types, what to write)
_SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "stt": {
        "provider": ((str,), "auto, deepgram or local"),
        "min_confidence": ((int, float), "a number from 0 to 1, e.g. 0.5"),
        "language": ((str,), "a language code, e.g. en-US"),
    },
    "tts": {
        "provider": ((str,), "auto, elevenlabs or local"),
        "voice": ((str,), "the provider's voice id"),
        "fallback": ((str, list), "providers to try when the first fails, e.g. [local]"),
    },
    "llm": {
        "provider": ((str,), "auto, anthropic, openai or rules"),
        "model": ((str,), "the provider's model name"),
        "max_tokens": ((int,), "a whole number, e.g. 300"),
        "temperature": ((int, float), "a number from 0 to 1"),
        "base_url": ((str,), "an OpenAI-compatible server URL"),
        "fallback": ((str, list), "brains to try when the first fails, e.g. [rules]"),
    },
    "escalation": {"number": ((str,), 'the human\'s phone number in E.164, e.g. "+15550100199"')},
}
_FREE_SECTIONS = ("business", "knowledge")
_LIMITS = "limits"
_TURN_SECTIONS = ("turn", "barge_in")  # flows/turns.py
_TEXT_KEYS = ("system_prompt",)


#: The sections with their own validator module (their owners build richer objects).
_SECTION_VALIDATORS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "business": validate_business_settings,
    "knowledge": validate_knowledge_settings,
}


def parse_settings(raw: Any, path: str, line: int, errors: list[FlowError]) -> Settings:
    """Validate `settings:` and return the typed `Settings`; problems go to `errors`."""
    if raw is None:
        return Settings()
    if not isinstance(raw, YMap):
        errors.append(FlowError(path, line, "settings must be a mapping of sections",
                                "write `settings:` followed by indented sections"))
        return Settings()
    known = [*_SCHEMA, *_FREE_SECTIONS, *_TEXT_KEYS, _LIMITS, "privacy", *_TURN_SECTIONS,
             HOLD_MUSIC]
    hold_music = ""
    for section, value in raw.items():
        at = raw.line_of(section)
        if section == _LIMITS or section in _TURN_SECTIONS:
            continue  # parsed below
        if section == HOLD_MUSIC:
            hold_music, problems = check_hold_music(value, path, at)
            errors.extend(problems)
            continue
        if section in _TEXT_KEYS:
            if not isinstance(value, str) or not value.strip():
                errors.append(FlowError(path, at, f"settings.{section} must be text",
                                        "write it as a YAML block: `system_prompt: |`"))
        elif section in _FREE_SECTIONS:
            _check_free_section(section, value, path, at, errors)
        elif section in _SCHEMA:
            _check_section(section, value, path, at, errors)
        elif section == "privacy":
            _check_privacy(value, path, at, errors)
        else:
            errors.append(FlowError(path, at, f"unknown settings section '{section}'",
                                    did_you_mean(section, known)))
    check_ranges(raw, path, errors)
    limits = parse_limits(raw.get(_LIMITS), path, raw.line_of(_LIMITS), errors)
    turn = flow_policy(raw, path, errors)
    return replace(_build(raw), limits=limits, turn=turn, min_speech_ms=turn.min_speech_ms,
                   hold_music=hold_music)


def _check_section(section: str, value: Any, path: str, at: int,
                   errors: list[FlowError]) -> None:
    if not isinstance(value, YMap):
        errors.append(FlowError(path, at, f"settings.{section} must be a mapping",
                                f"indent its keys under `{section}:`"))
        return
    schema = _SCHEMA[section]
    for key, item in value.items():
        key_line = value.line_of(key)
        if key not in schema:
            errors.append(FlowError(path, key_line, f"unknown setting '{section}.{key}'",
                                    did_you_mean(key, schema)))
            continue
        types, hint = schema[key]
        if isinstance(item, bool) or not isinstance(item, types):
            errors.append(FlowError(path, key_line, f"settings.{section}.{key} is {item!r}",
                                    f"write {hint}"))


# settings.privacy (read by engine/records): key -> (is it valid, what to write)
_PRIVACY: dict[str, tuple[Callable[[Any], bool], str]] = {
    "record_audio": (lambda v: isinstance(v, bool), "true or false (off by default)"),
    "retention_days": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                       "a whole number of days, at least 1 (default 30)"),
    "redact_transcripts": (lambda v: isinstance(v, bool), "true or false"),
}


def _check_privacy(value: Any, path: str, at: int, errors: list[FlowError]) -> None:
    if not isinstance(value, YMap):
        errors.append(FlowError(path, at, "settings.privacy must be a mapping",
                                "indent its keys under `privacy:`"))
        return
    for key, item in value.items():
        if key not in _PRIVACY:
            errors.append(FlowError(path, value.line_of(key), f"unknown setting 'privacy.{key}'",
                                    did_you_mean(key, _PRIVACY)))
        elif not _PRIVACY[key][0](item):
            errors.append(FlowError(path, value.line_of(key),
                                    f"settings.privacy.{key} is {item!r}",
                                    f"write {_PRIVACY[key][1]}"))


def _check_free_section(section: str, value: Any, path: str, at: int,
                        errors: list[FlowError]) -> None:
    if not isinstance(value, YMap):
        errors.append(FlowError(path, at, f"settings.{section} must be a mapping",
                                f"indent its keys under `{section}:`"))
        return
    for problem in _SECTION_VALIDATORS[section](dict(value)):
        key = next((k for k in value if f"{k}" in problem), None)
        errors.append(FlowError(path, value.line_of(key) if key else at,
                                f"settings.{section}: {problem}",
                                f"see the `{section}` section of the README"))


def _build(raw: YMap) -> Settings:
    def get(section: str, key: str, default: Any) -> Any:
        value = raw.get(section)
        return value.get(key, default) if isinstance(value, dict) else default

    def number(section: str, key: str, cast: Callable[[Any], Any], default: Any) -> Any:
        try:
            return cast(get(section, key, default))
        except (TypeError, ValueError, OverflowError):  # `.inf` is a float too
            return default  # already reported by the section check

    def section(name: str) -> dict[str, Any]:
        value = raw.get(name)
        return dict(value) if isinstance(value, dict) else {}

    stt = SttSettings.from_mapping(section("stt"))
    return Settings(
        min_speech_ms=number("barge_in", "min_speech_ms", int, 300),
        min_confidence=stt.min_confidence,
        escalation_number=str(get("escalation", "number", "")),
        system_prompt=str(raw.get("system_prompt") or ""),
        llm=LlmSettings.from_mapping(section("llm")),
        raw={k: v for k, v in raw.items()},
        stt=stt,
        tts=TtsSettings.from_mapping(section("tts")),
        privacy=PrivacySettings.from_mapping(section("privacy")),
        business=section("business"),
        knowledge=section("knowledge"),
    )
