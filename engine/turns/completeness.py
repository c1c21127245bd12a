"""Does a (speculative) transcript read like a finished turn? Text rules, no model.

A turn is unfinished when it trails off on a word that needs more ("and", "to", "the",
"um"), ends in a spelled letter ("S, M, I"), or gives a number in groups that is still short
of a phone number ("my number is five five five"). In a state that `expect`s digits or a
name, any trailing digit group or letter is unfinished too. Pure functions over text.
"""

from __future__ import annotations

import re

# words after which a sentence cannot end
_TRAILING = frozenset((
    "and", "or", "but", "so", "because", "then", "with", "to", "for", "of", "from", "at",
    "in", "on", "by", "the", "a", "an", "my", "our", "your", "his", "her", "their", "its",
    "is", "are", "was", "were", "am", "be", "been", "i'd", "i'm", "i'll", "we'd", "um", "uh",
    "er", "erm", "hmm", "like", "if", "that", "which", "who", "whose", "when", "where",
    "about", "than", "as", "into", "onto", "plus", "also"))
_DIGITS = {"zero": 1, "oh": 1, "o": 1, "one": 1, "two": 1, "three": 1, "four": 1, "five": 1,
           "six": 1, "seven": 1, "eight": 1, "nine": 1, "double": 0, "triple": 0}
_NUMBER_CUES = ("number", "phone", "call me", "reach me", "digits", "zip", "code",
                "account", "date of birth", "birthday")
PHONE_DIGITS = 10  # a North American phone number
_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def digits_said(text: str) -> int:
    """How many digits the caller said, spoken ("five five five") or written ("555")."""
    count = 0
    for word in _words(text):
        if word.isdigit():
            count += len(word)
        else:
            count += _DIGITS.get(word, 0)
    return count


def _trailing_digits(words: list[str]) -> bool:
    return bool(words) and (words[-1].isdigit() or words[-1] in _DIGITS)


def _spelled(words: list[str]) -> bool:
    """Ends in two or more single letters said one by one ("S, M, I" or "s m i")."""
    run = 0
    for word in reversed(words):
        if len(word) != 1 or word.isdigit():
            break
        run += 1
    return run >= 2


def unfinished(text: str, expect: str = "") -> str:
    """Why `text` is not a finished turn ("" when it reads finished)."""
    stripped = text.strip()
    words = _words(stripped)
    if not words:
        return ""
    if stripped.endswith(("...", "…", ",", "-")):
        return "trails off"
    if words[-1] in _TRAILING:
        return f"ends on {words[-1]!r}"
    if _spelled(words) or (expect == "name" and len(words[-1]) == 1):
        return "spelling"
    lower = stripped.lower()
    said = digits_said(stripped)
    cued = expect == "digits" or any(cue in lower for cue in _NUMBER_CUES)
    if cued and _trailing_digits(words) and 0 < said < PHONE_DIGITS:
        return f"{said} digits so far"
    return ""
