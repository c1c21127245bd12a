"""Does a (speculative) transcript read like a finished turn? Text rules, no model.

A turn is unfinished when it trails off on a word that needs more ("and", "to", "the",
"um"), ends in a spelled letter ("S, M, I"), or gives a number in groups that is still short
of a phone number ("my number is five five five"); also when it stops on a verb that has not
said what yet ("I'd like to book"), gives a single name that is often spelled or followed by
another next ("my last name is Smith"), or a date of birth without its year ("... March
3rd"). In a state that `expect`s digits or a name, any trailing digit group or letter is
unfinished too. Pure functions over text.
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
                "account")
PHONE_DIGITS = 10  # a North American phone number
DATE_DIGITS = 6  # a date said as digits: MM DD YY
_WORD = re.compile(r"[a-z0-9']+")
# "to <verb>" at the end has not said what: "I'd like to book... a cleaning"
_NEEDS_OBJECT = frozenset((
    "book", "schedule", "make", "get", "see", "change", "move", "ask", "know", "check",
    "find", "set", "bring", "pay", "order", "update", "add", "confirm", "request"))
# "I'd like to <one word>": whisper may mishear the verb ("vote" for "book"), not the frame
_WANTS = frozenset(("like", "want", "need", "wanna", "trying", "hoping", "going"))
_ONE_NAME = re.compile(r"\bname(?: is|'s) [a-z'-]+$")  # "my last name is smith"
_BIRTH_CUES = ("birth", "born", "birthday", "dob")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b|\bnineteen\b|\btwo thousand\b|\btwenty\b")


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
    if len(words) >= 2 and words[-2] == "to" and (
            words[-1] in _NEEDS_OBJECT or (len(words) >= 3 and words[-3] in _WANTS)):
        return f"'to {words[-1]}' without what"
    lower = stripped.lower()
    if _ONE_NAME.search(" ".join(words)):
        return "one name, more may follow"
    if any(cue in lower for cue in _BIRTH_CUES):
        return _birth_date_unfinished(lower, words)
    said = digits_said(stripped)
    cued = expect == "digits" or any(cue in lower for cue in _NUMBER_CUES)
    if cued and _trailing_digits(words) and 0 < said < PHONE_DIGITS:
        return f"{said} digits so far"
    return ""


def _birth_date_unfinished(lower: str, words: list[str]) -> str:
    """A date of birth is unfinished until its year: "March 3rd" waits, "March 3rd 1984"
    ends; said as digits, it needs six ("oh three one five eight four")."""
    if any(word in _MONTHS for word in words):
        return "" if _YEAR.search(lower) else "a date of birth without its year"
    said = digits_said(lower)
    if _trailing_digits(words) and 0 < said < DATE_DIGITS:
        return f"{said} digits of a date so far"
    return ""
