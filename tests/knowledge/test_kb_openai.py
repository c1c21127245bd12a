"""OpenAI embeddings through the real `openai` SDK against the fake server on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from adapters.openai.embeddings import OpenAIEmbedder
from knowledge.documents import Document
from knowledge.embeddings import make_embedder
from knowledge.errors import EmbeddingError
from knowledge.ingest import ingest_documents
from knowledge.retrieval import Retriever
from knowledge.store import MODEL_KEY
from tests.fakes.openai_server import FakeOpenAIServer, fake_embedding

KEY = "sk-fake-secret-4242"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=KEY, dimension=64) as fake:
        yield fake


def _embedder(server: FakeOpenAIServer, **kwargs) -> OpenAIEmbedder:
    kwargs.setdefault("max_retries", 2)
    kwargs.setdefault("timeout_s", 5.0)
    return OpenAIEmbedder(api_key=KEY, model="fake-embed", base_url=server.base_url, **kwargs)


def test_embeddings_come_back_in_order_normalised(server: FakeOpenAIServer) -> None:
    texts = ["free parking behind the building", "open monday to friday", ""]
    vectors = _embedder(server).embed(texts)
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], fake_embedding(texts[0], 64), atol=1e-6)
    [request] = server.requests_to("/v1/embeddings")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "fake-embed"
    assert request.body["input"] == [
        "free parking behind the building",
        "open monday to friday",
        " ",
    ]
    assert request.body["encoding_format"] == "base64"  # the SDK's default wire format


def test_fake_answers_floats_or_base64_as_asked(server: FakeOpenAIServer) -> None:
    url = f"{server.base_url}/embeddings"
    auth = {"Authorization": f"Bearer {KEY}"}
    floats = httpx.post(url, headers=auth, json={"model": "m", "input": "hi"}).json()
    assert floats["data"][0]["embedding"] == pytest.approx(fake_embedding("hi", 64))
    body = {"model": "m", "input": ["hi"], "encoding_format": "base64"}
    packed = httpx.post(url, headers=auth, json=body).json()["data"][0]["embedding"]
    decoded = np.frombuffer(base64.b64decode(packed), dtype=np.float32)
    assert decoded == pytest.approx(np.array(fake_embedding("hi", 64), dtype=np.float32))
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, headers=auth, json={"model": "m", "input": [""]}).status_code == 400


def test_dimension_of_an_unknown_model_is_probed_once(server: FakeOpenAIServer) -> None:
    embedder = _embedder(server)
    assert embedder.dimension == 64
    assert embedder.dimension == 64
    assert len(server.requests_to("/v1/embeddings")) == 1
    assert embedder.name == "openai:fake-embed"


@pytest.mark.parametrize("status", [500, 429])
def test_transient_errors_are_retried(server: FakeOpenAIServer, status: int) -> None:
    server.fail_next(2, status)
    vectors = _embedder(server, max_retries=2).embed(["hello"])
    assert vectors.shape == (1, 64)
    assert len(server.requests_to("/v1/embeddings")) == 3


def test_retries_are_bounded_and_the_error_is_clear(server: FakeOpenAIServer) -> None:
    server.fail_next(5, 503)
    with pytest.raises(EmbeddingError) as err:
        _embedder(server, max_retries=1).embed(["hello"])
    assert len(server.requests_to("/v1/embeddings")) == 2
    assert "HTTP 503" in str(err.value) and server.base_url in str(err.value)
    assert KEY not in str(err.value)


def test_bad_key_is_not_retried_and_not_echoed(server: FakeOpenAIServer) -> None:
    embedder = OpenAIEmbedder(api_key="sk-wrong-key-777", model="m", base_url=server.base_url)
    with pytest.raises(EmbeddingError) as err:
        embedder.embed(["hello"])
    assert "HTTP 401" in str(err.value)
    assert "sk-wrong-key-777" not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert len(server.requests) == 1


def test_slow_server_times_out(server: FakeOpenAIServer) -> None:
    server.latency_s = 5.0
    with pytest.raises(EmbeddingError, match="timed out"):
        _embedder(server, timeout_s=0.2, max_retries=0).embed(["hello"])


def test_unreachable_server_is_an_embedding_error() -> None:
    with FakeOpenAIServer() as fake:
        url = fake.base_url
    embedder = OpenAIEmbedder(api_key=KEY, model="m", base_url=url, max_retries=0)
    with pytest.raises(EmbeddingError, match="cannot reach"):
        embedder.embed(["hello"])


def test_ingest_and_search_through_openai(server: FakeOpenAIServer, make_store) -> None:
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url}
    embedder = make_embedder({"openai_model": "fake-embed"}, env=env)
    assert isinstance(embedder, OpenAIEmbedder)
    store = make_store(embedder)
    docs = [
        Document("parking", "Parking", "Free parking in the lot behind the building."),
        Document("hours", "Opening hours", "Open Monday to Friday from eight to five."),
    ]
    ingest_documents(docs, store)
    assert store.collection().metadata[MODEL_KEY] == "openai:fake-embed"
    hits = Retriever(store.config, store=store).search("is parking free behind the building")
    assert hits and hits[0].doc_id == "parking"


def test_switching_from_local_to_openai_reindexes(
    server: FakeOpenAIServer, make_store, local_embedder
) -> None:
    docs = [Document("parking", "Parking", "Free parking in the lot behind the building.")]
    ingest_documents(docs, make_store(local_embedder))
    store = make_store(_embedder(server))
    assert store.count() == 2
    assert store.collection().metadata[MODEL_KEY] == "openai:fake-embed"
    hits = Retriever(store.config, store=store).search("free parking lot")
    assert [h.doc_id for h in hits] == ["parking"]
