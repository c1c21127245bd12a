"""settings.turn, the barge-in keys and a state's `turn:` override: loaded, typed, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.turns.current import current_policy
from flows.errors import FlowInvalid
from flows.loader import load_flow
from flows.turns import TurnPolicy
from states.guards import long_enough
from states.registry import StepContext

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
version: 1
name: turns
initial: asking
settings:
  turn: {pause_ms: 240, max_wait_ms: 1500, model: off}
  barge_in: {min_speech_ms: 250, words_required: 0, resume_after_ms: 1200}
states:
  asking:
    turn: {expect: digits, max_wait_ms: 2500, min_speech_ms: 600}
    timeout: {after: 5s, event: timer.silence}
    on:
      caller.utterance: done
      caller.speech_started: {if: long_enough, to: done}
      timer.silence: done
  done:
    final: true
"""


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    return load_flow(str(path))


class _Call:
    def __init__(self, flow, state: str) -> None:  # type: ignore[no-untyped-def]
        self.flow, self.state = flow, state


def test_flow_defaults_and_a_state_override_make_the_policy(tmp_path: Path) -> None:
    flow = _load(tmp_path, FLOW)
    assert flow.settings.turn == TurnPolicy(pause_ms=240, max_wait_ms=1500, model="off",
                                            min_speech_ms=250, resume_after_ms=1200)
    asking = current_policy(_Call(flow, "asking"))
    assert (asking.expect, asking.max_wait_ms, asking.min_speech_ms) == ("digits", 2500, 600)
    assert asking.pause_ms == 240  # not overridden: the flow's
    assert current_policy(_Call(flow, "done")) == flow.settings.turn


def test_long_enough_reads_the_states_own_minimum(tmp_path: Path) -> None:
    flow = _load(tmp_path, FLOW)

    def ctx(ms: int) -> StepContext:
        return StepContext(flow, "asking", "caller.speech_started", {"duration_ms": ms}, {})

    assert not long_enough(ctx(400), None)  # above the flow's 250, below the state's 600
    assert long_enough(ctx(600), None)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("pause_ms: 240", "pause_ms: 5", "settings.turn.pause_ms is 5 (out of range)"),
    ("model: off", "model: llm", "settings.turn.model is 'llm'"),
    ("words_required: 0", "words_required: many", "settings.barge_in.words_required"),
    ("resume_after_ms: 1200", "resume_later_ms: 1200", "unknown setting "
     "'settings.barge_in.resume_later_ms'"),
    ("expect: digits", "expect: email", "states.asking.turn.expect is 'email'"),
    ("max_wait_ms: 2500", "max_wait_ms: 100, pause_ms: 400", "waits less than it pauses"),
    ("turn: {expect", "turns: {expect", "unknown key 'turns' in state 'asking'"),
])
def test_bad_turn_settings_name_the_line_and_the_fix(tmp_path: Path, old: str, new: str,
                                                     message: str) -> None:
    text = FLOW.replace(old, new, 1)
    with pytest.raises(FlowInvalid) as caught:
        _load(tmp_path, text)
    errors = caught.value.errors
    hit = [e for e in errors if message in e.message]
    assert hit, [e.message for e in errors]
    line = next(n for n, row in enumerate(text.splitlines(), 1) if new in row)
    assert hit[0].line == line and hit[0].fix


def test_the_default_flow_protects_its_goodbye_and_waits_in_capture_states() -> None:
    flow = load_flow(str(ROOT / "flows.yaml"))
    assert not current_policy(_Call(flow, "goodbye")).interruptible
    assert current_policy(_Call(flow, "message_name")).expect == "name"
    assert current_policy(_Call(flow, "speaking")).interruptible
