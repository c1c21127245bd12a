"""The caller's words in one canonical written form, before any rule of the brain reads them.

Speech-to-text writes the same spoken words in several ways, and a rule written for one of
them misses the others ("my x-ray results" slipped past a rule for "x ray"). `canonical`
settles the forms once, at the brain's door:
  - a hyphen inside a lowercase compound is a space: "x-ray", "X-Ray", "check-up",
    "follow-up" -> "x ray", "check up", "follow up"; a hyphenated name keeps its hyphen
    ("Mary-Jane", "Smith-Jones"), and a prefix joins its word ("re-schedule" -> "reschedule");
  - "need to check up on Thursday" is how whisper writes "need a checkup on Thursday";
  - "on the tent" / "on the tense" is "on the tenth" (a date, the only one whisper writes so).
Everything else is left as it was heard: case, punctuation and digits matter to the parsers.
Pure functions; touch nothing.
"""

from __future__ import annotations

import re

#: A hyphen between two word parts, unless both are capitalised words (a double-barrelled
#: name). A single capital letter ("X-Ray") is not a name.
_HYPHEN = re.compile(r"\b([A-Za-z][a-z]*)-(?=([A-Za-z][a-z]*)\b)")
_TO_CHECK_UP = re.compile(
    r"\b(need|like|want|get|book|schedule|have|make)( to)? check ?up\b"
    r"(?=\s*(?:[.,?!]*$|(?:on|for|at|next|this) (?:the \d|\d|[a-z]+day\b|next\b|this\b|"
    r"morning|afternoon|evening)|tomorrow\b|today\b|next week\b))",
    re.IGNORECASE,
)
_TENTH = re.compile(r"\b(on|for) the (tent|tense|tenths?)\b", re.IGNORECASE)


#: Prefixes that join the word they are hyphenated to ("re-schedule" -> "reschedule").
_PREFIXES = frozenset({"re", "pre", "co", "non"})


def _unhyphen(match: re.Match[str]) -> str:
    left, right = match.group(1), match.group(2)
    if left.lower() in _PREFIXES:
        return left
    is_name = (len(left) > 1 and left[0].isupper() and len(right) > 1 and right[0].isupper()
               and not left.isupper())
    return f"{left}-" if is_name else f"{left} "


def canonical(text: str) -> str:
    """`text` with the written forms above settled; spacing collapsed."""
    text = _HYPHEN.sub(_unhyphen, text)
    text = _TO_CHECK_UP.sub(lambda m: f"{m.group(1)} a checkup", text)
    text = _TENTH.sub(lambda m: f"{m.group(1)} the tenth", text)
    return " ".join(text.split())
