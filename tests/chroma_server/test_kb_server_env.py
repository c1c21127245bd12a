"""A deployment names its Chroma server in the environment (DIALFLOW_CHROMA_HOST/_PORT): the
flow's knowledge settings then reach that server, and a bad port is a clear error."""

from __future__ import annotations

import pytest

from knowledge.config import KnowledgeConfig
from knowledge.errors import KnowledgeError
from knowledge.ingest import ingest_documents
from knowledge.retrieval import Retriever
from knowledge.store import server_from_env
from tests.chroma_server.chroma_proc import ChromaServer
from tests.chroma_server.kb_worker import DOCS


def test_the_environment_points_the_flows_knowledge_at_a_chroma_server(
        chroma: ChromaServer, tmp_path) -> None:
    flow_settings = KnowledgeConfig(path=str(tmp_path / "embedded"), collection="env-kb",
                                    embeddings="local")
    assert server_from_env(flow_settings, {}) is flow_settings
    config = server_from_env(flow_settings, {"DIALFLOW_CHROMA_HOST": "127.0.0.1",
                                             "DIALFLOW_CHROMA_PORT": str(chroma.port)})
    assert (config.host, config.port, config.collection) == ("127.0.0.1", chroma.port, "env-kb")
    retriever = Retriever(config)
    try:
        ingest_documents(DOCS, retriever.store)
        assert retriever.search("do you take Cigna")[0].doc_id == "insurance"
        assert not (tmp_path / "embedded").exists()
    finally:
        retriever.store.client.close()


@pytest.mark.parametrize("port", ["eighty", "0", "70000"])
def test_a_bad_port_names_the_variable(port: str) -> None:
    with pytest.raises(KnowledgeError, match="DIALFLOW_CHROMA_PORT must be a port number"):
        server_from_env(KnowledgeConfig(), {"DIALFLOW_CHROMA_HOST": "chroma",
                                            "DIALFLOW_CHROMA_PORT": port})
