"""Provider choice per slot: auto picks a cloud provider only when its key is set."""

from __future__ import annotations

import pytest

from engine.providers import ProviderError, choose


def test_auto_is_offline_without_keys() -> None:
    assert [choose(s, "auto", {}).name for s in ("stt", "tts", "llm")] == \
        ["local", "local", "rules"]


def test_auto_takes_a_cloud_provider_when_its_key_is_set() -> None:
    env = {"DEEPGRAM_API_KEY": "k", "ELEVENLABS_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}
    assert [choose(s, None, env).name for s in ("stt", "tts", "llm")] == \
        ["deepgram", "elevenlabs", "anthropic"]


def test_an_openai_key_for_embeddings_does_not_pick_the_openai_brain() -> None:
    assert choose("llm", "auto", {"OPENAI_API_KEY": "k"}).name == "rules"
    assert choose("llm", "openai", {"OPENAI_API_KEY": "k"}).name == "openai"


def test_explicit_provider_without_its_key_names_the_variable() -> None:
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY is not set"):
        choose("llm", "anthropic", {})
    assert choose("llm", "openai", {}, keyless=True).name == "openai"
    with pytest.raises(ProviderError, match="use auto or one of"):
        choose("stt", "whisper-xl", {})
