"""Text embeddings as the knowledge base sees them: the `Embedder` port and `make_embedder`.

The embedders themselves are adapters (`adapters.local.embeddings` runs MiniLM offline,
`adapters.openai.embeddings` calls OpenAI); which one a flow gets is decided by the one
provider chooser, `engine.providers`, for the `embeddings` slot: `settings.knowledge.
embeddings` is `auto` (OpenAI when `OPENAI_API_KEY` is set, else local), `local`, `openai`
or an embedder a package registers as `embeddings.<name>` (`dialflow.providers` entry points).
This module imports no adapter and no SDK.
"""

from __future__ import annotations

import dataclasses
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from knowledge.config import KnowledgeConfig
from knowledge.errors import EmbeddingError


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    #: Cosine distance under which a hit is considered related (see knowledge.retrieval).
    default_max_distance: float = 0.65

    @property
    @abstractmethod
    def name(self) -> str:
        """Stable model id recorded in the collection, e.g. `local:all-MiniLM-L6-v2-onnx-int8`."""

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of every vector."""

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts`; returns a float32 array of shape (len(texts), dimension)."""


def make_embedder(
    config: KnowledgeConfig | Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Embedder:
    """The embedder `config` asks for: OpenAI when OPENAI_API_KEY is set, else local MiniLM.

    `embeddings: local` forces the offline model; `embeddings: openai` requires the key.
    The API key and base URL (`openai_base_url`, else `OPENAI_BASE_URL`) come from `env`
    (default `os.environ`); the key is never logged or stored.
    """
    from engine.providers import ProviderError, build, choose
    from flows.model import Settings

    if not isinstance(config, KnowledgeConfig):
        config = KnowledgeConfig.from_dict(config)
    env = os.environ if env is None else env
    try:
        choice = choose("embeddings", config.embeddings, env)
    except ProviderError as exc:
        raise EmbeddingError(f"{exc}; set it, or use embeddings: local (offline)") from None
    return build(choice, Settings(knowledge=dataclasses.asdict(config)), env)
