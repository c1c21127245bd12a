"""Does a knowledge-base entry hold the kind of fact a question asks for?

Retrieval finds the entry a question is nearest to; that is not the same as an entry that
answers it. "How old is Dr. Nair?" is nearest to the team entry, which names Dr. Nair but
gives no age; "how many patients do you see a day?" is nearest to the new-patients entry,
which has numbers, but none counting patients. So besides being near, an answer must contain
a fact of the kind asked:

  - a price ("how much is...", "what do you charge"): a "$" amount or "free";
  - a count ("how many X"): a number in a sentence about X;
  - an age ("how old", "what age"): an age, a birthday or "ages" in a sentence;
  - a year ("what year", "since when"): a four-digit year in a sentence about the subject;
  - a duration ("how long"): an amount of minutes, hours, days, weeks, months or visits;
  - a fact about a named person ("is Dr. Alvarez certified?", "does Dr. Alvarez have kids?"):
    a sentence naming that person that shares another content word with the question;
  - a recommendation or an errand ("can you recommend a good pediatrician?", "call me a
    taxi"): the entry's text must name the thing recommended or fetched;
  - a discount for a group ("a military discount", "a cheaper rate for students"): a
    sentence with a discount ("15% off", "discount") that also names what the question
    qualifies it by;
  - a brand or maker ("what brand of implants"): the entry must name one ("brand", "made
    by");
  - a service asked by its verb ("do you validate parking?", "can you fax ..."): a verb the
    knowledge base never uses, and not one of the light verbs every request uses ("put",
    "swap", "fix"), is an action no entry describes.

`lacks_asked_fact(question, text, vocabulary)` is True when `text` cannot answer `question`
by that test (`vocabulary`: the stems of the whole knowledge base); `holds_asked_fact(question,
sentence)` says whether one sentence gives the age, year or duration asked. The rules were checked
on the `tune` split of tests/conversations/paraphrases.yaml. Pure functions; touch nothing.
"""

from __future__ import annotations

import re

from engine.sentences import split_sentences
from knowledge.lexical import content_stems

_NUMBER = (r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
           r"twenty|thirty|forty|fifty|sixty|ninety|hundred|several|few|couple|single|dozen)")
_PRICE_ASKED = re.compile(
    r"\b(cost|costs|price|prices|pricing|charge|charges|fee|fees|expensive|cheap|afford)\b|"
    r"\bhow much (is|are|does|do|would|will|for|to|it)\b", re.I)
_PRICE_FACT = re.compile(r"\$\d|\bfree\b|\bno (charge|cost|fee)\b", re.I)
_COUNT_ASKED = re.compile(r"\bhow many (?P<what>[a-z]+)|\bnumber of (?P<what2>[a-z]+)", re.I)
_COUNT_FACT = re.compile(rf"\b{_NUMBER}\b", re.I)
_AGE_ASKED = re.compile(r"\bhow old\b|\bwhat age\b|\bage of\b", re.I)
_AGE_FACT = re.compile(
    rf"\b{_NUMBER} (years?|months?)( old)?\b|\bages?\b|\bbirthday\b|\bunder \d+\b|\bborn\b",
    re.I)
_YEAR_ASKED = re.compile(r"\bwhat year\b|\bwhich year\b|\bsince when\b|\bin what year\b", re.I)
_YEAR_FACT = re.compile(r"\b(19|20)\d\d\b")
_DURATION_ASKED = re.compile(r"\bhow long\b", re.I)
_DURATION_FACT = re.compile(
    rf"\b{_NUMBER}(( to | or |-){_NUMBER})? (minutes?|hours?|days?|weeks?|months?|years?|"
    r"visits?|appointments?)\b|\bsame day\b|\bsingle visit\b|\bone visit\b", re.I)
_DISCOUNT_ASKED = re.compile(
    r"\bdiscounts?\b|\b(cheaper|reduced|special|lower|discounted) (rates?|prices?|fees?)\b",
    re.I)
_DISCOUNT_FACT = re.compile(r"\d+ ?% off\b|\bdiscount", re.I)
#: The discount words themselves: what is left of the question qualifies the discount.
_DISCOUNT_WORDS = frozenset(content_stems(
    "discount discounts cheaper reduced special lower discounted rate rates price prices fee "
    "fees offer give get"))
_BRAND_ASKED = re.compile(r"\b(what|which) (brand|make|manufacturer|maker)s?\b", re.I)
_BRAND_FACT = re.compile(r"\bbrands?\b|\bmade by\b|\bmanufactur", re.I)
_PERSON_ASKED = re.compile(r"\b(dr|doctor)\.? (?P<name>[a-z]+)\b", re.I)
_RECOMMEND = re.compile(
    r"\b(recommend|suggest|refer me to|know of)\b (a |an |any |some )?(good |nice |great )?"
    r"(?P<thing>[a-z]+)|"
    r"\b(call|order|get|book|find|arrange|fetch|buy|reserve)( me| us)? (a|an|some) "
    r"(?P<fetched>[a-z]+)", re.I)
#: "Do you / can you <verb> ...": the action asked for.
_ACTION = re.compile(
    r"^(do|does|can|could|will|would) (you|the office|your office|they|anyone|someone) "
    r"(?P<verb>[a-z]+)\b", re.I)
#: Verbs any request may use whatever the service; they say nothing of what is asked.
_LIGHT_VERBS = frozenset(content_stems(
    "put swap fix help take give use see offer provide accept treat work handle deal send "
    "bring keep change replace check look find recommend suggest tell show let say speak "
    "call book schedule set arrange start stop allow mind charge pay cover"))
#: Words a question about a person uses that say nothing of what is asked.
_PERSON_WORDS = frozenset({"denti", "docto", "dr"})


def _sentences(text: str) -> list[str]:
    return [s for s in split_sentences(text) if s.strip()] or [text]


def _about(sentence: str, stems: set[str]) -> bool:
    return bool(stems & set(content_stems(sentence)))


#: Count nouns the entries say in other words ("how many appointments" -> "two visits").
_COUNTED_AS = {"appoi": "visit", "sessi": "visit", "trip": "visit"}


def _count_ok(question: str, text: str) -> bool:
    """A number counts the thing asked: it stands at most four words before it ("three
    registered dental hygienists", "two visits")."""
    found = _COUNT_ASKED.search(question)
    assert found is not None
    what = {_COUNTED_AS.get(s, s) for s in content_stems(found.group("what") or
                                                          found.group("what2") or "")}
    if what & _PERSON_WORDS and len(set(re.findall(r"\bDr\. [A-Z]\w+", text))) > 1:
        return True  # "how many dentists?": people are counted by naming them
    for sentence in _sentences(text):
        words = re.findall(r"[a-z0-9$]+", sentence.lower())
        for i, word in enumerate(words):
            if set(content_stems(word)) & what and any(
                    _COUNT_FACT.fullmatch(w) for w in words[max(0, i - 4):i]):
                return True
    return False


def _person_ok(question: str, text: str, name: str) -> bool:
    """A sentence naming the person says something more the question asks about."""
    asked = set(content_stems(question)) - set(content_stems(name)) - _PERSON_WORDS
    naming = [s for s in _sentences(text) if re.search(rf"\b{re.escape(name)}\b", s, re.I)]
    if not naming:
        return True  # the person is not this entry's subject: nothing to check here
    return not asked or any(asked & set(content_stems(s)) for s in naming)


def asked_kinds(question: str) -> list[str]:
    """The kinds of fact `question` asks for (see the module docstring)."""
    kinds = []
    if _PRICE_ASKED.search(question):
        kinds.append("price")
    if _COUNT_ASKED.search(question):
        kinds.append("count")
    if _AGE_ASKED.search(question):
        kinds.append("age")
    if _YEAR_ASKED.search(question):
        kinds.append("year")
    if _DURATION_ASKED.search(question):
        kinds.append("duration")
    if _DISCOUNT_ASKED.search(question):
        kinds.append("discount")
    if _BRAND_ASKED.search(question):
        kinds.append("brand")
    return kinds


#: The kinds whose fact one sentence can be seen to hold, and the pattern of that fact.
_SENTENCE_FACTS = {"age": _AGE_FACT, "year": _YEAR_FACT, "duration": _DURATION_FACT}


def holds_asked_fact(question: str, sentence: str) -> bool:
    """Whether `sentence` gives an age, a year or a duration that `question` asks for ("how
    long does an implant take?": "the bone needs three to six months to heal")."""
    return any(kind in _SENTENCE_FACTS and _SENTENCE_FACTS[kind].search(sentence)
               for kind in asked_kinds(question))


def _discount_ok(question: str, text: str) -> bool:
    """A sentence with a discount names what the question qualifies it by ("military")."""
    qualifier = set(content_stems(question)) - _DISCOUNT_WORDS
    return any(_DISCOUNT_FACT.search(s) and (not qualifier or _about(s, qualifier))
               for s in _sentences(text))


def lacks_asked_fact(question: str, text: str, vocabulary: set[str] | None = None) -> bool:
    """Whether `text` (an entry) lacks the kind of fact `question` asks for. `vocabulary`:
    the stems of the whole knowledge base, for "recommend X" (None skips that test)."""
    for kind in asked_kinds(question):
        if kind == "price" and not _PRICE_FACT.search(text):
            return True
        if kind == "count" and not _count_ok(question, text):
            return True
        if kind == "age" and not any(_AGE_FACT.search(s) for s in _sentences(text)):
            return True
        if kind == "year":
            subject = set(content_stems(question)) - {"year", "since"}
            if not any(_YEAR_FACT.search(s) and _about(s, subject) for s in _sentences(text)):
                return True
        if kind == "duration" and not _DURATION_FACT.search(text):
            return True
        if kind == "discount" and not _discount_ok(question, text):
            return True
        if kind == "brand" and not _BRAND_FACT.search(text):
            return True
    person = _PERSON_ASKED.search(question)
    if person and not _person_ok(question, text, person.group("name")):
        return True
    wanted = _RECOMMEND.search(question)
    if wanted:
        thing = set(content_stems(wanted.group("thing") or wanted.group("fetched")))
        if thing and not thing & set(content_stems(text)):
            return True  # "recommend a good pediatrician", "call me a taxi": none named
    action = _ACTION.match(question.strip())
    if action and vocabulary is not None:
        verb = set(content_stems(action.group("verb")))
        if verb and not verb & (vocabulary | _LIGHT_VERBS):
            return True  # "do you validate parking?": no entry validates anything
    return False
