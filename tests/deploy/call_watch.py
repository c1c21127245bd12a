"""Watching a call of a `dialflow serve` subprocess from outside: what its caller heard (the
call's transcript, one file per call) and waiting on a condition with a deadline."""

from __future__ import annotations

import functools
import json

from engine.transcripts import file_stem
from tests import waiting
from tests.deploy.serve_process import ServeProcess

# the deploy tests poll other processes (over HTTP): less often, and for longer
until = functools.partial(waiting.until, timeout=120.0, every=0.05)


def transcript(server: ServeProcess, call_sid: str) -> list[dict]:
    path = server.workdir / "transcripts" / f"{file_stem(call_sid)}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def heard(server: ServeProcess, call_sid: str) -> list[str]:
    """What the caller heard of the call so far, sentence by sentence."""
    return [line["text"] for line in transcript(server, call_sid) if line.get("kind") == "agent"]
