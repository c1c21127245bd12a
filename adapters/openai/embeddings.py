"""`OpenAIEmbedder`: `knowledge.embeddings.Embedder` over OpenAI's embeddings API.

Uses the official `openai` SDK (`OpenAI(api_key=..., base_url=...)`), so any compatible
server works through `base_url`. Each request has a timeout; the SDK retries connection
errors, timeouts, 408/409/429 and 5xx up to `max_retries` times with exponential backoff
(honouring Retry-After). Failures surface as `knowledge.errors.EmbeddingError` whose message
never includes the key. Talks only to `base_url` (default: the SDK's, api.openai.com).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import openai

from engine.environment import OPENAI_API_KEY, OPENAI_BASE_URL
from flows.model import Settings
from knowledge.config import KnowledgeConfig
from knowledge.embeddings import Embedder
from knowledge.errors import EmbeddingError

DEFAULT_MODEL = "text-embedding-3-small"
#: Dimensions of OpenAI's models at their default size; others are probed on first use.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
#: Inputs per request (the API accepts up to 2048).
MAX_BATCH = 256


class OpenAIEmbedder(Embedder):
    """Embeddings from OpenAI (or a compatible server). Thread-safe.

    `default_max_distance` (0.65) is an estimate for text-embedding-3-small, not measured
    against this knowledge base; calibrate it with `dialflow kb search`.
    """

    default_max_distance = 0.65

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], **_: Any) -> OpenAIEmbedder:
        """The provider convention (engine.providers): `settings.knowledge` (model,
        endpoint, timeout, retries); the key from `env`."""
        config = KnowledgeConfig.from_dict(settings.knowledge)
        return cls(api_key=(env.get(OPENAI_API_KEY) or "").strip(), model=config.openai_model,
                   base_url=config.openai_base_url or env.get(OPENAI_BASE_URL) or None,
                   timeout_s=config.openai_timeout_s, max_retries=config.openai_max_retries)

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 10.0,
        max_retries: int = 2,
        dimensions: int | None = None,
    ) -> None:
        if not api_key:
            raise EmbeddingError("OpenAI embeddings need an API key (OPENAI_API_KEY)")
        self.model = model
        self.base_url = base_url
        self._dimensions = dimensions
        self._dimension = dimensions or KNOWN_DIMENSIONS.get(model)
        self._lock = threading.Lock()
        self._client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )

    @property
    def name(self) -> str:
        suffix = f"@{self._dimensions}" if self._dimensions else ""
        return f"openai:{self.model}{suffix}"

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            with self._lock:
                if self._dimension is None:
                    self._dimension = int(self._request(["dimension probe"]).shape[1])
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [self._request(texts[i : i + MAX_BATCH]) for i in range(0, len(texts), MAX_BATCH)]
        return np.concatenate(parts)

    def _request(self, texts: list[str]) -> np.ndarray:
        # The API rejects empty strings; a space embeds as "nothing" just as well.
        inputs = [t if t.strip() else " " for t in texts]
        extra = {"dimensions": self._dimensions} if self._dimensions else {}
        try:
            response = self._client.embeddings.create(model=self.model, input=inputs, **extra)
        except openai.APIStatusError as exc:
            code = getattr(exc, "code", None)
            detail = f" ({code})" if code else ""
            if exc.status_code not in (401, 403):
                detail += f": {exc.message}"
            raise EmbeddingError(
                f"OpenAI embeddings request to {self._where()} failed with HTTP "
                f"{exc.status_code}{detail}"
            ) from None
        except openai.APITimeoutError:
            raise EmbeddingError(
                f"OpenAI embeddings request to {self._where()} timed out (after retries)"
            ) from None
        except openai.APIConnectionError as exc:
            raise EmbeddingError(
                f"cannot reach OpenAI embeddings at {self._where()}: {exc.message}"
            ) from None
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(inputs):
            raise EmbeddingError(f"OpenAI returned {len(data)} embeddings for {len(inputs)} inputs")
        vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)

    def _where(self) -> str:
        return self.base_url or "the default OpenAI endpoint"

    def __repr__(self) -> str:
        return f"OpenAIEmbedder(model={self.model!r}, base_url={self.base_url!r})"
