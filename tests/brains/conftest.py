"""Fixtures for the LLM brain tests: the fake provider servers on 127.0.0.1 and a registry.

Provider variables are removed from the environment so no test can reach a real API.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for path in (ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from llm_testkit import ANTHROPIC_KEY, OPENAI_KEY, LoopHolder  # noqa: E402

from tests.fakes.anthropic_server import FakeAnthropicServer  # noqa: E402
from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402
from tools.builtin import build_registry  # noqa: E402
from tools.registry import ToolRegistry  # noqa: E402


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN",
                 "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _one_loop_per_test() -> Iterator[None]:
    with asyncio.Runner() as runner:
        LoopHolder.runner = runner
        try:
            yield
        finally:
            LoopHolder.runner = None


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer(api_key=ANTHROPIC_KEY) as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture
def registry() -> ToolRegistry:
    return build_registry()
