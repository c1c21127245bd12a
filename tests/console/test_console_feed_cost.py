"""What the live feed does not read: closed logs are past calls (told from their last bytes),
and the past-calls list takes the rows of calls the feed saw end from the feed."""

from __future__ import annotations

import time
from pathlib import Path

from engine.app.server.console import archive
from engine.app.server.console.feed import LogFeed, closed
from engine.records.log import EventLogWriter

HEADER = {"v": 1, "k": "call", "start": time.time(), "flow": "0" * 16, "caller": "+15550001234",
          "pid": 0, "host": ""}


def log(path: Path, call_id: str, end: bool) -> EventLogWriter:
    writer = EventLogWriter(path)
    writer.write({**HEADER, "id": call_id})
    writer.write({"k": "ev", "t": 0.1, "e": "call.started", "b": "", "a": "greeting"})
    if end:
        writer.write({"k": "end", "t": 1.0, "state": "ended"})
        writer.close()
    return writer


def test_a_closed_log_is_a_past_call_and_the_feed_does_not_tail_it(tmp_path: Path) -> None:
    live = log(tmp_path / "CAlive-1.jsonl.gz", "CAlive", end=False)
    log(tmp_path / "CAdone-1.jsonl.gz", "CAdone", end=True)
    assert not closed(live.path) and closed(tmp_path / "CAdone-1.jsonl.gz")
    feed = LogFeed(tmp_path)
    feed.refresh()
    assert set(feed.tails) == {"CAlive-1"}
    assert [v.call_id for v in feed.live()] == ["CAlive"]
    views, total = archive.newest(tmp_path, {"CAlive-1"})
    assert total == 1 and views[0].call_id == "CAdone" and views[0].ended == "ended"


def test_the_past_list_takes_calls_the_feed_saw_end_from_the_feed(tmp_path: Path) -> None:
    writer = log(tmp_path / "CAend-1.jsonl.gz", "CAend", end=False)
    feed = LogFeed(tmp_path)
    feed.refresh()
    feed.follow("CAend-1")  # a call page follows it: read on every pass
    writer.write({"k": "end", "t": 2.0, "state": "goodbye"})
    writer.close()
    feed.refresh()
    finished = feed.finished()
    assert list(finished) == ["CAend-1"] and finished["CAend-1"].ended == "goodbye"
    views, _ = archive.newest(tmp_path, set(), known=finished)
    assert views[0] is finished["CAend-1"]  # not read again


def test_a_log_no_page_follows_keeps_its_row_only_until_one_does(tmp_path: Path) -> None:
    writer = log(tmp_path / "CAlight-1.jsonl.gz", "CAlight", end=False)
    writer.write({"k": "ev", "t": 0.5, "e": "caller.utterance", "d": {"text": "hello"},
                  "b": "greeting", "a": "listening", "tm": ["timer.silence", 8.0]})
    writer.write({"k": "say", "t": 0.6, "id": "s1", "text": "Hi there."})
    feed = LogFeed(tmp_path)
    feed.refresh()
    light = feed.get("CAlight-1")
    assert light is not None and light.view.items == []  # nothing a page would show
    assert light.view.state == "listening" and light.view.timer == ("timer.silence", 8.5)
    feed.follow("CAlight-1")
    followed = feed.get("CAlight-1")
    assert followed is not None and not followed.view.light
    whole = archive.LogTail(followed.path).read_all()
    assert followed.view.items == whole.items and followed.view.state == "listening"
    assert any(item["k"] == "caller" and item["text"] == "hello" for item in whole.items)
