"""Reading the other booking details from a caller's words: the patient's name, the reason
for the visit, a phone number, and which of several offered options they picked.

Pure functions over text; the phone number is normalised with `tools.phone` (pure too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tools.phone import try_normalize_phone

#: Reason given to the booking tool -> how the confirmation says it.
REASONS: dict[str, str] = {
    "checkup": "a checkup",
    "cleaning": "a cleaning",
    "filling": "a filling",
    "whitening": "a whitening appointment",
    "emergency": "an emergency visit",
    "crown": "a crown appointment",
    "root canal": "a root canal",
    "extraction": "an extraction",
    "implant consultation": "an implant consultation",
    "invisalign consultation": "an Invisalign consultation",
    "children's checkup": "a children's checkup",
}
DEFAULT_REASON = "checkup"

# First match wins: an emergency outranks the treatment it mentions.
_REASON_WORDS: tuple[tuple[str, str], ...] = (
    ("emergency", r"emergenc|toothache|tooth ache|in pain|severe pain|hurts|swoll|swelling|"
                  r"broke|broken|cracked|chipped|knocked out|lost (a |my )?(filling|crown)|"
                  r"(filling|crown|tooth|cap) (has |just )?(fell|fallen|came|come|popped) "
                  r"(out|off|loose)|(filling|crown) (is |came |feels )?loose|bleeding|abscess|"
                  # signs of infection and bad pain: "pus near the tooth", "it's throbbing"
                  r"\bpus\b|infected|infection|\bach(e|es|ing)\b|throbb|killing me|agony|"
                  r"knock(ed|s)? (out )?(a|my|his|her|their|the|one|two)( \w+)? (tooth|teeth)|"
                  r"excruciating|unbearable|"
                  r"(tooth|teeth)\b[^.?!]{0,20}\b(came|come|fell|fallen|popped|got knocked) "
                  r"(clean |right |straight )?out"),
    ("root canal", r"root canal"),
    ("extraction", r"extract|pull(ed)? (a |my )?tooth|wisdom"),
    ("whitening", r"whiten"),
    ("invisalign consultation", r"invisalign|aligner|straighten"),
    ("implant consultation", r"implant"),
    ("crown", r"\bcrown|\bbridge"),
    ("filling", r"filling|cavity|cavities"),
    ("cleaning", r"clean|hygien|polish|scaling"),
    ("checkup", r"check ?up|check-up|exam\b|examination|routine"),
)

_NOT_NAME_WORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "to", "for", "of", "on", "in", "at", "by", "with",
        "from", "my", "your", "our", "his", "her", "their", "this", "that", "these", "those",
        "it", "its", "is", "are", "was", "be", "been", "am", "i", "i'm", "im", "me", "we",
        "you", "he", "she", "they", "what", "when", "where", "why", "how", "who", "which", "do",
        "does", "did", "can", "could", "would", "will", "shall", "should", "may", "might",
        "must", "have", "has", "had", "not", "no", "yes", "yeah", "yep", "sure", "okay", "ok",
        "please", "thanks", "thank", "hello", "hi", "hey", "calling", "looking", "wondering",
        "trying", "going", "just", "want", "wanted", "need", "needed", "like", "book",
        "booking", "appointment", "appointments", "visit", "cancel", "check", "time", "day",
        "date", "today", "tomorrow", "morning", "afternoon", "evening", "next", "week", "pm",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
        "february", "march", "april", "june", "july", "august", "september", "october",
        "november", "december", "cleaning", "checkup", "filling", "whitening", "emergency",
        "dentist", "doctor", "insurance", "sorry", "um", "uh", "well", "so", "also", "actually",
        "still", "here", "there", "fine", "good", "great", "free", "available", "new",
        "patient", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "first", "second", "last", "nope", "nah", "yup", "ya",
        "correct", "right", "alright", "perfect"
    }
)
#: Words that are also first names: names only when capitalised.
_NAMES_TOO = frozenset({"will", "may", "june", "april", "august", "grace", "hope", "joy"})
_NAME_INTRO = re.compile(
    r"\b(my name is|my name's|name is|the name is|name's|this is|it's|it is|i'm|i am|"
    r"under|put it under|for|(?:under |in )?(?:the |a )?name of)\s+(?:spelled\s+|spelt\s+)?"
    r"(?=(.+))",
    re.IGNORECASE,
)
_FILLERS = re.compile(
    r"^(?:(?:um|uh|yes|yeah|sure|okay|ok|so|well|hi|hello|oh|right|alright)[,.!]?\s+)+",
    re.IGNORECASE,
)
_CHOICES = (
    (r"\b(first|1st|earlier|earliest)\b", 0),
    (r"\b(second|2nd|middle)\b", 1),
    (r"\b(third|3rd)\b", 2),
    (r"\b(last|latest|later)\b", -1),
)


def emergency_words(text: str) -> str | None:
    """The words of `text` that make it an emergency ("tooth came clean out"), else None."""
    found = re.search(_REASON_WORDS[0][1], text.lower())
    return found.group(0) if found else None


def reason_in(text: str) -> str | None:
    """The visit reason `text` mentions (a key of `REASONS`), else None."""
    lowered = text.lower()
    for reason, pattern in _REASON_WORDS:
        if re.search(pattern, lowered):
            return reason
    return None


def say_reason(reason: str) -> str:
    """"cleaning" -> "a cleaning"; an unknown reason gets "a ... appointment"."""
    return REASONS.get(reason, f"an appointment for {reason}")


def _is_name_word(word: str) -> bool:
    if not re.fullmatch(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'\-]*", word):
        return False
    lowered = word.lower()
    if lowered in _NAMES_TOO:
        return word[0].isupper()  # "Will Smith", not "I will"
    return lowered not in _NOT_NAME_WORDS


def _tidy(words: Sequence[str]) -> str:
    return " ".join(w.capitalize() if w.islower() else w for w in words)


def _name_words(candidate: str, *, whole: bool, capitalized: bool) -> str | None:
    """Up to four name words from the start of `candidate`: all of it when `whole`,
    else the words before the first that cannot be a name; `capitalized` requires the
    first to start with a capital (speech-to-text capitalises names)."""
    candidate = re.split(r"[,.!?;]| and | please| thanks| thank you", candidate + " ")[0]
    words = candidate.split()
    if whole:
        ok = 1 <= len(words) <= 4 and all(_is_name_word(w) for w in words)
        return _tidy(words) if ok else None
    taken: list[str] = []
    for word in words[:4]:
        if not _is_name_word(word):
            break
        taken.append(word)
    if not taken or (capitalized and not taken[0][0].isupper()):
        return None
    return _tidy(taken)


def name_in(text: str, *, asked: bool = False) -> str | None:
    """The patient's name. Without `asked` it needs an introduction ("my name is Ana Lopez",
    "this is Ana", "for Ana Lopez"; all but "my name is" need a capitalised name); when the
    caller was just asked, a bare "Ana Lopez" counts too."""
    for match in _NAME_INTRO.finditer(text):
        intro = match.group(1).lower()
        # "name of" needs a capitalised name too ("the name of your hygienist" is none)
        strict = intro.endswith(" of") or not intro.startswith(("my name", "name", "the name"))
        name = _name_words(match.group(2), whole=False, capitalized=strict and not asked)
        if name is not None:
            return name
    if asked:
        return _name_words(_FILLERS.sub("", text.strip()).rstrip(".!"), whole=True,
                           capitalized=False)
    return None


#: A caller naming themselves before what they want: "Derek Lang here, ...", "Rita Gomez
#: calling", "Priya Shah speaking".
_NAME_FIRST = re.compile(r"(?:^|[,.!?;]\s*)(?:hey|hi|hello|yes|oh)?[, ]*"
                         r"(?P<name>(?:[A-Z][\w'-]+ ){1,3})(?:here|calling|speaking)\b")


def name_aside(text: str) -> str | None:
    """A name said on its own next to another answer ("At three. Ana Lopez.", "Derek Lang
    here, ..."): a phrase of two to four capitalised name words (speech-to-text capitalises
    names)."""
    found = _NAME_FIRST.search(text)
    if found:
        name = _name_words(found.group("name").strip(), whole=True, capitalized=True)
        if name is not None:
            return name
    for phrase in re.split(r"[,.!?;]", text):
        phrase = re.sub(r"\b(please|thanks|thank you)\b", "", phrase, flags=re.IGNORECASE)
        words = _FILLERS.sub("", phrase.strip()).split()
        if 2 <= len(words) <= 4 and all(w[0].isupper() for w in words):
            name = _name_words(" ".join(words), whole=True, capitalized=True)
            if name is not None:
                return name
    return None


def phone_in(text: str) -> str | None:
    """A phone number said as digits ("555 123 4567", "(555) 123-4567"), as E.164."""
    digits = re.sub(r"(?<=\d)[\s\-.()]+(?=\d)", "", text)
    for match in re.finditer(r"\+?\d{10,15}", digits):
        number = try_normalize_phone(match.group(0))
        if number is not None:
            return number
    return None


def choice_in(text: str, count: int) -> int | None:
    """Which of `count` options the caller picked ("the first one", "the last"), else None."""
    lowered = text.lower()
    for pattern, index in _CHOICES:
        if re.search(pattern, lowered):
            position = index if index >= 0 else count - 1
            if 0 <= position < count:
                return position
    return None


def matching(options: Sequence[str], text: str) -> list[int]:
    """Indexes of the options whose words appear in `text` (e.g. "the cleaning")."""
    lowered = text.lower()
    return [i for i, option in enumerate(options) if option and option.lower() in lowered]
