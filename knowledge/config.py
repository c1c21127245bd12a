"""`KnowledgeConfig`: the `settings.knowledge` section of flows.yaml, and its validator.

Shape (every key optional; defaults shown)::

    knowledge:
      path: data/chroma          # embedded ChromaDB directory (ignored when host is set)
      host: null                 # Chroma server host; set it to use chromadb.HttpClient
      port: 8000                 # Chroma server port
      collection: dialflow
      top_k: 3
      max_distance: null         # cosine distance cut-off; null = the model's calibrated default
      embeddings: auto           # auto (OpenAI if OPENAI_API_KEY is set, else local),
                                 # local or openai
      source: data/knowledge.json
      reindex_on_mismatch: true  # re-embed when the collection was built with another model
      openai_model: text-embedding-3-small
      openai_base_url: null      # else OPENAI_BASE_URL, else the SDK default
      openai_timeout_s: 10
      openai_max_retries: 2

The section's schema and validator belong to the flow language
(`flows.settings_knowledge`); this module builds the typed config from the validated
section. Pure data: no I/O, no environment, no heavy imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.settings_knowledge import EMBEDDING_MODES, KNOWN_KEYS, validate_knowledge_settings
from knowledge.errors import KnowledgeConfigError

__all__ = ["EMBEDDING_MODES", "KNOWN_KEYS", "KnowledgeConfig", "validate_knowledge_settings"]


@dataclass(frozen=True)
class KnowledgeConfig:
    """Where the knowledge base lives, how it is embedded and how much of it a prompt gets."""

    path: str = "data/chroma"
    host: str | None = None
    port: int = 8000
    collection: str = "dialflow"
    top_k: int = 3
    max_distance: float | None = None
    embeddings: str = "auto"
    source: str = "data/knowledge.json"
    reindex_on_mismatch: bool = True
    openai_model: str = "text-embedding-3-small"
    openai_base_url: str | None = None
    openai_timeout_s: float = 10.0
    openai_max_retries: int = 2

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any] | None, *, base_dir: str | Path | None = None
    ) -> KnowledgeConfig:
        """Build from `settings.knowledge` (None = all defaults).

        Raises `KnowledgeConfigError` listing every problem. With `base_dir`, relative `path`
        and `source` are resolved against it (e.g. the directory of flows.yaml).
        """
        data = dict(d or {})
        problems = validate_knowledge_settings(data)
        if problems:
            raise KnowledgeConfigError(problems)
        if "max_distance" in data and data["max_distance"] is not None:
            data["max_distance"] = float(data["max_distance"])
        if "openai_timeout_s" in data:
            data["openai_timeout_s"] = float(data["openai_timeout_s"])
        if base_dir is not None:
            for key in ("path", "source"):
                value = data.get(key, getattr(cls, key))
                if not Path(value).is_absolute():
                    data[key] = str(Path(base_dir) / value)
        return cls(**data)

    def describe_location(self) -> str:
        """Where the collection lives, for messages: `'dialflow' at data/chroma`."""
        where = f"http://{self.host}:{self.port}" if self.host else self.path
        return f"{self.collection!r} at {where}"
