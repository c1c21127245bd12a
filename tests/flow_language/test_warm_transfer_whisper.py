"""What the human hears before a warm transfer connects: the prompt, the reason and name
from call variables, the caller's latest words; bounded."""

from __future__ import annotations

from states.warm_transfer import MAX_WHISPER, whisper_text


def test_the_whisper_says_why_who_and_what_was_asked() -> None:
    text = whisper_text("A caller from Bright Smile Dental.",
                        {"transfer_reason": "billing question.", "caller_name": "Maria  Gomez",
                         "after_hours": False},
                        [("caller", "Hi."), ("agent", "Hello!"), ("caller", "About my bill"),
                         ("caller", "from March")])
    assert text == ("A caller from Bright Smile Dental. Reason: billing question. The caller's "
                    "name is Maria Gomez. They said: About my bill ... from March")


def test_the_whisper_without_facts_is_the_prompt_and_stays_short() -> None:
    assert whisper_text("Transfer.", {}, []) == "Transfer."
    long = whisper_text("Transfer.", {}, [("caller", "word " * 500)])
    assert len(long) == MAX_WHISPER and long.endswith("…")
