"""Picking the knowledge-base hit that answers a question, and cutting it to a short spoken
answer.

`choose_hit` takes the retriever's hits (searched a little past its cut-off) and prefers,
among those nearly as near as the nearest, the one sharing the most words with the question
("when do you close on Friday?" is nearest to the holiday closures, by a hair, but only the
opening hours mention Friday). A hit just past the cut-off is kept only if it shares a word
with the question ("where are you located?" and the "Address and location" entry).

`unsure(hits)` is the refusal rule for a weak nearest hit (farther than `WEAK_DISTANCE`): it
is refused when it shares little of the question's vocabulary (`coverage` below
`MIN_COVERAGE`), or when it is not clearly nearer than the nearest other entry (by less than
`MIN_MARGIN`) and shares under `UNCLEAR_COVERAGE` of the question's words. The thresholds were
chosen on the `tune` split of tests/conversations/paraphrases.yaml (its unanswerable questions
against its answerable ones) and are reported on `heldout` by
`python -m bench.conversation_bench --retrieval`.

`spoken_answer(text, question)` keeps the first sentence of the entry (or, when another
sentence shares more words with the question, that one; when an age, a year or a duration is
asked, the sentence giving one that shares the most), plus one more
sentence that fits, within `max_chars` (about 15 seconds of speech). A sentence that is too
long on its own, like a list of opening hours or prices, keeps its lead-in and only the
items that share words with the question. Unspeakable asides such as "(Eastern Time,
America/New_York)" are dropped. Pure functions; touch nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from adapters.local.brain.answer_kind import holds_asked_fact, lacks_asked_fact
from adapters.local.brain.spoken import join, speakable
from engine.sentences import split_sentences
from knowledge.lexical import content_stems as lexical_stems
from knowledge.retrieval import Hit, Retriever

#: About 15 seconds of speech at ~15 characters a second.
MAX_ANSWER_CHARS = 230
#: Hits this much farther than the nearest still compete on shared words.
RERANK_MARGIN = 0.08
#: How far past the retriever's cut-off a hit sharing words with the question is kept.
RESCUE_MARGIN = 0.1
#: When half or more of a question's content words appear nowhere in the knowledge base
#: ("are you hiring?", "do you sell gift cards?") its nearest entry must be this near.
UNKNOWN_SHARE = 0.5
STRICT_DISTANCE = 0.45
#: The refusal rule of `unsure` (see the module docstring).
WEAK_DISTANCE = 0.42
MIN_COVERAGE = 0.2
MIN_MARGIN = 0.03
UNCLEAR_COVERAGE = 0.5
#: The refusal margin grows with the distance: a hit farther than FAR_DISTANCE needs half the
#: question's words, and a weak hit for a question with a word no entry has needs more than
#: UNKNOWN_COVERAGE of them (chosen on the tune split, like the rest).
FAR_DISTANCE = 0.55
FAR_COVERAGE = 0.5
UNKNOWN_COVERAGE = 0.25
#: Questions about the caller's own records (bills, results, their plan's deductible, their
#: last visit), which the knowledge base cannot hold.
_OWN_RECORDS = re.compile(
    r"\b(my|our) (own |dental |medical |patient |treatment |insurance )?(bill|balance|account|"
    r"chart|records?|results?|claims?|statement|invoice|file|payment history)\b|"
    r"\b(do|did|would) (i|we) (still )?owe\b|\bi (still )?owe\b|"
    r"\b(what|how much) (i|we) paid\b|\b(what|how much) (did|do) (i|we) (pay|owe)\b|"
    r"\b(my|the) (insurance )?claim (go|went)\b|"
    r"\bmy (insurance|plan|insurer) (already |actually )?(paid|covered|went through)\b|"
    r"\b(did|has|have) (my|our) (insurance|plan|insurer|insurance company) (already )?"
    r"(pay|paid|cover|covered)\b|"
    r"\b(anything|something|what's|what is|how much is) (still )?outstanding\b|"
    r"\bmy (last |latest |recent )?(x ?rays?|scans?|tests?) (results?|show|showed|said)\b|"
    r"\bmy (insurance |plan'?s? |dental )?(deductible|co-?pay|member (id|number)|policy number|"
    r"remaining benefits|benefits left)\b|"
    r"\bwhen (was|did i have) my (last|previous|most recent)\b",
    re.I,
)
#: Topics a clinic's knowledge base for callers does not cover, whatever it mentions: jobs,
#: what the staff earn and their private lives, the weather, selling or renting things (it
#: lists treatments, not a shop), and the opening hours of some other place ("what time does
#: the bank open?").
_NOT_COVERED = re.compile(
    # ("my job", "through her work": the caller's own employer, not a job asked about)
    r"\b((?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )jobs?|hiring|hire|careers?|"
    r"job openings?|employment|internships?|resume|weather|"
    r"forecast|sell|sells|selling|rent|renting|lease|salary|salaries|wages?|earns?|earnings|"
    r"how much (does|do|did) [a-z. ]{1,30} (make|earn|get paid)|"
    r"married|divorced|girlfriend|boyfriend|dating|"
    r"\b(i|to|me) work (for|at) (you|your))\b|"
    # other businesses compared ("who is the cheapest dentist in town?")
    r"\b(cheapest|best|top rated|most affordable|cheaper) [a-z]+( [a-z]+)? "
    r"(in|around|near) (town|here|the area|the city|me)\b|"
    r"\b(does|do|is|are) the (?!office\b|clinic\b|practice\b|front desk\b|reception\b|"
    r"dentists?\b|surgery\b)[a-z]+( [a-z]+)? (open|close|closed|shut)\b",
    re.I,
)
#: "Where exactly are you?": a question with no topic word but where, about the address.
_WHERE_ONLY = re.compile(r"^\s*where\b", re.I)
WHERE_QUERY = "where is the office, what is the address and location"
#: A question about what something costs ("how much is...", not "how much lighter").
_ASKS_PRICE = re.compile(
    r"\b(cost|costs|price|prices|pricing|charge|charges|fee|fees)\b|"
    r"\bhow much (is|are|does|do|would|will|for|to)\b", re.I,
)
#: A question asking which person does something ("who does the implants?"), not whom the
#: caller should call ("who do I call at night?").
_WHO_DOES = re.compile(r"^\s*who(?!\s+(do|should|can|could|would) (i|we)\b)\b", re.I)
_PERSON = re.compile(r"\bDr\. [A-Z]")
_PRICE_QUESTION = re.compile(r"\b(how much|cost|costs|price|prices|fee|fees|charge)\b", re.I)

_STOP = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "to", "for", "of", "on", "in", "at", "by", "with",
        "from", "is", "are", "was", "be", "do", "does", "did", "can", "could", "would", "will",
        "you", "your", "we", "our", "us", "i", "my", "me", "it", "its", "this", "that", "there",
        "what", "when", "where", "how", "which", "who", "why", "much", "many", "any", "have",
        "has", "about", "tell", "please", "know", "like", "want", "need", "get", "if"
    }
)
#: Words about a whole list rather than one item of it ("when do you *close* on Friday?").
_GENERIC = frozenset({"$", "open", "clos", "hour", "time", "day", "days", "pric", "cost"})
_MIN_LIST = 4  # items a sentence needs before it is cut down to the ones asked about
_ASIDE = re.compile(r"\s*\([^)]*[/_][^)]*\)")
#: Times outside office hours, as callers name them.
_OUT_OF_HOURS = frozenset({"night", "nights", "overnight", "tonight", "evening", "evenings",
                           "weekend", "weekends", "midnight"})


def _stems(text: str) -> set[str]:
    """Content words cut to four letters; "$" stands for prices (in a text or a question)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    stems = {w[:4] for w in words if w not in _STOP and len(w) > 1}
    if _OUT_OF_HOURS.intersection(words):
        stems.add("hour")  # "at night" is "outside office hours"
    if "$" in text or _PRICE_QUESTION.search(text):
        stems.add("$")
    return stems


def choose_hit(
    hits: Sequence[Hit], question: str, *, max_distance: float,
    margin: float = RERANK_MARGIN, rescue: float = RESCUE_MARGIN,
) -> Hit | None:
    """The hit to answer from, or None. `hits` are nearest first and may go up to
    `max_distance + rescue`."""
    if not hits:
        return None
    asked = _stems(question)

    def shared(hit: Hit) -> int:
        return _overlap(asked, f"{hit.title} {hit.text}")

    nearest = hits[0]
    if nearest.distance > max_distance:
        return nearest if nearest.distance <= max_distance + rescue and shared(nearest) else None
    close = [h for h in hits if h.distance <= min(nearest.distance + margin, max_distance)]
    if _WHO_DOES.match(question):
        # "Who does the root canals?": a person is asked for, so an entry naming one.
        close = [h for h in close if _PERSON.search(h.text)] or close
    return max(close, key=lambda h: (shared(h), -h.distance))


def unsure(hits: Sequence[Hit], *, unknown_words: bool = False) -> bool:
    """Whether the nearest of `hits` (nearest first) is too weak and unclear to answer from.
    `unknown_words`: the question has a content word no entry contains ("wifi", "ticket")."""
    if not hits or hits[0].distance <= WEAK_DISTANCE:
        return False
    top = hits[0]
    if top.coverage < MIN_COVERAGE:
        return True
    if top.distance > FAR_DISTANCE and top.coverage < FAR_COVERAGE:
        return True  # far, and half the question's words are not in it: "wifi in the waiting room"
    if unknown_words and top.coverage < UNKNOWN_COVERAGE:
        return True  # "pay a parking ticket": the entry has "parking", not what is asked of it
    runner = next((h for h in hits if h.doc_id != top.doc_id), None)
    return (runner is not None and runner.distance - top.distance < MIN_MARGIN
            and top.coverage < UNCLEAR_COVERAGE)


def about_own_records(question: str) -> bool:
    """"How much do I still owe?", "what's my balance?": only a person can answer."""
    return bool(_OWN_RECORDS.search(question))


def find_answer(retriever: Retriever, question: str) -> Hit | None:
    """The knowledge-base hit that answers `question`, or None when the knowledge base does
    not cover it (blocking: run it in a worker thread). Raises `KnowledgeError`.

    A near hit must also hold the kind of fact asked (`answer_kind`): "how old is Dr. Nair?"
    is near the team entry, which gives no age, so no entry answers it."""
    if about_own_records(question) or _NOT_COVERED.search(question):
        return None
    hit, hits = _nearest_answer(retriever, question)
    vocabulary = retriever.lexical.vocabulary
    if hit is None or not lacks_asked_fact(question, hit.text, vocabulary):
        return hit
    # another entry nearly as near that has the fact, else none
    limit = min(retriever.max_distance, hit.distance + RERANK_MARGIN)
    return next((h for h in hits if h.distance <= limit and h.doc_id != hit.doc_id
                 and not lacks_asked_fact(question, h.text, vocabulary)), None)


def _nearest_answer(retriever: Retriever, question: str) -> tuple[Hit | None, list[Hit]]:
    """The hit nearest in meaning and words (or None), and the hits it was chosen from."""
    limit = retriever.max_distance
    if not lexical_stems(question) and _WHERE_ONLY.match(question):
        question = WHERE_QUERY
    hits = retriever.search(question, max_distance=limit + RESCUE_MARGIN)
    lexical = retriever.lexical
    if hits and hits[0].doc_id in lexical.named(question):
        # "We're covered by Aetna at my job, are we fine?": the entry named by a word of its
        # own topic that no other entry has, whatever else the question says
        return hits[0], hits
    words = {s for s in lexical_stems(question)}
    unknown = set(lexical.unknown(question))
    if words and len(unknown) / len(words) >= UNKNOWN_SHARE:
        limit = min(limit, STRICT_DISTANCE)
        hits = [h for h in hits if h.distance <= limit]
        return (hits[0] if hits and not unsure(hits) else None), hits
    if unsure(hits, unknown_words=bool(unknown)):
        return None, hits
    hit = choose_hit(hits, question, max_distance=limit)
    if hit is not None and _ASKS_PRICE.search(question) and "$" not in hit.text:
        # "What do you charge for whitening?": the price list, not the treatment's entry.
        priced = [h for h in hits if "$" in h.text and h.distance <= limit + RERANK_MARGIN]
        if priced:
            return priced[0], hits
    return hit, hits


def _overlap(question: set[str], text: str) -> int:
    return len(question & _stems(text))


def _cut(text: str, max_chars: int) -> str:
    """At most `max_chars`, cut after a comma or word and closed with a period."""
    if len(text) <= max_chars:
        return text
    room = text[: max_chars - 1]
    comma = room.rfind(", ")
    room = room[:comma] if comma > max_chars // 2 else room.rsplit(" ", 1)[0]
    return room.rstrip(",;: ") + "."


def _split_outside_parentheses(text: str, separator: str) -> list[str]:
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(separator, i):
            items.append(text[start:i])
            start = i + len(separator)
    items.append(text[start:])
    return [i.strip().rstrip(".") for i in items if i.strip()]


def _list_items(text: str, separator: str) -> list[str]:
    """The items of "a, b, c and d" (the last "and" splits too) or of "a; b; c"."""
    items = _split_outside_parentheses(text, separator)
    if separator == ", " and items:
        items[-1:] = _split_outside_parentheses(items[-1], " and ")
    # "a, b, and c" (a serial comma): the last item is "c", not "and c".
    return [re.sub(r"^(and|or) ", "", item) for item in items]


def _most_specific(items: Sequence[str], question: set[str]) -> list[str]:
    """The items sharing the rarest question words (a word in few items counts more)."""
    stems = [question & _stems(item) for item in items]
    spread = {word: sum(word in shared for shared in stems) for word in question}
    scores = [sum(1 / spread[word] for word in shared) for shared in stems]
    best = max(scores, default=0)
    return [item for item, score in zip(items, scores, strict=True) if best and score == best]


def _focus(sentence: str, question: set[str], max_chars: int) -> str:
    """A "lead-in: item; item; item." list cut to the items the question asks about; any
    other sentence is only cut to `max_chars`."""
    head, colon, rest = sentence.partition(": ")
    if not colon:
        return _cut(sentence, max_chars)
    separator = "; " if "; " in rest else ", "
    items = _list_items(rest, separator)
    wanted = _most_specific(items, question - _GENERIC)
    if len(items) < _MIN_LIST or not wanted or len(wanted) > len(items) // 2:
        if len(sentence) <= max_chars:
            return sentence
        wanted = wanted or items
    chosen: list[str] = []
    for item in wanted:
        candidate = separator.join([*chosen, item])
        if len(head) + len(candidate) + 3 > max_chars and chosen:
            break
        chosen.append(item)
    body = join(chosen, "and") if separator == ", " else separator.join(chosen)
    return _cut(f"{head}: {body}.", max_chars)


def spoken_answer(
    text: str, question: str, *, max_chars: int = MAX_ANSWER_CHARS
) -> list[str]:
    """One or two sentences of `text` that answer `question`, within `max_chars` in all."""
    parts = [speakable(_ASIDE.sub("", s).replace(" & ", " and ")) for s in split_sentences(text)]
    if not parts:
        return []
    asked = _stems(question)
    scores = [_overlap(asked, s) for s in parts]
    # The first sentence leads unless another shares more of the question ("how much is the
    # garage?": the sentence with the garage's price, not the free lot's); when the question
    # asks for an age, a year or a duration, the sentences that give one come first ("how
    # long does an implant take?": "the bone needs three to six months to heal").
    holding = [i for i, s in enumerate(parts) if holds_asked_fact(question, s)]
    if holding:
        lead = max(holding, key=lambda i: (scores[i], -i))
    else:
        lead = 0 if scores[0] >= max(scores) else scores.index(max(scores))
    answer = {lead: _focus(parts[lead], asked, max_chars)}
    used = len(answer[lead])
    others = [i for i in range(len(parts)) if i != lead]
    matching = sorted((i for i in others if scores[i] > 0), key=lambda i: (-scores[i], i))
    whole = answer[lead] == parts[lead]
    extra: Sequence[int] = matching or ([1] if lead == 0 and whole and len(parts) > 1 else [])
    for i in extra:
        if used + 1 + len(parts[i]) <= max_chars:
            answer[i] = parts[i]
            break
    return [answer[i] for i in sorted(answer)]
