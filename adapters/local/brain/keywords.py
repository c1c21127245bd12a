"""The keyword side of understanding the caller: the intent names, and the rules that catch
the obvious utterances before any embedding ("yes", "no thanks", "bye", "operator", "hello",
"that settles it", "No, I'll sort it out another time", "Actually, don't."), plus what a
yes or a no may carry ("Okay. But what does it cost?", "Yes please, bye.", "Just cancel
it."). `intents.IntentClassifier` runs `keyword_intent` first. Pure functions; touch nothing.
"""

from __future__ import annotations

import re

BOOK, CHECK, CANCEL, HUMAN = "book", "check", "cancel", "human"
GOODBYE, YES, NO, QUESTION = "goodbye", "yes", "no", "question"
#: Only from the keyword rules: a bare "thank you", a bare "hello".
THANKS, GREETING = "thanks", "greeting"

_WORDS = re.compile(r"[a-z0-9']+")
_BYE = re.compile(r"\b(bye|goodbye|bye-bye|byebye)\b")
#: Other ways of closing a call (at a confirmation, "Yes, see you then" is a yes first: see
#: `yes_then_soft_bye`).
_SOFT_BYE = re.compile(
    r"\b(take care|cheers|see (you|ya)|(talk|speak|catch) (to )?(you |ya )?later|thanks anyway|"
    r"thank you anyway|have a (good|nice|great|lovely) (one|day|night|evening|afternoon|weekend))"
    r"\b|"
    # "Cool beans. Later.": a bare "later" after an acknowledgement closes the call
    r"^((cool|cool beans|ok|okay|alright|all right|great|thanks|thank you|perfect|nice|awesome|"
    r"right|sweet) )+(later|laters)$"
)
_HUMAN = re.compile(
    r"\b(operator|human|real person|live person|receptionist|representative|front desk)\b"
    r"|\b(talk|speak|chat)\s+(to|with)\s+(a |an |the |your )?"
    r"(person|someone|somebody|human|staff|agent|receptionist|manager|people|team)\b"
    # a named dentist ("speak with Dr. Chen directly", "is Dr. Nair around?")
    r"|\b(talk|speak|chat|word)\s+(to|with)\s+(dr|doctor)\s+[a-z]+\b"
    r"|\bis (dr|doctor) [a-z]+ (around|in|there|free|available)\b.*\b(word|talk|speak)\b"
    r"|\b(talk|speak)\s+(to|with)\s+(whoever|anyone|anybody)\b"
    r"|\b(talk|speak)\s+(to|with)\s+(the|a|your)\s+(dentist|doctor|hygienist)\s+directly\b"
    # putting the call through: "get the manager on the line", "put me through to billing"
    r"|\b(get|put) (me )?(through|over) to\b|\bconnect me (to|with)\b"
    r"|\b(get|put) (the|a|your|someone|somebody|anyone|anybody)\b[\w' ]{0,30} on the (line|phone)\b"
)
_ALL_DONE = re.compile(
    r"^((no|nope|ok|okay|great|thanks|thank you|then|so|well|um|uh|i think|oh|good|oh good|"
    r"perfect|cool|alright|all right|excellent|lovely|wonderful|brilliant),? )*"
    r"(that's all|that is all|that's it|that is it|that's everything|nothing else|"
    r"i'm all set|i am all set|all set|i'm good|i'm done|that'll be all|that will be all|"
    # what the caller came for is answered: "that settles it", "that's what I needed"
    r"that settles it|that's settled|that answers (it|that|my question)|"
    r"that's (all |just |exactly )?what i (needed|wanted)( to know)?)"
    r"( for (now|today|me))?( thanks| thank you| then)*$"
)
_YES = re.compile(
    r"^(yes|yeah|yep|yup|ya|yes please|sure|correct|right|ok|okay|alright|all right|"
    r"uh huh|mm hm+|mhm|mm hmm|"
    r"please do|go ahead|absolutely|definitely|of course|that's right|that's correct|"
    r"sounds good|perfect|that works|exactly|great|fine|that's fine|do it|book it)\b"
)
_NO = re.compile(r"^(no|nope|nah|not really|not quite|no thanks|no thank you|negative|wrong)\b")
#: What may follow a "no" and only says no again ("no, actually, forget it").
_STILL_NO = re.compile(
    r"^((actually|thanks|thank you|sorry|wait|then),? )*(forget (about )?it|never ?mind|"
    r"don't bother|(i've |i have |i )?changed my mind|not (now|today|anymore)|leave it|"
    r"scratch that|i'll (call|think|pass)|i don't want (it|that|to))\b"
)
#: What may follow a "no" and puts the rest off ("No, I'll sort out a new date another
#: time."): no more for now, however long the sentence.
_PUT_OFF = re.compile(
    r"\b(another|some other|a different) (time|day)\b|"
    r"\bi'll (sort|figure|work|deal with|call|book|do|get|look|see|think|check)\b")
#: Taking back what was just asked for ("Wait, actually, don't.", "I'll just come."): a no
#: to the pending confirmation.
_TAKE_BACK = re.compile(
    r"\b(actually|wait|no|oh|hmm|on second thought),? (don't|do not)( do (it|that)| cancel"
    r"( it| that)?)?$|"
    r"\b(actually|wait|no|oh|hmm|on second thought),? (don't|do not)(?! (know|have|think|see|"
    r"need|want|remember|worry|understand|get|mind))\b|"
    r"\bi'll (just )?(come|come in|be there|show up|make it|keep (it|that|the appointment))\b|"
    r"\b(let's|i'd rather|i want to|i'll) keep (it|that|the appointment|my appointment)\b")
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|good (morning|afternoon|evening))( there)?( is anyone there| anyone)?$"
)
_THANKS = re.compile(
    r"^((ok|okay|great|perfect|got it|alright|all right|cool|awesome|lovely|nice|good|"
    r"wonderful|brilliant|super|right) )*"
    r"(thanks|thank you|(i )?(really |truly )?appreciate (it|that)|much appreciated|"
    r"(that's|that is) (much )?appreciated)"
    r"( so much| very much| a lot| kindly| a bunch| a ton| a million)?$")
_SHORT = 6

#: A question ("how much is whitening?") is not a request to book or cancel unless it says so.
QUESTION_SHAPED = re.compile(
    r"^(how|what|what's|when|where|who|why|which|is there|are there|are you|is it|do you|does)\b"
)

#: A day or a clock time: a question that names one is about a visit ("can she come Friday?").
SAYS_WHEN = re.compile(
    r"\b(today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"next week|this week|morning|afternoon|evening|(at|around) \d{1,2}|\d{1,2} ?(am|pm)|"
    r"\d{1,2}(st|nd|rd|th))\b"
)

def normalize(text: str) -> str:
    """Lowercase words joined by single spaces, typographic apostrophes made plain."""
    text = text.replace("\u2019", "'").lower()
    return " ".join(_WORDS.findall(text))


def keyword_intent(text: str) -> str | None:
    """The intent of an obvious utterance ("yes", "no thanks", "bye", "operator"), else None."""
    words = normalize(text)
    if not words:
        return None
    count = len(words.split())
    if _BYE.search(words) or _ALL_DONE.match(words):
        return GOODBYE
    if _SOFT_BYE.search(words):
        return GOODBYE
    if _HUMAN.search(words):
        return HUMAN
    if _THANKS.match(words):
        return THANKS
    if _GREETING.match(words):
        return GREETING
    if more_follows(text):
        return None  # "Okay. But can you ...?": the whole utterance decides, not its first word
    if count <= _SHORT and _YES.match(words):
        return YES
    if count <= _SHORT and _NO.match(words):
        return NO
    if _NO.match(words) and _PUT_OFF.search(_NO.sub("", words, count=1)) and not (
            SAYS_WHEN.search(words)):
        return NO  # "No, I'll sort out a new date another time. Thanks."
    if _TAKE_BACK.search(words) and not SAYS_WHEN.search(words):
        return NO  # "Hmm, wait. Actually, don't. I'll just come."
    return None


_LEAD = re.compile(
    r"^\W*(?:(?:ok|okay|alright|all right|right|sure|yes|yeah|no|nope|fair enough|got it|"
    r"thanks|thank you|great|fine|hmm|um|uh)\W+)+(?:(?:but|and|so|also|well|actually|first|"
    r"before that|one more thing)\W+)*", re.IGNORECASE)


def asked_part(text: str) -> str:
    """The question of a turn without the acknowledgement before it: "Okay, but first, do you
    take Humana?" -> "do you take Humana?" (unchanged when nothing is left)."""
    rest = _LEAD.sub("", text, count=1)
    return rest if len(rest.split()) >= 2 else text


_DO_IT = re.compile(
    r"^(?:(?:yes|yeah|yep|ok|okay|sure|right|just|please|then|go ahead and|you can|"
    r"i'd like you to|i want you to)\W+)*(?P<verb>cancel|move|reschedule|change|book) "
    r"(?:it|that|them|the appointment|the visit|my \w+)\b")


def says_do(text: str, *verbs: str) -> bool:
    """Whether `text` answers a confirmation by saying its action: "Just cancel it, please."
    to "Shall I cancel it?" (`verbs`: the action's verbs)."""
    found = _DO_IT.match(normalize(text))
    return bool(found and found.group("verb") in verbs)


def yes_then_soft_bye(text: str) -> bool:
    """"Perfect, see you then.": a yes, closed politely (no "bye"), so a confirmation's yes."""
    words = normalize(text)
    return bool(_YES.match(words) and _SOFT_BYE.search(words) and not _BYE.search(words))


def yes_then_bye(text: str) -> bool:
    """"Yes please, bye.": a yes first, then goodbye (at a confirmation: do it, then end)."""
    words = normalize(text)
    return bool(_YES.match(words) and _BYE.search(words))


def more_follows(text: str) -> bool:
    """A yes/no word followed by a question or a "but" ("Okay. But what does it cost?")."""
    words = normalize(text)
    if not (_YES.match(words) or _NO.match(words)):
        return False
    rest = _YES.sub("", words, count=1) if _YES.match(words) else _NO.sub("", words, count=1)
    rest = rest.strip()
    if _NO.match(words) and _STILL_NO.match(rest):
        return False  # "No, actually, forget it.": the rest says no again
    return bool(rest) and bool(
        re.match(r"(but|although|though|except|wait|actually|first|before)\b", rest)
        or QUESTION_SHAPED.match(rest)
        or (text.rstrip().endswith("?") and len(rest.split()) > 2)
    )
