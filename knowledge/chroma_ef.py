"""`DialflowEmbeddingFunction`: any `Embedder` seen through ChromaDB's EmbeddingFunction protocol.

ChromaDB 1.5.9 persists an embedding function's `name()` and `get_config()` in the collection
configuration and refuses to open a collection with a function of another *name*. Every
dialflow embedder therefore shares one registered name, `dialflow`, and the actual model is
checked by `knowledge.store` against the collection metadata (with a clearer message and an
automatic re-index). `get_config` holds the model id only, never a key.
Passing this function to chroma also keeps chroma from loading its own default model, which
would try to download it. Imports chromadb; no I/O of its own.
"""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.embeddings import Embedder, make_embedder
from knowledge.errors import EmbeddingError


@register_embedding_function
class DialflowEmbeddingFunction(EmbeddingFunction[Documents]):
    """Wraps an `Embedder`; `embedder=None` only when chroma rebuilds one from a stored config."""

    def __init__(self, embedder: Embedder | None = None, model: str | None = None) -> None:
        self._embedder = embedder
        self._model = embedder.name if embedder is not None else (model or "unknown")

    def __call__(self, input: Documents) -> Embeddings:
        if self._embedder is None:
            raise EmbeddingError(
                f"collection embedded with {self._model!r}: open it through knowledge.store, "
                "which supplies the embedder and its credentials"
            )
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "dialflow"

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> DialflowEmbeddingFunction:
        model = str(config.get("model", "unknown"))
        if model.startswith("local:"):  # the offline model needs no credentials
            local = make_embedder({"embeddings": "local"}, env={})
            if local.name == model:
                return DialflowEmbeddingFunction(local)
        return DialflowEmbeddingFunction(None, model=model)

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]
