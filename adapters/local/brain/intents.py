"""What the caller wants: cheap keyword rules first, then the nearest example by embedding.

`IntentClassifier.classify(text)` returns an `IntentResult` (intent, score, source). Keyword
rules (`keywords.keyword_intent`) catch the obvious short answers ("yes", "bye", "operator");
everything else is embedded (the packaged MiniLM by default) and compared, by cosine
similarity, to the example phrases of `examples.INTENT_EXAMPLES`. Cue words ("cancel",
"how much") add a small bonus to their intent, a question ("how much is whitening?") is not
a booking unless it says so, and below `threshold` the intent is "question" (answered from
the knowledge base). Example vectors are computed once per process and model (thread-safe).
Touches only the embedder.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from adapters.local.brain.examples import INTENT_EXAMPLES
from adapters.local.brain.keywords import (
    BOOK,
    CANCEL,
    CHECK,
    HUMAN,
    QUESTION,
    QUESTION_SHAPED,
    SAYS_WHEN,
    keyword_intent,
    normalize,
)
from adapters.local.brain.slots import reason_in
from adapters.local.brain.when import parse_time
from adapters.local.embeddings import LocalMiniLMEmbedder
from knowledge.embeddings import Embedder

#: Cosine similarity to the nearest example under which the intent is "question".
#: Measured on tests/local_brain/test_intents.py's held-out phrasings (see that file).
DEFAULT_THRESHOLD = 0.45

#: Asking when the office can take someone: "when can you take me?", "could you see him
#: Friday?", "can you squeeze us in?" (a request for a visit, however it is asked).
_SEE_ME = (r"\b(when|can|could|how soon) (can |could |would |will )?(you|they|the dentist|"
           r"a dentist|someone|somebody) (take|see|fit|squeeze|get) (me|us|him|her|them|"
           r"my (son|daughter|kids?|child|children|husband|wife|partner|mom|dad|mother|father))\b")
#: Words that strongly suggest an intent; each adds `CUE_BONUS` to that intent's similarity.
#: MiniLM alone hears "check on my appointment" close to "make an appointment".
_CUES: dict[str, re.Pattern[str]] = {
    BOOK: re.compile(
        r"\b(book|schedule|make an appointment|set up|openings?|availability|fit me in|"
        r"come in|get (me )?in|be seen|see (a|the) dentist|have anything|any (slots?|times?)|"
        r"anything (open|available|free)|earliest)\b|" + _SEE_ME
    ),
    CHECK: re.compile(
        r"\b(check|confirm|look up)\b(?! ?up\b)|\b(when|what time|what day) is my\b|"
        r"\bmy (next|upcoming|coming) (appointment|visit|cleaning|checkup|check up|exam|booking)\b|"
        r"\bdo i have an? (appointment|visit)|\bam i (booked|scheduled)"
    ),
    CANCEL: re.compile(
        r"\bcancel\b|\bcall off\b|\b(can't|cannot|won't|can not) (make it|come|be able)|"
        r"\breschedul|\b(move|change) my (appointment|visit|cleaning|checkup)|"
        r"\b(not|never) (going to|gonna|be able to) (make|come)|\b(won't|can't|cannot) make\b|"
        r"\bunable to (come|make)|\btake me off\b|\bdrop my\b|"
        r"\b(push|move|bring|bump|slide|shift) (it|my \w+|the \w+|\w+'s \w+)\b[\w' ]{0,20}?"
        r"\b(back|up|earlier|later|forward)\b"
    ),
    QUESTION: re.compile(
        r"\b(how much|cost|costs|price|prices|fee|fees|charge|policy|penalty|insurance|"
        r"accept|hours|open|close|located|address|parking|email|delta|cigna|aetna|metlife|"
        r"guardian|humana|masshealth|ppo|hmo|how (early|long|often)|should i)\b|"
        r"^(do|does) (you|the office|your office) (take|accept|offer|do|see|speak|treat)\b"
    ),
}
CUE_BONUS = 0.15
#: Words that make a request about something other than a visit (jobs, records, bills).
_NOT_A_VISIT = re.compile(
    r"\b((?<!\bmy )(?<!\bour )(?<!\bhis )(?<!\bher )(?<!\btheir )jobs?|hiring|hire|career|careers|"
    r"position|positions|resume|internship|"
    r"x ?rays? (results?|showed|show)|results?|records?|chart|bill|bills|balance|invoice|"
    r"claim|claims|prescription)\b"
)
_APPOINTMENT_WORDS = re.compile(
    r"\b(appointment|appointments|visit|booking|booked|scheduled|cleaning|checkup|check up|"
    r"filling|consultation|when is my|coming up|time is my|day is my)\b"
)
#: A question about someone or something rather than a request ("Is she old enough to see a
#: dentist?", "does my son need ..."); "can I come in ...?" is a request, not one of these.
_ASKS_ABOUT = re.compile(
    r"^((is|are|does|do|can|could|will|would|should|was) (she|he|they|my|our|his|her|their|"
    r"kids|children|a|an|the|this|that)|how old|what age|at what age)\b"
)
#: Booking words that make a request out of a question ("do you have anything on Friday?");
#: "see a dentist", "come in" and "be seen" alone do not ("is she old enough to see a
#: dentist?").
_STRONG_BOOK = re.compile(
    r"\b(book|schedule|appointment|set up|openings?|availability|fit (me|him|her|us|them) in|"
    r"you have anything|have you got anything|any (slots?|times?)|"
    r"anything (open|available|free)|earliest|reserve)\b|" + _SEE_ME
)
#: The caller asking about their own bookings ("do I have anything booked?", "when am I
#: booked in?"): checking, however much it sounds like booking.
_OWN_BOOKING = re.compile(
    r"\b(do|did) i (have|got) (anything|something|any|an?|my)\b.*\b(booked|scheduled|"
    r"appointments?|visits?|coming up|on the books|in the (system|diary|calendar))\b|"
    r"\b(am i|i'm|i am) (already |still )?(booked|scheduled|down|in the (system|diary)|"
    r"on (your|the) (schedule|books|calendar|list|diary))\b|"
    r"\bwhen am i (booked|scheduled|due|in|coming)\b|"
    r"\b(what|which|how many) (appointments?|visits?|bookings?) (do|did) i have\b|"
    r"\bis my (\w+ )?(appointment|visit|cleaning|checkup|check up|exam|filling|booking) "
    r"(still )?(on|happening|booked|scheduled|confirmed|going ahead)\b|"
    r"\bhave i (got|booked) (anything|something|any|an?)\b|"
    r"\b(did|has|have) (my \w+|someone|somebody|anyone|you) (already |ever )?"
    r"(book|booked|schedule|scheduled|put) me\b"
)
#: Fear of the dentist: a caller who says it asks how the office helps, not for a visit.
_FEELING = re.compile(
    r"\b(terrified|scared|afraid|nervous|anxious|anxiety|panic|panicky|phobia|phobic|"
    r"frightened|petrified|freak out|freaks me out)\b")
#: "How late can I come in on Friday?": the opening hours, however like a booking it sounds.
_HOW_LATE = re.compile(r"^(how (late|early)|until what time|till what time)\b")
#: A person, or a way of reaching one: what an embedding "human" must have to be one
#: ("can I get a note for my employer?" sounds like "can I speak to the dentist?").
_REACH = re.compile(
    r"\b(speak|talk|chat|word|connect|transfer|put me through|line|phone|call|person|people|"
    r"human|someone|somebody|anyone|anybody|staff|team|receptionist|representative|manager|"
    r"operator|agent|front desk|dr|doctor|real|live|directly)\b")
#: Words of moving an appointment ("move tomorrow's appointment"): the cancel intent covers
#: rescheduling, and without one of these or a cancel cue it is not that.
_MOVE = re.compile(r"\b(move|moving|change|changing|push|switch|shift|bump|slide)\b")
_SENTENCES = re.compile(r"[.?!;]+\s*|,\s+")
#: An errand asked of the office ("call me a taxi after my appointment", "order me a pizza"):
#: a verb of fetching with a thing as its object. It is a booking, check or cancel only when
#: that thing is a visit ("book me a cleaning", "get me an appointment").
_ERRAND = re.compile(
    r"\b(call|get|order|book|find|send|arrange|fetch|buy|grab|reserve|bring)"
    r"(?: (?:me|us|him|her|them))?(?: (?:a|an|some)) (?P<thing>\w+(?: \w+)?)"
)
_VISIT_THING = re.compile(
    r"^(appointments?|visits?|slots?|times?|spots?|openings?|day|date|dentist|doctor|hygienist|"
    r"person|someone|somebody|human|message|reminder|text|call|callback|new|same|earlier|"
    r"later|different|quick|check|consultation|consult|exam|examination|treatment|procedure|"
    r"session|follow|second|first|morning|afternoon|evening|bit)$"
)


def errand(text: str) -> bool:
    """Whether `text` asks the office to fetch or arrange something that is not a visit."""
    for found in _ERRAND.finditer(normalize(text)):
        things = found.group("thing").split()  # the noun, or an adjective and the noun
        if not any(_VISIT_THING.match(t) or reason_in(t) for t in things):
            return True
    return False


@dataclass(frozen=True)
class IntentResult:
    """`source` is "keyword", "embedding" or "fallback" (below threshold)."""

    intent: str
    score: float
    source: str
    example: str = ""


def asks_to_book(text: str) -> bool:
    """Whether `text` says book/appointment/an opening, or names a day or a time: "my jaw is
    swollen" alone does not, "can I come in today?" does."""
    words = normalize(text)
    return bool(_STRONG_BOOK.search(words) or SAYS_WHEN.search(words))


#: "Is 6 in the evening on Tuesday doable?", "is Friday at 9 open for a checkup?": whether a
#: slot can be had.
_SLOT_WORDS = re.compile(r"\b(open|free|available|doable|possible|okay|ok|work|works|taken)\b")


def asks_for_slot(text: str) -> bool:
    """Whether `text` asks if a given time (with a visit reason or a booking word) can be
    booked, or names a visit, a day and a time without asking anything about them."""
    words = normalize(text)
    if parse_time(text) is None:
        return False
    if _SLOT_WORDS.search(words) and (reason_in(text) or _STRONG_BOOK.search(words)):
        return True
    # "I'm Sam Ode. Cleaning on Wednesday the 16th at 3 please.": a visit, a day and a time,
    # and nothing asked about them
    return bool(reason_in(text) and SAYS_WHEN.search(words)
                and not _CUES[QUESTION].search(words))


def asks_about(text: str) -> bool:
    """Whether a sentence or clause of `text` is a question about someone or something, not
    a request: "My daughter is two. Is she old enough to see a dentist?", "Do you see kids?",
    "She has a loose tooth, should she come in?"."""
    for sentence in _SENTENCES.split(text):
        words = normalize(sentence)
        if words and (QUESTION_SHAPED.match(words) or _ASKS_ABOUT.match(words)):
            return True
    return False


_cache: dict[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], tuple[list[str], list[str],
                                                                    np.ndarray]] = {}
_cache_lock = threading.Lock()


def _example_vectors(
    embedder: Embedder, examples: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[str], np.ndarray]:
    """(labels, phrases, matrix) for the examples, embedded once per process and model."""
    key = (embedder.name, tuple((k, tuple(v)) for k, v in examples.items()))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            labels = [label for label, phrases in examples.items() for _ in phrases]
            phrases = [p for ps in examples.values() for p in ps]
            matrix = np.asarray(embedder.embed(phrases), dtype=np.float32)
            cached = (labels, phrases, matrix)
            _cache[key] = cached
    return cached


class IntentClassifier:
    """Keyword rules, then nearest example by cosine similarity. Thread-safe."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        examples: Mapping[str, Sequence[str]] = INTENT_EXAMPLES,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.embedder = embedder or LocalMiniLMEmbedder()
        self.examples = examples
        self.threshold = threshold

    def warm_up(self) -> None:
        """Load the model and embed the examples now rather than on the first call."""
        _example_vectors(self.embedder, self.examples)

    def classify(self, text: str) -> IntentResult:
        """The caller's intent: keyword rules first, then the embedding."""
        rule = keyword_intent(text)
        if rule is not None:
            return IntentResult(rule, 1.0, "keyword")
        return self.nearest(text)

    def nearest(self, text: str) -> IntentResult:
        """The intent of the most similar example; "question" below the threshold."""
        if not normalize(text):
            return IntentResult(QUESTION, 0.0, "fallback")
        labels, phrases, matrix = _example_vectors(self.embedder, self.examples)
        vector = np.asarray(self.embedder.embed([text]), dtype=np.float32)[0]
        scores = matrix @ vector
        words = normalize(text)
        best_by_intent: dict[str, tuple[float, int]] = {}
        for i, (label, sim) in enumerate(zip(labels, scores.tolist(), strict=True)):
            if label not in best_by_intent or sim > best_by_intent[label][0]:
                best_by_intent[label] = (sim, i)
        ranked = sorted(
            ((sim + (CUE_BONUS if label in _CUES and _CUES[label].search(words) else 0.0),
              label, i) for label, (sim, i) in best_by_intent.items()),
            reverse=True,
        )
        score, label, index = ranked[0]
        asks = QUESTION_SHAPED.match(words)
        if label in (BOOK, CANCEL, CHECK) and asks and not _CUES[label].search(words):
            label = QUESTION  # "is there a charge if I miss an appointment?"
        if label == CANCEL and not (_CUES[CANCEL].search(words) or _MOVE.search(words)):
            label = QUESTION  # "Can I bring my two kids to the same appointment?"
        own = bool(_OWN_BOOKING.search(words))
        if own and (label == BOOK or (label in (CANCEL, QUESTION) and not (
                _CUES[CANCEL].search(words) or _MOVE.search(words)))):
            label = CHECK  # "do I have anything booked?", "am I on your schedule?": about the
            # caller's own bookings, unless they cancel or move one
        if label == BOOK and _HOW_LATE.match(words):
            label = QUESTION
        if label == BOOK and asks_about(text) and not asks_to_book(text):
            label = QUESTION  # "My daughter just turned two. Is she old enough to see one?"
        if label == BOOK and _FEELING.search(words) and not asks_to_book(text):
            label = QUESTION  # "I'm terrified of the dentist. Can you knock me out?": how
            # they help nervous patients, not a visit (unless a day or a booking is named)
        if label in (BOOK, CHECK, CANCEL) and errand(text):
            label = QUESTION  # "can you call me a taxi after my appointment?"
        if label == HUMAN and not _REACH.search(words):
            label = QUESTION  # "can I get a note for my employer?": nobody asked for
        if label == HUMAN and _CUES[QUESTION].search(words):
            label = QUESTION  # "do you take Humana?" sounds like "human"; asking for one is
            # caught by the keyword rules
        if label in (BOOK, CHECK, CANCEL, HUMAN) and _NOT_A_VISIT.search(words):
            label = QUESTION  # "any job openings?", "send my dental records to ..."
        if label == CHECK and not (own or _APPOINTMENT_WORDS.search(words)):
            label = QUESTION  # checking means checking an appointment
        if score < self.threshold and not (own and label in (BOOK, CHECK)):
            # (the caller's own bookings, "did my husband book me in?", are a check however
            # far the examples are)
            return IntentResult(QUESTION, score, "fallback", phrases[index])
        return IntentResult(label, score, "embedding", phrases[index])
