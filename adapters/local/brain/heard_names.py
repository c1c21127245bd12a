"""Repairing a caller's name that speech-to-text wrote as a near-sound non-name.

whisper tiny.en hears "Paula Moreno" as "Paula Morno": a word that is no one's name but
sounds like a common one. `repair(name)` replaces such a word by the common name it sounds
like, only when it is sure:
  - the word is not a name of the list (a name the caller gave is never changed: "Okafor",
    "Haddad" and "Nguyen" stay), nor an everyday word (a whole word of the MiniLM
    tokenizer's vocabulary, as for `knowledge.soundalike`: "Said" stays), has at least four
    letters, and
  - exactly one common name has the same Metaphone code and a Jaro-Winkler similarity of at
    least `MIN_SPELLING` (the runner-up clearly lower).
"Brainwash" for Brian Walsh and "More French" for Laura Finch are everyday words, or sound
unlike the name: they are not repaired (the caller hears them read back and can spell).
Anything else is left as heard: the name is read back before booking, so the caller can
still correct it, and a wrong repair would be worse than none. The names are the 5,000
commonest US surnames and the first names of the 1990 US Census (common_names.txt).
Pure functions over word lists read once (the names file, the tokenizer's vocabulary).
"""

from __future__ import annotations

import functools
from pathlib import Path

import jellyfish

MIN_SPELLING = 0.9
MIN_LETTERS = 4
_MARGIN = 0.03
_NAMES_FILE = Path(__file__).with_name("common_names.txt")


@functools.cache
def _names() -> tuple[frozenset[str], frozenset[str], dict[str, list[str]]]:
    """(surnames, first names, Metaphone code -> names)."""
    groups: dict[str, set[str]] = {"last": set(), "first": set()}
    group = "last"
    for line in _NAMES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            group = line.strip("[]")
            continue
        groups[group].add(line)
    by_code: dict[str, list[str]] = {}
    for name in groups["last"] | groups["first"]:
        by_code.setdefault(jellyfish.metaphone(name), []).append(name)
    return frozenset(groups["last"]), frozenset(groups["first"]), by_code


@functools.cache
def _everyday() -> frozenset[str]:
    from adapters.local.embeddings import tokenizer_words

    return tokenizer_words()


def _known(word: str) -> bool:
    last, first, _ = _names()
    return word in last or word in first or word in _everyday()


def _sounds_like(word: str, within: frozenset[str] | None = None) -> str | None:
    """The one common name `word` surely is a mishearing of, else None."""
    _, _, by_code = _names()
    scored = sorted(
        ((jellyfish.jaro_winkler_similarity(word, name), name)
         for name in by_code.get(jellyfish.metaphone(word), ())
         if within is None or name in within),
        reverse=True,
    )
    if not scored or scored[0][0] < MIN_SPELLING:
        return None
    if len(scored) > 1 and scored[1][0] > scored[0][0] - _MARGIN:
        return None
    return scored[0][1]


def repair(name: str) -> str:
    """`name` with the words that are surely misheard common names replaced."""
    words = name.split()
    out = []
    for word in words:
        key = word.lower()
        if len(key) < MIN_LETTERS or not key.isalpha() or _known(key):
            out.append(word)
            continue
        better = _sounds_like(key)
        out.append(better.capitalize() if better else word)
    return " ".join(out)
