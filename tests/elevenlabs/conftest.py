"""Fixtures for the ElevenLabs adapter tests (shared with tests/speech)."""

from tests.fakes.elevenlabs_fixtures import fake, make_tts

__all__ = ["fake", "make_tts"]
