"""Splitting text to speak into sentences and clauses, so the first audio comes early.

Piper's time to first audio grows with the length of what it is given, so a reply is
synthesised piece by piece: a piece ends after `.`, `!`, `?`, `,`, `;` or `:` followed by
white space (so "3.5" and "1,000" stay whole), but not after a common abbreviation
("Dr.", "e.g.": the one list in `engine.sentences`). Each piece keeps its punctuation,
which gives piper the right intonation.
Pieces without a letter or digit are joined to the one before. Pure string functions.
"""

from __future__ import annotations

import re

from engine.sentences import is_abbreviation

_BOUNDARY = re.compile(r"(?<=[.!?,;:])[\"')\]]*\s+")
_SPOKEN = re.compile(r"[^\W_]")


def split_clauses(text: str) -> list[str]:
    """`text` -> the pieces to synthesise, in order, stripped and non-empty."""
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].strip()
        last_word = candidate.rsplit(None, 1)[-1] if candidate else ""
        if last_word.endswith(".") and is_abbreviation(last_word):
            continue
        _add(pieces, text[start : match.end()])
        start = match.end()
    _add(pieces, text[start:])
    return pieces


def _add(pieces: list[str], piece: str) -> None:
    piece = " ".join(piece.split())
    if not piece:
        return
    if pieces and not _SPOKEN.search(piece):
        pieces[-1] = f"{pieces[-1]} {piece}"
    else:
        pieces.append(piece)
