"""Splitting a document's text into chunks small enough to embed and to quote in a prompt.

Paragraphs are kept whole when they fit in `max_chars`; longer ones are split at sentence
ends (and over-long sentences at spaces). Consecutive pieces are packed greedily up to
`max_chars`, and each new chunk repeats the last sentence(s) of the previous one, up to
`overlap_chars`, so a fact cut at a boundary still has its context. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: ~150 MiniLM tokens: well inside its 256-token window, and a readable prompt excerpt.
DEFAULT_MAX_CHARS = 600
DEFAULT_OVERLAP_CHARS = 120

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class _Piece:
    text: str
    paragraph: int


def _split_long(text: str, max_chars: int) -> list[str]:
    """Split one over-long sentence at spaces (or hard cuts when there are none)."""
    parts: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > max_chars:
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:max_chars])
            word = word[max_chars:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > max_chars:
            parts.append(current)
            current = word
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, max_chars: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    paragraphs = [" ".join(p.split()) for p in _PARAGRAPH_BREAK.split(text)]
    for number, paragraph in enumerate(p for p in paragraphs if p):
        if len(paragraph) <= max_chars:
            pieces.append(_Piece(paragraph, number))
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            for part in _split_long(sentence, max_chars):
                pieces.append(_Piece(part, number))
    return pieces


def _join(pieces: list[_Piece]) -> str:
    out = ""
    for i, piece in enumerate(pieces):
        if i:
            out += " " if piece.paragraph == pieces[i - 1].paragraph else "\n\n"
        out += piece.text
    return out


def chunk_text(
    text: str, max_chars: int = DEFAULT_MAX_CHARS, overlap_chars: int = DEFAULT_OVERLAP_CHARS
) -> list[str]:
    """Chunks of `text`, each at most `max_chars` long (whitespace normalised)."""
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    overlap_chars = max(0, min(overlap_chars, max_chars // 2))
    chunks: list[list[_Piece]] = []
    current: list[_Piece] = []
    for piece in _pieces(text, max_chars):
        if current and len(_join([*current, piece])) > max_chars:
            chunks.append(current)
            overlap: list[_Piece] = []
            for previous in reversed(current):
                candidate = [previous, *overlap]
                if len(_join(candidate)) > overlap_chars:
                    break
                overlap = candidate
            current = overlap if len(_join([*overlap, piece])) <= max_chars else []
        current.append(piece)
    if current:
        chunks.append(current)
    return [_join(chunk) for chunk in chunks]
