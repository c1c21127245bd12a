"""`AudioStore`: audio blobs in a directory, one file per key, safe against torn writes.

A file is a small header — magic, audio length, SHA-256 of the audio — then the audio.
`save` writes a temporary file in the same directory, fsyncs it and renames it over the
final name, so a reader sees the old file, the new file or none, never half of one. `load`
checks the header; a file that is truncated, overwritten or from another format counts as
missing (it is removed, and the caller rebuilds it). Keys are file-name-safe strings (the
prompt cache uses hex digests).
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
from pathlib import Path

log = logging.getLogger("dialflow.speech.store")

MAGIC = b"DFULAW01"
_HEADER = struct.Struct(">8sQ32s")  # magic, audio length, sha256(audio)
SUFFIX = ".ulaw"


class AudioStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"not a usable store key: {key!r}")
        return self.directory / f"{key}{SUFFIX}"

    def load(self, key: str) -> bytes | None:
        """The stored audio, or None when it is missing or not intact."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read cached audio %s: %s", path.name, exc)
            return None
        audio = _unpack(data)
        if audio is None:
            log.warning("cached audio %s is damaged; it will be rebuilt", path.name)
            path.unlink(missing_ok=True)
        return audio

    def save(self, key: str, audio: bytes) -> Path:
        """Store `audio` under `key`, replacing what was there, atomically."""
        path = self.path_for(key)
        header = _HEADER.pack(MAGIC, len(audio), hashlib.sha256(audio).digest())
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header)
                out.write(audio)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def _unpack(data: bytes) -> bytes | None:
    if len(data) < _HEADER.size:
        return None
    magic, length, digest = _HEADER.unpack_from(data)
    audio = data[_HEADER.size:]
    if magic != MAGIC or length != len(audio) or hashlib.sha256(audio).digest() != digest:
        return None
    return audio
