"""Sentence splitting, once for all of dialflow: `SentenceSplitter` turns streamed text deltas
into complete sentences as soon as they end; `split_sentences` splits a whole text; the
abbreviation lists say where a full stop is not an end. The LLM brains, the rules brain's
knowledge answers, piper's clause splitter and the event-script fake brain all use these.

A sentence ends at `.`, `!` or `?` (or a run of them, plus closing quotes or brackets)
followed by whitespace, or at a line break. Not an end: decimals and times ("8.30", no
space follows), titles ("Dr. Patel"), initials ("J. Smith"), "e.g."/"i.e."/"vs.". After
"a.m.", "p.m.", "etc.", "no.", dotted acronyms and "..." the sentence ends only when the next
word starts with a capital letter, so "at 8 a.m. tomorrow" stays whole. `flush()` returns what
is left once the stream is over. Very long runs without an end are cut at a comma or space
so speech can start. Pure text processing; touches nothing.
"""

from __future__ import annotations

import re

#: Abbreviations after which a full stop never ends the sentence (lower case, no final dot).
NEVER_ENDS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "mt", "ft", "vs", "e.g", "i.e",
     "approx", "appt", "dept", "tel", "ext"}
)
#: Abbreviations that end the sentence only when a capitalised word follows.
MAYBE_ENDS = frozenset({"a.m", "p.m", "etc", "inc", "ltd", "co", "no", "jan", "feb", "aug",
                        "sept", "oct", "nov", "dec"})
#: Every abbreviation: where a splitter that cannot look ahead never cuts.
ABBREVIATIONS = NEVER_ENDS | MAYBE_ENDS


def is_abbreviation(word: str) -> bool:
    """Is `word` (as written, e.g. "Dr." or "e.g.") one of `ABBREVIATIONS`?"""
    return word.lower().rstrip(".") in ABBREVIATIONS

_CLOSING = "\"'”’)]"
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_DOTTED = re.compile(r"[a-z]+(?:\.[a-z]+)+")
_OPENING = "\"'“‘([{"


class SentenceSplitter:
    """Feed text deltas with `feed`; each call returns the sentences completed so far."""

    def __init__(self, max_chars: int = 300) -> None:
        self.max_chars = max_chars
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        sentences: list[str] = []
        while True:
            cut = self._next_cut()
            if cut is None:
                cut = self._overflow_cut()
            if cut is None:
                return sentences
            sentence = self._buffer[:cut].strip()
            self._buffer = self._buffer[cut:].lstrip()
            if sentence:
                sentences.append(sentence)

    def flush(self) -> list[str]:
        """The text left over (a sentence without an end), and start afresh."""
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []

    @property
    def pending(self) -> str:
        """Text received but not yet returned as a sentence."""
        return self._buffer

    def _next_cut(self) -> int | None:
        buffer = self._buffer
        newline = buffer.find("\n")
        for match in _END.finditer(buffer):
            if 0 <= newline < match.start():
                break
            verdict = self._ends(buffer, match)
            if verdict is None:
                return None  # wait for the next word before deciding
            if verdict:
                return match.end()
        if newline >= 0:
            return newline + 1
        return None

    @staticmethod
    def _ends(buffer: str, match: re.Match[str]) -> bool | None:
        """Does this terminator end the sentence? None when the next word must be seen."""
        marks = match.group().rstrip(_CLOSING)
        if "!" in marks or "?" in marks:
            return True
        before = buffer[: match.start()]
        word = before.split()[-1] if before and not before[-1].isspace() else ""
        bare = word.lstrip(_OPENING).lower()
        if marks == ".":
            if bare in NEVER_ENDS:
                return False
            if len(bare) == 1 and bare.isalpha() and word[-1].isupper():
                return False  # an initial, as in "J. Smith"
            conditional = bare in MAYBE_ENDS or _DOTTED.fullmatch(bare) is not None
        else:
            conditional = True  # "..." or "…": a pause as often as an end
        if not conditional:
            return True
        following = buffer[match.end() :].lstrip().lstrip(_OPENING)
        if not following:
            return None
        return following[0].isupper()

    def _overflow_cut(self) -> int | None:
        buffer = self._buffer
        if len(buffer) <= self.max_chars:
            return None
        window = buffer[: self.max_chars]
        for separator in (", ", "; ", " - ", " "):
            at = window.rfind(separator)
            if at > self.max_chars // 3:
                return at + len(separator)
        return self.max_chars


def split_sentences(text: str) -> list[str]:
    """All sentences of a complete text."""
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()
