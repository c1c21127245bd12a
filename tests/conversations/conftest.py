"""Fixtures for the conversation set: the real MiniLM, a real retriever over
data/knowledge.json (once per session) and a brain that checks slots, as
`RulesBrain.from_settings` builds it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (str(HERE), str(HERE.parent / "local_brain")):
    if path not in sys.path:
        sys.path.insert(0, path)

from brain_testkit import build_retriever, make_brain  # noqa: E402

from adapters.local.brain import RulesBrain  # noqa: E402
from adapters.local.embeddings import LocalMiniLMEmbedder  # noqa: E402


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def call_brain(tmp_path_factory: pytest.TempPathFactory) -> RulesBrain:
    embedder = LocalMiniLMEmbedder()
    embedder.load()
    retriever = build_retriever(tmp_path_factory.mktemp("kb") / "chroma", embedder)
    return make_brain(retriever, embedder, check_slots=True)
