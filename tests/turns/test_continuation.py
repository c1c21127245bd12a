"""`engine.turns.continuation`: when the caller's next words continue the turn before, and
the setting that bounds it (`turn.continue_ms`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.turns.continuation import MAX_JOINED, Continuation, own_words
from flows.errors import FlowInvalid
from flows.loader import load_flow
from flows.turns import TurnPolicy

POLICY = TurnPolicy()  # continue_ms 1000


def _answered(text: str = "Yes.", confidence: float | None = 0.64, heard: int = 3,
              truncated: bool = False) -> Continuation:
    rule = Continuation()
    rule.responded(text, confidence, heard, truncated)
    return rule


def _words(text: str = "please.", gap: object = 290, confidence: float = 0.44) -> dict:
    return {"text": text, "confidence": confidence, "gap_ms": gap}


def test_words_soon_after_with_nothing_heard_continue_the_turn() -> None:
    rule = _answered()
    data = _words()
    joined = rule.join(data, POLICY, heard=3)
    assert joined["text"] == "Yes. please." and joined["joins"] == "Yes."
    assert joined["confidence"] == 0.64  # the better of the two
    assert joined["gap_ms"] == 290 and "joins" not in data  # the event's own data is kept
    assert own_words(joined) == "please."


@pytest.mark.parametrize(("why", "rule", "data", "heard", "policy"), [
    ("a sentence was heard", _answered(), _words(), 4, POLICY),
    ("a longer silence", _answered(), _words(gap=1001), 3, POLICY),
    ("turned off", _answered(), _words(), 3, TurnPolicy(continue_ms=0)),
    ("the STT does not know the silence", _answered(), {"text": "please."}, 3, POLICY),
    ("not a number of ms", _answered(), _words(gap=True), 3, POLICY),
    ("no turn answered yet", Continuation(), _words(), 3, POLICY),
    ("a caller who never stopped was cut on purpose", _answered(truncated=True), _words(),
     3, POLICY),
    ("no words", _answered(), _words(text="  "), 3, POLICY),
    ("too long together", _answered("x" * MAX_JOINED), _words(), 3, POLICY),
])
def test_otherwise_the_words_are_a_turn_of_their_own(why: str, rule: Continuation,
                                                       data: dict, heard: int,
                                                       policy: TurnPolicy) -> None:
    assert rule.join(data, policy, heard) is data, why
    assert "joins" not in data


def test_a_tool_run_or_a_reply_to_something_else_ends_the_turn() -> None:
    rule = _answered()
    rule.forget()
    assert rule.join(_words(), POLICY, heard=3)["text"] == "please."


def test_a_replayed_joined_event_is_not_joined_again() -> None:
    rule = _answered("Yes. please.")
    replayed = {"text": "Yes. please.", "confidence": 0.64, "gap_ms": 290, "joins": "Yes."}
    assert rule.join(replayed, POLICY, heard=3) is replayed
    assert own_words(replayed) == "please."  # the record still keeps what was said


def test_a_third_piece_joins_the_joined_turn() -> None:
    rule = _answered()
    first = rule.join(_words(), POLICY, heard=3)
    rule.responded(first["text"], first["confidence"], 3)
    second = rule.join(_words("thank you.", gap=400, confidence=0.9), POLICY, heard=3)
    assert second["text"] == "Yes. please. thank you." and second["joins"] == "Yes. please."
    assert second["confidence"] == 0.9


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("1500", True), ("-1", False),
                                           ("6000", False), ("soon", False)])
def test_continue_ms_is_checked_with_its_line(tmp_path: Path, value: str, ok: bool) -> None:
    text = ("version: 1\nname: t\ninitial: a\nsettings:\n  turn:\n"
            f"    continue_ms: {value}\nstates:\n  a:\n    final: true\n")
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    if ok:
        assert load_flow(str(path)).settings.turn.continue_ms == int(value)
        return
    with pytest.raises(FlowInvalid) as caught:
        load_flow(str(path))
    (error,) = [e for e in caught.value.errors if "continue_ms" in e.message]
    assert error.line == 6 and "0 (off) to 5000" in error.fix


def test_the_stts_hearing_of_both_utterances_as_one_is_the_joined_turn() -> None:
    rule = _answered("Yes?", 0.46)
    data = {**_words("please.", confidence=0.47), "rejoined": "Yes, please.",
            "rejoined_confidence": 0.82}
    joined = rule.join(data, POLICY, heard=3)
    assert joined["text"] == "Yes, please." and joined["confidence"] == 0.82
    assert joined["joins"] == "Yes?" and own_words(joined) == "please."


def test_a_rejoined_hearing_is_not_used_for_a_turn_that_was_already_joined() -> None:
    rule = Continuation()  # the STT's hearing covers two utterances, the turn three
    rule.responded("I'd like Tuesday then", 0.7, 3, joined=True)
    data = {**_words("at 3."), "rejoined": "then, at 3.", "rejoined_confidence": 0.9}
    joined = rule.join(data, POLICY, heard=3)
    assert joined["text"] == "I'd like Tuesday then at 3." and own_words(joined) == "at 3."
    assert joined["confidence"] == 0.7


def test_a_rejoined_hearing_is_ignored_when_the_words_start_a_new_turn() -> None:
    data = {**_words(gap=1400), "rejoined": "Yes, please.", "rejoined_confidence": 0.82}
    assert _answered().join(data, POLICY, heard=3) is data
