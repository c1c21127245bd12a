"""Call transcripts are written line by line, so a crash loses at most the line in flight;
the disk sync runs on a background thread, never on the event loop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.transcripts import TranscriptStore

ROOT = Path(__file__).resolve().parents[2]


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


def test_fsync_runs_off_the_writing_thread_and_the_syncer_closes_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((threading.current_thread().name, fd))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    transcript = TranscriptStore(tmp_path).open("CA1")
    fd = transcript._file.fileno()
    for index in range(20):
        transcript.write("agent", text=f"sentence {index}")
    transcript.close()
    assert TranscriptStore.sync(timeout=60)
    assert synced and all(name == "transcript-fsync" for name, _ in synced)
    assert fd in {got for _, got in synced}
    assert transcript._file.closed  # closed by the syncer, after its last sync
    assert len(TranscriptStore.read(transcript.path)) == 20


def test_lines_survive_the_process_being_killed(tmp_path: Path) -> None:
    code = (
        "import os, signal\n"
        "from engine.transcripts import TranscriptStore\n"
        f"t = TranscriptStore({str(tmp_path)!r}).open('CA9')\n"
        "for i in range(5):\n"
        "    t.write('caller', text=f'line {i}')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60)
    assert done.returncode == -signal.SIGKILL
    lines = TranscriptStore.read(tmp_path / "CA9.jsonl")
    assert [line["text"] for line in lines] == [f"line {i}" for i in range(5)]


def test_the_syncer_lets_go_of_a_closed_transcript_once_it_is_synced(tmp_path: Path) -> None:
    """Its thread held the last batch's files (closed, buffers and all) while it waited for
    the next line: after a burst, for as long as the server stayed idle."""
    import gc
    import weakref

    from engine.transcripts import Syncer

    syncer = Syncer(interval=0.0)
    file = (tmp_path / "CA1.jsonl").open("a", encoding="utf-8")
    file.write("{}\n")
    syncer.dirty(file)
    syncer.close(file)
    assert syncer.wait_idle()
    assert file.closed
    gone = weakref.ref(file)
    del file
    gc.collect()
    assert gone() is None
