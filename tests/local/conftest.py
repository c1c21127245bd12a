"""Fixtures for the offline speech stack tests: the real models, loaded once per test
session, and the test phrases rendered once by the real piper voice."""

from __future__ import annotations

import asyncio

import pytest
from local_speech_kit import BOOKING, CONFIRM, speak

from adapters.local import models
from adapters.local.tts import CLAUSES, LocalPiperTts


@pytest.fixture(autouse=True)
def fresh_clause_cache() -> None:
    """Each test starts with the process's clause cache empty, so what it renders is
    rendered (a clause another test spoke would otherwise come from the cache)."""
    CLAUSES.clear()


@pytest.fixture(scope="session")
def warm_models() -> None:
    """Load whisper, piper and a VAD once for the whole session."""
    models.warm_whisper()
    models.warm_piper()
    models.warm_vad()


@pytest.fixture(scope="session")
def spoken(warm_models: None) -> dict[str, bytes]:
    """The test phrases as 8 kHz mu-law, spoken by the real piper voice."""
    tts = LocalPiperTts(steady=True)
    return {text: asyncio.run(speak(tts, text)) for text in (BOOKING, CONFIRM)}
