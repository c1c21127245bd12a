"""A real Chroma server for tests: `chroma run` (the chromadb package's own CLI) on 127.0.0.1,
a free port and a temp data path; stopped by its process id."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.server.harness import free_port

CHROMA = Path(sys.executable).parent / "chroma"



@dataclass
class ChromaServer:
    path: Path
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, path: Path, timeout: float = 60.0) -> ChromaServer:
        if not CHROMA.exists():
            raise FileNotFoundError(f"{CHROMA} is missing: `pip install chromadb` (make install)")
        port = free_port()
        log = (path / "server.log").open("wb")
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(path / "data"), "--host", "127.0.0.1",
             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        server = cls(path, port, process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"chroma run exited: {server.log()}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                return server
            except httpx.TransportError:
                time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"chroma run did not listen within {timeout}s: {server.log()}")

    def log(self) -> str:
        return (self.path / "server.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
