"""Recordings and retention: the stereo recording is encrypted at rest and unreadable
without the key, no plaintext audio is left anywhere; stored text is redacted when the flow
asks; /health shows what is kept and for how long; purge (on the server's schedule and as a
command) removes expired material and nothing else; `settings.privacy` is validated."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import struct
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from engine.app.cli import main
from engine.records.audio import RecordingUnreadable, decrypt, load_key, new_key, wav_header
from engine.records.compare import first_divergence
from engine.records.log import read_log
from engine.records.privacy import KEY_ENV, DataDirs, PrivacySettings
from engine.records.replay import replay
from engine.records.retention import purge
from engine.records.summary import find_log
from flows.loader import load_flow_text
from tests.fakes.providers import tone
from tests.records.kit import ROOT, booking, fast_flow, private, records_for, until
from tests.server.harness import running_server

PRIVACY = "  privacy:\n    record_audio: true\n    redact_transcripts: true\n"
DAY = 86400


def _old(path: Path, days: float, text: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))
    return path


def _log_bytes(flow: str) -> bytes:
    return gzip.compress(json.dumps({"v": 1, "k": "call", "id": "x", "flow": flow}).encode()
                         + b"\n")


def test_recording_redaction_health_and_scheduled_purge(tmp_path: Path) -> None:
    key = new_key()
    data = tmp_path / "data"
    expired = _old(data / "calls" / "expired-0123456789ab.jsonl.gz", 31, _log_bytes("f" * 16))
    others = [_old(data / "calls" / "notes.txt", 400), _old(data / "recordings" / "x.wav", 400)]
    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    flow = fast_flow(tmp_path, extra=PRIVACY)

    async def scenario() -> dict:
        records = records_for(tmp_path, env={KEY_ENV: key})
        async with running_server(tmp_path, flow=flow, records=records) as server:
            server.tts.seconds_per_char = 0.003
            await until(lambda: not expired.exists())  # retention ran at start-up
            async with httpx.AsyncClient() as client:
                health = (await client.get(f"{server.http_url}/health")).json()
            await booking(server)
            await private(server)
        return health

    health = asyncio.run(scenario())
    assert health["records"]["recordings"] == "encrypted"
    assert health["records"]["retention_days"] == 30
    assert health["records"]["redact_transcripts"] is True
    assert key not in json.dumps(health)
    assert all(p.exists() for p in others), "purge touched files that are not dialflow's"

    log_path = find_log("CA-booking", data / "calls")
    stem = log_path.name.removesuffix(".jsonl.gz")
    recording = data / "recordings" / f"{stem}.wav.enc"
    raw = recording.read_bytes()
    assert b"RIFF" not in raw and b"WAVE" not in raw
    assert tone(0.6)[800:960] not in raw  # the caller's audio is not there in the clear
    with pytest.raises(RecordingUnreadable, match="wrong key"):
        decrypt(recording, load_key(new_key()))
    wav, complete = decrypt(recording, load_key(key))
    assert complete
    fmt, channels, rate = struct.unpack("<HHI", wav[20:28])
    assert wav[:4] == b"RIFF" and (fmt, channels, rate) == (7, 2, 8000)
    body = wav[len(wav_header()):]
    caller, agent = body[0::2], body[1::2]
    assert sum(b != 0xFF for b in caller) > 8000 * 0.8  # the caller spoke for 1.1 s
    assert sum(b != 0xFF for b in agent) > 8000 * 0.5  # the greeting and the reply
    # No plaintext audio left behind: only encrypted recordings, nothing new in /tmp.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in others:
            assert not path.read_bytes().startswith(b"RIFF"), path
            assert not path.name.endswith((".wav", ".part", ".tmp")), path
    new_temp = set(Path(tempfile.gettempdir()).iterdir()) - temp_before
    assert not [p for p in new_temp if p.suffix == ".wav"], new_temp

    # Redacted stored text: no card, birth date or phone number; the replay still matches.
    private_log = find_log("CA-private", data / "calls")
    text = gzip.decompress(private_log.read_bytes()).decode()
    transcript = next((tmp_path / "transcripts").glob("CA-private*.jsonl")).read_text()
    for stored in (text, transcript):
        assert "4111" not in stored and "03/14/1985" not in stored
        assert "555 123 4567" not in stored and "+15550001234" not in stored
        assert "[card ***1111]" in stored and "[date]" in stored and "***4567" in stored
    result = replay(read_log(private_log))
    assert first_divergence(result) is None and not result.stopped


def test_calls_audio_decrypts_only_with_the_key(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    key = new_key()
    flow = fast_flow(tmp_path, extra=PRIVACY)

    async def scenario() -> None:
        records = records_for(tmp_path, env={KEY_ENV: key})
        async with running_server(tmp_path, flow=flow, records=records) as server:
            server.tts.seconds_per_char = 0.003
            await private(server)

    asyncio.run(scenario())
    data, out = str(tmp_path / "data"), tmp_path / "out.wav"
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert main(["calls", "--data", data, "audio", "CA-private", "-o", str(out)]) == 2
    assert f"{KEY_ENV} is not set" in capsys.readouterr().err and not out.exists()
    monkeypatch.setenv(KEY_ENV, new_key())
    assert main(["calls", "--data", data, "audio", "CA-private", "-o", str(out)]) == 2
    assert "wrong key" in capsys.readouterr().err and not out.exists()
    monkeypatch.setenv(KEY_ENV, key)
    assert main(["calls", "--data", data, "audio", "CA-private", "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == b"RIFF" and "stereo audio" in capsys.readouterr().out


def test_recording_without_a_key_records_no_audio_and_says_so(tmp_path: Path) -> None:
    flow = fast_flow(tmp_path, extra=PRIVACY)

    async def scenario() -> dict:
        records = records_for(tmp_path, env={})
        async with (running_server(tmp_path, flow=flow, records=records) as server,
                    httpx.AsyncClient() as client):
            return (await client.get(f"{server.http_url}/health")).json()

    health = asyncio.run(scenario())
    assert health["records"]["recordings"] == f"off: {KEY_ENV} is not set"
    with pytest.raises(Exception, match="not set"):
        load_key("")
    with pytest.raises(Exception, match="32 bytes"):
        load_key("c2hvcnQ=")


def test_purge_removes_expired_material_and_nothing_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = DataDirs.from_env({}, root=tmp_path / "data")
    old, new = "a" * 16, "b" * 16
    expired = [_old(dirs.calls / "old-000000000000.jsonl.gz", 31, _log_bytes(old)),
               _old(dirs.calls / "flows" / f"{old}.yaml", 31),
               _old(dirs.recordings / "old-000000000000.wav.enc", 31),
               _old(dirs.transcripts / "old.jsonl", 31)]
    kept = [_old(dirs.calls / "new-000000000000.jsonl.gz", 29, _log_bytes(new)),
            _old(dirs.calls / "flows" / f"{new}.yaml", 90),  # old, but a kept log uses it
            _old(dirs.calls / "flows" / f"{'c' * 16}.yaml", 1),  # recent, unused
            _old(dirs.recordings / "new-000000000000.wav.enc", 29),
            _old(dirs.transcripts / "new.jsonl", 29),
            _old(dirs.calls / "README.txt", 400), _old(dirs.recordings / "export.wav", 400),
            _old(dirs.transcripts / "notes.md", 400)]
    data = str(tmp_path / "data")
    assert main(["purge", "--data", data, "--days", "30", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("would remove") == 4
    assert all(p.exists() for p in expired + kept)
    report = purge(dirs, 30)
    assert sorted(p for p, _ in report.removed) == sorted(expired)
    assert all(p.exists() for p in kept) and not any(p.exists() for p in expired)
    assert "1 event log(s)" in report.summary() and "1 recording(s)" in report.summary()
    # The retention comes from the flow: 20 days now expires the 29-day-old records too.
    flow = tmp_path / "flows.yaml"
    flow.write_text((ROOT / "flows.yaml").read_text().replace(
        "settings:\n", "settings:\n  privacy:\n    retention_days: 20\n", 1))
    assert main(["purge", "--data", data, "--flow", str(flow)]) == 0
    assert "retention 20 days: removed" in capsys.readouterr().out
    assert not (dirs.calls / "new-000000000000.jsonl.gz").exists()
    assert (dirs.calls / "README.txt").exists()


def test_privacy_settings_are_validated_with_lines_and_default_when_absent() -> None:
    text = (ROOT / "flows.yaml").read_text()
    assert "privacy:" not in text
    flow, problems = load_flow_text(text, "flows.yaml")
    assert flow is not None and flow.settings.privacy == \
        PrivacySettings(record_audio=False, retention_days=30, redact_transcripts=False)
    bad = text.replace("settings:\n", "settings:\n  privacy:\n    record_audio: yes\n"
                       "    retention_days: 0\n    redact: true\n", 1)
    line = bad.splitlines().index("    record_audio: yes") + 1
    _, problems = load_flow_text(bad, "flows.yaml")
    messages = [str(p) for p in problems if p.severity == "error"]
    assert any(f"flows.yaml:{line}:" in m and "record_audio" in m and "true or false" in m
               for m in messages), messages
    assert any("retention_days is 0" in m and "at least 1" in m for m in messages), messages
    assert any("unknown setting 'privacy.redact'" in m and "redact_transcripts" in m
               for m in messages), messages
