"""Call transcripts are written line by line, so a crash loses at most the line in flight."""

from __future__ import annotations

from pathlib import Path

from engine.transcripts import TranscriptStore


def test_lines_are_on_disk_as_soon_as_written_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t")
    transcript = store.open("CA/../1")  # ids never escape the directory
    transcript.write("caller", text="What time do you open?", confidence=0.9)
    path = next((tmp_path / "t").iterdir())
    assert path.parent == tmp_path / "t"
    # Read from another handle before close: the line is already there.
    assert TranscriptStore.read(path)[0]["text"] == "What time do you open?"
    with path.open("a", encoding="utf-8") as raw:  # a crash in the middle of a write
        raw.write('{"kind": "agent", "te')
    assert [line["kind"] for line in TranscriptStore.read(path)] == ["caller"]
    transcript.close()
    transcript.write("caller", text="after close")  # ignored, never raises
