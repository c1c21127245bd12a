"""One real Chroma server (`chroma run`) for this folder's tests; OPENAI_* removed so no test
embeds through the internet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chroma_server.chroma_proc import ChromaServer


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer.start(tmp_path_factory.mktemp("chroma-run"))
    try:
        yield server
    finally:
        server.stop()
