"""Fixtures for the rules-brain tests: the real MiniLM and a real retriever over
data/knowledge.json in a tmp chroma directory (both once per session), a fresh brain per
test on the injected clock, and a fresh SQLite database per test for the real tools.

Removes OPENAI_* variables so nothing here can reach the internet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from brain_testkit import (  # noqa: E402
    Dialogue,
    build_retriever,
    make_brain,
    make_storage,
)

from adapters.local.brain import RulesBrain  # noqa: E402
from adapters.local.embeddings import LocalMiniLMEmbedder  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from tools.storage import Storage  # noqa: E402


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embedder() -> LocalMiniLMEmbedder:
    model = LocalMiniLMEmbedder()
    model.load()
    return model


@pytest.fixture(scope="session")
def retriever(tmp_path_factory: pytest.TempPathFactory, embedder: LocalMiniLMEmbedder
              ) -> Retriever:
    return build_retriever(tmp_path_factory.mktemp("kb") / "chroma", embedder)


@pytest.fixture
def brain(retriever: Retriever, embedder: LocalMiniLMEmbedder) -> RulesBrain:
    return make_brain(retriever, embedder)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = make_storage(tmp_path / "dialflow.db")
    yield store
    store.close()


@pytest.fixture
def dialogue(brain: RulesBrain, storage: Storage) -> Callable[..., Dialogue]:
    """`dialogue(call_id=..., caller=...)`: a call on the shared brain and database."""

    def make(**kwargs: str) -> Dialogue:
        return Dialogue(brain, storage, **kwargs)

    return make
