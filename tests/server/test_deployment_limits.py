"""What a deployment sets and how bad settings fail: the limits from the environment, the
one-line start-up errors of `dialflow serve` (serving beyond loopback without a public URL
or trusted proxies, a limit that is not a number), and transcript file names that are safe
and distinct for any call id."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.app.server.limits import LimitsError, ServerLimits
from engine.transcripts import TranscriptBusy, TranscriptStore, file_stem

ROOT = Path(__file__).resolve().parents[2]


def test_limits_from_the_environment() -> None:
    assert ServerLimits.from_env({}) == ServerLimits()
    limits = ServerLimits.from_env({"DIALFLOW_MAX_CALLS": "50", "DIALFLOW_START_DEADLINE": "2.5",
                                    "DIALFLOW_MAX_MESSAGE_BYTES": "8192"})
    assert (limits.max_calls, limits.start_deadline, limits.max_message_bytes) == (50, 2.5, 8192)
    assert limits.describe()["max_calls"] == 50


@pytest.mark.parametrize("name,value", [("DIALFLOW_MAX_CALLS", "many"),
                                        ("DIALFLOW_MAX_CALLS", "0"),
                                        ("DIALFLOW_START_DEADLINE", "nan"),
                                        ("DIALFLOW_START_DEADLINE", "-1"),
                                        ("DIALFLOW_MAX_MESSAGE_BYTES", "10")])
def test_a_bad_limit_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(LimitsError, match=name):
        ServerLimits.from_env({name: value})


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DIALFLOW_", "TWILIO_"))}
    return subprocess.run(
        [sys.executable, "-m", "engine.app.cli", "serve", *args], cwd=ROOT, text=True,
        capture_output=True, timeout=120,
        env={**clean, "TWILIO_AUTH_TOKEN": "t", **env})


def test_serve_beyond_loopback_without_a_public_url_is_a_one_line_error() -> None:
    done = serve("--host", "0.0.0.0", "--port", "1")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "DIALFLOW_PUBLIC_URL" in done.stderr and "DIALFLOW_TRUSTED_PROXIES" in done.stderr


def test_serve_with_a_bad_limit_is_a_one_line_error() -> None:
    done = serve("--port", "1", DIALFLOW_MAX_CALLS="lots")
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "DIALFLOW_MAX_CALLS" in done.stderr and "Traceback" not in done.stderr


def test_transcript_names_are_safe_short_and_distinct(tmp_path: Path) -> None:
    ids = ["CA" + "a" * 32, "a/b", "a_b", "a_b-0", "../../etc/passwd", "CA\nx", "x" * 300,
           ".hidden", "é"]
    stems = [file_stem(call_id) for call_id in ids]
    assert stems[0] == ids[0]  # Twilio's own sids keep their readable name
    assert len(set(stems)) == len(ids)
    for stem in stems:
        assert len(stem) <= 64 and "/" not in stem and not stem.startswith(".")
    store = TranscriptStore(tmp_path)
    transcripts = [store.open(call_id) for call_id in ids]  # the old code crashed on 300
    assert {t.path.parent for t in transcripts} == {tmp_path}
    for t in transcripts:
        t.close()


def test_an_open_transcript_cannot_be_opened_twice(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path)
    first = store.open("CA1")
    with pytest.raises(TranscriptBusy):
        store.open("CA1")
    first.close()
    store.open("CA1").close()  # once closed, the call's record can be opened again
