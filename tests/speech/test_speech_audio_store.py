"""AudioStore: round trips, atomic replacement, damaged files treated as missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.speech import audio_store
from adapters.speech.audio_store import AudioStore

KEY = "ab" * 32


def test_round_trip_leaves_only_the_entry(tmp_path: Path) -> None:
    store = AudioStore(tmp_path / "cache" / "tts")  # created on demand
    audio = bytes(range(256)) * 10

    path = store.save(KEY, audio)

    assert store.load(KEY) == audio
    assert [p.name for p in store.directory.iterdir()] == [path.name]
    assert store.load("cd" * 32) is None


def test_a_failed_write_keeps_the_old_entry_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AudioStore(tmp_path)
    store.save(KEY, b"old audio")

    def crash(src: str, dst: os.PathLike[str]) -> None:
        raise OSError("crashed before the rename")

    monkeypatch.setattr(audio_store.os, "replace", crash)
    with pytest.raises(OSError, match="rename"):
        store.save(KEY, b"new audio that never lands")
    monkeypatch.undo()

    assert store.load(KEY) == b"old audio"
    assert len(list(tmp_path.iterdir())) == 1


def test_a_damaged_entry_reads_as_missing_and_is_removed(tmp_path: Path) -> None:
    store = AudioStore(tmp_path)
    path = store.save(KEY, b"\x7f" * 1000)
    path.write_bytes(path.read_bytes()[:-1])

    assert store.load(KEY) is None
    assert not path.exists()


@pytest.mark.parametrize("key", ["", "../escape", "a/b", ".hidden"])
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        AudioStore(tmp_path).path_for(key)
