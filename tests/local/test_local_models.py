"""The shared models: one instance per process, loaded without any network access."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from local_speech_kit import BOOKING, words

from adapters.local import models

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh process, so the models really load there. An audit hook records every
# connection and name look-up; GUARD additionally makes non-loopback connects fail.
CHILD = """
import asyncio, json, socket, sys
attempts = []
def hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto", "socket.sendmsg"):
        attempts.append([event, repr(args)[:200]])
sys.addaudithook(hook)
{guard}
from adapters.local import models
from adapters.local.transcribe import transcribe
from adapters.local.tts import LocalPiperTts
models.warm_vad()
models.warm_piper()
models.warm_whisper()
async def speak(text):
    return b"".join([chunk async for chunk in LocalPiperTts(steady=True).synthesize(text)])
audio = asyncio.run(speak({text!r}))
import os
offline = os.environ.get("HF_HUB_OFFLINE")
print(json.dumps({{"text": transcribe(audio).text, "attempts": attempts, "offline": offline}}))
"""

GUARD = """
_connect = socket.socket.connect
def _refuse(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family != socket.AF_UNIX and host not in ("127.0.0.1", "::1", "localhost"):
        raise OSError(101, "network cut by the test")
    return _connect(self, address)
socket.socket.connect = _refuse
"""


def _network_namespace_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def _is_loopback(attempt: list[str]) -> bool:
    return any(host in attempt[1] for host in ("'127.0.0.1'", "'::1'", "'localhost'", "AF_UNIX"))


def test_models_load_and_work_with_the_network_cut() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    if _network_namespace_works():  # a new network namespace: no interface but a down lo
        command = ["unshare", "-n", sys.executable, "-c", CHILD.format(guard="", text=BOOKING)]
    else:  # no namespaces here: refuse outbound connects inside the child instead
        command = [sys.executable, "-c", CHILD.format(guard=GUARD, text=BOOKING)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert [a for a in result["attempts"] if not _is_loopback(a)] == []
    assert result["offline"] == "1"  # set by adapters.local.models as a second guard
    heard = words(result["text"])
    assert "book" in heard and "cleaning" in heard


def test_concurrent_first_use_loads_the_voice_once(
    warm_models: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []
    real_load = models._load_voice

    def counting_load() -> Any:
        loads.append(threading.get_ident())
        return real_load()

    monkeypatch.setattr(models, "_voice", None)  # as in a fresh process
    monkeypatch.setattr(models, "_load_voice", counting_load)
    barrier = threading.Barrier(4)
    seen: list[object] = []

    def first_use() -> None:
        barrier.wait()
        seen.append(models.piper_voice())

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len(seen) == 4
    assert all(voice is seen[0] for voice in seen) and models.piper_voice() is seen[0]


def test_vads_are_pooled_and_handed_out_reset(warm_models: None) -> None:
    first = models.take_vad()
    second = models.take_vad()
    assert first is not second  # two calls never share a recurrent state
    models.give_back_vad(first)
    assert models.take_vad() is first
    models.give_back_vad(first)
    models.give_back_vad(second)
