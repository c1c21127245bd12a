"""Splitting text to speak into sentences and clauses, so the first audio comes early.

Piper's time to first audio grows with the length of what it is given, so a reply is
synthesised piece by piece: a piece ends after `.`, `!`, `?`, `,`, `;` or `:` followed by
white space (so "3.5" and "1,000" stay whole), but not after a common abbreviation
("Dr.", "e.g.": the one list in `engine.sentences`). Each piece keeps its punctuation,
which gives piper the right intonation.
Pieces without a letter or digit are joined to the one before.

The first piece decides when the caller hears anything, so when it is longer than
`FIRST_PIECE_CHARS` (a knowledge answer's "Patients park for free in the lot behind the
Maple Medical Building;") it is cut once more, before a joining word ("and", "with", "in",
"that"...) after at least `MIN_LEAD_WORDS` words, and the lead ends with a comma so piper
gives it a continuing, not a final, intonation. No joining word in reach: left whole. Only
the first piece is cut; the rest is as it was. Pure string functions.
"""

from __future__ import annotations

import re

from engine.sentences import is_abbreviation

_BOUNDARY = re.compile(r"(?<=[.!?,;:])[\"')\]]*\s+")
_SPOKEN = re.compile(r"[^\W_]")
#: A first piece longer than this is cut at a phrase boundary (piper's CPU time to render a
#: piece grows with its length: bench/first_clause_bench.py).
FIRST_PIECE_CHARS = 40
MIN_LEAD_WORDS = 3
MIN_REST_WORDS = 2
#: Words a phrase starts with; the first piece is cut before one of them.
_JOINING = frozenset(
    {"and", "or", "but", "with", "without", "for", "at", "by", "in", "on", "to", "from",
     "which", "that", "who", "where", "when", "because", "so", "if", "before", "after",
     "than", "through", "behind", "near", "next", "until", "while", "during", "including",
     "whose", "we", "our", "your"}
)


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
    if pieces:
        pieces[:1] = _short_lead(pieces[0])
    return pieces


def _short_lead(piece: str) -> list[str]:
    """`piece` as a short lead and the rest, when it is long and has a phrase boundary."""
    if len(piece) <= FIRST_PIECE_CHARS:
        return [piece]
    words = piece.split(" ")
    for i in range(MIN_LEAD_WORDS, len(words) - MIN_REST_WORDS + 1):
        lead = " ".join(words[:i])
        if len(lead) > FIRST_PIECE_CHARS:
            break
        if words[i].lower() in _JOINING and lead[-1].isalnum():
            return [f"{lead},", " ".join(words[i:])]
    return [piece]


def _add(pieces: list[str], piece: str) -> None:
    piece = " ".join(piece.split())
    if not piece:
        return
    if pieces and not _SPOKEN.search(piece):
        pieces[-1] = f"{pieces[-1]} {piece}"
    else:
        pieces.append(piece)
