"""Issue 15: whisper is primed with the business's own words (knowledge.vocabulary), taken from
data/knowledge.json and settings.business, and hears them: insurers and treatments that the
bare model turned into everyday words ("MetLife" -> "midlife", "Invisalign" -> "invisible")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from local_speech_kit import speak

from adapters.local.stt import LocalWhisperStt
from adapters.local.transcribe import transcribe
from adapters.local.tts import LocalPiperTts
from knowledge.vocabulary import load_vocabulary, whisper_prompt

ROOT = Path(__file__).resolve().parents[2]
LINES = ("Do you accept MetLife or Aetna?", "I'd like an Invisalign consultation.",
         "Do you take MassHealth?")


def test_the_vocabulary_holds_the_business_names() -> None:
    terms = load_vocabulary(ROOT / "data" / "knowledge.json", {"name": "Bright Smile Dental"})
    assert terms[0] == "Bright Smile Dental"
    for name in ("Cigna", "MetLife", "Aetna", "Invisalign", "MassHealth", "Maple Avenue",
                 "Alvarez", "Oak Street"):
        assert name in terms, name
    assert "January" not in terms and "The" not in terms
    prompt = whisper_prompt(terms)
    assert prompt.startswith("Monday, Tuesday") and "Thursday" in prompt and len(prompt) < 700


def test_a_missing_knowledge_file_gives_no_vocabulary(tmp_path: Path) -> None:
    assert load_vocabulary(tmp_path / "nope.json", {"name": "Acme"}) == ["Acme"]


def test_primed_whisper_hears_the_business_names(warm_models: None) -> None:
    tts = LocalPiperTts(steady=True)
    stt = LocalWhisperStt()
    stt.prime(load_vocabulary(ROOT / "data" / "knowledge.json", {"name": "Bright Smile Dental"}))
    assert stt.prompt is not None
    for line in LINES:
        heard = transcribe(asyncio.run(speak(tts, line)), stt.prompt).text
        for name in ("MetLife", "Aetna", "Invisalign", "MassHealth"):
            if name in line:
                assert name in heard, (line, heard)
    stt.prime([])
    assert stt.prompt is None
