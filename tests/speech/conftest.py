"""Fixtures for the speech-helper tests: the real ElevenLabs adapter against its fake, so the
prompt cache and the fallback chain are exercised end to end (shared with tests/elevenlabs)."""

from tests.fakes.elevenlabs_fixtures import fake, make_tts

__all__ = ["fake", "make_tts"]
