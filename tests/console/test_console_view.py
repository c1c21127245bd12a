"""What the console makes of event logs: agent lines heard or cut off by a barge-in, the
caller's number and numbers in text redacted, the armed timer, bounded items; a log read
while it is being written; a live log whose writer process is gone shown as cut off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.app.server.console import view as view_module
from engine.app.server.console.feed import LogFeed, LogTail
from engine.app.server.console.view import CallView
from engine.records.log import EventLogWriter

HEADER = {"v": 1, "k": "call", "id": "CA-x", "start": 1796176041.6, "flow": "3d4270996d5baa68",
          "caller": "+15550001234", "pid": 0, "host": ""}
BARGE = [  # the records of a real barge-in call (engine/records), trimmed
    {"k": "ev", "t": 0.0, "e": "call.started", "d": {"caller": "+15550001234"}, "b": "",
     "a": "greeting", "x": ["say greeting"], "tm": ["timer.greeting", 20.0]},
    {"k": "say", "t": 0.0, "id": "s1", "text": "Hello, call us on +1 555 000 9999.", "end": 0.1},
    {"k": "ev", "t": 2.0, "e": "agent.playback_done", "d": {"speech": "s1"}, "b": "greeting",
     "a": "listening", "tm": ["timer.silence", 8.0]},
    {"k": "ev", "t": 3.0, "e": "caller.utterance", "d": {"text": "Do you take Aetna?"},
     "b": "listening", "a": "thinking", "x": ["respond"], "tm": ["timer.reply", 8.0]},
    {"k": "ev", "t": 3.1, "e": "agent.reply_started", "b": "thinking", "a": "speaking",
     "tm": 0},
    {"k": "say", "t": 3.1, "id": "s2", "text": "We accept most plans.", "end": 3.2},
    {"k": "say", "t": 3.2, "id": "s3", "text": "That includes Aetna.", "end": 3.3},
    {"k": "turn", "t": 3.5, "n": 1, "ms": {"final_transcript": 300.0, "first_sentence": 302.0,
                                           "first_frame": 303.0, "first_mark": 410.0}},
    {"k": "ev", "t": 3.5, "e": "agent.playback_done", "d": {"speech": "s2"}, "b": "speaking",
     "n": "playing", "h": 0},
    {"k": "ev", "t": 3.8, "e": "caller.speech_started", "b": "speaking", "a": "barge_in",
     "x": ["stop_speaking"]},
    {"k": "ev", "t": 3.81, "e": "agent.playback_done", "d": {"speech": "s3"}, "b": "barge_in",
     "n": "stale", "h": 0},
]


def build(records: list[dict[str, Any]]) -> CallView:
    view = CallView("CA-x-0000")
    for rec in [HEADER, *records]:
        view.apply(rec)
    return view


def statuses(view: CallView) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in view.items:
        if item["k"] in ("heard", "cut"):
            out.setdefault(item["id"], []).append(item["k"])
    return out


def test_agent_lines_are_heard_or_cut_off_by_the_barge_in() -> None:
    view = build(BARGE)
    assert statuses(view) == {"s1": ["heard"], "s2": ["heard"], "s3": ["cut", "cut"]}
    barge = [i for i in view.items if i["k"] == "barge"]
    assert len(barge) == 1 and barge[0]["t"] == 3.8
    assert view.state == "barge_in"
    assert [i["to"] for i in view.items if i["k"] == "state"] == \
        ["greeting", "listening", "thinking", "speaking", "barge_in"]


def test_numbers_are_redacted_and_the_armed_timer_is_known() -> None:
    view = build(BARGE[:3])
    text = repr(view.items) + repr(view.row(HEADER["start"] + 5))
    assert "555 000 9999" not in text and "0001234" not in text
    assert view.caller == "***1234"
    assert view.timer == ("timer.silence", 10.0)  # armed at 2.0 s for 8 s
    row = view.row(HEADER["start"] + 5)
    assert row["timer"] == {"event": "timer.silence", "deadline": round(HEADER["start"] + 10, 2)}
    assert row["live"] and row["duration"] == 5.0
    view.apply({"k": "ev", "t": 4.0, "e": "caller.speech_started", "b": "listening",
                "a": "thinking", "tm": 0})
    assert view.timer is None and view.row(HEADER["start"] + 5)["timer"] is None


def test_hostile_records_are_skipped_and_items_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(view_module, "MAX_ITEMS", 10)
    view = build([{"k": "__init__"}, {"k": 5}, {"k": "ev", "t": "soon", "e": ["x"]},
                  {"k": "tool", "t": 1.0, "name": "x" * 10_000, "args": {"a": "b" * 10_000}}])
    assert all(len(str(i)) < 5000 for i in view.items)
    for n in range(20):
        view.apply({"k": "ev", "t": float(n), "e": "caller.dtmf", "b": "a", "d": {"digit": "1"}})
    assert len(view.items) == 11 and view.truncated  # ten, then one saying so
    assert "not shown" in view.items[-1]["text"]
    view.apply({"k": "end", "t": 30.0, "state": "hung_up"})
    assert view.items[-1]["k"] == "end" and view.ended == "hung_up"


def test_a_log_is_read_while_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "CA-x-0000.jsonl.gz"
    writer = EventLogWriter(path)  # no running loop: each line is written at once
    tail = LogTail(path)
    writer.write(HEADER)
    for rec in BARGE[:4]:
        writer.write(rec)
    assert tail.read() and tail.view.state == "thinking"
    assert not tail.read()  # nothing new
    for rec in BARGE[4:]:
        writer.write(rec)
    assert tail.read() and tail.view.state == "barge_in"
    writer.write({"k": "end", "t": 5.0, "state": "hung_up"})
    writer.close()
    assert tail.read() and tail.view.ended == "hung_up"
    assert LogTail(path).read_all().items == tail.view.items  # piecewise = whole


def test_a_live_log_whose_process_is_gone_is_shown_cut_off(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    from engine.app.server.console.feed import HOST

    for name, header in (("gone", {**HEADER, "pid": pid, "host": HOST}),
                         ("elsewhere", {**HEADER, "pid": pid, "host": "another-host"})):
        writer = EventLogWriter(tmp_path / f"{name}.jsonl.gz")
        writer.write({**header, "id": name})
        writer.write(BARGE[0])
    feed = LogFeed(tmp_path)
    feed.refresh()
    live = {v.call_id: v for v in feed.live()}
    assert set(live) == {"elsewhere"}  # another host's process cannot be checked from here
    gone = feed.get("gone")
    assert gone is not None and gone.view.ended == "cut off: its server process is gone"
