"""The store against a real Chroma server (`chroma run` from the chromadb package) on 127.0.0.1.

The server is started for this module only, on a free loopback port, with its data in a tmp
dir, and stopped by its process id afterwards. (Checked with strace: it opens no outside
connection.)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge.config import KnowledgeConfig
from knowledge.documents import Document
from knowledge.errors import KnowledgeError
from knowledge.ingest import ingest_documents
from knowledge.retrieval import Retriever
from knowledge.store import MODEL_KEY, KnowledgeStore, make_client

LAUNCH = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    args = [sys.executable, "-c", LAUNCH, "run", "--path", str(data)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):  # up to ~30 s for the server to listen
            if process.poll() is not None:
                pytest.fail(f"chroma server exited: {(data / 'server.log').read_text()[-2000:]}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma server did not start listening")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_ingest_and_search_through_a_chroma_server(
    chroma_server: int, local_embedder, tmp_path: Path
) -> None:
    config = KnowledgeConfig.from_dict(
        {
            "host": "127.0.0.1",
            "port": chroma_server,
            "collection": "server-kb",
            "path": str(tmp_path / "unused"),
        }
    )
    store = KnowledgeStore(config, local_embedder)
    docs = [
        Document("parking", "Parking", "Free parking in the lot behind the building."),
        Document("hours", "Opening hours", "Open Monday to Friday from 8 am to 5 pm."),
    ]
    report = ingest_documents(docs, store)
    assert report.added == 4
    assert not (tmp_path / "unused").exists()
    assert store.collection().metadata[MODEL_KEY] == local_embedder.name

    fresh = Retriever(config, store=KnowledgeStore(config, local_embedder))
    hits = fresh.search("When do you open in the morning?")
    assert hits and hits[0].doc_id == "hours"
    assert ingest_documents(docs, KnowledgeStore(config, local_embedder)).unchanged == 4


def test_unreachable_server_is_a_knowledge_error() -> None:
    config = KnowledgeConfig(host="127.0.0.1", port=_free_port())
    with pytest.raises(KnowledgeError, match="cannot open the knowledge store"):
        make_client(config)
