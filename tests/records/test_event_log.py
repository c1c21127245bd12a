"""The event log itself: recorded on virtual time around the scripted fakes (answers cut off
by the caller, failing tools and speech, a transfer), replayed identically; safe file names
from hostile call ids; what survives `kill -9`; clear errors for files that are not logs."""

from __future__ import annotations

import asyncio
import gzip
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.records.compare import canonical_trace, first_divergence
from engine.records.log import LogInvalid, read_log
from engine.records.privacy import DataDirs
from engine.records.recorder import CallRecords
from engine.records.replay import replay
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from engine.transcripts import SYNCER
from engine.transcripts import file_stem as safe_name
from flows import load_flow

ROOT = Path(__file__).resolve().parents[2]


async def _recorded_call(tmp: Path, script: list[tuple[float, str, dict]],
                         world_setup: dict) -> Path:
    """Drive one call of the default flow with the scripted fakes, recording it."""
    loop = asyncio.get_running_loop()
    flow = load_flow(ROOT / "flows.yaml")
    world = FakeWorld(clock=loop.time, playback_auto=True,
                      transfer=world_setup.get("transfer", "ok"))
    world.llm.extend(world_setup.get("llm", []))
    world.add_tools(world_setup.get("tools", {}))
    records = CallRecords(DataDirs.from_env({}, root=tmp / "data"))
    record = records.open("CA-unit", "+15550001111", flow, clock=loop.time)
    assert record is not None
    call = Call(FlowMachine(flow), record.wrap(world.ports()), call_id="CA-unit")
    record.attach(call)
    world.post = call.post
    consumer = loop.create_task(call.run())
    for at, event, data in script:
        if at > loop.time():
            await asyncio.sleep(at - loop.time())
        call.post(event, **data)
        await settle(call)
    await asyncio.wait_for(consumer, 120)
    record.close(call.state)
    SYNCER.wait_idle()
    return record.writer.path


def test_cut_replies_failures_and_transfer_replay_identically(tmp_path: Path) -> None:
    setup = {"llm": [{"reply": "Let me check that for you. One moment.", "after": "2s"},
                     {"reply": "We open at eight. Anything else?", "after": "0.5s"},
                     {"tool_call": {"name": "check_appointment", "args": {"day": "monday"}}},
                     {"tool_call": {"name": "transfer_to_human"}}],
             "tools": {"check_appointment": {"error": "calendar down", "after": "1s"}}}
    script = [(0.0, "call.started", {"caller": "+15550001111", "call_sid": "CA-unit"}),
              (9.0, "caller.utterance", {"text": "When do you open?", "confidence": 0.9}),
              (10.0, "caller.utterance", {"text": "On Saturday I mean.", "confidence": 0.9}),
              (16.0, "caller.utterance", {"text": "Do I have an appointment?",
                                          "confidence": 0.9})]
    path = run_virtual(_recorded_call(tmp_path, script, setup))
    log = read_log(path)
    cut = [r for r in log.of("reply") if r.get("cut")]
    assert cut and cut[0]["q"] == "When do you open?", log.of("reply")
    tools = log.of("tool")
    assert tools[0]["name"] == "check_appointment" and tools[0]["ok"] == 0
    assert "tool.failed" in [e.event for e in log.entries]
    assert log.of("transfer") and log.of("transfer")[0]["ok"] == 1
    result = replay(log)
    assert not result.stopped, result.stopped
    assert canonical_trace(result.trace.entries) == canonical_trace(log.entries)
    assert first_divergence(result) is None


def test_a_speech_failure_is_recorded_and_replayed(tmp_path: Path) -> None:
    async def scenario() -> Path:
        loop = asyncio.get_running_loop()
        flow = load_flow(ROOT / "flows.yaml")
        world = FakeWorld(clock=loop.time, playback_auto=True)
        records = CallRecords(DataDirs.from_env({}, root=tmp_path / "data"))
        record = records.open("CA-tts", "", flow, clock=loop.time)
        assert record is not None
        ports = world.ports()

        async def broken(speech_id: str, text: str) -> None:
            raise ConnectionResetError("the voice went away")

        ports.speaker.say = broken  # type: ignore[method-assign]
        call = Call(FlowMachine(flow), record.wrap(ports), call_id="CA-tts")
        record.attach(call)
        world.post = call.post
        consumer = loop.create_task(call.run())
        call.post("call.started", caller="", call_sid="CA-tts")
        await asyncio.sleep(30)
        call.post("call.hangup")
        await consumer
        record.close(call.state)
        SYNCER.wait_idle()
        return record.writer.path

    log = read_log(run_virtual(scenario()))
    assert log.of("say")[0]["err"] == ["ConnectionResetError", "the voice went away"]
    tts_errors = [e for e in log.entries if e.event == "tts.error"]
    assert tts_errors and "ConnectionResetError" in tts_errors[0].data["error"]
    result = replay(log)
    assert first_divergence(result) is None and not result.stopped


def test_file_names_never_take_the_call_id_as_given(tmp_path: Path) -> None:
    hostile = ["../../etc/passwd", "CA/1", "CA\\1", "CA 1", "", "é" * 300, "CA\x00x"]
    names = {safe_name(i) for i in hostile}
    assert len(names) == len(hostile)  # two ids never share a file
    for name in names:
        assert "/" not in name and "\\" not in name and ".." not in name
        assert len(name) <= 60 and name.isascii()
    flow = load_flow(ROOT / "flows.yaml")
    records = CallRecords(DataDirs.from_env({}, root=tmp_path / "data"))

    async def open_all() -> list[Path]:
        out = []
        for call_id in [*hostile, "CA/1"]:  # the same id again gets a file of its own
            record = records.open(call_id, "", flow)
            assert record is not None
            record.close("ended")
            out.append(record.writer.path)
        return out

    paths = asyncio.run(open_all())
    SYNCER.wait_idle()
    assert len(set(paths)) == len(paths)
    assert all(p.parent == tmp_path / "data" / "calls" for p in paths)
    assert read_log(paths[0]).call_id == "../../etc/passwd"


def test_lines_flushed_before_kill_9_survive(tmp_path: Path) -> None:
    child = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from engine.records.log import EventLogWriter
        writer = EventLogWriter(Path({str(tmp_path / "killed.jsonl.gz")!r}))
        writer.write({{"v": 1, "k": "call", "id": "CA-killed"}})
        for n in range(50):
            writer.write({{"k": "ev", "t": n, "e": "caller.dtmf", "d": {{"digit": "1"}},
                          "b": "listening"}})
        print("written", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    log = read_log(tmp_path / "killed.jsonl.gz")
    assert log.call_id == "CA-killed" and len(log.entries) == 50 and log.end is None
    # A torn last line (the kill landed mid-write) is skipped, not fatal.
    torn = tmp_path / "torn.jsonl.gz"
    torn.write_bytes(gzip.compress(b'{"v":1,"k":"call","id":"x"}\n{"k":"ev","t":1,"e":"ca'))
    log = read_log(torn)
    assert log.torn == 1 and log.entries == []


def test_files_that_are_not_logs_get_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "notes.jsonl.gz"
    plain.write_text("hello\n")
    with pytest.raises(LogInvalid, match="not a gzip stream"):
        read_log(plain)
    future = tmp_path / "future.jsonl.gz"
    future.write_bytes(gzip.compress(b'{"v":9,"k":"call","id":"x"}\n'))
    with pytest.raises(LogInvalid, match="format version 9; this dialflow reads version 1"):
        read_log(future)
    with pytest.raises(LogInvalid, match="cannot read"):
        read_log(tmp_path / "missing.jsonl.gz")


def test_a_flood_of_events_stops_at_the_cap_without_touching_the_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.records.log as log_module

    monkeypatch.setattr(log_module, "MAX_LOG_BYTES", 4096)
    writer = log_module.EventLogWriter(tmp_path / "flood.jsonl.gz")
    writer.write({"v": 1, "k": "call", "id": "CA-flood"})
    for n in range(500):
        writer.write({"k": "ev", "t": n, "e": "caller.dtmf", "d": {"digit": "5"}, "b": "x"})
    writer.write({"k": "ev", "t": 1, "e": "caller.dtmf", "d": {"digit": "x" * 10_000}})
    writer.close()
    SYNCER.wait_idle()
    log = read_log(tmp_path / "flood.jsonl.gz")
    assert log.full and 0 < len(log.entries) < 100 and writer.bytes <= 4096 + 16
