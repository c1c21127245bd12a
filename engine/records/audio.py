"""Call recordings: both sides as a stereo 8 kHz mu-law WAV (caller left, agent right),
encrypted at rest with AES-256-GCM, one chunk (about a second of audio) at a time, so the
plaintext lives only in memory — never in a file, not even a temporary one.

File layout: `DFREC1` + a 16-byte random file id, then chunks of
`[4-byte length][12-byte nonce][ciphertext + tag]`. Each chunk's associated data binds it
to the file id, its index and whether it is the last one, so chunks cannot be reordered,
moved between files or cut off unnoticed. The plaintext is a WAV stream: its header (sizes
unknown while recording) is in the first chunk; `decrypt` fixes the sizes. The key is 32
bytes, base64 in `DIALFLOW_RECORDING_KEY` (make one with `dialflow calls new-key`).
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.records.privacy import KEY_ENV
from engine.transcripts import SYNCER, Syncer

MAGIC = b"DFREC1"
RATE = 8000
CHUNK_SAMPLES = RATE  # one second of stereo audio per encrypted chunk
SILENCE = 0xFF  # mu-law code of linear 0
MAX_CHUNK = 1 << 20
WAVE_FORMAT_MULAW = 7


class RecordingKeyError(Exception):
    """No usable recording key in the environment."""


class RecordingUnreadable(Exception):
    """Wrong key, or a file that is not a dialflow recording, or one tampered with."""


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def load_key(text: str) -> bytes:
    if not text:
        raise RecordingKeyError(f"{KEY_ENV} is not set; make a key with "
                                "`dialflow calls new-key`")
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise RecordingKeyError(f"{KEY_ENV} must be 32 bytes in base64 (44 characters); "
                                "make one with `dialflow calls new-key`")
    return key


def wav_header(frames: int = 0xFFFFFFFF // 2 - 64) -> bytes:
    data = frames * 2
    fmt = struct.pack("<HHIIHHH", WAVE_FORMAT_MULAW, 2, RATE, RATE * 2, 2, 8, 0)
    return (b"RIFF" + struct.pack("<I", min(data + 50, 0xFFFFFFFF)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"fact" + struct.pack("<II", 4, frames)
            + b"data" + struct.pack("<I", data))


def _aad(file_id: bytes, index: int, last: bool) -> bytes:
    return file_id + struct.pack(">IB", index, int(last))


class AudioRecorder:
    """Collects a call's two sides and writes them encrypted, chunk by chunk."""

    def __init__(self, file: IO[bytes], key: bytes, syncer: Syncer = SYNCER):
        self._file = file
        self._aead = AESGCM(key)
        self._file_id = os.urandom(16)
        self._syncer = syncer
        self._index = 0
        self._caller = bytearray()
        self._agent = bytearray()
        self._pending_header = True
        self.closed = False
        file.write(MAGIC + self._file_id)

    @classmethod
    def create(cls, path: Path, key: bytes) -> AudioRecorder:
        return cls(path.open("xb"), key)

    def caller(self, ulaw: bytes) -> None:
        """An inbound frame: the caller's side is the recording's clock."""
        if self.closed:
            return
        self._caller += ulaw
        if len(self._caller) >= CHUNK_SAMPLES:
            self._flush(CHUNK_SAMPLES)

    def agent(self, ulaw: bytes) -> None:
        """An outbound frame, placed where the caller's side is now (silence before it)."""
        if self.closed:
            return
        if len(self._agent) < len(self._caller):
            self._agent += bytes([SILENCE]) * (len(self._caller) - len(self._agent))
        self._agent += ulaw

    def _flush(self, samples: int, last: bool = False) -> None:
        left = bytes(self._caller[:samples]).ljust(samples, b"\xff")
        right = bytes(self._agent[:samples]).ljust(samples, b"\xff")
        del self._caller[:samples]
        del self._agent[:samples]
        stereo = np.empty(samples * 2, np.uint8)
        stereo[0::2] = np.frombuffer(left, np.uint8)
        stereo[1::2] = np.frombuffer(right, np.uint8)
        plain = stereo.tobytes()
        if self._pending_header:
            plain, self._pending_header = wav_header() + plain, False
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain, _aad(self._file_id, self._index, last))
        self._index += 1
        try:
            self._file.write(struct.pack(">I", len(sealed)) + nonce + sealed)
            self._file.flush()
        except (OSError, ValueError):
            self.closed = True
            return
        self._syncer.dirty(self._file)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.closed:
            return
        self._flush(max(len(self._caller), len(self._agent)), last=True)
        self.closed = True
        self._syncer.close(self._file)  # type: ignore[arg-type]


def _chunks(data: bytes, aead: AESGCM) -> Iterator[tuple[bytes, bool]]:
    if not data.startswith(MAGIC):
        raise RecordingUnreadable("not a dialflow recording")
    file_id, pos, index = data[6:22], 22, 0
    while pos < len(data):
        if pos + 16 > len(data):
            raise RecordingUnreadable("the recording is cut off mid-chunk")
        (size,) = struct.unpack(">I", data[pos:pos + 4])
        if size > MAX_CHUNK or pos + 16 + size > len(data):
            raise RecordingUnreadable("the recording is cut off or damaged")
        nonce, sealed = data[pos + 4:pos + 16], data[pos + 16:pos + 16 + size]
        pos += 16 + size
        for last in (False, True):
            try:
                yield aead.decrypt(nonce, sealed, _aad(file_id, index, last)), last
                break
            except InvalidTag:
                if last:
                    raise RecordingUnreadable("wrong key, or the recording was altered") from None
        index += 1


def decrypt(path: str | Path, key: bytes) -> tuple[bytes, bool]:
    """The recording as WAV bytes, with true sizes; and whether it was closed properly (a
    recording cut by a crash still decrypts up to its last whole chunk)."""
    aead = AESGCM(key)
    parts, complete = [], False
    for plain, last in _chunks(Path(path).read_bytes(), aead):
        parts.append(plain)
        complete = last
    body = b"".join(parts)
    header = len(wav_header())
    if len(body) < header:
        raise RecordingUnreadable("the recording holds no audio")
    frames = (len(body) - header) // 2
    return wav_header(frames) + body[header:header + frames * 2], complete
