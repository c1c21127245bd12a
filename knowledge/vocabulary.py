"""The business's own words, for priming speech-to-text: insurers, treatments, staff and
street names found in the knowledge base, plus the business name and the words every booking
needs (weekdays, "a.m."/"p.m."). whisper gets them as its `initial_prompt`, Deepgram as
`keyterm`s, so "Cigna" is not heard as "signature" nor "Thursday." as "First thing.".

`business_vocabulary(documents, business)` picks capitalised names (single words or runs such
as "Delta Dental", "Maple Avenue") and the entries' tags, most frequent first, bounded in
count and length. Pure functions; `load_vocabulary` reads only the knowledge file it is given.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from knowledge.documents import Document, load_documents
from knowledge.errors import DocumentError

log = logging.getLogger(__name__)

MAX_TERMS = 80
MAX_PROMPT_CHARS = 600  # whisper keeps ~224 prompt tokens; stay well inside
_NAME_RUN = re.compile(r"(?<![.!?:;] )(?<!^)\b[A-Z][a-zA-Z]+(?:[ -][A-Z][a-zA-Z]+)*\b")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_NOT_NAMES = frozenset(
    {
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday",
        "Friday", "Saturday", "Sunday", "Day", "Eve", "Time", "America", "Eastern", "Dr", "Mr",
        "Ms", "Mrs", "DMD", "DDS", "The", "We", "Our", "You", "If",
    }
)
#: Tags too general to help recognition ("hours", "where").
_PLAIN_TAGS = frozenset(
    {
        "hours", "schedule", "open", "closed", "weekend", "where", "location", "address",
        "directions", "contact", "phone", "email", "team", "staff", "doctors", "dentists",
        "safety", "policy", "forms", "documents", "first", "visit", "car", "family", "what",
        "we", "do", "services", "treatments",
    }
)


def _names(text: str) -> Iterable[str]:
    """Capitalised runs that do not start a sentence (so they are names), less months,
    weekdays and titles."""
    for match in _NAME_RUN.finditer(text):
        words = [w for w in re.split(r"[ -]", match.group(0)) if w not in _NOT_NAMES]
        if words:
            yield " ".join(words)


def business_vocabulary(
    documents: Iterable[Document], business: Mapping[str, Any] | None = None,
    *, max_terms: int = MAX_TERMS,
) -> list[str]:
    """The terms to prime speech-to-text with: the business name, the names in the entries
    (most frequent first), then the entries' specific tags."""
    docs = list(documents)
    names: Counter[str] = Counter(n for d in docs for n in _names(d.text))
    tags = [t for d in docs for t in d.tags
            if not set(t.casefold().split()) <= _PLAIN_TAGS and len(t) > 3]
    terms: list[str] = []
    seen: set[str] = set()
    business_name = str((business or {}).get("name") or "").strip()
    for term in [business_name, *(n for n, _ in names.most_common()), *tags]:
        key = term.casefold()
        if term and key not in seen and len(term) > 2:
            seen.add(key)
            terms.append(term)
    return terms[:max_terms]


def whisper_prompt(terms: Iterable[str]) -> str:
    """The weekdays and the terms as one comma-separated line, within `MAX_PROMPT_CHARS`.
    (No example sentence: with one ending "at 3:30 p.m." whisper dropped a caller's "3:30 PM"
    as already said; without the weekdays "Thursday." came out as "First day.".)"""
    prompt = ", ".join([*WEEKDAYS, *terms])
    if len(prompt) > MAX_PROMPT_CHARS:
        prompt = prompt[:MAX_PROMPT_CHARS].rsplit(", ", 1)[0]
    return f"{prompt}."


def load_vocabulary(source: str | Path, business: Mapping[str, Any] | None = None) -> list[str]:
    """`business_vocabulary` of the knowledge file at `source` ([] when it cannot be read:
    priming is a help, never a reason not to answer calls)."""
    try:
        documents = load_documents(source)
    except DocumentError as exc:
        log.warning("no speech-to-text vocabulary from %s: %s", source, exc)
        documents = []
    return business_vocabulary(documents, business)
