"""The local models' onnxruntime sessions run with the settings of `adapters.local.runtime`:
one intra-op thread and no spinning (measured by bench/spin_bench.py: piper's own loader
took one spinning thread per core and used 2.4x the CPU per clause)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.local import models, runtime
from adapters.local.embeddings import _load_local_model
from adapters.local.turn.smart_turn import SmartTurn, TurnModelMissing


def _spinning(session: Any) -> list[str]:
    options = session.get_session_options()
    return [options.get_session_config_entry(entry) for entry in runtime.SPIN_ENTRIES]


def test_the_piper_session_has_one_thread_that_does_not_spin() -> None:
    options = models.piper_voice().session.get_session_options()
    assert options.intra_op_num_threads == models.PIPER_THREADS == 1
    assert _spinning(models.piper_voice().session) == ["0", "0"]


def test_the_piper_voice_still_speaks_with_its_own_config() -> None:
    voice = models.piper_voice()
    assert voice.config.sample_rate == 22050
    audio = [chunk.audio_int16_array for chunk in voice.synthesize("Hello there.")]
    assert sum(len(a) for a in audio) > 22050 // 4


def test_the_smart_turn_session_does_not_spin() -> None:
    try:
        model = SmartTurn()
    except TurnModelMissing:
        pytest.fail("the Smart Turn model is part of the offline install")
    assert model._session.get_session_options().intra_op_num_threads == 1
    assert _spinning(model._session) == ["0", "0"]


def test_the_embedding_session_does_not_spin() -> None:
    session = _load_local_model().session
    assert session.get_session_options().intra_op_num_threads == 1
    assert _spinning(session) == ["0", "0"]


def test_session_options_refuse_zero_threads() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        runtime.session_options(0)
