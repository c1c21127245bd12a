"""Dates and times in a caller's words: "next Tuesday", "tomorrow at 3", "the 3rd at 5:30 in
the evening", "December 3rd", "12/3", "in two weeks", "Christmas Eve" (`named_days`), "half
past four", "noon".

Always resolved into the future from an injected `today`. dateparser reads the fragments it
handles reliably (month names, numeric dates, "in N days/weeks"); spoken weekdays, ordinals
and clock times are read here, because dateparser 1.5 gets them wrong on their own ("the
3rd" became March 30, "tomorrow at 3" kept the current time, "next tuesday at 10" failed).
Rules (said back to the caller in the confirmation, so a wrong guess is caught there):
  - a bare weekday is the next one after today; "this Friday" may be today;
    "next Tuesday" is the Tuesday of next week (weeks start on Monday);
  - a day of the month without a month is this month, or next month if it has passed;
  - an hour without am/pm is 8-11 in the morning and 12-7 in the afternoon or evening,
    unless "morning", "afternoon", "evening" or "tonight" says otherwise.
Pure functions; no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import dateparser

from adapters.local.brain.named_days import named_day

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_MONTH_RE = (
    r"(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NUMBERS = {
    **{w: i + 1 for i, w in enumerate(_UNITS)},
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty five": 45, "fourty five": 45, "a": 1, "an": 1,
}
_ORDINAL_UNITS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
)
_ORDINALS = {
    **{w: i + 1 for i, w in enumerate(_ORDINAL_UNITS)},
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
    **{f"twenty {w}": 21 + i for i, w in enumerate(_ORDINAL_UNITS)},
    "thirty first": 31,
}
_ORD_WORD_RE = re.compile(
    r"\b(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")\b"
)
_HOUR_WORD_RE = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"(?: (fifteen|thirty|forty five|fourty five|oh five|o five))?\b"
)
_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty five": 45, "fourty five": 45,
                 "oh five": 5, "o five": 5}

_PM_WORDS = re.compile(r"\b(afternoon|evening|tonight|night)\b")
_AM_WORDS = re.compile(r"\bmorning\b")
# Tried in order: an explicit am/pm, then a colon, "o'clock", "at 3", "3 in the evening".
_CLOCK_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))? ?(?P<ap>am|pm)\b",
        r"\b(?P<h>\d{1,2}):(?P<m>\d{2})\b",
        r"\b(?P<h>\d{1,2}) o ?'?clock\b",
        r"\b(?:at|around|round|about|by|make it|how about|what about|say|still) (?P<h>\d{1,2})"
        r"(?: (?P<m>\d{2}))?\b(?!/| ?(?:st|nd|rd|th)\b)",
        # "can we do 11?", "try 3 instead" ("do 2 fillings" is not a time)
        r"\b(?:do|try) (?P<h>\d{1,2})(?: (?P<m>\d{2}))?(?=\s*$| (?:instead|then|please|"
        r"on|in the|tomorrow|today|this|next)\b)",
        # "can we do 11 instead?", "11 works better": a bare hour said as a change of time
        r"\b(?P<h>\d{1,2})(?: (?P<m>\d{2}))? (?:instead|works better|would be better|"
        r"is better|would work better)\b",
        r"\b(?P<h>\d{1,2}) (?:in the (?:morning|afternoon|evening)|tonight|at night)\b",
        # "Thursday the 10th, maybe 4?", "ideally 10" (not "maybe 2 fillings")
        r"\b(?:maybe|perhaps|ideally|preferably|possibly) (?P<h>\d{1,2})(?::(?P<m>\d{2}))?"
        r"(?=\s*$| (?:or so|ish|then|instead|please|if|or|on|in the|tomorrow|today|this|next)\b)",
        # "later in the day, like 5?" (not "I'd like 2 fillings")
        r"\blike (?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?=\s*$| (?:or so|ish|then|instead|please)\b)",
    )
)
_DP_SETTINGS = {"PREFER_DATES_FROM": "future", "DATE_ORDER": "MDY",
                "RETURN_AS_TIMEZONE_AWARE": False}


#: What whisper sometimes writes for a weekday said alone ("Thursday instead" -> "thirsty").
_DAY_FIXES = {"thirsty": "thursday", "thursty": "thursday", "thurs day": "thursday",
              "wensday": "wednesday", "wednes day": "wednesday", "fry day": "friday",
              "satur day": "saturday", "choose day": "tuesday"}
_SOUNDALIKE_DAYS = re.compile(r"\b(" + "|".join(_DAY_FIXES) + r")\b")
#: Numbers whisper hears as words when a time is asked ("Free in the afternoon").
_NUMBER_SOUNDALIKES = re.compile(r"^(?:(?:at|around|about|um|uh) )?(free|tree|ate|won)\b")
_NUMBER_FIXES = {"free": "three", "tree": "three", "ate": "eight", "won": "one"}


@dataclass(frozen=True)
class When:
    """What an utterance says about an appointment's day and start time (None = not said)."""

    date: dt.date | None = None
    time: dt.time | None = None


def clean(text: str) -> str:
    """Lowercase, "a.m." -> "am", "3.30" -> "3:30", hyphens to spaces, punctuation dropped
    except ':' and '/'."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)
    text = re.sub(r"\b(\d{1,2})\.([0-5]\d)(?=\b|[ap]m\b)", r"\1:\2", text)
    text = _SOUNDALIKE_DAYS.sub(lambda m: _DAY_FIXES[m.group(0)], text)
    text = text.replace("-", " ")
    text = re.sub(r"[^a-z0-9:/' ]+", " ", text)
    return " ".join(text.split())


_ORDINAL_LEAD = re.compile(rf"\b(the|on|of|{_MONTH_RE}|" + "|".join(WEEKDAYS) + r") $")


def _ordinal_digits(text: str) -> str:
    """"the third" -> "the 3rd" (any suffix; only the number matters). An ordinal word is a
    day of the month only after "the", "on", "of", a month or a weekday: "first thing" and
    "first, ..." are not the 1st."""

    def repl(m: re.Match[str]) -> str:
        if not _ORDINAL_LEAD.search(text[: m.start()]) or text[m.end():].startswith(" thing"):
            return m.group(0)  # "Monday, first thing" is early Monday, not the 1st
        return f"{_ORDINALS[m.group(1)]}th"

    return _ORD_WORD_RE.sub(repl, text)


def _dateparser(fragment: str, today: dt.date) -> dt.date | None:
    base = dt.datetime.combine(today, dt.time(12, 0))
    parsed = dateparser.parse(
        fragment, languages=["en"], settings={**_DP_SETTINGS, "RELATIVE_BASE": base}
    )
    if parsed is None or parsed.date() < today:
        return None
    return parsed.date()


def _day_of_month(day: int, today: dt.date, *, weekday: int | None = None) -> dt.date | None:
    """The next `day` of a month from today on (this month, else the next that has it). With
    a `weekday` ("Monday the 4th"), the next such day that falls on it, within six months;
    when none does, the weekday is taken for a slip and the day of the month wins."""
    year, month = today.year, today.month
    first = None
    for _ in range(6 if weekday is not None else 3):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            if weekday is None or candidate.weekday() == weekday:
                return candidate
            first = first or candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return first


def _weekday(name: str, modifier: str, today: dt.date,
             week_of: dt.date | None = None) -> dt.date:
    target = WEEKDAYS.index(name)
    if week_of is not None and modifier in ("", "after", "before"):
        # a change of day ("Tuesday the 8th ... make it Wednesday instead"): the Wednesday
        # nearest the 8th, the 9th, if it has not passed; "the Monday after" (Christmas): the
        # first one after it
        after = week_of + dt.timedelta(days=(target - week_of.weekday()) % 7 or 7)
        before = after - dt.timedelta(days=7)
        if modifier == "after" or (modifier == "" and after - week_of <= week_of - before):
            return after
        if before > today:
            return before
        return after
    if modifier == "next":
        next_monday = today + dt.timedelta(days=7 - today.weekday())
        return next_monday + dt.timedelta(days=target)
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and modifier != "this":
        ahead = 7
    return today + dt.timedelta(days=ahead)


#: A day the caller rules out ("Thursday doesn't work for me anymore", "Friday's no good, how
#: about Monday?"): not the day they ask for.
_REJECTED_DAY = re.compile(
    r"\b(?:(?:this|next|on) )?(?:" + "|".join(WEEKDAYS)
    + r"|today|tomorrow|the \d{1,2}(?:st|nd|rd|th))"
    r"(?:'s|s| is)? (?=(?:doesn't|does not|won't|will not|isn't|is not|no longer|can't|"
    r"cannot|wouldn't|no good|not good|bad for me)\b)"
)


_WEEKDAY_ALT = "|".join(WEEKDAYS)
#: "Wednesday next week", "Wednesday of the following week", "the week after this one".
_NEXT_WEEK = re.compile(r"\b(next|following) week\b|\bweek after (this|this one)\b")
#: A weekday said with a day of the month: "Monday the 4th", "the 4th, a Monday".
_NAMED_WEEKDAY = re.compile(
    rf"\b(?P<a>{_WEEKDAY_ALT}) (?:the )?\d{{1,2}}(?:st|nd|rd|th)\b|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th),? (?:that's |which is |is |a |on )*(?:a )?(?P<b>{_WEEKDAY_ALT})\b"
)


#: A day counted from another: "a day later", "two days earlier", "the following day".
_SHIFT = re.compile(
    r"\b(?P<n>a|one|two|three|four|five|six|\d) (?:more )?days? (?P<dir>later|after|earlier|"
    r"before|sooner|on)\b(?! (?:tomorrow|that|this|the|christmas|thanksgiving))|"
    r"\bthe (?P<dir2>next|following|previous) day\b")


def _shifted(words: str, today: dt.date, week_of: dt.date | None) -> dt.date | None:
    """"Thursday, one day later" -> Friday; "a day later" alone counts from `week_of` (the
    day already chosen); None when `words` counts no day from another."""
    shift = _SHIFT.search(words)
    if shift is None:
        return None
    rest = f"{words[: shift.start()]} {words[shift.end():]}"
    base = parse_date(rest, today, week_of=week_of) or week_of
    if base is None:
        return None
    n = shift.group("n")
    days = (_NUMBERS.get(n) or int(n)) if n else 1
    back = (shift.group("dir") or shift.group("dir2")) in ("earlier", "before", "sooner",
                                                           "previous")
    day = base + dt.timedelta(days=-days if back else days)
    return day if day >= today else None


def parse_date(text: str, today: dt.date, *, week_of: dt.date | None = None) -> dt.date | None:
    """The day `text` names, on or after `today`; None when it names none. `week_of` is the
    day already chosen (or refused), when the caller is changing it: a bare weekday is then
    the one nearest it (if still to come), "the Monday after" the first one after it; "a
    day later" is the day after it (or after the day `text` names: "Thursday's, a day
    later")."""
    words = _REJECTED_DAY.sub(" ", _ordinal_digits(clean(text)))
    shifted = _shifted(words, today, week_of)
    if shifted is not None:
        return shifted
    month_day = re.search(rf"\b{_MONTH_RE} (the )?(\d{{1,2}})(st|nd|rd|th)?\b", words)
    day_month = re.search(rf"\b(the )?(\d{{1,2}})(st|nd|rd|th)? (of )?{_MONTH_RE}\b", words)
    if month_day:
        return _dateparser(f"{month_day.group(1)} {month_day.group(3)}", today)
    if day_month and (day_month.group(3) or day_month.group(4)):
        return _dateparser(f"{day_month.group(5)} {day_month.group(2)}", today)
    numeric = re.search(r"\b(\d{1,2}/\d{1,2}(/\d{2,4})?)\b", words)
    if numeric:
        return _dateparser(numeric.group(1), today)
    ordinal = re.search(r"\b(\d{1,2})(st|nd|rd|th)\b", words)
    if ordinal and 1 <= int(ordinal.group(1)) <= 31:
        named = _NAMED_WEEKDAY.search(words)
        if named:  # "Monday the 4th": the next 4th that is a Monday
            weekday = WEEKDAYS.index(named.group("a") or named.group("b"))
            return _day_of_month(int(ordinal.group(1)), today, weekday=weekday)
        return _day_of_month(int(ordinal.group(1)), today)
    holiday = named_day(clean(text), today)  # "Christmas Eve": after any explicit date
    if holiday is not None:
        return holiday
    if "day after tomorrow" in words:
        return today + dt.timedelta(days=2)
    if re.search(r"\btomorrow\b", words):
        return today + dt.timedelta(days=1)
    if re.search(r"\b(today|tonight|this (morning|afternoon|evening))\b", words):
        return today
    weekday = re.search(r"\b(?:(this|next|coming) )?(" + "|".join(WEEKDAYS) + r")s?\b"
                        r"(?: (?:right |just |straight )?(after|before)\b)?", words)
    if weekday:
        modifier = (weekday.group(1) or ("next" if _NEXT_WEEK.search(words) else "")
                    or (weekday.group(3) if week_of is not None else "") or "")
        return _weekday(weekday.group(2), modifier, today, week_of)
    relative = re.search(
        r"\bin (a|an|one|two|three|four|five|six|\d+) (days?|weeks?)\b", words
    )
    if relative:
        count = _NUMBERS.get(relative.group(1)) or int(relative.group(1))
        return _dateparser(f"in {count} {relative.group(2)}", today)
    return None


def _hour_words(text: str) -> str:
    """"five thirty" -> "5:30", "three" -> "3" (for reading clock times)."""

    def repl(m: re.Match[str]) -> str:
        hour = _NUMBERS[m.group(1)]
        return f"{hour}:{_MINUTE_WORDS[m.group(2)]:02d}" if m.group(2) else str(hour)

    return _HOUR_WORD_RE.sub(repl, text)


def _resolve(hour: int, minute: int, words: str, explicit: str | None) -> dt.time | None:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if hour > 12:
        return dt.time(hour, minute)
    if explicit == "am" or (explicit is None and _AM_WORDS.search(words)):
        return dt.time(0 if hour == 12 else hour, minute)
    if explicit == "pm" or (explicit is None and _PM_WORDS.search(words)):
        return dt.time(hour if hour == 12 else hour + 12, minute)
    if hour == 0:
        return None
    return dt.time(hour if hour >= 8 or hour == 12 else hour + 12, minute)


_AFTER_TIME = (r"(?=\s*$|\s+(?:please|then|if|or|on|in|tomorrow|today|this|next|works|"
               + "|".join(WEEKDAYS) + r")\b)")


def _run_together(words: str, bare: bool) -> str:
    """"330" -> "3:30", "1045" -> "10:45" (whisper writes "3:30" so), when a time was asked,
    after "around", before am/pm, or after "at" at the end of a phrase ("at 330 on Friday";
    "at 415 Maple Avenue" is an address)."""
    lead = r"(?P<lead>\b(?:round|around|about|at) )"
    pattern = rf"(?:{lead}|\b)(?P<h>\d{{1,2}})(?P<m>[0-5]\d)\b(?P<ap> ?[ap]m\b)?"

    def repl(m: re.Match[str]) -> str:
        hour, minute, lead = m.group("h"), m.group("m"), m.group("lead") or ""
        ends = re.match(_AFTER_TIME, words[m.end():]) is not None
        sure = bare or m.group("ap") or (lead and (lead.strip() != "at" or ends))
        if not sure or not 1 <= int(hour) <= 12:
            return m.group(0)
        return f"{lead}{hour}:{minute}{m.group('ap') or ''}"

    return re.sub(pattern, repl, words)


def parse_time(text: str, *, bare: bool = False) -> dt.time | None:
    """The clock time `text` names. A lone number ("3", "five") counts only when `bare`
    (the caller was just asked for a time); otherwise it needs "at", a colon, am/pm,
    "o'clock" or a part of the day. "3.30" and, in those places, "330" mean 3:30."""
    # ", like 9?" is "around 9" ("I'd like 2 fillings" is not a time)
    words = clean(re.sub(r",\s*like\s+(?=\d{1,2}\b)", ", around ", text))
    if bare:  # the caller was asked for a time: "free in the afternoon" is "three"
        words = _NUMBER_SOUNDALIKES.sub(
            lambda m: m.group(0).replace(m.group(1), _NUMBER_FIXES[m.group(1)]), words)
    words = _run_together(_hour_words(words), bare)
    if re.search(r"\b(noon|midday)\b", words):
        return dt.time(12, 0)
    half = re.search(r"\b(half past|quarter past|quarter to) (\d{1,2})\b", words)
    if half:
        hour = int(half.group(2))
        if half.group(1) == "quarter to":
            return _resolve(hour - 1 if hour > 1 else 12, 45, words, None)
        return _resolve(hour, 30 if half.group(1) == "half past" else 15, words, None)
    for pattern in _CLOCK_PATTERNS:
        found = pattern.search(words)
        if found:
            groups = found.groupdict()  # not every pattern has a minute or am/pm group
            hour, minute, marker = groups["h"], groups.get("m"), groups.get("ap")
            return _resolve(int(hour), int(minute or 0), words, marker)
    if bare:
        lone = re.fullmatch(
            r"(?:(?:um|uh|ah|oh|hmm|er|well|then|maybe|how about|what about|let's say|lets say|"
            r"say|at|around|about|like|ok|okay|yeah|fine|i guess|(?:early|late|mid) ?"
            r"(?:morning|afternoon|evening)|in the (?:morning|afternoon|evening)) )*"
            r"(\d{1,2})(?: (\d{2}))?(?: please| then| works| maybe| if possible)?"
            # "eight is good", "ten would be perfect for me", "9 suits me"
            r"(?: (?:is|would be|sounds|should be|will be|suits me|works for me)"
            r"(?: (?:good|fine|great|perfect|best|ideal|ok|okay|better))?(?: for me)?)?",
            words,
        )
        if lone:
            return _resolve(int(lone.group(1)), int(lone.group(2) or 0), words, None)
        clauses = re.split(r"[.,!?;]\s*", text)
        if len(clauses) > 1:  # "9 then. I'm Ben Ford.": the hour is a clause of its own
            for clause in clauses:
                found = parse_time(clause, bare=True) if clause.strip() else None
                if found is not None:
                    return found
    return None


def parse_when(text: str, today: dt.date, *, bare_time: bool = False,
               week_of: dt.date | None = None) -> When:
    """Both halves at once; see `parse_date` and `parse_time`."""
    return When(parse_date(text, today, week_of=week_of), parse_time(text, bare=bare_time))


def month_name(month: int) -> str:
    return _MONTHS[month - 1].capitalize()
