"""`KnowledgeConfig`, its validator, and which embedder `make_embedder` picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.local.embeddings import LocalMiniLMEmbedder
from adapters.openai.embeddings import OpenAIEmbedder
from knowledge.config import KnowledgeConfig, validate_knowledge_settings
from knowledge.embeddings import make_embedder
from knowledge.errors import EmbeddingError, KnowledgeConfigError


def test_defaults() -> None:
    config = KnowledgeConfig.from_dict(None)
    assert config == KnowledgeConfig()
    assert (config.path, config.host, config.port, config.collection) == (
        "data/chroma",
        None,
        8000,
        "dialflow",
    )
    assert (config.top_k, config.max_distance, config.embeddings) == (3, None, "auto")
    assert config.source == "data/knowledge.json" and config.reindex_on_mismatch is True


def test_from_dict_reads_values_and_resolves_relative_paths(tmp_path: Path) -> None:
    config = KnowledgeConfig.from_dict(
        {"top_k": 5, "max_distance": 1, "host": "chroma.local", "port": 9000, "path": "kb"},
        base_dir=tmp_path,
    )
    assert config.top_k == 5 and config.max_distance == 1.0
    assert isinstance(config.max_distance, float)
    assert config.path == str(tmp_path / "kb")
    assert config.source == str(tmp_path / "data/knowledge.json")
    assert config.describe_location() == "'dialflow' at http://chroma.local:9000"


def test_validator_reports_every_problem_readably() -> None:
    problems = validate_knowledge_settings(
        {
            "top_k": 0,
            "max_distance": 3,
            "embeddings": "cohere",
            "port": True,
            "collection": "x",
            "reindex_on_mismatch": "yes",
            "colection": "dialflow",
            "openai_base_url": "ftp://x",
        }
    )
    text = "\n".join(problems)
    for key in (
        "top_k",
        "max_distance",
        "embeddings",
        "port",
        "collection:",
        "reindex_on_mismatch",
        "colection: unknown key",
        "openai_base_url",
    ):
        assert f"settings.knowledge.{key}" in text, key
    assert len(problems) == 8
    assert validate_knowledge_settings({"top_k": 3, "max_distance": 0.5}) == []
    assert validate_knowledge_settings(None) == []
    assert validate_knowledge_settings(["x"]) == ["settings.knowledge: must be a mapping, got list"]
    with pytest.raises(KnowledgeConfigError) as err:
        KnowledgeConfig.from_dict({"top_k": "3"})
    assert "settings.knowledge.top_k" in str(err.value)


def test_make_embedder_is_local_without_a_key() -> None:
    assert isinstance(make_embedder({"embeddings": "auto"}, env={}), LocalMiniLMEmbedder)


def test_make_embedder_picks_openai_when_the_key_is_set() -> None:
    env = {"OPENAI_API_KEY": "sk-test-123", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    embedder = make_embedder(None, env=env)
    assert isinstance(embedder, OpenAIEmbedder)
    assert embedder.name == "openai:text-embedding-3-small" and embedder.dimension == 1536
    assert embedder.base_url == "http://127.0.0.1:9/v1"
    assert "sk-test-123" not in repr(embedder)
    configured = make_embedder({"openai_base_url": "http://127.0.0.1:8/v1"}, env=env)
    assert configured.base_url == "http://127.0.0.1:8/v1"


def test_make_embedder_local_wins_over_the_key_and_openai_needs_it() -> None:
    env = {"OPENAI_API_KEY": "sk-test-123"}
    assert isinstance(make_embedder({"embeddings": "local"}, env=env), LocalMiniLMEmbedder)
    with pytest.raises(EmbeddingError, match="OPENAI_API_KEY"):
        make_embedder({"embeddings": "openai"}, env={})
