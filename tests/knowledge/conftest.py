"""Fixtures for the knowledge tests: the real local model (loaded once), chroma in tmp dirs.

Makes the repository root importable (the package is not installed in the test venv) and
removes OPENAI_* variables so `embeddings: auto` never reaches the internet from a test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.local.embeddings import LocalMiniLMEmbedder  # noqa: E402
from knowledge.config import KnowledgeConfig  # noqa: E402
from knowledge.embeddings import Embedder  # noqa: E402
from knowledge.ingest import ingest_file  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from knowledge.store import KnowledgeStore  # noqa: E402

SHIPPED_KB = ROOT / "data" / "knowledge.json"


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def local_embedder() -> LocalMiniLMEmbedder:
    """The offline MiniLM, loaded once for the whole session."""
    embedder = LocalMiniLMEmbedder()
    embedder.load()
    return embedder


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[..., KnowledgeStore]:
    """`make_store(embedder, **settings)`: a store in this test's tmp dir."""

    def make(embedder: Embedder, **settings: Any) -> KnowledgeStore:
        settings.setdefault("path", str(tmp_path / "chroma"))
        return KnowledgeStore(KnowledgeConfig.from_dict(settings), embedder)

    return make


@pytest.fixture(scope="session")
def shipped_retriever(
    tmp_path_factory: pytest.TempPathFactory, local_embedder: LocalMiniLMEmbedder
) -> Retriever:
    """A retriever over data/knowledge.json, ingested once per session (read-only use)."""
    config = KnowledgeConfig(
        path=str(tmp_path_factory.mktemp("shipped") / "chroma"), embeddings="local"
    )
    store = KnowledgeStore(config, local_embedder)
    ingest_file(SHIPPED_KB, store)
    return Retriever(config, store=store)
