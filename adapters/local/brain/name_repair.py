"""Recovering a misheard name: letters spelled out, and a correction of one part of it.

Speech-to-text often gets a name wrong ("Anna Lopes" for Ana Lopez); callers then spell it
("Lopez, L O P E Z") or correct one part ("no, the last name is Lopez").
  - `join_spelled(text)` turns a run of spelled capital letters ("L O P E Z", "L-O-P-E-Z",
    "L. O. P. E. Z.") into the word ("Lopez"); the word said just before it, when it is the
    same name heard, is dropped so it is not said twice ("Sean, S E A N, Murphy" -> "Sean
    Murphy").
  - `revise(old, new, text)` merges a one-word correction into the name already taken: the
    part named ("last name", "first name"), else the part it sounds most like ("Lopez" for
    "Lopes"); a full name, or a word like neither part, replaces it whole.
Pure functions over text (jellyfish for the sound and spelling similarity).
"""

from __future__ import annotations

import re

import jellyfish

#: Two or more single capital letters, separated by spaces, hyphens, dots or commas.
_SPELLED = re.compile(
    r"(?:\b(?P<said>[A-Za-z][a-z']+)(?P<sep>,?\s+))?"
    r"(?P<letters>\b[A-Z](?:(?:\.\s*|\s*-\s*|,?\s+)[A-Z]\b)+)\.?(?P<after>,?)"
)
_NOT_SPELLED = frozenset({"AM", "PM", "IA", "AI", "OK"})
_LAST = re.compile(r"\b(last|sur|family|second) ?name\b", re.IGNORECASE)
_FIRST = re.compile(r"\b(first|given) name\b", re.IGNORECASE)
#: Jaro-Winkler above which a one-word correction is taken for the part it resembles.
SIMILAR = 0.7
#: ... and above which the word said before a spelling is the same name heard ("Shawn", S E A N).
SAME_SPELLING = 0.75


def _same_name(said: str, spelled: str) -> bool:
    a, b = said.lower(), spelled.lower()
    return a == b or jellyfish.metaphone(a) == jellyfish.metaphone(b) or (
        jellyfish.jaro_winkler_similarity(a, b) >= SAME_SPELLING)


def join_spelled(text: str) -> str:
    """`text` with spelled-out letters joined into the word they spell."""

    def repl(m: re.Match[str]) -> str:
        letters = re.sub(r"[^A-Z]", "", m.group("letters"))
        if letters in _NOT_SPELLED:
            return m.group(0)
        word = letters.capitalize()
        said = m.group("said")
        if said and _same_name(said, word):
            return word
        lead = f"{said}{m.group('sep')}" if said else ""
        return f"{lead}{word}"

    return _SPELLED.sub(repl, text)


def revise(old: str | None, new: str, text: str) -> str:
    """The name after the caller's words `text` gave `new`, `old` being the name so far."""
    if not old or len(new.split()) != 1 or len(old.split()) < 2:
        return new
    parts = old.split()
    if _LAST.search(text):
        return " ".join([*parts[:-1], new])
    if _FIRST.search(text):
        return " ".join([new, *parts[1:]])
    scores = [jellyfish.jaro_winkler_similarity(p.lower(), new.lower()) for p in parts]
    best = max(range(len(parts)), key=lambda i: scores[i])
    if scores[best] < SIMILAR:
        return new
    parts[best] = new
    return " ".join(parts)
