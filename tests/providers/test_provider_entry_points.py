"""A team's package adds a provider through the `dialflow.providers` entry-point group, and
flows.yaml names it like a built-in; every provider is made by the one convention,
`from_flow(settings, env, **extras)`. The package here is real: a module and its
`.dist-info` (with `entry_points.txt`) on sys.path, as pip would install it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.providers import (
    PROVIDERS,
    ProviderError,
    build,
    choose,
    load,
    provider_names,
)
from flows.model import Settings
from flows.sections import TtsSettings

PACKAGE = '''
class AcmeTts:
    """A text-to-speech provider from outside dialflow."""
    name = "acme"
    key_env = "ACME_TTS_KEY"

    def __init__(self, key, voice):
        self.key, self.voice = key, voice

    @classmethod
    def from_flow(cls, settings, env, **extras):
        return cls(env["ACME_TTS_KEY"], settings.tts.voice)

    async def synthesize(self, text, call_id="-"):
        yield b"\\xff" * 160

    async def warm(self):
        pass


class Constructorless:
    name = "odd"


class AcmeEmbedder:
    name = "acme:vectors"

    @classmethod
    def from_flow(cls, settings, env, **extras):
        made = cls()
        made.top_k = settings.knowledge["top_k"]
        return made
'''
ENTRY_POINTS = """\
[dialflow.providers]
tts.acme = acme_voice:AcmeTts
embeddings.acme = acme_voice:AcmeEmbedder
stt.odd = acme_voice:Constructorless
tts.local = acme_voice:AcmeTts
nonsense = acme_voice:AcmeTts
"""


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "acme_voice.py").write_text(PACKAGE)
    info = tmp_path / "acme_voice-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-voice\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("acme_voice", None)


def test_a_registered_provider_is_named_like_a_built_in(acme_installed: Path) -> None:
    assert "acme" in provider_names()["tts"] and "acme" not in PROVIDERS["tts"]
    choice = choose("tts", "Acme", {"ACME_TTS_KEY": "k"})
    assert choice.name == "acme" and not choice.builtin
    provider = build(choice, Settings(tts=TtsSettings(provider="acme", voice="v2")),
                     {"ACME_TTS_KEY": "k"})
    assert type(provider).__name__ == "AcmeTts" and (provider.key, provider.voice) == ("k", "v2")


def test_its_missing_key_is_named(acme_installed: Path) -> None:
    with pytest.raises(ProviderError, match=r"settings\.tts\.provider is acme, but ACME_TTS_KEY "
                                            "is not set"):
        choose("tts", "acme", {})


def test_auto_never_picks_a_registered_provider(acme_installed: Path) -> None:
    assert choose("tts", "auto", {"ACME_TTS_KEY": "k"}).name == "local"


def test_a_registration_cannot_replace_a_built_in_or_be_malformed(
        acme_installed: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dialflow.providers"):
        names = provider_names()
    assert choose("tts", "local", {}) == PROVIDERS["tts"]["local"]
    assert "nonsense" not in str(names)
    assert "would replace the built-in tts provider 'local'" in caplog.text
    assert "'nonsense'" in caplog.text


def test_a_provider_without_the_constructor_is_a_clear_error(acme_installed: Path) -> None:
    with pytest.raises(ProviderError, match="has no from_flow"):
        build(choose("stt", "odd", {}), Settings(), {})


def test_dialflow_check_accepts_the_registered_name(acme_installed: Path,
                                                   tmp_path: Path) -> None:
    from engine.app.commands.check import examine

    flow = (Path(__file__).parents[2] / "flows.yaml").read_text()
    default = "  tts:\n    provider: auto"
    assert default in flow
    named = flow.replace(default, "  tts:\n    provider: acme", 1)
    (tmp_path / "flows.yaml").write_text(named)
    _, findings, _ = examine(str(tmp_path / "flows.yaml"))
    assert not [f for f in findings if f.kind == "provider"]
    (tmp_path / "flows.yaml").write_text(named.replace("provider: acme", "provider: acne"))
    _, findings, _ = examine(str(tmp_path / "flows.yaml"))
    assert [f.message for f in findings if f.kind == "provider"] == [
        "unknown tts provider 'acne'"]


@pytest.mark.parametrize("slot", ["stt", "tts", "llm", "embeddings"])
def test_every_built_in_follows_the_constructor_convention(slot: str) -> None:
    for choice in PROVIDERS[slot].values():
        assert callable(getattr(load(choice), "from_flow", None)), choice.target


def test_the_embeddings_slot_is_chosen_like_the_others() -> None:
    assert choose("embeddings", "auto", {}).name == "local"
    assert choose("embeddings", "auto", {"OPENAI_API_KEY": "k"}).name == "openai"
    assert choose("embeddings", "auto", {"OPENAI_API_KEY": "  "}).name == "local"
    with pytest.raises(ProviderError, match=r"settings\.knowledge\.embeddings is openai, "
                                            "but OPENAI_API_KEY is not set"):
        choose("embeddings", "openai", {})


def test_a_registered_embedder_is_named_in_settings_knowledge(acme_installed: Path) -> None:
    from flows.settings_knowledge import validate_knowledge_settings
    from knowledge.embeddings import make_embedder

    assert validate_knowledge_settings({"embeddings": "acme"}) == []
    assert validate_knowledge_settings({"embeddings": "cohere"}) != []
    embedder = make_embedder({"embeddings": "acme", "top_k": 4}, env={})
    assert type(embedder).__name__ == "AcmeEmbedder" and embedder.top_k == 4

