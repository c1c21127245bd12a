"""`Continuation`: one call's rule for a caller who goes on after their turn was ended.

An end of turn is a guess: "Yes," then a breath, then "please." may be cut into two
utterances, and the agent's reply to "Yes." is already on its way when "please." arrives —
it is cut off, and "please." alone, answered on its own, means nothing. So a caller who
speaks again within `turn.continue_ms` of silence (`gap_ms`, measured on the caller's
audio by the STT), while nothing of the reply to their last turn has been heard and no
tool has been run for it, has not started a new turn: they are continuing the last one.
`join` rewrites the new `caller.utterance` to carry both utterances' words (`text`), the
better of their confidences and `joins` (the earlier words); the machine handles it as any
utterance, and a `respond` answers the whole turn with `Turn.joins` set, so the brain
answers from where it stood before the earlier words (the reply to them is void).

When the STT heard the earlier utterance and this one again as one (`rejoined`, from the
audio of both: a lone "Yes," or "please." is heard far worse than "Yes, please."), that
hearing is the joined turn's `text` and confidence, and `own` keeps this utterance's words.

It only ever joins onto the last turn answered with `respond`, or onto words the flow did
not understand and answered with a reprompt not yet heard ("Yes?" at a low confidence,
then "please."), never across a tool run, a sentence heard, a truncated turn (a caller who
never stops is cut on purpose) or past `MAX_JOINED` characters. An event that already has
`joins` (a replay of the event log) is left as it is. Pure bookkeeping on the call's loop;
imports the flows/ turn policy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.turns import TurnPolicy

MAX_JOINED = 2000  # characters: a joined turn longer than this starts anew


@dataclass(frozen=True)
class _Answered:
    text: str  # the words the reply answers (maybe already joined)
    confidence: float | None
    heard: int  # sentences the caller had heard when the reply was asked for
    joined: bool  # the text is itself a joined turn (then no `rejoined` hearing fits it)


class Continuation:
    """What the last reply answered, and whether the caller's next words continue it."""

    def __init__(self) -> None:
        self._last: _Answered | None = None

    def responded(self, text: str, confidence: float | None, heard: int,
                  truncated: bool = False, joined: bool = False) -> None:
        """A reply to `text` (or a reprompt for it) was asked for, with `heard` sentences
        heard so far; `joined` when `text` is itself a joined turn."""
        self._last = None if truncated else _Answered(text, confidence, heard, joined)

    def forget(self) -> None:
        """A tool ran, or a reply to something other than the caller's words was asked for:
        what happened stands, the next words are a new turn."""
        self._last = None

    def join(self, data: dict[str, Any], policy: TurnPolicy, heard: int) -> dict[str, Any]:
        """`caller.utterance` data, joined to the last turn when the caller continued it
        (then with `joins`, the earlier words); `data` itself for a turn of its own."""
        last, gap = self._last, data.get("gap_ms")
        if ("joins" in data or last is None or policy.continue_ms <= 0
                or not isinstance(gap, int) or isinstance(gap, bool)
                or gap > policy.continue_ms or heard != last.heard):
            return data
        words = str(data.get("text") or "").strip()
        text = f"{last.text} {words}".strip()
        if not words or len(text) > MAX_JOINED:
            return data
        rejoined = str(data.get("rejoined") or "").strip()
        if rejoined and not last.joined and len(rejoined) <= MAX_JOINED:
            joined = {**data, "text": rejoined, "joins": last.text, "own": words}
            if data.get("rejoined_confidence") is not None:
                joined["confidence"] = float(data["rejoined_confidence"])
            return joined
        joined = {**data, "text": text, "joins": last.text}
        confidence = data.get("confidence")
        if last.confidence is not None and confidence is not None:
            joined["confidence"] = max(float(last.confidence), float(confidence))
        return joined


def own_words(data: dict[str, Any]) -> str:
    """What the caller said in this utterance (without the turn it continues)."""
    if "own" in data:
        return str(data["own"] or "")
    text, joins = str(data.get("text") or ""), str(data.get("joins") or "")
    if joins and text.startswith(joins):
        return text[len(joins):].strip()
    return text

