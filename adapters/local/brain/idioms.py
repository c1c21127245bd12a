"""Callers' idioms restated in the plain words the brain's rules read, at the brain's door.

People ask for the same things in many verbs, and a rule written for one misses the rest.
`restate` rewrites a few families of them, in place, leaving everything else as heard:
  - closing and opening verbs for the office's hours: "what time do you finish up today?",
    "when do you guys wrap up?", "when do you lock up that day?" -> "... do you close ...";
    "how early do you start seeing
    patients?" -> "... do you open ...";
  - price verbs: "what does Invisalign run?", "what would an implant set me back?",
    "what's a crown going to run me?", "how much would a filling set me back?" -> "how much
    does ... cost?";
  - coverage of a person: "my daughter's on MassHealth, would that cover her?" -> "... do you
    accept that insurance for her?" ("would that work?" is not touched: it is about a time);
  - booking verbs: "put me down for", "pencil me in", "sign me up", "get me on the books"
    -> "book me";
  - cancelling verbs: "take it off the books", "call off / drop Thursday's cleaning", "I
    won't need my appointment anymore" -> "cancel ..."; moving ones: "could my cleaning be
    later?", "a different day for my filling" -> "move my ...";
  - presence for the hours: "is somebody in the office now?", "are you working Saturday?",
    "will you folks be working on the 1st?", "a night you're there into the evening",
    "what's the latest I could come by?" -> "are you open", "how late are you open";
  - "knock me out", "put her under" for treatment -> "sedate me", "sedate her";
  - a plan "you work with" is one "you accept"; "your lot" is the parking lot; "set something
    up", "got room for" -> "book an appointment"; "I said the 9th but I meant the 10th" ->
    "I meant the 10th".
Pure functions; touch nothing.
"""

from __future__ import annotations

import re

_WHO = r"(?P<who>you|you guys|you all|y'all|the office|the clinic|the practice|your office)"
_USUALLY = r"(?: usually| normally| generally| typically)?"
#: What may follow an hours verb: the end, a day, a time of day ("when do you finish my crown?"
#: is not about the hours).
_DAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun|week)(?:day|end)s?"
_THEN = (rf"(?=\W*$|\W+(?:on|at|in|by|tomorrow|today|tonight|this|next|every|each|during|over|"
         rf"most|weekdays?|weekends?|that (?:day|evening|night|afternoon)|{_DAYS})\b)")
_CLOSE = re.compile(
    rf"\b{_WHO}{_USUALLY} (?:finish|wrap|shut|lock|knock off|close|pack)(?: up| down| off)?"
    rf"(?: for the (?:day|night))?{_THEN}",
    re.IGNORECASE,
)
_OPEN = re.compile(
    rf"\b{_WHO}{_USUALLY} (?:start|begin|get started|get going|open up)"
    r"(?: (?:seeing|taking|booking) (?:patients|people|appointments))?"
    rf"(?: for the day)?{_THEN}",
    re.IGNORECASE,
)
_THING = r"(?P<thing>[a-z][\w' -]{0,40}?)"
_PRICE = re.compile(
    rf"\bwhat (?:does|do|would|will|might|did) {_THING} (?:usually |normally |typically )?"
    r"(?:run|set (?:me|us|you|one) back|go for|come (?:out )?to)(?: (?:me|us|you))?\b",
    re.IGNORECASE,
)
_PRICE_HOW_MUCH = re.compile(
    rf"\bhow much (?:does|do|would|will|might) {_THING} (?:usually |normally )?"
    r"(?:run|set (?:me|us|you|one) back)(?: (?:me|us|you))?\b",
    re.IGNORECASE,
)
_PRICE_GOING = re.compile(
    rf"\bwhat(?:'s| is| are) {_THING} (?:going to|gonna) (?:run|cost|set) (?:me|us|you)"
    r"(?: back)?\b",
    re.IGNORECASE,
)
_COVER = re.compile(
    r"\b(?:would|will|does|do|is|can) (?:that|it|this|they|that plan|my plan|my insurance|"
    r"the plan|that insurance) (?:cover|be covered for|be good for)"
    r"(?= (?:her|him|me|us|them|my (?:son|daughter|kids?|child|children|wife|husband|family|"
    r"partner|mom|dad|mother|father|boy|girl))\b)",
    re.IGNORECASE,
)
_BOOK = re.compile(
    r"\b(?:put|pencil|write|jot|sign|squeeze|slot) (?P<who>me|us|him|her|them|my \w+) "
    r"(?:down|in|up)(?P<for> for)?\b|"
    r"\bget (?P<who2>me|us|him|her|them) (?:on|onto) (?:the|your) (?:books|schedule|calendar|"
    r"list)\b",
    re.IGNORECASE,
)
_TAKE_OFF = re.compile(
    r"\b(?:take|strike|cross) (?P<what>it|that|this|me|my \w+|the \w+) off (?:the |your )?"
    r"(?:books|schedule|calendar|list|system|diary)\b|"
    r"\b(?:scrap|scratch|wipe|ditch) (?P<what2>my \w+|the appointment|that appointment)\b",
    re.IGNORECASE,
)
_DROP = re.compile(
    r"\b(?:drop|scrap|scratch|ditch|call off) (?P<what>(?:my|the|that|\w+'s) (?:\w+ )?"
    r"(?:appointment|visit|booking|cleaning|checkup|filling|exam|whitening))\b",
    re.IGNORECASE,
)
#: "Could my Thursday cleaning be later?", "I need a different day for my filling": a move.
_MOVE_MINE = re.compile(
    r"\b(?:could|can|would) my (?P<what>[\w' ]{0,30}?(?:appointment|visit|cleaning|checkup|"
    r"filling|exam)) be (?:moved |changed |made |pushed )?(?:to )?|"
    r"\b(?P<need>need|want|like|get) (?:a )?(?:different|another|new|other) (?:day|time|date|slot)"
    r" for my\b",
    re.IGNORECASE,
)
#: "I said the 9th but I meant the 10th": only what was meant.
_MEANT = re.compile(r"\bi (?:said|told you|gave you|put) [^.?!]{1,40}? but (?:i )?meant\b",
                    re.IGNORECASE)
#: Asking whether anyone is at the office ("will there be anyone in this afternoon?"), or
#: whether it works that day: the hours ("is there someone there who speaks Spanish?" is
#: about a person, not the hours).
_PRESENCE = re.compile(
    r"\b(?:is|will) (?:there )?(?:be )?(?:somebody|someone|anybody|anyone)(?:'s)? (?:be )?"
    r"(?:in the office|at the office|in|there|around|working)\b(?! who\b| that\b)|"
    r"\b(?:any chance )?(?:somebody|someone|anybody|anyone)(?:'s| is) (?:there|in|around)\b"
    r"(?! who\b| that\b)|"
    rf"\b(?:are|will) you(?: guys| folks| all)?(?: be)? (?:working|around|in|there)(?=\s+(?:on|"
    rf"this|next|today|tomorrow|tonight|at|{_DAYS})\b|\W*$)|"
    # "is there a weeknight you're there into the evening?"
    rf"\byou(?:'re| are)(?: guys| folks| all)? (?:there|in|around|working)(?=\s+(?:into|in the|"
    rf"late|until|till|on|this|next|today|tomorrow|tonight|{_DAYS})\b)",
    re.IGNORECASE,
)
_LATEST = re.compile(
    r"\bwhat(?:'s| is) the (?P<end>latest|earliest) (?:time )?(?:i|we) (?:can|could|might) "
    r"(?:come|swing|stop|drop|pop|get) (?:by|in|over)\b",
    re.IGNORECASE,
)
#: A plan "you work with" is one you accept; "your lot" is the parking lot.
_WORK_WITH = re.compile(
    r"\b(?:something|one|a plan|an insurance|a company|a provider) (?:that )?you"
    r"(?: folks| guys| all)? (?:work with|deal with|take|accept)\b|"
    r"\bdo you(?: folks| guys| all)? (?:work|deal) with\b",
    re.IGNORECASE,
)
_LOT = re.compile(r"\b(?P<the>the|your) lot\b", re.IGNORECASE)
_SET_UP = re.compile(
    r"\bset (?:something|a time|a visit|an appointment) up\b|\bset up (?:something|a time)\b",
    re.IGNORECASE,
)
_SET_ME_UP = re.compile(
    r"\bset (?P<who>me|us|him|her|them) up (?:with|for)\b|\b(?:got|have|any) room for\b",
    re.IGNORECASE,
)
_NO_LONGER_NEED = re.compile(
    r"\b(?:won't|will not|don't|do not|no longer|wouldn't) need (?P<what>(?:my|the|that|this) "
    r"(?:appointment|visit|booking|cleaning|checkup|filling|slot))\b",
    re.IGNORECASE,
)

#: Being put to sleep for treatment: "can you knock me out?", "put her under" -> "sedate".
_SEDATE = re.compile(r"\b(?:knock|put) (?P<who>me|us|him|her|them) (?:out|under|to sleep)\b",
                     re.IGNORECASE)


def _booked(match: re.Match[str]) -> str:
    who = match.group("who") or match.group("who2")
    return f"book {who}{' for' if match.group('for') else ''}"


def _priced(match: re.Match[str]) -> str:
    lead = "How" if match.group(0)[0].isupper() else "how"
    return f"{lead} much does {match.group('thing')} cost"


def restate(text: str) -> str:
    """`text` with the idioms above in plain words; the rest unchanged."""
    text = _CLOSE.sub(lambda m: f"{m.group('who')} close", text)
    text = _OPEN.sub(lambda m: f"{m.group('who')} open", text)
    text = _PRICE.sub(_priced, text)
    text = _PRICE_GOING.sub(_priced, text)
    text = _PRICE_HOW_MUCH.sub(_priced, text)
    text = _PRESENCE.sub(lambda m: "you're open" if m.group(0).lower().startswith("you")
                         else "are you open", text)
    text = _LATEST.sub(lambda m: "how late are you open" if m.group("end") == "latest"
                       else "how early are you open", text)
    text = _COVER.sub("do you accept that insurance for", text)
    text = _WORK_WITH.sub(lambda m: ("do you accept" if m.group(0).lower().startswith("do ")
                                     else "an insurance you accept"), text)
    text = _LOT.sub(lambda m: f"{m.group('the')} parking lot", text)
    text = _BOOK.sub(_booked, text)
    text = _SET_UP.sub("book an appointment", text)
    text = _SET_ME_UP.sub(lambda m: f"book {m.group('who')}" if m.group("who") else "book",
                          text)
    text = _TAKE_OFF.sub(lambda m: f"cancel {m.group('what') or m.group('what2')}", text)
    text = _DROP.sub(lambda m: f"cancel {m.group('what')}", text)
    text = _NO_LONGER_NEED.sub(lambda m: f"need to cancel {m.group('what')}", text)
    text = _MOVE_MINE.sub(lambda m: (f"{m.group('need')} to move my" if m.group("need")
                                     else f"could you move my {m.group('what')} to "), text)
    text = _MEANT.sub("I meant", text)
    text = _SEDATE.sub(lambda m: f"sedate {m.group('who')}", text)
    return " ".join(text.split())
