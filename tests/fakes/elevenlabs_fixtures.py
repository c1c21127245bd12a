"""pytest fixtures shared by the ElevenLabs adapter tests and the speech-helper tests: a fake
ElevenLabs server per test and a factory for `ElevenLabsTts` clients pointed at it (tiny
backoff, short timeout). Each suite's conftest re-exports them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from adapters.elevenlabs.tts import ElevenLabsTts
from tests.fakes.elevenlabs_server import FakeElevenLabsServer


@pytest.fixture
def fake() -> Iterator[FakeElevenLabsServer]:
    with FakeElevenLabsServer() as server:
        yield server


@pytest.fixture
def make_tts(fake: FakeElevenLabsServer) -> Callable[..., ElevenLabsTts]:
    def make(**kwargs: Any) -> ElevenLabsTts:
        kwargs.setdefault("env", {"ELEVENLABS_API_KEY": fake.api_key})
        kwargs.setdefault("base_url", fake.base_url)
        kwargs.setdefault("timeout", 2.0)
        kwargs.setdefault("backoff", 0.001)
        kwargs.setdefault("max_backoff", 0.01)
        return ElevenLabsTts(**kwargs)

    return make
