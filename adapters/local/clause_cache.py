"""`ClauseCache`: the 8 kHz mu-law audio of clauses piper already rendered, bounded in bytes.

An agent says the same clauses again and again across calls ("Is there anything else I can
help you with?", "Let me check.", confirmations), inside replies whose other clauses change,
so the flow's whole-prompt cache (`adapters.speech.prompt_cache`) never sees them. Each
rendered clause is kept under its exact text and everything else that shapes its audio (the
voice, the volume, steady prosody or not, the output rate); a hit is served without piper
and without a place in the tts queue. Least recently used clauses go first once the audio
held passes `max_bytes`; a clause longer than `max_entry_bytes` is not kept (it rarely
comes back whole). Only complete renders are offered to `put` (a stopped one is not).
Thread-safe (the tts worker stores, the loop looks up). Pure memory; touches nothing else.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

MAX_BYTES = 4 * 1024 * 1024  # ~9 minutes of 8 kHz mu-law audio
MAX_ENTRY_BYTES = 12 * 8000  # a clause of 12 s or more is not kept


class ClauseKey(NamedTuple):
    """Everything the audio of one clause depends on."""

    voice: str
    text: str
    volume: float
    steady: bool
    rate: int


class ClauseCache:
    """LRU of rendered clauses; `hits` and `misses` count `get`s."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        if max_bytes < 0 or max_entry_bytes < 0:
            raise ValueError("cache bounds must not be negative")
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[ClauseKey, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: ClauseKey) -> bytes | None:
        """The clause's audio (now the most recently used), or None."""
        with self._lock:
            audio = self._entries.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return audio

    def put(self, key: ClauseKey, audio: bytes) -> bool:
        """Keep a completely rendered clause; False when it is empty or too long to keep."""
        size = len(audio)
        if not size or size > min(self.max_entry_bytes, self.max_bytes):
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = audio
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
        return True

    @property
    def bytes(self) -> int:
        """Audio bytes held now (never above `max_bytes`)."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.hits = self.misses = 0
