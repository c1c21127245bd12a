"""`settings:` is parsed once at load into typed, frozen sections handed to their owners,
and the schema of every section lives with the flow language (flows/)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flows.errors import FlowInvalid
from flows.loader import load_flow
from flows.sections import LlmSettings, PrivacySettings, SttSettings, TtsSettings
from flows.settings_knowledge import KNOWN_KEYS
from knowledge.config import KnowledgeConfig

FLOW = """\
version: 1
name: typed
initial: greeting
prompts: {hello: Hello.}
settings:
  stt: {provider: local, min_confidence: 0.7, language: en-US}
  tts: {provider: local, voice: joe, fallback: local}
  llm: {provider: rules, model: m1, max_tokens: 99, temperature: 0.2, fallback: [rules]}
  privacy: {record_audio: true, retention_days: 7}
  business: {name: Test, timezone: UTC, hours: {mon: "09:00-17:00"}, slot_minutes: 30}
  knowledge: {top_k: 2}
states:
  greeting: {enter: [{say: hello}], final: true}
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "flows.yaml"
    path.write_text(text)
    return load_flow(str(path))


def test_each_owner_gets_its_typed_section(tmp_path: Path) -> None:
    settings = _load(tmp_path, FLOW).settings
    assert settings.stt == SttSettings("local", 0.7, "en-US")
    assert settings.tts == TtsSettings("local", "joe", ("local",))
    assert settings.llm == LlmSettings("rules", "m1", 99, 0.2, None, ("rules",))
    assert settings.privacy == PrivacySettings(record_audio=True, retention_days=7)
    assert settings.min_confidence == 0.7
    assert settings.business["timezone"] == "UTC" and settings.knowledge == {"top_k": 2}
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.stt.provider = "deepgram"  # type: ignore[misc]


def test_defaults_when_a_section_is_absent(tmp_path: Path) -> None:
    text = FLOW.split("settings:")[0] + "states:" + FLOW.split("states:")[1]
    settings = _load(tmp_path, text).settings
    assert (settings.stt, settings.tts, settings.llm, settings.privacy) == (
        SttSettings(), TtsSettings(), LlmSettings(), PrivacySettings())


@pytest.mark.parametrize(("line", "bad"), [
    ("  knowledge: {top_k: 2}", "  knowledge: {top_k: 99}"),
    ("slot_minutes: 30}", "slot_minutes: 3}"),
    ("temperature: 0.2", "temperature: hot"),
])
def test_a_bad_value_is_still_a_file_and_line_error(tmp_path: Path, line: str, bad: str) -> None:
    with pytest.raises(FlowInvalid) as err:
        _load(tmp_path, FLOW.replace(line, bad))
    [error] = err.value.errors
    assert error.path.endswith("flows.yaml") and error.line == FLOW.splitlines().index(
        next(x for x in FLOW.splitlines() if line.strip() in x)) + 1
    assert "settings." in error.message and error.fix


def test_the_knowledge_schema_and_the_owners_config_name_the_same_keys() -> None:
    assert tuple(f.name for f in dataclasses.fields(KnowledgeConfig)) == KNOWN_KEYS
