"""Sound-alike correction of a transcript toward the business's own words.

Priming (`knowledge.vocabulary`) makes whisper write most of the business's names, but
tiny.en still writes some as other spellings of the same sounds: "Signa" for Cigna,
"midlife" for MetLife, "Mass Health" for MassHealth. `SoundalikeFixer(terms, common).fix(text)`
replaces a heard word, or two heard words, by a vocabulary term only when it is sure:
  - the heard word is NOT an everyday English word (it is not a whole word of the MiniLM
    tokenizer's 30k vocabulary, so "near", "chin", "eating" are never touched), is at least
    four letters long and not a term already;
  - it sounds exactly like the term (same Metaphone code) and is spelled close to it
    (Jaro-Winkler >= `MIN_SPELLING`), and no other term fits as well;
  - or two everyday words written together are a term ("care credit" -> CareCredit).
Anything else is left as heard: a wrong correction is worse than none.
Pure computation once built; the everyday-word list is handed in by the caller.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import jellyfish

log = logging.getLogger(__name__)

MIN_SPELLING = 0.75  # Jaro-Winkler between the heard word and the term, lowercase
MIN_LETTERS = 4
_TOKEN = re.compile(r"[A-Za-z][A-Za-z']*|[^A-Za-z]+")


def _code(text: str) -> str:
    return jellyfish.metaphone(re.sub(r"[^A-Za-z]", "", text))


class SoundalikeFixer:
    """Corrects transcripts toward `terms` (names such as "Cigna", "Delta Dental")."""

    def __init__(self, terms: Iterable[str], common: frozenset[str]) -> None:
        self.common = common  # everyday words, never corrected (the local STT passes the
        # MiniLM tokenizer's vocabulary: adapters.local.embeddings.tokenizer_words)
        words: dict[str, str] = {}
        for term in terms:
            for word in [term, *term.split()]:
                key = word.lower()
                if len(key) >= MIN_LETTERS and key.isalpha():
                    words.setdefault(key, word)
        self._terms = words  # lowercase -> as written
        self._by_code: dict[str, list[str]] = {}
        for key in words:
            self._by_code.setdefault(_code(key), []).append(key)
        #: "carecredit" -> "CareCredit": a term that two everyday words write together
        self._joined = {key: word for key, word in words.items()}

    def _replacement(self, heard: str) -> str | None:
        key = heard.lower()
        if len(key) < MIN_LETTERS or key in self.common or key in self._terms:
            return None
        scored = sorted(
            ((jellyfish.jaro_winkler_similarity(key, cand), cand)
             for cand in self._by_code.get(_code(key), ())),
            reverse=True,
        )
        if not scored or scored[0][0] < MIN_SPELLING:
            return None
        if len(scored) > 1 and scored[1][0] >= scored[0][0] - 0.05:
            return None  # two terms fit: not sure
        return self._terms[scored[0][1]]

    def fix(self, text: str) -> str:
        """`text` with the sure sound-alikes replaced; punctuation and spacing kept."""
        tokens = _TOKEN.findall(text)
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token[0].isalpha():
                if i + 2 < len(tokens) and tokens[i + 1] == " " and tokens[i + 2][0].isalpha():
                    joined = (token + tokens[i + 2]).lower()
                    if joined in self._joined:
                        out.append(self._joined[joined])
                        i += 3
                        continue
                better = self._replacement(token)
                if better is not None:
                    out.append(better)
                    i += 1
                    continue
            out.append(token)
            i += 1
        return "".join(out)
