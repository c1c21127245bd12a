"""The per-turn latency timeline: stages are stamped once, in a turn, and reported."""

from __future__ import annotations

import pytest

from engine.latency import STAGES, TurnTimeline


def test_a_turn_reports_each_stage_from_the_end_of_caller_speech() -> None:
    now = [0.0]
    reported: list[tuple[str, float]] = []
    timeline = TurnTimeline("CA1", sink=lambda s, v: reported.append((s, v)),
                            clock=lambda: now[0])
    timeline.mark("first_frame")  # before any turn: ignored
    timeline.start()  # no speech end known: the transcript's arrival starts the turn
    for stage, at in (("retrieval", 0.01), ("llm_first_token", 0.2), ("first_sentence", 0.3),
                      ("tts_first_byte", 0.5), ("first_frame", 0.51), ("first_frame", 0.9),
                      ("first_mark", 1.4)):
        now[0] = at
        timeline.mark(stage)
    assert timeline.turns == 1
    assert [s for s, _ in reported] == list(STAGES[1:])
    assert dict(reported)["final_transcript"] == 0.0
    assert dict(reported)["first_frame"] == pytest.approx(0.51)
    assert dict(reported)["first_mark"] == pytest.approx(1.4)


def test_a_mark_before_this_turns_first_frame_does_not_end_the_turn() -> None:
    timeline = TurnTimeline("CA1", clock=lambda: 1.0)
    timeline.start()
    timeline.mark("first_mark")
    assert timeline.turns == 0 and timeline.waiting_for_frame
    with pytest.raises(ValueError, match="unknown latency stage"):
        timeline.mark("lunch")
