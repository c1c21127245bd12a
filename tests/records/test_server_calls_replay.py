"""Calls placed through the real server (uvicorn, the Media Streams WebSocket, the simulated
Twilio caller; fast fake speech and a scripted brain) leave event logs that replay to the
identical trace; an edited flow is reviewed with `replay --all`; a recorded booking becomes
an event script; `calls list/show` summarise them. The calls are placed once per module."""

from __future__ import annotations

import asyncio
import gzip
import shutil
from pathlib import Path

import pytest

from engine.app.cli import main
from engine.records.compare import canonical_trace, first_divergence
from engine.records.log import read_log
from engine.records.replay import replay
from engine.records.summary import find_log
from engine.scripts import load_script, run_script
from flows import load_flow
from tests.records.kit import fast_flow, place

NAMES = ["booking", "silent", "question", "barge"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("calls")
    asyncio.run(place(tmp, NAMES))
    return tmp


def _logs(tmp: Path) -> dict[str, Path]:
    calls = tmp / "data" / "calls"
    return {name: find_log(f"CA-{name}", calls) for name in NAMES}


def test_every_call_replays_to_the_identical_trace_every_run(recorded: Path) -> None:
    logs = _logs(recorded)
    assert len(list((recorded / "data" / "calls").glob("*.jsonl.gz"))) == len(NAMES)
    for name, path in logs.items():
        log = read_log(path)
        assert log.end is not None and log.torn == 0, name
        first, second = replay(log), replay(log)
        assert not first.stopped, (name, first.stopped)
        assert first_divergence(first) is None, name
        recorded_text = canonical_trace(log.entries)
        assert canonical_trace(first.trace.entries) == recorded_text, name
        # Every run: the replayed trace, virtual times included, is the same bytes.
        assert first.trace.format() == second.trace.format(), name
    # The calls did what they were placed to do, so the replays cover each kind of answer.
    booking = read_log(logs["booking"])
    assert [r["name"] for r in booking.of("tool")] == ["book_appointment"]
    assert booking.of("tool")[0]["ok"] == 1 and booking.end["state"] == "ended"
    silent = read_log(logs["silent"])
    assert [e.after for e in silent.entries if e.event == "timer.silence"] == \
        ["listening", "listening", "escalating"]
    assert silent.of("transfer")[0]["ok"] == 0  # no Twilio here: the transfer fails
    barge = read_log(logs["barge"])
    assert "barge_in" in barge.trace().states(), "the caller talked over the reply"
    assert barge.end["state"] == "hung_up"


def test_a_changed_recorded_answer_is_caught_as_a_divergence(recorded: Path,
                                                             tmp_path: Path) -> None:
    source = _logs(recorded)["booking"]
    shutil.copytree(source.parent / "flows", tmp_path / "flows")
    edited = tmp_path / source.name
    text = gzip.decompress(source.read_bytes()).decode()
    assert '"ok":1,"res":{"ok":true' in text
    edited.write_bytes(gzip.compress(
        text.replace('"ok":1,"res":{"ok":true', '"ok":0,"res":{"ok":true').encode()))
    divergence = first_divergence(replay(read_log(edited)))
    assert divergence is not None
    assert divergence.recorded.event == "tool.done"
    assert divergence.replayed.event == "tool.failed"


def test_replay_all_against_one_more_reprompt_names_the_calls_that_change(
        recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edited = fast_flow(tmp_path, reprompts=3)
    code = main(["replay", "--all", str(recorded / "data" / "calls"), "--flow", str(edited)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"{len(NAMES)} call(s) replayed on {edited}: 3 same, 1 changed" in out, out
    changed = [line for line in out.splitlines() if line.startswith("  CA-")]
    assert len(changed) == 1 and changed[0].startswith("  CA-silent:"), out
    # The third silence is where the calls part: the new flow reprompts once more, at the
    # `below_limit: reprompts` transition of `listening`.
    line = next(n for n, text in enumerate(edited.read_text().splitlines(), 1)
                if "below_limit: reprompts" in text)
    assert "state listening, event timer.silence" in changed[0], out
    assert "recorded listening -> escalating" in changed[0], out
    assert f"{edited}:{line}]" in changed[0], out
    assert "stopped: the flow says 'Are you still there?" in out, out
    # And the same batch on the flow it ran on: nothing changes.
    assert main(["replay", "--all", str(recorded / "data" / "calls")]) == 0
    assert "4 same, 0 changed" in capsys.readouterr().out


def test_replay_one_call_by_id_prints_the_divergence_side_by_side(
        recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(recorded / "data")
    assert main(["replay", "--data", data, "CA-question"]) == 0
    assert "SAME     CA-question" in capsys.readouterr().out
    edited = fast_flow(tmp_path, reprompts=0)
    assert main(["replay", "--data", data, "CA-question", "--flow", str(edited)]) == 1
    out = capsys.readouterr().out
    assert "CHANGED  CA-question" in out and "recorded" in out and "| replayed" in out
    assert ">> " in out and "timer.silence listening -> escalating" in out, out
    assert main(["replay", "--data", data, "CA-nobody"]) == 2
    assert "no event log for 'CA-nobody'" in capsys.readouterr().out


def test_from_call_booking_script_passes_and_fails_without_the_booking_tool(
        recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(fast_flow(tmp_path), tmp_path / "flows.yaml")
    out = tmp_path / "tests" / "scripts" / "booked.yaml"
    code = main(["test", "--from-call", "CA-booking", "--data", str(recorded / "data"),
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert 'caller: "I\'d like to book a cleaning, my name is Ana Lopez."' in text
    assert "tool: book_appointment" in text and "after: 0.3s" in text
    assert "ended_at" not in text and "speech:" not in text
    assert main(["test", str(out)]) == 0
    no_booking = tmp_path / "no-booking.yaml"
    flow_text = (tmp_path / "flows.yaml").read_text(encoding="utf-8")
    assert flow_text.count("        - tool_running\n") == 1
    no_booking.write_text(flow_text.replace(
        "        - tool_running\n",
        "        - {unless: {tool: book_appointment}, to: tool_running}\n"), encoding="utf-8")
    result = run_script(load_script(out), load_flow(no_booking))
    assert not result.passed
    assert any("expected tool 'book_appointment'" in f for f in result.failures), \
        result.failures


def test_calls_list_and_show(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(recorded / "data")
    assert main(["calls", "--data", data, "list"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[2]: line for line in out.splitlines()[1:]}
    assert set(rows) == {f"CA-{n}" for n in NAMES}, out
    assert "+15550001234" not in out and "***1234" in out
    assert "book_appointment" in rows["CA-booking"] and "ended" in rows["CA-booking"]
    assert "failed" in rows["CA-silent"] and "hung_up" in rows["CA-barge"]
    assert " ms" in rows["CA-question"], "the answered turn has a first-frame latency"
    assert main(["calls", "--data", data, "show", "CA-question"]) == 0
    shown = capsys.readouterr().out
    assert "caller: Where are you located?" in shown
    assert "agent: We are at 12 Main Street." in shown
    assert "[listening -> thinking on caller.utterance]" in shown
    assert "turn 1 latency (ms): final_transcript" in shown and "first_mark" in shown
