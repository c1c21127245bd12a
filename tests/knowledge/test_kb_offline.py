"""The knowledge stack never touches the network: no model download, no chroma telemetry.

Runs ingest + search in a subprocess inside a fresh network namespace (`unshare -n`: no
interface but a down loopback) when this machine allows it, and always in-process with
`socket.connect` refusing any non-loopback address. Also checks the chroma embedding
function adapter keeps chroma away from its own (downloading) default model.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from adapters.local.embeddings import LocalMiniLMEmbedder
from knowledge.chroma_ef import DialflowEmbeddingFunction
from knowledge.config import KnowledgeConfig
from knowledge.ingest import ingest_file
from knowledge.retrieval import Retriever
from knowledge.store import KnowledgeStore

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "knowledge.json"

SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from knowledge.retrieval import Retriever
from knowledge.config import KnowledgeConfig
config = KnowledgeConfig(path=sys.argv[2], source=sys.argv[3], embeddings="auto")
retriever = Retriever(config)
report = retriever.warm_up()
hits = retriever.search("Is there free parking?")
print(report.rows, hits[0].doc_id, type(retriever.embedder).__name__)
"""


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def test_ingest_and_search_work_without_any_network(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    args = [sys.executable, "-c", SCRIPT, str(ROOT), str(tmp_path / "chroma"), str(SHIPPED)]
    if _can_unshare():
        args = ["unshare", "-n", *args]
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    rows, doc_id, embedder = result.stdout.split()
    assert int(rows) > 0 and doc_id == "parking" and embedder == "LocalMiniLMEmbedder"


def test_no_outside_connection_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_embedder: LocalMiniLMEmbedder
) -> None:
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1",
            "::1",
            "localhost",
        ):
            attempts.append(address)
            raise OSError(f"test forbids connecting to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = KnowledgeConfig(path=str(tmp_path / "chroma"), embeddings="local")
    store = KnowledgeStore(config, LocalMiniLMEmbedder())
    ingest_file(SHIPPED, store)
    hits = Retriever(config, store=store).search("When are you open on Saturday?")
    assert hits[0].doc_id == "hours"
    assert attempts == []


def test_embedding_function_adapter_satisfies_chroma(local_embedder) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef = DialflowEmbeddingFunction(local_embedder)
        assert not ef.is_legacy()
        vectors = ef(["hello there", "general kenobi"])
    assert len(vectors) == 2 and len(vectors[0]) == 384
    assert DialflowEmbeddingFunction.name() == "dialflow"
    assert ef.get_config() == {"model": "local:all-MiniLM-L6-v2-onnx-int8"}
    assert ef.default_space() == "cosine"
    rebuilt = DialflowEmbeddingFunction.build_from_config(ef.get_config())
    assert len(rebuilt(["hi"])[0]) == 384
    foreign = DialflowEmbeddingFunction.build_from_config({"model": "openai:x"})
    with pytest.raises(Exception, match=r"open it through knowledge\.store"):
        foreign(["hi"])
