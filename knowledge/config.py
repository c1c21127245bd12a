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

Pure data and validation: no I/O, no environment, no heavy imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeConfigError

EMBEDDING_MODES = ("auto", "local", "openai")
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
_MAX_TOP_K = 20


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


_KNOWN_KEYS = tuple(f.name for f in fields(KnowledgeConfig))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_string(d: Mapping[str, Any], key: str, *, nullable: bool = False) -> list[str]:
    if key not in d or (nullable and d[key] is None):
        return []
    value = d[key]
    if not isinstance(value, str) or not value.strip():
        kind = "a non-empty string or null" if nullable else "a non-empty string"
        return [f"settings.knowledge.{key}: must be {kind}, got {value!r}"]
    return []


def validate_knowledge_settings(d: Any) -> list[str]:
    """Human-readable problems with a `settings.knowledge` mapping; [] when it is valid."""
    if d is None:
        return []
    if not isinstance(d, Mapping):
        return [f"settings.knowledge: must be a mapping, got {type(d).__name__}"]
    problems: list[str] = []
    for key in d:
        if key not in _KNOWN_KEYS:
            problems.append(
                f"settings.knowledge.{key}: unknown key (known: {', '.join(_KNOWN_KEYS)})"
            )
    for key in ("path", "source", "openai_model"):
        problems += _check_string(d, key)
    problems += _check_string(d, "host", nullable=True)
    if "port" in d and not (_is_int(d["port"]) and 1 <= d["port"] <= 65535):
        problems.append(f"settings.knowledge.port: must be an integer 1-65535, got {d['port']!r}")
    if "collection" in d and not (
        isinstance(d["collection"], str) and _COLLECTION_NAME.match(d["collection"])
    ):
        problems.append(
            "settings.knowledge.collection: must be 3-512 characters of letters, digits, '.', "
            f"'_' or '-', starting and ending with a letter or digit, got {d['collection']!r}"
        )
    if "top_k" in d and not (_is_int(d["top_k"]) and 1 <= d["top_k"] <= _MAX_TOP_K):
        problems.append(
            f"settings.knowledge.top_k: must be an integer 1-{_MAX_TOP_K}, got {d['top_k']!r}"
        )
    max_distance = d.get("max_distance")
    if max_distance is not None and not (_is_number(max_distance) and 0 < max_distance <= 2):
        problems.append(
            "settings.knowledge.max_distance: must be a number in (0, 2] (cosine distance) "
            f"or null, got {max_distance!r}"
        )
    if "embeddings" in d and d["embeddings"] not in EMBEDDING_MODES:
        problems.append(
            f"settings.knowledge.embeddings: must be one of {', '.join(EMBEDDING_MODES)}, "
            f"got {d['embeddings']!r}"
        )
    if "reindex_on_mismatch" in d and not isinstance(d["reindex_on_mismatch"], bool):
        problems.append(
            "settings.knowledge.reindex_on_mismatch: must be true or false, "
            f"got {d['reindex_on_mismatch']!r}"
        )
    base_url = d.get("openai_base_url")
    if base_url is not None and not (
        isinstance(base_url, str) and base_url.startswith(("http://", "https://"))
    ):
        problems.append(
            f"settings.knowledge.openai_base_url: must be an http(s) URL or null, got {base_url!r}"
        )
    timeout = d.get("openai_timeout_s", 1)
    if not (_is_number(timeout) and timeout > 0):
        problems.append(
            f"settings.knowledge.openai_timeout_s: must be a positive number, got {timeout!r}"
        )
    retries = d.get("openai_max_retries", 0)
    if not (_is_int(retries) and 0 <= retries <= 10):
        problems.append(
            f"settings.knowledge.openai_max_retries: must be an integer 0-10, got {retries!r}"
        )
    return problems
