"""The README's first command, for real: `dialflow call` places a whole call through the
Twilio protocol against an in-process server running the offline stack (piper voice for
the caller, silero VAD + whisper tiny.en, the rules brain over the packaged MiniLM
knowledge base, piper for the agent). With the network cut off where `unshare -n` works.
The caller speaks in real time, so this test takes about a minute."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINES = (
    "Hi, what time do you close on Thursday?",
    "I'd like to book a cleaning next Thursday at 5 PM. My name is Ana Lopez.",
    "Yes, please.",
    "No, that's all. Thank you, bye.",
)


def _network_cut_prefix() -> list[str]:
    """`unshare -n` with loopback up, when this machine allows it (root, util-linux, ip)."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return []
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                           capture_output=True, check=False)
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] \
        if probe.returncode == 0 else []


def test_offline_call_answers_a_question_and_books(tmp_path: Path) -> None:
    shutil.copy(ROOT / "flows.yaml", tmp_path / "flows.yaml")
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data" / "knowledge.json", tmp_path / "data" / "knowledge.json")
    db = tmp_path / "calls.db"
    env = {**os.environ, "DIALFLOW_DATABASE_URL": f"sqlite:///{db}",
           "DIALFLOW_TTS_CACHE": str(tmp_path / "tts-cache"), "HF_HUB_OFFLINE": "1"}
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DEEPGRAM_API_KEY",
                "ELEVENLABS_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        env.pop(key, None)
    prefix = _network_cut_prefix()
    command = [*prefix, sys.executable, "-m", "engine.app.cli", "call", "--flow", "flows.yaml",
               "--record", str(tmp_path / "call.wav")]
    for line in LINES:
        command += ["--say", line]
    done = subprocess.run(command, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600, check=False)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "providers: stt=local-whisper" in out and "brain=rules" in out
    assert "7:00 pm" in out.lower() or "7 pm" in out.lower(), out
    assert "Shall I book it?" in out, out
    assert "Goodbye!" in out, out
    with sqlite3.connect(db) as con:
        rows = con.execute("select name, phone, reason, status from appointments").fetchall()
    assert len(rows) == 1, (rows, out)
    name, phone, reason, status = rows[0]
    assert "lopez" in name.lower() and phone == "+15550001111"
    assert reason == "cleaning" and status == "booked"
    assert (tmp_path / "call.wav").stat().st_size > 8000 * 2 * 2 * 30  # > 30 s of stereo
    if prefix:
        print("ran with the network cut off (unshare -n)")
