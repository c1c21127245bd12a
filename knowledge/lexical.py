"""Lexical matching for the hybrid knowledge search: crude stems, IDF weights per document,
and how much of a question's vocabulary a document covers. A few everyday words are mapped
to the knowledge base's own ("son" -> child, "scared" -> anxious, "cost" -> price, "inbox" ->
email, "Mandarin" -> a language), and a few spelled-out names to the initials the entries use
("health savings account" -> HSA). Everyday verbs, numbers and people ("take", "eleven",
"somebody") are function words here: they say nothing of a topic, so they neither match an
entry nor make a question look off-topic.

`LexicalIndex.from_rows(rows)` indexes the stored rows by document (title, tags and every
chunk's text together); `coverage(question, doc_id)` is the IDF-weighted share of the
question's content words that the document contains (0..1), `named(question)` the documents
the question names by a topic word only they have ("Aetna"), and `unknown(question)` lists
the question's content words that no document contains at all ("hiring", "airport"): a
question built around such a word is about something the knowledge base does not cover.
Pure functions and a small in-memory table; touches nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z0-9]+")
#: Function words and words every question about a business uses; they say nothing of topic.
STOPWORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "to", "for", "of", "on", "in", "at", "by", "with",
        "from", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did",
        "doing", "done", "can", "could", "would", "will", "shall", "should", "may", "might",
        "must", "have", "has", "had", "you", "your", "yours", "we", "our", "us", "i", "my", "me",
        "mine", "it", "its", "this", "that", "these", "those", "there", "here", "what", "when",
        "where", "how", "which", "who", "whom", "why", "much", "many", "any", "some", "anything",
        "something", "tell", "please", "know", "like", "want", "need", "get", "got", "go", "going",
        "come", "coming", "let", "lets", "make", "made", "give", "just", "also", "still", "really",
        "very", "okay", "ok", "so", "um", "uh", "well", "hi", "hello", "hey", "yes", "yeah", "no",
        "not", "if", "then", "than", "about", "into", "out", "up", "down", "over", "under",
        "again", "more", "most", "other", "such", "only", "own", "same", "too", "s", "t", "don",
        "doesn", "didn", "isn", "aren", "can't", "im", "i'm", "thats", "that's", "whats", "what's",
        "whos", "how's", "wheres", "where's", "guys", "someone", "anyone", "thing", "things",
        "kind", "sort", "way", "lot", "bit", "one", "ones", "time", "day", "days", "he", "him",
        "his", "she", "her", "they", "them", "their", "exactly", "somewhere", "anywhere", "leave",
        "dont", "wont", "cant", "happen", "happens", "during", "while",
        # people and numbers by their everyday words say nothing of a topic either
        "somebody", "anybody", "everybody", "everyone", "nobody", "yourself", "myself",
        "around", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "fifteen", "twenty", "thirty", "forty", "fifty",
        # and everyday verbs and time words, which any question may use
        "take", "takes", "taking", "keep", "keeps", "see", "wait", "set", "after",
        "today", "tonight", "husband", "wife", "partner", "mom", "dad", "mum", "mother",
        "father",
    }
)
#: Everyday words for what the knowledge base says in its own words (stem -> stem).
SYNONYMS = {
    "baby": "child", "son": "child", "daugh": "child", "kid": "child", "toddl": "child",
    "scare": "anxi", "scar": "anxi", "afrai": "anxi", "nervo": "anxi", "fear": "anxi",
    "cost": "price", "charg": "price", "fee": "price", "pay": "payme",
    "hurt": "pain", "ache": "pain", "chip": "broke", "docto": "denti", "dr": "denti",
    "locat": "addre", "open": "hour", "close": "hour", "zip": "addre", "postc": "addre",
    "swoll": "swell", "puffy": "swell", "pull": "extra", "norma": "routi", "regul": "routi",
    "usual": "routi", "lates": "late", "earli": "early", "terri": "anxi", "panic": "anxi",
    "clini": "offic", "morn": "hour", "paper": "docum", "relax": "anxi", "bill": "claim",
    "upsta": "eleva", "stair": "step", "trans": "inter",
    # the stem of an inflected form that lost its "e" ("priced") is the word's own
    "pric": "price",
    # a caller's everyday word for what an entry names in its own: a labrador for a service
    # animal, something urgent for an emergency, an intake sheet for a form, a plate for
    # dentures, a meal for eating, a font for large print, an inbox for email, a cross street
    # for a corner, a spot for a slot, a throb for pain, a filling that fell out for a lost
    # one, a needle for the anesthetic, pills for medicines, deaf for sign language
    "labra": "anima", "urgen": "emerg", "sheet": "docum", "intak": "form",
    "plate": "dentu", "meal": "eat", "food": "eat", "lunch": "eat", "font": "print",
    "bigge": "large", "inbox": "email", "cross": "corne", "spot": "slot", "throb": "pain",
    "sore": "pain", "fell": "lost", "fall": "lost", "needl": "anest",
    "injec": "anest", "pill": "medic", "meds": "medic", "presc": "medic", "deaf": "sign",
    # a language by name is a question about the languages spoken
    "manda": "langu", "canto": "langu", "chine": "langu", "frenc": "langu", "russi": "langu",
    "arabi": "langu", "korea": "langu", "vietn": "langu", "polis": "langu", "germa": "langu",
    "itali": "langu", "japan": "langu", "hindi": "langu", "creol": "langu", "tagal": "langu",
}
#: Spelled-out names of what the knowledge base calls by its initials.
_INITIALS = {"health savings account": "hsa", "flexible spending account": "fsa",
             # and a few phrases for the one word an entry uses (apostrophes already dropped)
             "cant hear": "deaf", "cannot hear": "deaf", "hard of hearing": "deaf",
             "guide dog": "service animal", "service dog": "service animal",
             "seeing eye dog": "service animal", "assistance dog": "service animal",
             "face covering": "mask", "face mask": "mask", "call off": "cancel",
             "invisible trays": "aligners", "clear trays": "aligners"}
_PHRASES = re.compile(r"\b(" + "|".join(_INITIALS) + r")s?\b")
_SUFFIXES = ("ings", "ing", "ied", "ed", "ly", "s")
#: A name: a capitalised word after a lower-case word or a list's comma ("with Cigna, Aetna").
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][A-Za-z]+")


def stem(word: str) -> str:
    """A crude stem: common suffixes off, then at most five letters ("cleanings" -> "clean",
    "prices" -> "price", "glasses" -> "glass", "chipped" -> "chip")."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    else:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
                word = word[: -len(suffix)]
                if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
                    word = word[:-1]  # "chipped" -> "chip"
                break
    return word[:5]


def content_stems(text: str) -> list[str]:
    """The stems of `text`'s content words, in order, duplicates kept (synonyms mapped)."""
    text = _PHRASES.sub(lambda m: _INITIALS[m.group(1)], text.lower().replace("'", ""))
    stems = [stem(w) for w in _WORD.findall(text)
             if w not in STOPWORDS and len(w) > 1]
    return [SYNONYMS.get(s, s) for s in stems]


@dataclass
class LexicalIndex:
    """Stems per document and their inverse document frequency."""

    docs: dict[str, set[str]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    topics: dict[str, set[str]] = field(default_factory=dict)  # stems of title and tags
    names: dict[str, set[str]] = field(default_factory=dict)  # stems of capitalised names

    @classmethod
    def from_texts(
        cls, texts: Mapping[str, Iterable[str]], topics: Mapping[str, str] | None = None
    ) -> LexicalIndex:
        """`texts`: doc id -> the texts of that document (title, tags, chunks); `topics`:
        doc id -> its title and tags, the words the entry declares itself to be about."""
        texts = {doc: list(parts) for doc, parts in texts.items()}
        docs = {doc: {s for t in parts for s in content_stems(t)} for doc, parts in texts.items()}
        named = {doc: set(content_stems(text)) for doc, text in (topics or {}).items()}
        names = {doc: {s for t in parts for s in content_stems(" ".join(_NAME.findall(t)))}
                 for doc, parts in texts.items()}
        n = max(1, len(docs))
        counts: dict[str, int] = {}
        for stems in docs.values():
            for s in stems:
                counts[s] = counts.get(s, 0) + 1
        idf = {s: math.log(1 + n / c) for s, c in counts.items()}
        return cls(docs, idf, named, names)

    @property
    def vocabulary(self) -> set[str]:
        return set(self.idf)

    def unknown(self, question: str) -> list[str]:
        """Content stems of `question` that appear in no document."""
        return [s for s in content_stems(question) if s not in self.idf]

    def coverage(self, question: str, doc_id: str) -> float:
        """IDF-weighted share of the question's content stems found in `doc_id` (a word no
        document has weighs as much as the rarest known one)."""
        return self._share(question, self.docs.get(doc_id, set()))

    def topic_share(self, question: str, doc_id: str) -> float:
        """The same share, of the question's stems among `doc_id`'s title and tags: "what
        floor are you on?" names a tag of the address entry, though the accessibility entry
        also mentions its "second floor"."""
        return self._share(question, self.topics.get(doc_id, set()))

    def named(self, question: str) -> set[str]:
        """The documents `question` names by a name among their tags (written with a capital
        inside a sentence or list) that no other document has: "we're covered by Aetna at
        my job": the insurance entry, however little else of the question it shares."""
        found = set()
        for s in set(content_stems(question)):
            having = [doc for doc, stems in self.docs.items() if s in stems]
            if (len(having) == 1 and s in self.topics.get(having[0], set())
                    and s in self.names.get(having[0], set())):
                found.add(having[0])
        return found

    def _share(self, question: str, have: set[str]) -> float:
        # summed in a fixed order: a set's order changes with each process's string hashing,
        # and a share of exactly 0.5 came out as 0.4999... in some runs (a flaky refusal)
        stems = sorted(set(content_stems(question)))
        rarest = max(self.idf.values(), default=1.0)
        total = sum(self.idf.get(s, rarest) for s in stems)
        if not total:
            return 0.0
        return sum(self.idf[s] for s in stems if s in have) / total
