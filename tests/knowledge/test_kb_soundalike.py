"""Issue 15 (stop 10): sound-alike correction toward the business's own words. Sure cases
are corrected ("Signa" -> Cigna, "midlife" -> MetLife, "care credit" -> CareCredit);
everyday words that sound like a name ("near" and Nair, "chin" and Chen, "eating" and Aetna)
and spellings two terms fit are never touched. The local STT applies it to what whisper
writes once primed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.local.embeddings import tokenizer_words as everyday_words
from adapters.local.stt import LocalWhisperStt
from adapters.local.transcribe import Transcript
from adapters.local.vad import UtteranceEnded
from knowledge.soundalike import SoundalikeFixer
from knowledge.vocabulary import WEEKDAYS, load_vocabulary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fixer() -> SoundalikeFixer:
    terms = load_vocabulary(ROOT / "data" / "knowledge.json", {"name": "Bright Smile Dental"})
    return SoundalikeFixer([*WEEKDAYS, *terms], everyday_words())


@pytest.mark.parametrize(
    ("heard", "fixed"),
    [
        ("Do you take Signa?", "Do you take Cigna?"),
        ("Do you accept midlife?", "Do you accept MetLife?"),
        ("Can I use care credit?", "Can I use CareCredit?"),
        ("Do you take Mass Health?", "Do you take MassHealth?"),
        ("Do you take Humanna?", "Do you take Humana?"),
        ("Can I come in on Thirsday?", "Can I come in on Thursday?"),
    ],
)
def test_sure_soundalikes_become_the_business_words(fixer, heard: str, fixed: str) -> None:
    assert fixer.fix(heard) == fixed


@pytest.mark.parametrize(
    "heard",
    ["Is that near you?", "My chin hurts.", "Do you accept eating?", "Do you take Sigma?",
     "It's for Ana Lopez, 415 Maple Avenue.", "I'd like a cleaning at 3:30, please."],
)
def test_everyday_words_and_unsure_spellings_are_left_as_heard(fixer, heard: str) -> None:
    assert fixer.fix(heard) == heard


def test_everyday_words_come_from_the_tokenizer_vocabulary() -> None:
    common = everyday_words()
    assert {"near", "chin", "eating", "signal"} <= common
    assert "cigna" not in common and "metlife" not in common


def test_two_terms_that_fit_equally_leave_the_word_alone() -> None:
    fixer = SoundalikeFixer(["John", "Joan"], common=frozenset())
    assert fixer.fix("Ask for Jonn.") == "Ask for Jonn."
    assert SoundalikeFixer(["John"], common=frozenset()).fix("Ask for Jonn.") == "Ask for John."


def test_the_primed_local_stt_emits_the_corrected_text() -> None:
    stt = LocalWhisperStt()
    stt.prime(["Cigna", "MetLife"])
    emitted: list[tuple[str, dict]] = []

    async def run() -> None:
        session = stt.open("CA-fix", lambda name, **data: emitted.append((name, data)))
        future = asyncio.get_running_loop().create_future()
        future.set_result(Transcript("Do you take Signa?", 0.9))
        await session._deliver(future, None, UtteranceEnded(b"", 500), 0.0)
        await session.close()

    asyncio.run(run())
    assert emitted == [("caller.utterance",
                        {"text": "Do you take Cigna?", "confidence": 0.9, "ended_at": 0.0})]
    stt.prime([])
    assert stt.fixer is None and stt.prompt is None
