"""The knowledge base on a real Chroma server shared by several dialflow processes: one ingests,
several retrieve, and the embedding-model check holds across them (a process with another
model is refused, and a long-running reader notices when another process re-indexes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.chroma_server import kb_worker
from tests.chroma_server.chroma_proc import ChromaServer


class Worker:
    """A kb_worker.py subprocess driven line by line."""

    def __init__(self, chroma: ChromaServer, collection: str, *, reindex: bool = False,
                 model: str = "local") -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        self.process = subprocess.Popen(
            [sys.executable, kb_worker.__file__, str(chroma.port), collection,
             "1" if reindex else "0", model],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)

    def ready(self) -> Worker:
        assert self.read() == {"ready": True}
        return self

    def read(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            err = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"worker exited: {err[-2000:]}")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=30)  # also closes the pipes (no fds left for GC)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.close()


def start(workers: list[Worker], *args: object, **kwargs: object) -> list[Worker]:
    worker = Worker(*args, **kwargs)  # type: ignore[arg-type]
    workers.append(worker)
    return [worker.ready()]


def test_one_process_ingests_and_three_others_retrieve(chroma: ChromaServer,
                                                       workers: list[Worker]) -> None:
    (writer,) = start(workers, chroma, "shared-kb")
    first = writer.ask("ingest")
    assert first["added"] >= 3 and first["unchanged"] == 0
    readers = [Worker(chroma, "shared-kb") for _ in range(3)]
    workers.extend(readers)
    for reader in readers:
        reader.ready()
    for reader in readers:
        parking = reader.ask("search where can I leave my car")
        hours = reader.ask("search what time do you open on Monday")
        assert parking["hits"][0] == "parking"
        assert hours["hits"][0] == "hours"
        assert parking["model"] == "local:all-MiniLM-L6-v2-onnx-int8"
    assert writer.ask("ingest") == {"added": 0, "unchanged": first["added"]}


def test_the_embedding_model_check_holds_across_processes(chroma: ChromaServer,
                                                          workers: list[Worker]) -> None:
    (writer,) = start(workers, chroma, "model-kb")
    writer.ask("ingest")
    (reader,) = start(workers, chroma, "model-kb")
    assert reader.ask("search is there parking")["hits"][0] == "parking"

    (other,) = start(workers, chroma, "model-kb", model="shuffled")
    refused = other.ask("search is there parking")
    assert refused["error"] == "ModelMismatchError"
    assert "test:shuffled-minilm" in refused["message"]
    assert "all-MiniLM-L6-v2" in refused["message"]

    (reindexer,) = start(workers, chroma, "model-kb", model="shuffled", reindex=True)
    moved = reindexer.ask("search is there parking")
    assert moved == {"hits": ["parking"], "model": "test:shuffled-minilm"}

    # The long-running reader still holds the old collection: its next search must not
    # compare MiniLM queries with the shuffled vectors (same dimension, garbage results).
    stale = reader.ask("search is there parking")
    assert stale.get("error") == "ModelMismatchError", stale
    assert other.ask("search what time do you open")["hits"][0] == "hours"
