"""Fallback chains per slot: brains tried in order, and the flow's `fallback:` settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from engine.app.server.bootstrap import fallbacks
from engine.fallback_brain import FallbackBrain
from engine.ports import Sentence, ToolCall, ToolOutcome, Turn
from engine.providers import PROVIDERS, ProviderError


class Scripted:
    def __init__(self, name: str, sentences: list[str], fail_after: int | None = None):
        self.name = name
        self.sentences = sentences
        self.fail_after = fail_after
        self.results: list[str] = []
        self.forgotten: list[str] = []

    async def respond(self, turn: Turn) -> AsyncIterator[Sentence]:
        for index, text in enumerate(self.sentences):
            if self.fail_after == index:
                raise ConnectionError(f"{self.name} is down")
            yield Sentence(text)
        if self.fail_after is not None and self.fail_after >= len(self.sentences):
            raise ConnectionError(f"{self.name} is down")

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        self.results.append(tool.name)

    def forget(self, call_id: str) -> None:
        self.forgotten.append(call_id)


def _collect(brain: FallbackBrain) -> list[str]:
    async def run() -> list[str]:
        return [s.text async for s in brain.respond(Turn("CA1", "+1555", "hi"))]  # type: ignore[union-attr]

    return asyncio.run(run())


def test_a_brain_that_fails_before_speaking_hands_the_turn_on() -> None:
    primary = Scripted("claude", ["never"], fail_after=0)
    secondary = Scripted("rules", ["We open at eight."])
    brain = FallbackBrain([primary, secondary])
    assert brain.name == "claude>rules"
    assert _collect(brain) == ["We open at eight."]
    brain.tool_result("CA1", ToolCall("book_appointment"), ToolOutcome(ok=True))
    brain.forget("CA1")
    assert primary.results == secondary.results == ["book_appointment"]
    assert primary.forgotten == secondary.forgotten == ["CA1"]


def test_a_failure_after_the_first_sentence_is_raised() -> None:
    brain = FallbackBrain([Scripted("claude", ["Sure.", "Then"], fail_after=1),
                           Scripted("rules", ["Other voice."])])
    with pytest.raises(ConnectionError, match="claude is down"):
        _collect(brain)


def test_the_last_brain_failing_raises() -> None:
    brain = FallbackBrain([Scripted("a", [], fail_after=0), Scripted("b", [], fail_after=0)])
    with pytest.raises(ConnectionError, match="b is down"):
        _collect(brain)


def test_fallback_settings() -> None:
    local_tts = PROVIDERS["tts"]["local"]
    cloud_tts = PROVIDERS["tts"]["elevenlabs"]
    assert [c.name for c in fallbacks("tts", None, cloud_tts, {})] == ["local"]
    assert fallbacks("tts", None, local_tts, {}) == []
    assert fallbacks("tts", (), cloud_tts, {}) == []
    claude = PROVIDERS["llm"]["anthropic"]
    assert fallbacks("llm", None, claude, {}) == []
    assert [c.name for c in fallbacks("llm", ("rules",), claude, {})] == ["rules"]
    with pytest.raises(ProviderError, match="use auto or one of"):
        fallbacks("llm", ("gpt-9000",), claude, {})
